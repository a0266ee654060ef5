"""The correlations behind BSSEval's distortion filters, from segment spectra and seams.

museval (``metrics._compute_reference_correlations`` and ``_compute_projection_filters``) takes
full-length FFTs of the zero-padded signals (``n_fft = 2**ceil(log2(N + L - 1))``, 2^24 for a
4-minute track) and one full-length inverse FFT per pair of channels, of which it keeps 2L - 1
lags. The same linear correlations, for lags ``|k| < L``, are a sum of

* *within-segment* terms: the track is cut into segments of at least L - 1 samples
  (:mod:`.segments`); each is zero-padded to M >= width + L - 1 points, so its circular
  correlations are linear for those lags, and the cross-spectra of all segments are summed per
  frequency (a batched matrix product over segments);
* *seam* terms: the pairs of samples less than L apart that straddle a boundary T. They involve
  only ``l = x[T - L + 1 : T]`` and ``r = x[T : T + L - 1]``; their cross-spectrum is
  ``R_p conj(L_q) + L_p conj(R_q)`` at 3(L - 1) points, summed over all boundaries.

One inverse FFT per sum gives the lags. These are exact linear correlations; they differ from
museval's by rounding only (relative 1e-16).

Conventions (x_p: channel c of reference source j, flattened as p = j * nchan + c; s_e the same
for an estimate of a system, e = (system, source, channel)):

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

from .segments import Segmentation, Workspace, gather, gather_systems, spectra

#: Boundaries (seams) transformed together.
SEAMS_PER_CHUNK = 64


class CrossSpectra:
    """Running sums ``sum conj(A_p) B_q`` over segments, per frequency, and their lags."""

    def __init__(self, npair: int, nest: int, fft_len: int, workspace: Workspace | None = None):
        nfreq = fft_len // 2 + 1
        self.fft_len = fft_len
        self.workspace = workspace or Workspace()
        self.refs = np.zeros((nfreq, npair, npair), dtype=np.complex128)
        self.ests = np.zeros((nfreq, npair, nest), dtype=np.complex128)

    def add(self, lead: np.ndarray, refs: np.ndarray, ests: np.ndarray) -> None:
        """Add segments: spectra ``(F, channels, nseg)`` of the references in the leading role
        (the x_p above), and of the references and the estimates in the other role."""
        lead_c = np.conjugate(lead, out=self.workspace.get("conj", lead.shape, np.complex128))
        self.refs += lead_c @ refs.transpose(0, 2, 1)
        self.ests += lead_c @ ests.transpose(0, 2, 1)

    def lags(self, filters_len: int) -> tuple[np.ndarray, np.ndarray]:
        """``rr`` ``(P, P, 2L - 1)`` and ``re`` ``(P, K P, L)`` (module docstring)."""
        lag, m = filters_len - 1, self.fft_len
        # sum conj(A) B is the conjugate of the cross-spectrum whose inverse FFT is the correlation;
        # the circular lag k sits at index k mod M
        rr = scipy.fft.irfft(np.ascontiguousarray(self.refs.conj().transpose(1, 2, 0)), n=m, axis=-1)
        re = scipy.fft.irfft(np.ascontiguousarray(self.ests.conj().transpose(1, 2, 0)), n=m, axis=-1)
        rr = np.concatenate([rr[..., m - lag:], rr[..., :lag + 1]], axis=-1)
        re = np.concatenate([re[..., :1], re[..., m - 1:m - lag - 1:-1]], axis=-1)
        return rr, re


def seam_lags(references: np.ndarray, systems: Sequence[np.ndarray], boundaries: np.ndarray,
              filters_len: int, workers: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The lags contributed by pairs of samples that straddle one of ``boundaries``."""
    nsrc, _, nchan = references.shape
    npair = nsrc * nchan
    lag = filters_len - 1
    fft_len = scipy.fft.next_fast_len(3 * lag, real=True)
    sums = CrossSpectra(npair, npair * len(systems), fft_len)
    for c0 in range(0, len(boundaries), SEAMS_PER_CHUNK):
        first = boundaries[c0:c0 + SEAMS_PER_CHUNK] - lag
        right_x = gather(references, first, 2 * lag)               # (seams, P, 2 lag)
        right_s = gather_systems(systems, first, 2 * lag, npair)
        left_x, left_s = right_x.copy(), right_s.copy()
        for left, right in ((left_x, right_x), (left_s, right_s)):
            left[..., lag:] = 0
            right[..., :lag] = 0
        lx, rx, ls, rs = (scipy.fft.rfft(a, n=fft_len, axis=-1, workers=workers).transpose(2, 1, 0)
                          for a in (left_x, right_x, left_s, right_s))
        # x_p right of the boundary with x_q / s_e left of it (k > 0), and the other way round
        sums.add(np.concatenate([rx, lx], axis=2), np.concatenate([lx, rx], axis=2),
                 np.concatenate([ls, rs], axis=2))
    return sums.lags(filters_len)


