"""The per-frame stage: museval's decomposition and energy ratios, batched over frames.

For one frame (samples ``[start, stop)``, W of them) and estimate j, museval
(``metrics._bss_decomp_mtifilt``, ``_project``, ``_bss_crit`` with ``bsseval_sources_version=False``)
convolves the frame's *zero-padded segments* of the references with the track's filters (a
windowed convolution, W + L - 1 samples, nothing leaks in from the previous frame) and forms

* ``P_j   = sum_cj  Cj[cj, :, c] * x_{j,cj}``   (projection on reference j alone),
* ``P_all = sum_i,cj C[i, cj, :, c] * x_{i,cj}`` (projection on all references),
* ``s_true = x_j`` zero-padded, ``e_spat = P_j - s``, ``e_interf = P_all - P_j``,
  ``e_artif = s_hat - P_all``,

and the ratios (sums over samples and channels; Vincent et al. 2006 eq. 7-10, the "images"
variant with ISR, Vincent et al. 2012)::

    SDR = 10 log10(|s|^2 / |e_spat + e_interf + e_artif|^2) = 10 log10(|s|^2 / |s_hat - s|^2)
    ISR = 10 log10(|s|^2 / |P_j - s|^2)
    SIR = 10 log10(|P_j|^2 / |P_all - P_j|^2)
    SAR = 10 log10(|P_all|^2 / |s_hat - P_all|^2)

SDR does not involve the filters (the three errors sum to ``s_hat - s``), so it is computed from
the samples directly. The four filter-dependent energies are computed in the frequency domain:
every frame is transformed once at M >= W + L - 1 points (so the linear convolution is exact),
the projections of all frames and all estimates are one batched matrix product per frequency, and
the energies follow by Parseval (weights 1, 2, ..., 2, 1 over the one-sided spectrum) without any
inverse transform. A ratio whose denominator is exactly 0 is ``+inf`` (museval's ``_safe_db``);
a frame where any reference or estimate is silent (museval's channel-sum rule) is NaN for all
sources and metrics.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.fft

#: Bytes of arrays per batch of frames (the batch has at least one frame).
BATCH_BYTES = 256 << 20


def safe_db(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """museval's ``_safe_db`` elementwise: ``+inf`` where ``den == 0``, else ``10 log10(num / den)``
    (``-inf`` where only ``num`` is 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den == 0, np.inf, 10 * np.log10(num / den))


