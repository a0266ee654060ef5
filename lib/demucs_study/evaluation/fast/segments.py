"""Cutting a track into segments, and their float64 samples and spectra.

The correlations of whole tracks are sums over segments that tile the track plus the "seams"
between neighbouring segments (:mod:`.correlations`). When museval's frames tile the track (SiSEC
2018: ``win = hop``), the segments *are* the frames, plus the trailing partial frame that museval
drops from the metrics but not from its filters, and the spectra of the frames serve both the
correlations and the projections (:mod:`.metrics`): each frame is transformed once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.fft

#: Segment length when the frames do not tile the track (FFT length 16384 for 512 taps).
DEFAULT_SEGMENT = 16384 - 511


class Workspace:
    """Work arrays reused from batch to batch: a fresh array of a hundred megabytes costs as much
    in page faults as the arithmetic done on it."""

    def __init__(self):
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype=np.float64) -> np.ndarray:
        """An uninitialised array of that shape and dtype, the same one as last time if it fits."""
        a = self._arrays.get(name)
        if a is None or a.shape != tuple(shape) or a.dtype != dtype:
            a = self._arrays[name] = np.empty(shape, dtype)
        return a


@dataclass(frozen=True)
class Segmentation:
    """How the correlations are summed.

    Attributes:
        starts: first sample of each segment; the segments ``[start, start + width)`` tile
            ``[0, nsamples)`` (the last one may run past the end: zeros there).
        width: samples per segment (at least L - 1, so that a pair of samples less than L apart
            straddles at most one boundary).
        fft_len: FFT length of a segment, at least ``width + L - 1``, so that the circular
            correlations of zero-padded segments are linear for all lags ``|k| < L``, and so that
            a segment's spectrum also gives its exact linear convolution with L-tap filters.
        frames_are_segments: the metric frames are the first ``nwin`` segments.
    """

    starts: np.ndarray
    width: int
    fft_len: int
    frames_are_segments: bool


def segmentation(nsamples: int, starts: np.ndarray, stops: np.ndarray, filters_len: int) -> Segmentation:
    """The frames themselves when they tile the track from sample 0 with one width of at least
    L - 1 samples, else :data:`DEFAULT_SEGMENT`-sample segments."""
    widths = stops - starts
    width = int(widths[0])
    tiles = (width >= filters_len - 1 and np.all(widths == width)
             and np.array_equal(starts, np.arange(len(starts)) * width))
    if not tiles:
        width = max(DEFAULT_SEGMENT, filters_len - 1)
    count = -(-nsamples // width)
    fft_len = scipy.fft.next_fast_len(width + filters_len - 1, real=True)
    return Segmentation(np.arange(count, dtype=np.int64) * width, width, fft_len, bool(tiles))


def fill(buf: np.ndarray, sources: np.ndarray, start: int) -> None:
    """``buf[j * nchan + c, i] = sources[j, start + i, c]`` as float64, zero outside the signal.

    ``buf`` is ``(nsrc * nchan, n)`` (may be a view); ``sources`` is museval's
    ``(nsrc, nsamples, nchan)`` in any real dtype.
    """
    n = buf.shape[1]
    nsrc, nsamples, nchan = sources.shape
    lo, hi = max(start, 0), min(start + n, nsamples)
    if hi <= lo:
        buf[:] = 0
        return
    buf[:, :lo - start] = 0
    buf[:, hi - start:] = 0
    for j in range(nsrc):
        buf[j * nchan:(j + 1) * nchan, lo - start:hi - start] = sources[j, lo:hi].T


def gather(sources: np.ndarray, starts: Sequence[int], width: int, out: np.ndarray | None = None,
           length: int | None = None) -> np.ndarray:
    """Samples ``[start, start + width)`` of every start, float64 ``(len(starts), nsrc * nchan,
    length)``, zero-padded from ``width`` to ``length`` (default: no padding)."""
    nsrc, _, nchan = sources.shape
    length = width if length is None else length
    if out is None:
        out = np.empty((len(starts), nsrc * nchan, length))
    out[..., width:] = 0
    for i, start in enumerate(starts):
        fill(out[i, :, :width], sources, int(start))
    return out


def gather_systems(systems: Sequence[np.ndarray], starts: Sequence[int], width: int, npair: int,
                   length: int | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """:func:`gather` for several estimate arrays: ``(len(starts), K * npair, length)``."""
    if out is None:
        out = np.empty((len(starts), len(systems) * npair, width if length is None else length))
    for k, est in enumerate(systems):
        gather(est, starts, width, out[:, k * npair:(k + 1) * npair], length)
    return out


def spectra(references: np.ndarray, systems: Sequence[np.ndarray], starts: Sequence[int], width: int,
            fft_len: int, workspace: Workspace, keep: bool = False, workers: int | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """One-sided spectra of the zero-padded segments, laid out (frequency, channel, segment):
    references ``(F, P, nseg)`` and the estimates of every system ``(F, K * P, nseg)`` (channels:
    system, source, channel). Frequency first for the per-frequency matrix products, segments
    last so that elementwise operations run over long contiguous rows.

    The results live in ``workspace`` (overwritten by the next call) unless ``keep``.
    """
    nsrc, _, nchan = references.shape
    npair, nseg = nsrc * nchan, len(starts)
    out = []
    for name, channels, fill_in in (
            ("x", npair, lambda buf: gather(references, starts, width, buf, fft_len)),
            ("s", npair * len(systems), lambda buf: gather_systems(systems, starts, width, npair, fft_len, buf))):
        samples = fill_in(workspace.get(f"{name} samples", (nseg, channels, fft_len)))
        spec = scipy.fft.rfft(samples, axis=-1, workers=workers, overwrite_x=True).transpose(2, 1, 0)
        if keep:
            dest = np.empty(spec.shape, np.complex128)
        else:
            dest = workspace.get(f"{name} spectra", spec.shape, np.complex128)
        np.copyto(dest, spec)
        out.append(dest)
    return out[0], out[1]
