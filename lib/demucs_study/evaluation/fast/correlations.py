"""The correlations behind BSSEval's distortion filters, by block-accumulated cross-spectra.

museval (``metrics._compute_reference_correlations`` and ``_compute_projection_filters``) takes
full-length FFTs of the zero-padded signals (``n_fft = 2**ceil(log2(N + L - 1))``, 2^24 for a
4-minute track) and one full-length inverse FFT per pair of channels, but keeps only 2L - 1 lags.
Here the same linear correlations are summed block by block: the "anchor" signal is cut into
disjoint blocks of B samples, the other signal is read over the block widened by L - 1 samples
on each side, both are transformed at M = B + 2(L - 1) points (no circular wrap-around reaches
the lags |k| < L), the cross-spectra of all blocks are summed per frequency (a batched matrix
product over the blocks) and one inverse FFT of length M gives the lags. The sums are exact
linear correlations; they differ from museval's by rounding only (relative 1e-16).

Conventions (x_p: channel c of reference source j, flattened as p = j * nchan + c; s_e the same
for an estimate):

* ``rr[p, q, m] = sum_n x_p[n + k] x_q[n]`` with ``k = m - (L - 1)``, ``m = 0 .. 2L - 2``;
* ``re[p, e, a] = sum_n x_p[n - a] s_e[n]``, ``a = 0 .. L - 1``.

From these, :func:`gram_matrix` builds museval's ``G`` (``_reshape_G`` order: rows and columns
are (source, channel, lag), ``G[(p, a), (q, b)] = <x_p delayed by a, x_q delayed by b>``, a
block-Toeplitz matrix) and :func:`cross_matrix` its right-hand sides ``D``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.fft

#: FFT length of the correlation blocks; the anchor blocks hold M - 2(L - 1) samples.
BLOCK_FFT = 16384
#: Blocks transformed together (bounds the memory: about 1 MB per block and channel).
BLOCKS_PER_CHUNK = 16


def _fill_time_major(buf: np.ndarray, sources: np.ndarray, start: int) -> None:
    """``buf[i, j * nchan + c] = sources[j, start + i, c]`` as float64, zero outside the signal."""
    n = buf.shape[0]
    nsrc, nsamples, nchan = sources.shape
    lo, hi = max(start, 0), min(start + n, nsamples)
    if hi <= lo:
        buf[:] = 0
        return
    buf[:lo - start] = 0
    buf[hi - start:] = 0
    for j in range(nsrc):
        buf[lo - start:hi - start, j * nchan:(j + 1) * nchan] = sources[j, lo:hi]


def correlations(references: np.ndarray, systems: Sequence[np.ndarray], filters_len: int = 512,
                 fft_len: int = BLOCK_FFT, workers: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Reference-reference and reference-estimate correlations of whole tracks.

    Args:
        references: ``(nsrc, nsamples, nchan)``, any real dtype (cast to float64 block by block).
        systems: estimate arrays of the same shape; their channels are stacked in this order.
        filters_len: L, the number of filter taps (museval: 512).
        fft_len: block FFT length M (at least 4(L - 1)).
        workers: threads for ``scipy.fft`` (None: one).

    Returns:
        ``rr`` of shape ``(P, P, 2L - 1)`` and ``re`` of shape ``(P, K * P, L)``, float64, with
        P = nsrc * nchan and K = len(systems) (see the module docstring for the definitions).
    """
    nsrc, nsamples, nchan = references.shape
    lag = filters_len - 1
    npair, nest = nsrc * nchan, nsrc * nchan * len(systems)
    if fft_len < 4 * lag:
        raise ValueError(f"fft_len {fft_len} is too short for {filters_len} filter taps")
    block = fft_len - 2 * lag
    nblocks = -(-nsamples // block)
    acc_rr = np.zeros((fft_len // 2 + 1, npair, npair), dtype=np.complex128)
    acc_re = np.zeros((fft_len // 2 + 1, npair, nest), dtype=np.complex128)
    for b0 in range(0, nblocks, BLOCKS_PER_CHUNK):
        nb = min(BLOCKS_PER_CHUNK, nblocks - b0)
        start = b0 * block
        wide = np.empty((nb * block + 2 * lag, npair))
        _fill_time_major(wide, references, start - lag)
        ests = np.empty((nb * block, nest))
        for k, est in enumerate(systems):
            _fill_time_major(ests[:, k * npair:(k + 1) * npair], est, start)
        # (time, block, channel) views: each block widened by `lag` on both sides, and the anchors
        widened = np.lib.stride_tricks.as_strided(
            wide, shape=(block + 2 * lag, nb, npair), strides=(wide.strides[0], block * wide.strides[0], wide.strides[1]),
            writeable=False)
        anchors = wide[lag:lag + nb * block].reshape(nb, block, npair).transpose(1, 0, 2)
        spec_w = scipy.fft.rfft(widened, n=fft_len, axis=0, workers=workers).conj()   # (F, nb, P)
        spec_w = spec_w.transpose(0, 2, 1)                                             # (F, P, nb)
        acc_rr += np.matmul(spec_w, scipy.fft.rfft(anchors, n=fft_len, axis=0, workers=workers))
        acc_re += np.matmul(spec_w, scipy.fft.rfft(ests.reshape(nb, block, nest).transpose(1, 0, 2),
                                                   n=fft_len, axis=0, workers=workers))
    # sum_b conj(W_b) A_b is the conjugate of the cross-spectrum whose inverse FFT is the correlation
    rr = scipy.fft.irfft(acc_rr.conj(), n=fft_len, axis=0, workers=workers)[:2 * lag + 1]
    re = scipy.fft.irfft(acc_re.conj(), n=fft_len, axis=0, workers=workers)[lag::-1]
    return np.ascontiguousarray(rr.transpose(1, 2, 0)), np.ascontiguousarray(re.transpose(1, 2, 0))


def symmetric_lags(rr: np.ndarray) -> np.ndarray:
    """The lags in the orientation museval places them in G.

    museval computes each pair of channels once, ``q <= p`` in (source, channel) order, writes
    that Toeplitz block at ``(p, q)`` and its transpose at ``(q, p)``; for ``p == q`` the
    transposed block is the one that stays. So its off-diagonal blocks are exact transposes of
    each other (and its diagonal blocks symmetric only up to rounding). Same here:
    ``out[p, q] = rr[p, q]`` for ``p > q``, the time-reversed ``rr[q, p]`` for ``p < q`` and the
    time-reversed ``rr[p, p]`` on the diagonal."""
    out = rr.copy()
    npair = rr.shape[0]
    for p in range(npair):
        for q in range(p, npair):
            out[p, q] = rr[q, p, ::-1]
    return out


def gram_matrix(rr: np.ndarray, filters_len: int = 512) -> np.ndarray:
    """museval's ``_reshape_G(G)`` from the lags: ``G[(p, a), (q, b)] = rr_sym[p, q, b - a + L - 1]``,
    float64 ``(P * L, P * L)`` (134 MB for 4 stereo sources). ``eps * I`` is not added here."""
    npair = rr.shape[0]
    lags = symmetric_lags(rr)
    # windows[p, q, i, b] = lags[p, q, i + b]; row a of block (p, q) is window i = L - 1 - a
    windows = np.lib.stride_tricks.sliding_window_view(lags, filters_len, axis=-1)[:, :, ::-1, :]
    return np.ascontiguousarray(windows.transpose(0, 2, 1, 3)).reshape(npair * filters_len, npair * filters_len)


def cross_matrix(re: np.ndarray) -> np.ndarray:
    """museval's ``D`` for every estimate channel at once: ``D[(p, a), e] = re[p, e, a]``,
    float64 ``(P * L, number of estimate channels)``."""
    npair, nest, filters_len = re.shape
    return np.ascontiguousarray(re.transpose(0, 2, 1)).reshape(npair * filters_len, nest)
