"""The remix scheme of the paper's title (arXiv 1909.01174; docs/paper.md, section "The remix scheme").

A first model, a *silence classifier*, finds excerpts of unlabeled songs where a source j is silent
(the paper's datasets D0, D1, D3 for drums, bass, vocals); each excerpt u is remixed with a stem
s_j of that source from the labeled training set, giving a weakly supervised example: the model
must output s_j as source j and u as the sum of the other sources. The paper's code was never
released and its body is not public: every choice below is ours, a parameter with a default.

Modules (one concern each)
--------------------------
* :mod:`.labels` - the silence rule per window and source; per-window energies for the histogram.
* :mod:`.classifier` - the :class:`SilenceClassifier` network (log-mel -> small CNN -> S sigmoids),
  registered as ``silence_classifier`` in ``models.MODELS`` (saved and loaded weights-only).
* :mod:`.classifier_train` - :func:`train_classifier`: stems dropped at random, per-epoch atomic
  checkpoint with every RNG state, bitwise resume, thresholds chosen on validation.
* :mod:`.thresholds` - precision/recall, the threshold rule for a target precision.
* :mod:`.scoring` - windows -> excerpts of length L (minimum over covering windows).
* :mod:`.calibrate` - thresholds for excerpts of length L, chosen on the validation split.
* :mod:`.extract` - :func:`extract`: scan the unlabeled folder, write the excerpt manifest, yield.
* :mod:`.truth` - :func:`measure_extraction`: precision and leaked energy against the hidden true
  stems of synthetic unlabeled songs (the only reader of the folder of hidden stems).
* :mod:`.dataset` - :class:`RemixDataset` (u + s_j, seeded per (seed, epoch, item)), :class:`RemixBatch`.
* :mod:`.batches` - :func:`epoch_plan`: which supervised and remixed items each step uses.
* :mod:`.loss` - :func:`weak_loss` and :func:`batch_loss`, the loss of one training step.
* :mod:`.budget` - :func:`labeled_subset`, the labeled budget (``train.labeled_fraction``).
* :mod:`.prepare` - a remix run's set-up from its parameters (what ``training.experiment`` calls):
  the budget's classifier and the calibrated extraction, shared and cached, and the remix dataset.
* :mod:`.report` - the tables, figures and verdict of notebook ``04_remix``.

Our choices (parameter: default - why)
--------------------------------------
Silence labels (``remix.labels.*``)
  * ``relative_db``: -30 dB - a source is silent over a window when its mean power is 30 dB below
    the mixture's, or ``absolute_db``: -60 dBFS - below the 16-bit floor (rule: either). The
    histogram of stem-to-mixture levels (quick training set, 1 s windows) has playing stems in
    [-25, 0] dB and silent ones at digital zero or below -40 dB: -30 dB sits in the gap. A -20 dB
    stem is not silent.
Classifier (``remix.classifier.*``, :data:`.classifier_train.DEFAULTS`)
  * input: the raw (not normalised) stereo mixture, ``window`` 1.0 s windows every ``hop`` 0.5 s;
    features: log-mel (64 bands, n_fft 2048, hop 1024) per channel; net: 3 conv blocks (``classifier_channels``
    16, 32, 64, ``batchnorm``: true) + mean/max pooling + linear, 24 k parameters.
  * training: ``drop`` 0.5 - each stem dropped independently (never all four), so every "j silent"
    case is frequent; ``gain_db`` 6 - per-stem gain +-6 dB; ``classifier_flip`` - sign/channel flips;
    ``classifier_epochs`` 10, ``classifier_batch`` 32, ``classifier_lr`` 1e-3 (Adam), binary
    cross-entropy per source. (In the params the classifier's keys are named apart from ``train.*``:
    experiment names use leaves; :data:`.prepare.CLASSIFIER_KEYS` maps them to ``DEFAULTS``.)
  * validation: the natural (untransformed) windows of the validation split; best epoch by BCE.
  * decision: ``target_precision`` 0.95 - per source, the lowest threshold whose precision (and
    that of every higher threshold) reaches the target on validation, selecting at least
    ``min_selected`` 5 windows; else no threshold (nothing extracted for that source, a warning).
Extraction (``remix.excerpt``, ``remix.sources``, ``remix.extract.*``)
  * ``remix.excerpt`` L: 3.0 s (grid {1, 3, 10} s in the extended profile): the excerpt length,
    also the length of remixed training examples. Must be the window plus whole hops.
  * ``remix.sources``: [drums, bass, vocals] (D0, D1, D3; ``other`` allowed).
  * an excerpt's score is the minimum of its windows' probabilities; thresholds are re-chosen on
    validation excerpts of length L (``remix.extract.calibrate``: true; false uses the classifier's
    single-window thresholds).
  * ``remix.extract.excerpt_hop``: null = the classifier's hop (0.5 s); ``min_mix_db``: -50 dBFS (quieter
    excerpts are skipped: nothing to learn there); ``merge``: true - consecutive accepted excerpts
    form one region from which L-crops are drawn at any offset (false: one row per excerpt,
    overlapping, as the paper's "potential overlap").
  * output: a JSON manifest (track, source, start, length, probability), not audio copies: the
    excerpts are read from the unlabeled decode cache; yield in minutes per source (distinct audio,
    and with overlap as the paper counts).
Remixed examples (``remix.dataset.*``, :mod:`.dataset`)
  * s_j: a window where j plays (``stem_stride`` 0.25 s grid = the Shift augmentation) of a labeled
    training track of the budget; u: a crop anywhere in a region; sign/channel flips
    (``flip_parts``: true) on each; ``balance``: false (D_j used in proportion to its yield).
  * normalisation: each part by its own track's statistics, as training windows are
    (u as a mixture, s_j as one of 4 stems); the mixture is their sum.
Loss and batch (``remix.rho``, ``remix.weight``, ``remix.loss.*``, :mod:`.batches`)
  * ``remix.rho``: 0 (no remix, the default: a remix experiment is named by it, ``demucs rho=0.25``);
    the quick remix runs use 0.25: ``r = round(rho * batch_size)`` items of each batch are remixed.
    The epoch keeps the no-remix run's steps and batch size (same budget). The supervised part of a
    step is *the baseline's batch*, loaded and augmented whole (every augmentation draws what the
    baseline's draws; the Remix augmentation keeps its full groups), then cut to its first
    ``batch_size - r`` items: a remix run is its baseline with r items of every batch replaced.
  * weak loss ``D(out_j, s_j) + unlabeled_weight * D(sum_{k != j} out_k, u)``, D = ``train.loss``
    (L1); ``remix.loss.unlabeled_weight``: 1.0; ``remix.loss.reduction``: sum (mean divides by
    1 + w); ``remix.weight``: 1.0 (a remixed item's weight against a supervised one).
  * remixed items of ``training.batches.input_length(model, L)`` samples when L is shorter than the
    training segment (a second forward pass), else of the supervised input length (one pass).
Labeled budget: ``train.labeled_fraction``: 1.0 (quick grid {0.25, 1.0}), nested seeded subsets. An
  epoch keeps the steps of the whole set (``training.batches.epoch_steps``): a 25 % run shuffles its
  fewer windows as many more times, so every run of a profile has the same training budget.

Integration (training loop, params, DAG, notebook 04)
-----------------------------------------------------
Parameters: the ``remix:`` block of ``params/defaults.yaml`` (every key above, documented there) and
``train.labeled_fraction``. ``remix.unlabeled_data``: ``synthetic`` (``<dataset root>/unlabeled``), ``real``
(``<data>/real-unlabeled`` of ``make real-music``) or a folder of mixtures (named ``unlabeled_data``, not
``unlabeled``: ``dataset.synth.unlabeled`` owns that leaf). ``rho = 0`` leaves every remix key out of the
training hash, and ``labeled_fraction = 1`` too: such a run is bit for bit the run without these keys.
The quick grid (``params/quick/``): ``demucs``, ``demucs labeled_fraction=0.25``, ``demucs rho=0.25``,
``demucs rho=0.25 labeled_fraction=0.25``; remix runs set ``report.extra_data`` for the table's row.

Set-up of a run (:mod:`.prepare`, called by ``training.experiment._remix_data``; rank 0 first, the
others after a barrier; every global random state put back afterwards):

1. ``tracks = labeled_subset(cache.tracks("train"), train.labeled_fraction, seed)``.
2. ``train_classifier(tracks, cache.tracks("valid"), runs/<profile>/_remix/classifier-<key>, ...)``:
   one classifier per budget and classifier parameters, shared by every run with them; resumes;
   returns at once when finished.
3. ``calibrate`` on validation excerpts of L (``remix.extract.calibrate``) and ``extract`` into
   ``runs/<profile>/_remix/extract-<key>/manifest.json`` (key: the classifier, L, the sources,
   ``remix.extract.*``, the folder and its files); reused when it exists; written only when the
   extraction found something (else one :class:`~.errors.RemixError` naming the fix).
4. ``RemixDataset(manifest, tracks, length=R, seed=seed, ...)`` (``remix_length``).

Per epoch (``training.experiment._remix_steps``): ``plan = shard_plan(epoch_plan(...), rank, world)``;
``train_epoch`` feeds each step its supervised windows and its remixed items
(``training.loop.RemixSteps``); ``train_step`` augments the windows, keeps the first
``supervised_kept`` and calls :func:`.loss.batch_loss` (without remixed items: the supervised loss,
bit for bit). Nothing new is checkpointed: the remixed items depend on (seed, epoch, index) only.
The history records the supervised and weak parts of the training loss and the extraction's yield.
The hidden stems are read by :mod:`.truth` only, from notebook 04 (:mod:`.report`).

Importing this package imports torch.
"""
