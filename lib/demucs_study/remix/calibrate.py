"""The decision threshold for excerpts of length L, chosen on the validation split.

The classifier's own thresholds (saved with it) are chosen on single windows. An excerpt of L
seconds is scored by the minimum over its windows (:mod:`.scoring`), and its precision differs
from a window's; :func:`calibrate` scores the validation tracks' excerpts of length L exactly as the
extraction scores unlabeled ones, labels them with the silence rule over the whole excerpt, and
chooses each source's threshold for the target precision. Choices are made on validation only.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .. import SOURCES
from .. import models as _registry  # noqa: F401 - imported before .classifier, which models/__init__ imports
from . import labels as L
from .classifier import SilenceClassifier, score_mixture
from .scoring import excerpt_levels, excerpt_scores
from .thresholds import MIN_SELECTED, TARGET_PRECISION, choose_thresholds, report

#: Excerpts whose mixture is quieter than this (dBFS) are neither extracted nor used to calibrate
#: (``remix.extract.min_mix_db``): song starts and fade-outs, where remixing teaches nothing.
MIN_MIX_DB = -50.0


def validation_excerpts(model: SilenceClassifier, tracks: Sequence, length: float, hop: float,
                        relative_db: float = L.RELATIVE_DB, absolute_db: float = L.ABSOLUTE_DB,
                        min_mix_db: float = MIN_MIX_DB) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, true silence) ``(n, S)`` of the excerpts of ``length`` seconds every ``hop``
    seconds of labeled ``tracks`` (raw cached tracks), those quieter than ``min_mix_db`` left out."""
    sr = model.samplerate
    n_len, n_hop = int(round(length * sr)), int(round(hop * sr))
    probs, truth = [], []
    for t in tracks:
        mixture, stems = np.asarray(t.mixture()), np.asarray(t.stems())
        scores = excerpt_scores(score_mixture(model, mixture, n_hop), model.window_samples, n_hop, n_len)
        _, silent = L.window_labels(stems, n_len, n_hop, relative_db, absolute_db, mixture=mixture)
        loud = excerpt_levels(mixture, n_len, n_hop) >= min_mix_db
        probs.append(scores[loud])
        truth.append(silent[loud])
    width = len(model.sources)
    return (np.concatenate(probs) if probs else np.zeros((0, width)),
            np.concatenate(truth) if truth else np.zeros((0, width), bool))


def calibrate(model: SilenceClassifier, tracks: Sequence, length: float, hop: float,
              target_precision: float = TARGET_PRECISION, min_selected: int = MIN_SELECTED,
              relative_db: float = L.RELATIVE_DB, absolute_db: float = L.ABSOLUTE_DB,
              min_mix_db: float = MIN_MIX_DB) -> dict:
    """Thresholds for excerpts of ``length`` seconds: ``{"length", "hop", "target_precision",
    "thresholds": {source: float or None}, "valid": {source: precision/recall at it}}``."""
    probs, truth = validation_excerpts(model, tracks, length, hop, relative_db, absolute_db, min_mix_db)
    sources = list(model.sources) if model.sources else list(SOURCES)
    thresholds = choose_thresholds(probs, truth, sources, target_precision, min_selected)
    return {"length": float(length), "hop": float(hop), "target_precision": float(target_precision),
            "thresholds": thresholds, "valid": report(probs, truth, thresholds, sources)}
