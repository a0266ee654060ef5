"""The checkpoint written after every epoch, so that a killed run resumes to the same result.

``checkpoint.th`` is a ``torch.save`` of plain data (loads with ``weights_only=True``)::

    format_version  int
    experiment      str      the experiment's name
    params          dict     the parameters of the run (for the record)
    params_hash     str      hash of the parameters that change what is learnt (see experiment.train_hash)
    epoch           int      epochs completed
    model           dict     state dict after the last epoch
    best_state      dict     state dict of the epoch with the lowest validation loss so far
    best_loss       float    that loss (inf before the first validation)
    best_epoch      int      that epoch (1-based; 0 before the first)
    optimizer       dict     Adam's state dict
    history         list     one dict per epoch (see experiment.py)
    baseline_valid  float    validation loss of predicting mixture / 4 for every stem
    world_size      int      number of processes that trained (rng has one entry per rank)
    rng             list     per rank: rng.capture() (torch, cuda, numpy, python, augmentation generators)
    sampler         dict     the shuffle generator: how it is seeded and its state after the last epoch

Written with :func:`demucs_study.utils.atomic_path`: a crash while writing leaves the previous
checkpoint intact.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

from ..errors import StudyError
from ..utils import atomic_path

FORMAT_VERSION = 1
KEYS = ("format_version", "experiment", "params", "params_hash", "epoch", "model", "best_state", "best_loss",
        "best_epoch", "optimizer", "history", "baseline_valid", "world_size", "rng", "sampler")


class CheckpointError(StudyError, ValueError):
    """A checkpoint that cannot be read (truncated, corrupt, or from another version)."""


def cpu_state(state: dict) -> dict:
    """A detached CPU copy of a state dict (so later training steps do not change it)."""
    return {key: value.detach().to("cpu", copy=True) for key, value in state.items()}


def save_checkpoint(path: str | os.PathLike, checkpoint: dict) -> Path:
    """Write ``checkpoint`` (every key of :data:`KEYS`) to ``path`` atomically; returns ``path``."""
    missing = [k for k in KEYS if k not in checkpoint]
    if missing:
        raise ValueError(f"checkpoint is missing the keys {missing}")
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(checkpoint, tmp)
    return path


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint with ``weights_only=True``; raises :class:`CheckpointError` naming ``path``."""
    path = Path(path)
    try:
        checkpoint = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:
        raise CheckpointError(f"cannot read checkpoint {path} ({type(exc).__name__}: {str(exc)[:200]}); delete it "
                              "to train this experiment from the start") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path} is not a checkpoint of format {FORMAT_VERSION}; delete it to train this "
                              "experiment from the start")
    missing = [k for k in KEYS if k not in checkpoint]
    if missing:
        raise CheckpointError(f"checkpoint {path} lacks the keys {missing}; delete it to train from the start")
    return checkpoint
