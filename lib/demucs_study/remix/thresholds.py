"""Precision and recall of silence decisions, and the decision threshold chosen for a target precision.

A window (or excerpt) is *judged silent* for source j when its probability is ``>= threshold[j]``.
Precision = truly silent among those judged silent; recall = judged silent among the truly silent.

Threshold rule (:func:`choose_threshold`): among the observed probabilities t, take the smallest t
such that the precision of ``{p >= t'}`` is at least the target for **every** observed ``t' >= t``
and at least ``min_selected`` windows are selected. The "every" makes the choice robust to the
saw-tooth of precision at high thresholds (a single lucky window cannot open a low threshold);
the smallest such t gives the highest recall meeting the target. When no threshold qualifies
(too few silent windows, or the classifier never reaches the target precision), the result is
``None``: nothing is extracted for that source, and the caller warns.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .. import SOURCES

#: Default target precision of the silence decision on the validation split (``remix.classifier.target_precision``).
TARGET_PRECISION = 0.95
#: Fewest validation windows a threshold must select (``remix.classifier.min_selected``).
MIN_SELECTED = 5


def precision_recall(probs, labels, threshold: float | None) -> dict:
    """Counts, precision and recall of ``probs >= threshold`` for one source (``threshold`` None:
    nothing selected). ``probs`` and ``labels`` (truly silent) are 1-D. Precision is NaN when
    nothing is selected, recall NaN when nothing is truly silent."""
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels, dtype=bool)
    chosen = np.zeros_like(labels) if threshold is None else probs >= threshold
    tp = int(np.sum(chosen & labels))
    selected, positives = int(chosen.sum()), int(labels.sum())
    return {"threshold": None if threshold is None else float(threshold), "selected": selected,
            "positives": positives, "true_positives": tp, "windows": int(labels.size),
            "precision": tp / selected if selected else math.nan,
            "recall": tp / positives if positives else math.nan}


def choose_threshold(probs, labels, target_precision: float = TARGET_PRECISION,
                     min_selected: int = MIN_SELECTED) -> float | None:
    """The decision threshold of one source (see the module docstring), or None."""
    if not 0 < target_precision <= 1:
        raise ValueError(f"target precision {target_precision} must be in (0, 1]")
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels, dtype=bool)
    if probs.shape != labels.shape or probs.ndim != 1:
        raise ValueError(f"probs {probs.shape} and labels {labels.shape} must be 1-D of the same length")
    if probs.size == 0:
        return None
    order = np.argsort(-probs, kind="stable")
    p, y = probs[order], labels[order]
    # Thresholds are the distinct values; at value v everything >= v is selected (ties together).
    last_of_value = np.r_[p[1:] != p[:-1], True]
    tp = np.cumsum(y)[last_of_value]
    selected = np.arange(1, p.size + 1)[last_of_value]
    values = p[last_of_value]
    precision = tp / selected
    ok = precision >= target_precision - 1e-12
    # every threshold at or above: a prefix of the descending list must be all-ok
    prefix_ok = np.cumprod(ok).astype(bool)
    candidates = np.flatnonzero(prefix_ok & (selected >= min_selected))
    if candidates.size == 0:
        return None
    return float(values[candidates[-1]])


def choose_thresholds(probs, labels, sources: Sequence[str] = SOURCES, target_precision: float = TARGET_PRECISION,
                      min_selected: int = MIN_SELECTED) -> dict[str, float | None]:
    """:func:`choose_threshold` per source: ``probs``/``labels`` ``(n, S)`` -> ``{source: threshold or None}``."""
    probs, labels = np.asarray(probs), np.asarray(labels)
    return {s: choose_threshold(probs[:, k], labels[:, k], target_precision, min_selected)
            for k, s in enumerate(sources)}


def report(probs, labels, thresholds: dict, sources: Sequence[str] = SOURCES) -> dict[str, dict]:
    """:func:`precision_recall` per source at ``thresholds`` (also at 0.5, for reference)."""
    probs, labels = np.asarray(probs), np.asarray(labels)
    out = {}
    for k, s in enumerate(sources):
        out[s] = precision_recall(probs[:, k], labels[:, k], thresholds.get(s))
        half = precision_recall(probs[:, k], labels[:, k], 0.5)
        out[s]["precision@0.5"], out[s]["recall@0.5"] = half["precision"], half["recall"]
    return out
