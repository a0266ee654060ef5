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
    features: log-mel (64 bands, n_fft 2048, hop 1024) per channel; net: 3 conv blocks (``channels``
    16, 32, 64, ``batchnorm``: true) + mean/max pooling + linear, 24 k parameters.
  * training: ``drop`` 0.5 - each stem dropped independently (never all four), so every "j silent"
    case is frequent; ``gain_db`` 6 - per-stem gain +-6 dB; ``flip`` - sign/channel flips;
    ``epochs`` 10, ``batch_size`` 32, ``lr`` 1e-3 (Adam), binary cross-entropy per source.
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
  * ``remix.extract.hop``: null = the classifier's hop (0.5 s); ``min_mix_db``: -50 dBFS (quieter
    excerpts are skipped: nothing to learn there); ``merge``: true - consecutive accepted excerpts
    form one region from which L-crops are drawn at any offset (false: one row per excerpt,
    overlapping, as the paper's "potential overlap").
  * output: a JSON manifest (track, source, start, length, probability), not audio copies: the
    excerpts are read from the unlabeled decode cache; yield in minutes per source (distinct audio,
    and with overlap as the paper counts).
Remixed examples (``remix.dataset.*``, :mod:`.dataset`)
  * s_j: a window where j plays (``stem_stride`` 0.25 s grid = the Shift augmentation) of a labeled
    training track of the budget; u: a crop anywhere in a region; sign/channel flips
    (``flip``: true) on each; ``balance``: false (D_j used in proportion to its yield).
  * normalisation: each part by its own track's statistics, as training windows are
    (u as a mixture, s_j as one of 4 stems); the mixture is their sum.
Loss and batch (``remix.rho``, ``remix.weight``, ``remix.loss.*``)
  * ``remix.rho``: 0.25 - round(rho * batch_size) items of each batch are remixed; the epoch keeps
    the no-remix run's number of steps and batch size (same budget); rho = 0 is the baseline.
  * weak loss ``D(out_j, s_j) + unlabeled_weight * D(sum_{k != j} out_k, u)``, D = ``train.loss``
    (L1); ``remix.loss.unlabeled_weight``: 1.0; ``remix.loss.reduction``: sum (mean divides by
    1 + w); ``remix.weight``: 1.0 (a remixed item's weight against a supervised one).
Labeled budget: ``train.labeled_fraction``: 1.0 (quick grid {0.25, 1.0}), nested seeded subsets.

Integration (phase 2: training loop, params, DAG, notebook 04)
--------------------------------------------------------------
Params keys of a remix experiment (new ``remix:`` block in ``params/<profile>/defaults.yaml``; note
``train.remix_group`` is the unrelated Remix *augmentation*)::

    train:
      labeled_fraction: 1.0
    remix:
      enabled: false
      unlabeled: synthetic        # synthetic (<dataset root>/unlabeled) | real (make real-music) | <folder>
      sources: [drums, bass, vocals]
      excerpt: 3.0                # L, seconds
      rho: 0.25
      weight: 1.0
      loss: {unlabeled_weight: 1.0, reduction: sum}
      labels: {relative_db: -30.0, absolute_db: -60.0}
      classifier: {window: 1.0, hop: 0.5, epochs: 10, batch_size: 32, lr: 1.0e-3, drop: 0.5, gain_db: 6.0,
                   flip: true, target_precision: 0.95, min_selected: 5, n_mels: 64, channels: [16, 32, 64],
                   batchnorm: true}
      extract: {hop: null, min_mix_db: -50.0, merge: true, calibrate: true}
      dataset: {stem_stride: 0.25, flip: true, balance: false}

(``remix.labels`` feeds ``classifier.relative_db/absolute_db`` and the calibration/truth calls.) The
smoke profile's single 8 s validation song holds too few silent windows for ``min_selected`` 5 at
precision 0.95 (no threshold, so nothing extracted): its params need e.g. ``min_selected: 1`` and
``target_precision: 0.5``, or two validation songs.

Set-up of a run (rank 0 first, others after a barrier, like the data), all resumable:

1. ``tracks = labeled_subset(cache.tracks("train"), train.labeled_fraction, seed)``; the supervised
   ``TrainWindows(cache, tracks, ...)``.
2. ``train_classifier(tracks, cache.tracks("valid"), <run dir>/classifier, config, seed=seed,
   required=remix.sources)`` -> ``classifier.th`` (returns at once when done; a shared folder per
   (budget, classifier config) avoids retraining it per experiment).
3. ``model, extra = load_classifier(path)``; if ``remix.extract.calibrate``: ``thresholds =
   calibrate(model, cache.tracks("valid"), L, hop, target_precision, ...)["thresholds"]``;
   ``extract(model, folder, <run dir>/manifest.json, length=L, sources=..., thresholds=...)``
   (skip when the manifest exists with the same classifier hash and parameters).
4. ``remixed = RemixDataset(manifest, tracks, length=R, seed=seed, ...)``, where R is the model
   input length of the remixed part: ``training.batches.input_length(model, round(L * sr))`` when
   ``L < train.segment`` (two forward passes per step), else the supervised input length (one).
5. ``remix.batches.check_plan(len(windows), batch_size, rho, world, remix_group, where)``.

Per epoch: ``remixed.set_epoch(epoch)``; ``plan = shard_plan(epoch_plan(len(windows), len(remixed),
batch_size, repeat, rho, seed, epoch), rank, world)``. Per step ``(sup, mix)`` of the plan::

    stems = center_trim(augment(windows batch of sup), length)          # as train_step does now
    remix_batch = collate([remixed[i] for i in mix]).to(device) if mix else None
    loss = remix.batch_loss(net, stems, remix_batch, loss=train.loss, weight=remix.weight,
                            unlabeled_weight=remix.loss.unlabeled_weight, reduction=remix.loss.reduction)
    optimizer.zero_grad(); loss.backward(); optimizer.step()

``batch_loss`` with no remixed item is the current supervised loss, bit for bit, so ``train_step``
can call it unconditionally. Nothing else needs checkpointing: the remixed items depend on
(seed, epoch, index) only. The hidden stems are read by :func:`measure_extraction` only (notebook).

Importing this package imports torch.
"""
