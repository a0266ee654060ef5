"""Separate tracks into stems: :func:`apply_model` (one track, any length) and the ``separate`` command.

``apply_model(model, mix, shifts=0, split=True, segment=None, overlap=0.25, seed=0, progress=False)``
maps a raw mixture ``(C, T)`` to de-normalised stems ``(S, C, T)`` with per-track normalisation,
padding to ``model.valid_length``, the seeded shift trick and overlap-add chunking with bounded memory
(details in :mod:`demucs_study.separation.apply`).

``python -m demucs_study separate FILE... -m MODEL -o OUTDIR`` writes
``OUTDIR/<track>/{drums,bass,other,vocals}.wav`` (see ``--help`` and :mod:`demucs_study.separation.cli`).
Importing this module does not import torch.
"""
from __future__ import annotations

from .separation.apply import DEFAULT_SEGMENT, MAX_SHIFT_SECONDS, apply_model
from .separation.cli import main, separate_file, track_name

__all__ = ["apply_model", "main", "separate_file", "track_name", "DEFAULT_SEGMENT", "MAX_SHIFT_SECONDS"]
