"""Datasets: listing MUSDB tracks, the raw cache, training windows, whole tracks, unlabeled audio.

Submodules (imported on use; nothing heavy is imported here):

* :mod:`.musdb` - :func:`~.musdb.detect_layout`, :func:`~.musdb.list_tracks`, :func:`~.musdb.resolve_root`:
  real MUSDB18 (``.stem.mp4``), MUSDB18-HQ (wav folders) or our synthetic set, all through ``musdb.DB``.
* :mod:`.raw` - :class:`~.raw.RawCache`: every track decoded once to float32 ``.npy`` plus its statistics.
* :mod:`.datasets` - :class:`~.datasets.TrainWindows` (stems ``(4, 2, T)``), :func:`~.datasets.iter_tracks`,
  :func:`~.datasets.normalize` / :func:`~.datasets.denormalize`.
* :mod:`.unlabeled` - :class:`~.unlabeled.UnlabeledAudio`: a folder of mixtures of any format, as ``(2, T)``.
* :mod:`.synth` - the synthetic MUSDB-layout generator.
"""