def correlations(references: np.ndarray, systems: Sequence[np.ndarray], plan: Segmentation,
                 filters_len: int = 512, keep: int = 0, workers: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray, list[tuple[int, np.ndarray, np.ndarray]]]:
    """Reference-reference and reference-estimate correlations of whole tracks.

    Args:
        references: ``(nsrc, nsamples, nchan)``, any real dtype (cast to float64 segment by segment).
        systems: estimate arrays of the same shape; their channels are stacked in this order.
        plan: the segments (:func:`.segments.segmentation`).
        filters_len: L, the number of filter taps (museval: 512).
        keep: also return the spectra of the first ``keep`` segments (the metric frames, when
            they are the segments), for :mod:`.metrics` to reuse; 0: keep nothing.
        workers: threads for ``scipy.fft`` (None: one).

    Returns:
        ``rr`` ``(P, P, 2L - 1)``, ``re`` ``(P, K * P, L)`` (module docstring) and the kept
        spectra: blocks ``(first segment, (F, P, n), (F, K * P, n))`` of consecutive segments
        (:func:`.segments.spectra`).
    """
    nsrc, nsamples, nchan = references.shape
    npair, nest = nsrc * nchan, nsrc * nchan * len(systems)
    workspace = Workspace()
    sums = CrossSpectra(npair, nest, plan.fft_len, workspace)
    batch = _segments_per_batch(plan, npair + nest)
    kept = []
    for b0 in range(0, len(plan.starts), batch):
        starts = plan.starts[b0:b0 + batch]
        spec_x, spec_s = spectra(references, systems, starts, plan.width, plan.fft_len, workspace,
                                 keep=b0 + len(starts) <= keep, workers=workers)
        sums.add(spec_x, spec_x, spec_s)
        if b0 + len(starts) <= keep:
            kept.append((b0, spec_x, spec_s))
        elif b0 < keep:  # the batch that also holds segments beyond `keep` (the trailing partial one)
            n = keep - b0
            kept.append((b0, np.ascontiguousarray(spec_x[:, :, :n]), np.ascontiguousarray(spec_s[:, :, :n])))
    del workspace
    rr, re = sums.lags(filters_len)
    if len(plan.starts) > 1:
        seam_rr, seam_re = seam_lags(references, systems, plan.starts[1:], filters_len, workers)
        rr += seam_rr
        re += seam_re
    return rr, re, kept


def _segments_per_batch(plan: Segmentation, channels: int, budget: int = 192 << 20) -> int:
    """Segments per batch so that their samples and spectra take about ``budget`` bytes."""
    per_segment = channels * (8 * plan.width + 16 * (plan.fft_len // 2 + 1)) * 2
    return int(max(1, budget // per_segment))


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
    float64 ``(P * L, P * L)`` (134 MB for 4 stereo stems). ``eps * I`` is not added here.

    Laid out in Fortran order: ``np.linalg.solve`` copies its matrix into LAPACK's column-major
    layout, which is a plain copy then instead of a transposition (0.13 s less for 4096 x 4096;
    the solution is the same to the bit).
    """
    npair = rr.shape[0]
    lags = symmetric_lags(rr)
    # windows[p, q, i, b] = lags[p, q, i + b]; row a of block (p, q) is window i = L - 1 - a
    windows = np.lib.stride_tricks.sliding_window_view(lags, filters_len, axis=-1)[:, :, ::-1, :]
    transposed = np.ascontiguousarray(windows.transpose(1, 3, 0, 2))     # (q, b, p, a)
    return transposed.reshape(npair * filters_len, npair * filters_len).T


class GramOperator:
    """``v -> (G + shift I) v`` for :func:`gram_matrix`'s G, from its lags, by FFT.

    Row (p, a) of G v is ``sum_q sum_b h_pq[b - a] v_q[b]`` with ``h_pq[k] = lags[p, q, k + L - 1]``:
    a convolution of ``g_pq[m] = h_pq[-m]`` (support |m| < L) with v_q (support [0, L)), exact
    at 3L - 2 points or more. O(P^2 L) per vector instead of O(P^2 L^2), and G is not read.
    """

    def __init__(self, rr: np.ndarray, shift: float = 0.0):
        lags = symmetric_lags(rr)
        self.npair, _, width = lags.shape
        self.filters_len = (width + 1) // 2
        lag = self.filters_len - 1
        self.fft_len = scipy.fft.next_fast_len(3 * lag + 1, real=True)
        g = np.zeros((self.npair, self.npair, self.fft_len))
        g[..., :lag + 1] = lags[..., lag::-1]                    # m = 0 .. L - 1
        g[..., self.fft_len - lag:] = lags[..., 2 * lag:lag:-1]  # m = -(L - 1) .. -1
        self.spec = np.ascontiguousarray(scipy.fft.rfft(g, axis=-1).transpose(2, 0, 1))
        self.shift = shift

    def __matmul__(self, v: np.ndarray) -> np.ndarray:
        """``(G + shift I) @ v`` for ``v`` of shape ``(P * L, m)``."""
        cols = v.shape[1]
        spec_v = scipy.fft.rfft(v.reshape(self.npair, self.filters_len, cols), n=self.fft_len, axis=1)
        product = self.spec @ spec_v.transpose(1, 0, 2)                          # (F, P, m)
        out = scipy.fft.irfft(product, n=self.fft_len, axis=0)[:self.filters_len]  # (L, P, m)
        return out.transpose(1, 0, 2).reshape(v.shape) + self.shift * v


def cross_matrix(re: np.ndarray) -> np.ndarray:
    """museval's ``D`` for every estimate channel at once: ``D[(p, a), e] = re[p, e, a]``,
    float64 ``(P * L, number of estimate channels)``."""
    npair, nest, filters_len = re.shape
    return np.ascontiguousarray(re.transpose(0, 2, 1)).reshape(npair * filters_len, nest)
