"""Input handling exactly as museval 0.4.1 does it: padding, validation, silence rules, framing.

museval's ``evaluate`` (``museval/__init__.py``) pads or truncates the estimates to the length of
the references (``pad_or_truncate``) and calls ``metrics.bss_eval``, which applies
``np.atleast_3d`` and ``metrics.validate``; the frames come from ``metrics.Framing`` and the
silence test from ``metrics._any_source_silent``. This module reproduces those rules (same
exception types, messages that contain museval's wording and also name the track and the stem)
without copying whole tracks: the silence test runs over chunks of samples in the input dtype,
as museval runs it on the arrays it was given.
"""
from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np

#: museval's ``metrics.MAX_SOURCES``: more sources than this is refused.
MAX_SOURCES = 100
#: Samples per chunk of the whole-track silence test (bounds its temporary memory).
_SILENCE_CHUNK = 1 << 18


def _prefix(track: str | None) -> str:
    return f"track {track!r}: " if track is not None else ""


def stem_name(names: Sequence[str] | None, j: int) -> str:
    """``'bass'`` when names are given, else ``'source 1'`` (0-based, as arrays are indexed)."""
    return repr(names[j]) if names is not None and j < len(names) else f"source {j}"


def pad_or_truncate(references: np.ndarray, estimates: np.ndarray) -> np.ndarray:
    """museval's ``pad_or_truncate``: the estimates cut or zero-padded (at the end, axis 1) to the
    references' number of samples. Returns the estimates (a view when cut, unchanged when equal)."""
    n_ref, n_est = references.shape[1], estimates.shape[1]
    if n_est > n_ref:
        return estimates[:, :n_ref]
    if n_est < n_ref:
        pad = [(0, 0)] * estimates.ndim
        pad[1] = (0, n_ref - n_est)
        return np.pad(estimates, pad, mode="constant")
    return estimates


def silent_sources(sources: np.ndarray, start: int = 0, stop: int | None = None) -> np.ndarray:
    """museval's silence rule on samples ``[start, stop)`` of ``(nsrc, nsamples, nchan)``: a source
    is silent when the sum over its channels is exactly 0 at every sample (so left = -right counts
    as silent). Computed in the input dtype, chunk by chunk. Returns a bool array ``(nsrc,)``."""
    stop = sources.shape[1] if stop is None else stop
    sounding = np.zeros(sources.shape[0], dtype=bool)
    for a in range(start, stop, _SILENCE_CHUNK):
        b = min(stop, a + _SILENCE_CHUNK)
        sounding |= np.any(np.sum(sources[:, a:b], axis=2) != 0, axis=1)
    return ~sounding


def validate(references: np.ndarray, estimates: np.ndarray, track: str | None = None,
             names: Sequence[str] | None = None) -> bool:
    """museval's ``metrics.validate`` for 3-D arrays, with the track and stem in the messages.

    Raises ``ValueError`` (museval's type) for mismatched shapes, more than 3 dimensions, a silent
    reference or estimate (whole track), more than :data:`MAX_SOURCES` sources, and, beyond museval,
    NaN or inf samples (museval would return NaN or fail inside LAPACK). Returns ``False`` when an
    array is empty: museval then warns and returns empty results, and so do we.
    """
    p = _prefix(track)
    if references.shape != estimates.shape:
        raise ValueError(
            f"{p}The shape of estimated sources and the true sources should match: references are "
            f"{references.shape}, estimates {estimates.shape} (sources, samples, channels); give one "
            f"estimate per reference source, with the same channels")
    if references.ndim > 3:
        raise ValueError(
            f"{p}The number of dimensions is too high: got {references.ndim}, expected at most 3 "
            f"(sources, samples, channels)")
    if references.size == 0 or estimates.size == 0:
        warnings.warn(f"{p}reference_sources or estimated_sources is empty, should be of size "
                      f"(nsrc, nsample, nchan); sdr, isr, sir and sar will be empty arrays", stacklevel=3)
        return False
    for group, role, arr, fix in (
            ("reference", "reference", references,
             "BSSEval is undefined when a reference is silent; leave the stem or the track out"),
            ("estimated", "estimate", estimates,
             "a silent estimate leaves the projection underdetermined; score that stem another way")):
        silent = silent_sources(arr)
        if silent.any():
            j = int(np.argmax(silent))
            raise ValueError(
                f"{p}All the {group} sources should be non-silent (not all-zeros), but the {role} of "
                f"{stem_name(names, j)} is all 0s (its channels sum to 0 at every sample); {fix}")
    if references.shape[0] > MAX_SOURCES:
        raise ValueError(f"{p}{references.shape[0]} sources is more than MAX_SOURCES = {MAX_SOURCES}")
    for role, arr in (("reference", references), ("estimate", estimates)):
        if arr.dtype.kind == "c":
            raise ValueError(f"{p}the {role}s are complex; BSSEval needs real signals")
        bad = _non_finite_source(arr)
        if bad is not None:
            raise ValueError(f"{p}the {role} of {stem_name(names, bad)} holds NaN or inf samples")
    return True


def _non_finite_source(arr: np.ndarray) -> int | None:
    if arr.dtype.kind not in "fc":
        return None
    for a in range(0, arr.shape[1], _SILENCE_CHUNK):
        bad = ~np.isfinite(arr[:, a:a + _SILENCE_CHUNK]).all(axis=(1, 2))
        if bad.any():
            return int(np.argmax(bad))
    return None


def prepare(references, estimates, padding: bool = True, track: str | None = None,
            names: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray, bool]:
    """What ``museval.evaluate`` + ``bss_eval`` do to their inputs, without copying them:
    ``np.asarray``, optional :func:`pad_or_truncate`, ``np.atleast_3d``, :func:`validate`.

    Returns ``(references, estimates, nonempty)``, both ``(nsrc, nsamples, nchan)``.
    """
    ref = np.asarray(references)
    est = np.asarray(estimates)
    if padding and ref.ndim >= 2 and est.ndim >= 2:
        est = pad_or_truncate(ref, est)
    ref = np.atleast_3d(ref)
    est = np.atleast_3d(est)
    return ref, est, validate(ref, est, track, names)


def frames(nsamples: int, win: float, hop: float) -> tuple[np.ndarray, np.ndarray]:
    """The frames of museval's ``metrics.Framing(win, hop, nsamples)``: ``(starts, stops)``.

    ``nwin = floor((nsamples - win + hop) / hop)`` frames if ``win < nsamples``, else one; frame t
    is ``[floor(t hop), floor(min(t hop + win, nsamples)))``, where a NaN or infinite bound means
    the start or the end of the signal (``win = hop = inf``: one frame, the whole signal). With
    ``win = hop`` the trailing partial frame is dropped, as museval drops it.
    """
    if win < nsamples:
        nwin = int(np.floor((nsamples - win + hop) / hop))
    else:
        nwin = 1
    starts = np.empty(nwin, dtype=np.int64)
    stops = np.empty(nwin, dtype=np.int64)
    for t in range(nwin):
        start = t * hop
        if math.isnan(start) or math.isinf(start):
            start = 0
        stop = min(t * hop + win, nsamples)
        if math.isnan(stop) or math.isinf(stop):
            stop = nsamples
        starts[t] = int(np.floor(start))
        stops[t] = int(np.floor(stop))
    return starts, stops
