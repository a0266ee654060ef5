"""From per-window silence probabilities to excerpts of length L: the one scoring path shared by the
extraction (unlabeled mixtures) and the threshold calibration (validation tracks).

The classifier scores windows of ``window`` samples every ``hop`` samples (window k starts at
``k * hop``). Excerpt e of ``length`` samples starts at ``e * hop`` and is covered exactly by the
windows e .. e + m - 1 with ``m = (length - window) / hop + 1``; its probability that source j is
silent is the **minimum** over those windows (an excerpt is silent only if each of its parts is),
so a longer excerpt is judged silent less often (the author's remark on 10 s excerpts).
``length - window`` must be a multiple of ``hop``.

A consequence used by the merging of excerpts: if excerpts e and e + 2 are accepted (every covering
window at or above the threshold), so is e + 1, whose windows are a subset of theirs.
"""
from __future__ import annotations

import numpy as np

from ..errors import ParamsError
from . import labels as L


def excerpt_frames(window: int, hop: int, length: int) -> int:
    """The number of classifier windows covering one excerpt; raises :class:`ParamsError` if they
    cannot cover it exactly."""
    if length < window:
        raise ParamsError(f"remix.excerpt = {length} samples is shorter than the classifier window of {window} "
                          "samples (remix.classifier.window); use longer excerpts or a shorter window")
    if (length - window) % hop:
        raise ParamsError(f"remix.excerpt = {length} samples is not the classifier window ({window}) plus a whole "
                          f"number of hops ({hop} samples, remix.classifier.hop); e.g. use excerpts of "
                          f"{window + hop * ((length - window) // hop)} samples")
    return (length - window) // hop + 1


def excerpt_scores(window_probs: np.ndarray, window: int, hop: int, length: int) -> np.ndarray:
    """``(n windows, S)`` -> ``(n excerpts, S)``: the minimum over the windows covering each excerpt."""
    m = excerpt_frames(window, hop, length)
    window_probs = np.asarray(window_probs, dtype=np.float64)
    if window_probs.shape[0] < m:
        return np.zeros((0,) + window_probs.shape[1:])
    view = np.lib.stride_tricks.sliding_window_view(window_probs, m, axis=0)   # (n - m + 1, S, m)
    return view.min(axis=-1)


def excerpt_levels(mixture: np.ndarray, length: int, hop: int) -> np.ndarray:
    """Mixture level (dBFS, mean power) of every excerpt of one mixture ``(C, T)`` -> ``(n excerpts,)``."""
    return L._db(L._window_power(mixture, length, hop))


def runs(accepted: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) indices of the runs of True in a 1-D boolean array."""
    accepted = np.asarray(accepted, dtype=bool)
    if not accepted.any():
        return []
    edges = np.diff(np.r_[0, accepted.astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return list(zip(starts.tolist(), ends.tolist()))
