"""The distortion filters: museval's linear solves, done once per track, and a conditioning estimate.

museval (``metrics.bss_eval`` with ``framewise_filters=False``; ``compute_GsfC``, ``compute_Cj``,
``_compute_projection_filters``) solves, for every estimate j,

* ``C[j] = np.linalg.solve(G + eps I, D_j)``: the least-squares projection of estimate j on the
  delayed references of all sources (Vincent, Gribonval and Fevotte 2006, section 3; the "images"
  decomposition with ISR of Vincent et al. 2007 and 2012, with the filters computed once per
  track as in SiSEC 2018, Stoter, Liutkus and Ito 2018), and
* ``Cj[j] = np.linalg.solve(G_jj + eps I, D_j restricted to source j)``: its projection on the
  delayed channels of reference j alone,

with ``eps = np.finfo(float).eps`` added to the diagonal (an absolute 2.2e-16) and
``np.linalg.lstsq(G, D)`` (no eps) when ``solve`` raises ``LinAlgError`` (an exactly zero pivot).
G does not depend on the estimate, so the S solves of museval are one ``np.linalg.solve`` with all
right-hand sides here, of every estimate of every system (numpy's LAPACK ``gesv``, as museval).

museval 0.4.1 spells the exception ``np.linalg.linalg.LinAlgError``, a name numpy 2 removed, so
with numpy 2 its fallback ends in an ``AttributeError`` instead. This module implements the
fallback museval intends (``lstsq`` with ``rcond=None``, numpy 2's default) and reports that it
fired; callers that must refuse what museval refuses can check :attr:`Conditioning.lstsq_fallback`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = np.finfo(float).eps
#: Above this estimated condition number of G + eps I, the ISR, SIR and SAR of a track depend on
#: rounding: 1e-16 relative differences in G (another FFT, another BLAS, museval against itself
#: with references multiplied by 1 + 1e-13) change the filters by up to cond * 1e-16 relative, and
#: museval's frame-by-frame convolution turns the resulting large filter gains into frame-edge
#: energy. 1e8 keeps that below 1e-8 relative (4e-8 dB) on the energies; well-conditioned tracks
#: (broadband stems) are far below it, band-limited or dual-mono references far above (1e12 and
#: more). SDR is not affected: it does not use the filters.
ILL_CONDITIONED = 1e8
#: Random probe vectors solved along with the filters, for the conditioning estimate.
PROBES = 4
#: Block power steps for the largest eigenvalue of G (an order of magnitude is all the flag needs).
POWER_STEPS = 2


@dataclass(frozen=True)
class Conditioning:
    """Conditioning of one track's reference correlation matrix ``G + eps I`` (SCL x SCL).

    Attributes:
        cond: estimate of its 2-norm condition number, ``lambda_max / lambda_min``. Both
            eigenvalues are Ritz values (a block power iteration for the largest, the Rayleigh-Ritz
            values of one inverse iteration from random vectors for the smallest), so this is a
            lower bound, typically within a factor of a few of the true value.
        ill_conditioned: ``cond > threshold``: the track's ISR, SIR and SAR are not reproducible
            across implementations (museval included) beyond roughly ``cond * 1e-16`` relative;
            SDR is exact regardless.
        lstsq_fallback: ``np.linalg.solve`` found an exactly zero pivot and the filters come from
            ``np.linalg.lstsq`` (museval 0.4.1 fails there with numpy 2).
        threshold: the flag's threshold (:data:`ILL_CONDITIONED`).
    """

    cond: float
    ill_conditioned: bool
    lstsq_fallback: bool
    threshold: float = ILL_CONDITIONED


def solve_like_museval(g_eps: np.ndarray, rhs: np.ndarray, diagonal: np.ndarray | None = None
                       ) -> tuple[np.ndarray, bool]:
    """``np.linalg.solve(G + eps I, rhs)``, or ``np.linalg.lstsq(G, rhs, rcond=None)`` on ``LinAlgError``.

    Args:
        g_eps: ``G + eps I`` (not modified).
        rhs: right-hand sides, ``(n, m)``.
        diagonal: G's own diagonal (before eps), to rebuild G for the fallback; if None, eps is
            subtracted from ``g_eps``'s diagonal (exact unless the diagonal is below ~1).

    Returns:
        ``(solution, used_lstsq)``.
    """
    try:
        return np.linalg.solve(g_eps, rhs), False
    except np.linalg.LinAlgError:
        g = g_eps.copy()
        idx = np.diag_indices_from(g)
        g[idx] = diagonal if diagonal is not None else g[idx] - EPS
        return np.linalg.lstsq(g, rhs, rcond=None)[0], True


def probe_vectors(n: int, count: int = PROBES, seed: int = 0) -> np.ndarray:
    """Fixed Gaussian probes ``(n, count)`` solved with the filters for :func:`condition_estimate`."""
    return np.random.default_rng(seed).standard_normal((n, count))


def condition_estimate(gram, solved_probes: np.ndarray, seed: int = 1) -> float:
    """Estimate the 2-norm condition number of the symmetric matrix ``gram`` from ``gram^-1 Z``.

    ``gram``: the matrix, or anything with ``gram @ v`` (:class:`.correlations.GramOperator`).
    The smallest eigenvalue: the smallest Rayleigh-Ritz value of ``gram`` on the span of the
    solved probes (one step of inverse iteration, which the filter solve gives for free). The
    largest: the largest Ritz value after :data:`POWER_STEPS` block power steps from random
    vectors. Both are Ritz values, so the ratio is a lower bound of the condition number, within
    a factor of 2 of it on the tracks we checked. Returns ``inf`` when the smallest Ritz value is
    not positive (G numerically singular).
    """
    small_basis, _ = np.linalg.qr(solved_probes)
    large_basis, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal(solved_probes.shape))
    for _ in range(POWER_STEPS - 1):
        large_basis, _ = np.linalg.qr(gram @ large_basis)
    count = small_basis.shape[1]
    product = gram @ np.concatenate([small_basis, large_basis], axis=1)
    small = np.linalg.eigvalsh(small_basis.T @ product[:, :count])[0]
    large = np.linalg.eigvalsh(large_basis.T @ product[:, count:])[-1]
    if not small > 0:
        return float("inf")
    return float(large / small)
