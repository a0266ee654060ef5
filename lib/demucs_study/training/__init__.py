"""Training: one loop for every model.

* :mod:`.experiment` - :func:`~.experiment.train_experiment`: data, model, resume, epochs, checkpoints, logs.
* :mod:`.runs` - the files of a run (``runs/<profile>/<experiment>/``) and reading them back.
* :mod:`.loop` - one training epoch and the validation on whole tracks.
* :mod:`.batches` - the deterministic order of training windows per epoch and its split per rank;
  the model input length (a valid length of the model).
* :mod:`.checkpoint` - the per-epoch checkpoint: write atomically, read back, check its keys.
* :mod:`.rng` - every random generator's state as plain data (for ``weights_only`` checkpoints).
* :mod:`.dist` - DistributedDataParallel set-up from the ``torchrun`` environment (gloo/nccl).
* :mod:`.cli` - the ``train`` command.
"""
