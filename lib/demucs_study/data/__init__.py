"""Datasets: which one a profile reads, listing MUSDB tracks, the raw cache, training windows, whole
tracks, unlabeled audio, the synthetic generator.

* :mod:`.roots` - :func:`~.roots.resolve_root` (which dataset, checked; never creates anything) and
  :func:`~.roots.prepare_root` (the data step: renders the synthetic set when it is the one in use).
* :mod:`.musdb` - :func:`~.musdb.detect_layout`, :func:`~.musdb.list_tracks`: real MUSDB18 (``.stem.mp4``),
  MUSDB18-HQ (wav folders) or our synthetic set, all through ``musdb.DB``.
* :mod:`.raw` - :class:`~.raw.RawCache`: every track decoded once to float32 ``.npy`` plus its statistics.
* :mod:`.datasets` - :class:`~.datasets.TrainWindows` (stems ``(4, 2, T)``), :func:`~.datasets.iter_tracks`,
  the one normalisation of the study (:func:`~.datasets.normalize`, :func:`~.datasets.denormalize`).
* :mod:`.unlabeled` - :class:`~.unlabeled.UnlabeledAudio`: a folder of mixtures of any format, as ``(2, T)``.
* :mod:`.summary` - what a dataset holds (durations, stem activity, song sections) for the data notebook.
* :mod:`.synth` - the synthetic MUSDB-layout generator (a package; command ``generate-data``).
"""
