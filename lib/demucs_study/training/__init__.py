"""The pieces of the training loop; :mod:`demucs_study.train` is the entry point that uses them.

* :mod:`.rng` - every random generator's state as plain data (for ``weights_only`` checkpoints).
* :mod:`.checkpoint` - the per-epoch checkpoint: write atomically, read back, check its keys.
* :mod:`.dist` - DistributedDataParallel set-up from the ``torchrun`` environment (gloo/nccl).
* :mod:`.batches` - the deterministic order of training windows per epoch and its split per rank;
  the model input length (a valid length of the model).
* :mod:`.loop` - one training epoch and the validation on whole tracks.
* :mod:`.experiment` - :func:`~.experiment.train_experiment`: data, model, resume, epochs, logs.

Importing a submodule imports torch; this package file imports nothing.
"""