def parseval_weights(fft_len: int) -> np.ndarray:
    """Weights w with ``sum(x**2) = sum(w * |rfft(x, fft_len)|**2)`` for real x of length <= fft_len."""
    w = np.full(fft_len // 2 + 1, 2.0 / fft_len)
    w[0] = 1.0 / fft_len
    if fft_len % 2 == 0:
        w[-1] = 1.0 / fft_len
    return w


class _Energy:
    """Weighted one-sided spectral energies summed over frequency and channel, with reused buffers."""

    def __init__(self, weights: np.ndarray, shape: tuple[int, ...]):
        self.weights = weights
        self.diff = np.empty(shape, dtype=np.complex128)
        self.square = np.empty(shape[:-1] + (2 * shape[-1],), dtype=np.float64)

    def __call__(self, a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
        """``sum_f,c w_f |a - b|^2`` for ``a`` of shape ``(F, ..., C)``; returns shape ``(...)``."""
        if b is not None:
            a = np.subtract(a, b, out=self.diff)
        np.square(np.ascontiguousarray(a).view(np.float64), out=self.square)
        flat = self.weights @ self.square.reshape(len(self.weights), -1)
        return flat.reshape(self.square.shape[1:]).sum(axis=-1)


def _gather(sources: np.ndarray, starts: np.ndarray, width: int, out: np.ndarray) -> np.ndarray:
    """Copy frames ``[start, start + width)`` into ``out`` (width, frames, nsrc, nchan) as float64;
    return which frames have a silent source (museval's rule, in the input dtype)."""
    silent = np.zeros(len(starts), dtype=bool)
    for i, start in enumerate(starts):
        seg = sources[:, start:start + width]
        silent[i] = np.any(np.all(np.sum(seg, axis=2) == 0, axis=1))
        out[:, i] = seg.transpose(1, 0, 2)
    return silent


def frame_metrics(references: np.ndarray, systems: Sequence[np.ndarray], starts: np.ndarray,
                  stops: np.ndarray, filters_all: np.ndarray | None, filters_own: np.ndarray | None,
                  workers: int | None = None) -> np.ndarray:
    """SDR, ISR, SIR, SAR of every frame, source and system.

    Args:
        references: ``(nsrc, nsamples, nchan)``.
        systems: K estimate arrays of the same shape.
        starts, stops: the frames (:func:`.inputs.frames`).
        filters_all: ``(K, P, L, P)``: ``filters_all[k, (i, cj), a, (j, c)]`` projects estimate
            channel ``(j, c)`` of system k on all references (museval's ``C[j][i, cj, a, c]``).
        filters_own: ``(K, nsrc, nchan, L, nchan)``: museval's ``Cj[j][cj, a, c]``.
            Both None: SDR only (the other metrics are NaN).
        workers: threads for ``scipy.fft``.

    Returns:
        float64 ``(K, 4, nsrc, nwin)``: SDR, ISR, SIR, SAR.
    """
    out = np.full((len(systems), 4, references.shape[0], len(starts)), np.nan)
    widths = stops - starts
    for width in np.unique(widths):
        index = np.flatnonzero(widths == width)
        _frames_of_width(references, systems, starts[index], int(width), filters_all, filters_own,
                         out, index, workers)
    return out


def _frames_of_width(references, systems, starts, width, filters_all, filters_own, out, index, workers):
    """:func:`frame_metrics` for the frames of one width, in batches that fit :data:`BATCH_BYTES`."""
    nsrc, _, nchan = references.shape
    nsys = len(systems)
    full = filters_all is not None
    filters_len = filters_all.shape[2] if full else 1
    fft_len = scipy.fft.next_fast_len(width + filters_len - 1, real=True)
    nfreq = fft_len // 2 + 1
    if full:
        spec_all, spec_own = _filter_spectra(filters_all, filters_own, fft_len, workers)
    per_frame = 8 * nsrc * nchan * (width * (2 + nsys) + (nfreq * (2 + 14 * nsys) if full else 0))
    batch = int(max(1, BATCH_BYTES // per_frame))
    for b0 in range(0, len(starts), batch):
        first = starts[b0:b0 + batch]
        nf = len(first)
        x = np.empty((width, nf, nsrc, nchan))
        s_hat = np.empty((width, nf, nsys, nsrc, nchan))
        silent_ref = _gather(references, first, width, x)
        undefined = np.stack([silent_ref | _gather(est, first, width, s_hat[:, :, k])
                              for k, est in enumerate(systems)])              # (K, nf)
        e_true = np.einsum("wnsc,wnsc->ns", x, x)                             # |s|^2      (nf, S)
        err = s_hat - x[:, :, None]
        e_err = np.einsum("wnksc,wnksc->kns", err, err)                       # |s_hat - s|^2 (K, nf, S)
        del err
        ratios = np.full((nsys, 4, nf, nsrc), np.nan)
        ratios[:, 0] = safe_db(e_true[None], e_err)
        if full:
            spec_x = scipy.fft.rfft(x, n=fft_len, axis=0, workers=workers)      # (F, nf, S, C)
            spec_s = scipy.fft.rfft(s_hat, n=fft_len, axis=0, workers=workers)  # (F, nf, K, S, C)
            p_all, p_own = _projections(spec_x, spec_all, spec_own)
            energy = _Energy(parseval_weights(fft_len), p_all.shape)
            ratios[:, 1:] = _filtered_ratios(spec_x, spec_s, p_all, p_own, e_true, energy)
            del spec_s, energy
            _exact_zero_sdr(ratios[:, 0], e_err, undefined, x, s_hat, p_all, p_own, fft_len, filters_len, workers)
        ratios[np.broadcast_to(undefined[:, None, :, None], ratios.shape)] = np.nan
        out[:, :, :, index[b0:b0 + nf]] = ratios.transpose(0, 1, 3, 2)


def _filter_spectra(filters_all, filters_own, fft_len, workers):
    """Filter spectra laid out for the batched products: ``(F, P, K * P)`` and ``(F, K, S, C, C)``."""
    nsys, npair, _, nest = filters_all.shape
    spec_all = scipy.fft.rfft(filters_all, n=fft_len, axis=2, workers=workers)      # (K, P, F, E)
    spec_all = np.ascontiguousarray(spec_all.transpose(2, 1, 0, 3)).reshape(-1, npair, nsys * nest)
    spec_own = scipy.fft.rfft(filters_own, n=fft_len, axis=3, workers=workers)      # (K, S, C, F, C)
    return spec_all, np.ascontiguousarray(spec_own.transpose(3, 0, 1, 2, 4))


def _projections(spec_x, spec_all, spec_own):
    """P_all and P_j of every frame, system, source and channel: ``(F, nf, K, S, C)`` each."""
    nfreq, nf, nsrc, nchan = spec_x.shape
    nsys = spec_own.shape[1]
    p_all = np.matmul(spec_x.reshape(nfreq, nf, nsrc * nchan), spec_all).reshape(nfreq, nf, nsys, nsrc, nchan)
    if nsrc == 1:
        # museval's C and Cj coincide for one source (the same solve) and so do its projections
        return p_all, p_all
    p_own = np.zeros_like(p_all)
    term = np.empty_like(p_all)
    for cj in range(nchan):
        np.multiply(spec_x[:, :, None, :, cj, None], spec_own[:, None, :, :, cj, :], out=term)
        p_own += term
    return p_all, p_own


def _filtered_ratios(spec_x, spec_s, p_all, p_own, e_true, energy):
    """ISR, SIR, SAR ``(K, 3, nf, S)`` from the Parseval energies of the projections."""
    e_own = energy(p_own)                                  # |P_j|^2          (nf, K, S)
    e_all = energy(p_all)                                  # |P_all|^2
    e_interf = energy(p_all, p_own)                        # |P_all - P_j|^2
    e_spat = energy(p_own, spec_x[:, :, None])             # |P_j - s|^2
    e_artif = energy(spec_s, p_all)                        # |s_hat - P_all|^2
    isr = safe_db(e_true[:, None], e_spat)
    sir = safe_db(e_own, e_interf)
    sar = safe_db(e_all, e_artif)
    return np.stack([isr, sir, sar]).transpose(2, 0, 1, 3)


def _exact_zero_sdr(sdr, e_err, undefined, x, s_hat, p_all, p_own, fft_len, filters_len, workers):
    """Where an estimate equals its reference exactly over a frame, ``|s_hat - s|^2`` is 0 and the
    SDR would be ``+inf``; museval sums its three error terms instead, whose rounding residue
    gives a finite ~300-400 dB or, sometimes, exactly 0 (``+inf``). Redo museval's sum in the time
    domain for those (rare) frames, so that finite and infinite values fall where museval's do."""
    width = x.shape[0]
    for k, i, j in zip(*np.nonzero((e_err == 0) & ~undefined[:, :, None])):
        own = scipy.fft.irfft(p_own[:, i, k, j], n=fft_len, axis=0, workers=workers)[:width + filters_len - 1]
        full = scipy.fft.irfft(p_all[:, i, k, j], n=fft_len, axis=0, workers=workers)[:width + filters_len - 1]
        s_true = np.zeros_like(own)
        s_true[:width] = x[:, i, j]
        e_spat = own - s_true
        e_interf = full - s_true - e_spat
        e_artif = -s_true - e_spat - e_interf
        e_artif[:width] += s_hat[:, i, k, j]
        sdr[k, i, j] = safe_db(np.sum(s_true ** 2), np.sum((e_spat + e_interf + e_artif) ** 2))
