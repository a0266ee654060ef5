"""Entry points: museval-compatible :func:`evaluate`, several systems in one call, conditioning."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from .correlations import GramOperator, correlations, cross_matrix, gram_matrix
from .filters import (EPS, ILL_CONDITIONED, PROBES, Conditioning, condition_estimate, probe_vectors,
                      solve_like_museval)
from .inputs import frames, prepare
from .metrics import filtered_metrics, sdr_stage
from .segments import Segmentation, segmentation

#: museval's ``filters_len``: distortion filters of 512 taps.
FILTERS_LEN = 512
#: Memory for the frames' spectra kept from the correlation pass for the projections; the frames
#: beyond it are transformed again. One second of 4 stereo stems and one system takes 5.8 MB, so
#: this keeps about 3 minutes of one system (a 30 s track takes 180 MB).
KEEP_BYTES = 1 << 30


@dataclass(frozen=True)
class Scores:
    """BSSEval v4 of one system on one track; iterates as museval's ``(SDR, ISR, SIR, SAR)``.

    Attributes:
        sdr, isr, sir, sar: float64 ``(nsrc, nwin)`` in dB; NaN in frames where a reference or an
            estimate is silent, ``+inf`` where a denominator is exactly 0; ISR, SIR and SAR are
            NaN everywhere with ``sdr_only=True``.
        conditioning: the track's :class:`Conditioning` (shared by all systems of the call);
            None with ``sdr_only=True`` (no filters are computed then).
    """

    sdr: np.ndarray
    isr: np.ndarray
    sir: np.ndarray
    sar: np.ndarray
    conditioning: Conditioning | None

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.sdr, self.isr, self.sir, self.sar))


def evaluate(references, estimates, win=1 * 44100, hop=1 * 44100, mode: str = "v4", padding: bool = True,
             *, sdr_only: bool = False, track: str | None = None, names: Sequence[str] | None = None,
             workers: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``museval.evaluate`` (BSSEval v4, "images" metrics, time-invariant 512-tap filters), faster.

    Same arguments, same checks and errors, same result as museval 0.4.1's ``evaluate``, which
    calls ``metrics.bss_eval(references, estimates, compute_permutation=False, window=win,
    hop=hop, framewise_filters=False, bsseval_sources_version=False)``.

    Args:
        references, estimates: ``(nsrc, nsamples, nchan)`` (or what ``np.atleast_3d`` turns into
            that); any real dtype, float64 inside. Not copied.
        win, hop: frame length and hop in samples (museval's ``Framing``).
        mode: ``"v4"`` only (museval's "v3", per-frame filters, is not implemented).
        padding: cut or zero-pad the estimates to the references' length first, as museval does.
        sdr_only: skip the filters: SDR is exact without them (it is the energy ratio of the
            reference to ``estimate - reference`` in each frame), ISR/SIR/SAR are NaN. One
            difference: where an estimate equals its reference bit for bit over a frame, SDR is
            ``+inf`` here while museval (and the full mode) give its rounding residue, a finite
            300-400 dB or ``+inf``.
        track, names: a track name and the stem names, used in error messages only.
        workers: threads for ``scipy.fft`` (None: one; BLAS threads are set by the environment).

    Returns:
        ``(SDR, ISR, SIR, SAR)``, each float64 ``(nsrc, nwin)``.

    Raises:
        ValueError: as museval (mismatched shapes, too many dimensions, a reference or an
            estimate silent over the whole track), and for NaN or inf samples.
    """
    return tuple(evaluate_systems(references, [estimates], win, hop, mode, padding, sdr_only=sdr_only,
                                  track=track, names=names, workers=workers)[0])


def evaluate_systems(references, systems: Sequence, win=1 * 44100, hop=1 * 44100, mode: str = "v4",
                     padding: bool = True, *, sdr_only: bool = False, track: str | None = None,
                     names: Sequence[str] | None = None, workers: int | None = None) -> list[Scores]:
    """BSSEval v4 of several systems' estimates against one set of references, in one pass.

    The reference side (their correlations, the 4096 x 4096 correlation matrix G and its LU
    factorisation, the spectra of the reference frames) is computed once; each system adds its
    own correlations, right-hand sides and projections. The result for each system equals
    :func:`evaluate` on that system alone (up to rounding: 1e-12 dB on well-conditioned tracks).

    Args:
        references: ``(nsrc, nsamples, nchan)``.
        systems: a sequence of estimate arrays, each like ``references``.
        win, hop, mode, padding, sdr_only, track, names, workers: as in :func:`evaluate`.

    Returns:
        one :class:`Scores` per system, in order.
    """
    if mode != "v4":
        raise ValueError(f"mode={mode!r}: only 'v4' (time-invariant filters, SiSEC 2018) is implemented; "
                         f"use museval.evaluate for 'v3'")
    if len(systems) == 0:
        raise ValueError("evaluate_systems needs at least one set of estimates")
    prepared = [prepare(references, est, padding, _system_track(track, k, len(systems)), names)
                for k, est in enumerate(systems)]
    ref = prepared[0][0]
    ests = [est for _, est, _ in prepared]
    if not all(ok for _, _, ok in prepared):
        empty = np.array([])
        return [Scores(empty, empty, empty, empty, None) for _ in systems]
    starts, stops = frames(ref.shape[1], win, hop)
    stage = sdr_stage(ref, ests, starts, stops)
    if sdr_only:
        nan = np.full(stage.sdr.shape[1:], np.nan)
        return [Scores(sdr, nan, nan.copy(), nan.copy(), None) for sdr in stage.sdr]
    plan = segmentation(ref.shape[1], starts, stops, FILTERS_LEN)
    keep = min(len(starts), KEEP_BYTES // _frame_bytes(plan, ref, len(ests))) if plan.frames_are_segments else 0
    rr, re, kept = correlations(ref, ests, plan, FILTERS_LEN, keep, workers)
    filters_all, filters_own, conditioning = filters_from_lags(rr, re, ref.shape[0], ref.shape[2], len(ests))
    filtered = filtered_metrics(ref, ests, starts, stops, filters_all, filters_own, stage, kept, workers)
    return [Scores(stage.sdr[k], *filtered[k], conditioning=conditioning) for k in range(len(ests))]


def _frame_bytes(plan: Segmentation, references: np.ndarray, nsys: int) -> int:
    """Bytes of one frame's spectra (references and all systems)."""
    nsrc, _, nchan = references.shape
    return 16 * (plan.fft_len // 2 + 1) * nsrc * nchan * (1 + nsys)


def _system_track(track: str | None, k: int, nsys: int) -> str | None:
    if nsys == 1:
        return track
    return f"{track} (system {k})" if track is not None else f"system {k}"


def filters_from_lags(rr: np.ndarray, re: np.ndarray, nsrc: int, nchan: int, nsys: int
                      ) -> tuple[np.ndarray, np.ndarray, Conditioning]:
    """museval's filters ``C`` and ``Cj`` for every estimate of every system, from one solve.

    Args:
        rr, re: the correlations (:func:`.correlations.correlations`).
        nsrc, nchan, nsys: sources, channels, systems.

    Returns:
        ``filters_all`` ``(K, P, L, P)``, ``filters_own`` ``(K, nsrc, nchan, L, nchan)`` (see
        :func:`.metrics.filtered_metrics`) and the track's :class:`Conditioning`.
    """
    npair, filters_len = nsrc * nchan, rr.shape[-1] // 2 + 1
    g = gram_matrix(rr, filters_len)
    d = cross_matrix(re)                                   # (P L, K P), columns (system, source, channel)
    diagonal = g.diagonal().copy()
    g[np.diag_indices_from(g)] += EPS                      # museval: G + eps * np.eye(...)
    rhs = np.concatenate([d, probe_vectors(g.shape[0], PROBES)], axis=1)
    solution, fallback = solve_like_museval(g, rhs, diagonal)
    cond = condition_estimate(GramOperator(rr, EPS), solution[:, -PROBES:])
    filters_all = solution[:, :-PROBES].reshape(npair, filters_len, nsys, npair).transpose(2, 0, 1, 3)
    block = nchan * filters_len
    filters_own = np.empty((nsys, nsrc, nchan, filters_len, nchan))
    if nsrc == 1:
        filters_own[:, 0] = filters_all.reshape(nsys, nchan, filters_len, nchan)
    else:
        for j in range(nsrc):
            rows = slice(j * block, (j + 1) * block)
            cols = (np.arange(nsys)[:, None] * npair + j * nchan + np.arange(nchan)[None, :]).ravel()
            own, fallback_j = solve_like_museval(g[rows, rows], d[rows][:, cols], diagonal[rows])
            fallback = fallback or fallback_j
            filters_own[:, j] = own.reshape(nchan, filters_len, nsys, nchan).transpose(2, 0, 1, 3)
    conditioning = Conditioning(cond=cond, ill_conditioned=bool(cond > ILL_CONDITIONED), lstsq_fallback=fallback)
    return np.ascontiguousarray(filters_all), filters_own, conditioning


def reference_conditioning(references, filters_len: int = FILTERS_LEN, workers: int | None = None) -> Conditioning:
    """The :class:`Conditioning` of a track's references alone (no estimates needed).

    Costs the correlations of the references and one LU of G (about 1.3 s for 4 stereo stems).
    """
    ref = np.atleast_3d(np.asarray(references))
    n = ref.shape[1]
    plan = segmentation(n, np.zeros(1, np.int64), np.full(1, n), filters_len)
    rr, _, _ = correlations(ref, [], plan, filters_len, workers=workers)
    g = gram_matrix(rr, filters_len)
    diagonal = g.diagonal().copy()
    g[np.diag_indices_from(g)] += EPS
    solution, fallback = solve_like_museval(g, probe_vectors(g.shape[0], PROBES), diagonal)
    cond = condition_estimate(GramOperator(rr, EPS), solution)
    return Conditioning(cond=cond, ill_conditioned=bool(cond > ILL_CONDITIONED), lstsq_fallback=fallback)
