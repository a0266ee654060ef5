"""The per-frame metrics: museval's decomposition and energy ratios, batched over frames.

For one frame (samples ``[start, stop)``, W of them) and estimate j, museval
(``metrics._bss_decomp_mtifilt``, ``_project``, ``_bss_crit`` with ``bsseval_sources_version=False``)
convolves the frame's *zero-padded segments* of the references with the track's filters (a
windowed convolution, W + L - 1 samples, nothing leaks in from the previous frame) and forms

* ``P_j   = sum_cj  Cj[cj, :, c] * x_{j,cj}``   (projection on reference j alone),
* ``P_all = sum_i,cj C[i, cj, :, c] * x_{i,cj}`` (projection on all references),
* ``s_true = x_j`` zero-padded, ``e_spat = P_j - s``, ``e_interf = P_all - P_j``,
  ``e_artif = s_hat - P_all``,

and the ratios (sums over samples and channels; Vincent, Gribonval and Fevotte 2006, section
4; the "images" variant with ISR, Vincent et al. 2012)::

    SDR = 10 log10(|s|^2 / |e_spat + e_interf + e_artif|^2) = 10 log10(|s|^2 / |s_hat - s|^2)
    ISR = 10 log10(|s|^2 / |P_j - s|^2)
    SIR = 10 log10(|P_j|^2 / |P_all - P_j|^2)
    SAR = 10 log10(|P_all|^2 / |s_hat - P_all|^2)

SDR does not involve the filters (the three errors sum to ``s_hat - s``): :func:`sdr_stage`
computes it from the samples. The filter-dependent energies (:func:`filtered_metrics`) are
computed in the frequency domain: every frame's spectrum at M >= W + L - 1 points (so the linear
convolution is exact) is multiplied by the filters' spectra, the projections of all frames,
estimates and systems being one batched matrix product per frequency, and the energies follow by
Parseval (weights 1, 2, ..., 2, 1 over the one-sided spectrum) without any inverse transform.
A ratio whose denominator is exactly 0 is ``+inf`` (museval's ``_safe_db``); a frame where any
reference or estimate is silent (museval's channel-sum rule) is NaN for all sources and metrics.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.fft

from .segments import Workspace, spectra

#: Bytes of spectra and products per batch of frames (a batch has at least one frame).
BATCH_BYTES = 192 << 20


def safe_db(num, den) -> np.ndarray:
    """museval's ``_safe_db`` elementwise: ``+inf`` where ``den == 0``, else ``10 log10(num / den)``
    (``-inf`` where only ``num`` is 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.asarray(den) == 0, np.inf, 10 * np.log10(np.divide(num, den)))


def parseval_weights(fft_len: int) -> np.ndarray:
    """Weights w with ``sum(x**2) = sum(w * |rfft(x, fft_len)|**2)`` for real x of length <= fft_len."""
    w = np.full(fft_len // 2 + 1, 2.0 / fft_len)
    w[0] = 1.0 / fft_len
    if fft_len % 2 == 0:
        w[-1] = 1.0 / fft_len
    return w


@dataclass
class SdrStage:
    """What the samples alone give, per system k, frame t and source j.

    Attributes:
        sdr: ``(K, nsrc, nwin)`` dB (NaN in undefined frames).
        undefined: ``(K, nwin)``: a reference or an estimate of system k is silent in frame t.
        energy: ``(nwin, nsrc)``: ``|s|^2``, the reference energy (ISR's numerator too).
        exact: ``(K, nwin, nsrc)``: the estimate equals the reference over the frame.
    """

    sdr: np.ndarray
    undefined: np.ndarray
    energy: np.ndarray
    exact: np.ndarray


def _silent_in(segment: np.ndarray) -> bool:
    """museval's ``_any_source_silent`` on ``(nsrc, width, nchan)``, in the input dtype."""
    return bool(np.any(np.all(np.sum(segment, axis=2) == 0, axis=1)))


def sdr_stage(references: np.ndarray, systems: Sequence[np.ndarray], starts: np.ndarray,
              stops: np.ndarray) -> SdrStage:
    """SDR of every frame from the samples, and museval's silent-frame rule (float64 sums)."""
    nsys, nsrc, nwin = len(systems), references.shape[0], len(starts)
    undefined = np.zeros((nsys, nwin), dtype=bool)
    energy = np.empty((nwin, nsrc))
    error = np.empty((nsys, nwin, nsrc))
    for t, (a, b) in enumerate(zip(starts, stops)):
        ref = references[:, a:b]
        silent = _silent_in(ref)
        ref = ref.astype(np.float64, copy=False)
        energy[t] = np.einsum("swc,swc->s", ref, ref)
        for k, est in enumerate(systems):
            undefined[k, t] = silent or _silent_in(est[:, a:b])
            diff = est[:, a:b].astype(np.float64) - ref
            error[k, t] = np.einsum("swc,swc->s", diff, diff)
    sdr = safe_db(energy[None], error).transpose(0, 2, 1)
    sdr[np.broadcast_to(undefined[:, None, :], sdr.shape)] = np.nan
    return SdrStage(sdr, undefined, energy, error == 0)


def filter_spectra(filters_all: np.ndarray, filters_own: np.ndarray, fft_len: int,
                   workers: int | None = None) -> np.ndarray:
    """The filters' spectra as one matrix per frequency, ``(F, K P, P)`` or ``(F, 2 K P, P)``.

    Row ``(k, j, c)`` of the first half projects estimate channel (j, c) of system k on all
    references (museval's ``C``); the second half (more than one source only) on reference j
    alone (museval's ``Cj``, zero outside source j's columns), so that one product gives both.
    """
    nsys, npair, _, _ = filters_all.shape
    _, nsrc, nchan, _, _ = filters_own.shape
    spec_all = scipy.fft.rfft(filters_all, n=fft_len, axis=2, workers=workers)      # (K, P, F, P)
    spec_all = spec_all.transpose(2, 0, 3, 1).reshape(-1, nsys * npair, npair)
    if nsrc == 1:
        return np.ascontiguousarray(spec_all)
    spec_own = scipy.fft.rfft(filters_own, n=fft_len, axis=3, workers=workers)      # (K, S, C, F, C)
    embedded = np.zeros((spec_all.shape[0], nsys, nsrc, nchan, nsrc, nchan), dtype=np.complex128)
    for j in range(nsrc):
        embedded[:, :, j, :, j, :] = spec_own[:, j].transpose(2, 0, 3, 1)
    return np.concatenate([spec_all, embedded.reshape(-1, nsys * npair, npair)], axis=1)


def _energies(spec: np.ndarray) -> np.ndarray:
    """``sum_f |spec|^2`` of a contiguous ``(F, ..., nchan, nframes)`` complex array whose rows are
    already scaled by the square roots of the Parseval weights, summed over channels: shape
    ``spec.shape[1:-2] + (nframes,)``."""
    flat = spec.view(np.float64).reshape(spec.shape[0], -1)
    sums = np.einsum("fm,fm->m", flat, flat).reshape(spec.shape[1:] + (2,))
    return sums.sum(axis=(-3, -1))


def _batch_ratios(spec_x, spec_s, spec_h, root_w, energy_true, nsrc, nchan, workspace):
    """ISR, SIR, SAR ``(3, K, S, nf)`` of a batch of frames (spectra of :func:`.segments.spectra`),
    and the projections' spectra ``(F, K, S, C, nf)`` scaled by ``root_w`` (the square roots of
    the Parseval weights, by which ``spec_h`` is scaled too)."""
    nfreq, npair, nf = spec_x.shape
    nsys = spec_s.shape[1] // npair
    shape = (nfreq, nsys, nsrc, nchan, nf)
    products = np.matmul(spec_h, spec_x, out=workspace.get("products", (nfreq, spec_h.shape[1], nf), np.complex128))
    products = products.reshape(nfreq, -1, nsys, nsrc, nchan, nf)         # (F, halves, K, S, C, nf)
    e_halves = _energies(products)                                        # (halves, K, S, nf)
    p_all = products[:, 0]
    # one source: museval's C and Cj come from the same solve, so P_all - P_j is exactly 0
    p_own = p_all if nsrc == 1 else products[:, 1]
    e_all, e_own = e_halves[0], e_halves[-1]                              # |P_all|^2, |P_j|^2
    root_w = root_w[:, None, None]
    x_w = np.multiply(spec_x, root_w, out=workspace.get("x weighted", spec_x.shape, np.complex128))
    s_w = np.multiply(spec_s, root_w, out=workspace.get("s weighted", spec_s.shape, np.complex128))
    diff = workspace.get("difference", shape, np.complex128)
    e_interf = _energies(np.subtract(p_all, p_own, out=diff))             # |P_all - P_j|^2
    e_spat = _energies(np.subtract(p_own, x_w.reshape(nfreq, 1, nsrc, nchan, nf), out=diff))   # |P_j - s|^2
    e_artif = _energies(np.subtract(s_w.reshape(shape), p_all, out=diff))  # |s_hat - P_all|^2
    ratios = np.stack([safe_db(energy_true.T, e_spat), safe_db(e_own, e_interf), safe_db(e_all, e_artif)])
    return ratios, p_all, p_own


def filtered_metrics(references: np.ndarray, systems: Sequence[np.ndarray], starts: np.ndarray,
                     stops: np.ndarray, filters_all: np.ndarray, filters_own: np.ndarray, stage: SdrStage,
                     kept: list | None = None, workers: int | None = None) -> np.ndarray:
    """ISR, SIR, SAR of every frame, source and system: float64 ``(K, 3, nsrc, nwin)``.

    Args:
        references, systems: museval's layout ``(nsrc, nsamples, nchan)``.
        starts, stops: the frames (:func:`.inputs.frames`).
        filters_all: ``(K, P, L, P)``, ``filters_all[k, (i, cj), a, (j, c)]`` = museval's
            ``C[j][i, cj, a, c]`` for system k.
        filters_own: ``(K, nsrc, nchan, L, nchan)`` = museval's ``Cj[j][cj, a, c]``.
        stage: the :func:`sdr_stage` of the same frames; its SDR is updated where an estimate
            equals its reference exactly (:func:`_exact_frame_sdr`).
        kept: blocks ``(first frame, (F, P, n), (F, K P, n))`` of frame spectra kept from the
            correlation pass (:func:`.correlations.correlations`, when the frames are its
            segments); the other frames are transformed here.
        workers: threads for ``scipy.fft``.
    """
    nsrc, _, nchan = references.shape
    out = np.full((len(systems), 3, nsrc, len(starts)), np.nan)
    widths = stops - starts
    filters_len = filters_all.shape[2]
    workspace = Workspace()
    for width in np.unique(widths):
        index = np.flatnonzero(widths == width)
        fft_len = scipy.fft.next_fast_len(int(width) + filters_len - 1, real=True)
        root_w = np.sqrt(parseval_weights(fft_len))
        spec_h = filter_spectra(filters_all, filters_own, fft_len, workers) * root_w[:, None, None]
        nfreq, ncol, npair = spec_h.shape
        per_frame = 16 * nfreq * (npair + len(systems) * npair * 3 + ncol)
        batch = int(max(1, BATCH_BYTES // per_frame))
        for frames_b, spec_x, spec_s in _batches(references, systems, starts, index, int(width), fft_len, batch,
                                                 kept or [], workspace, workers):
            ratios, p_all, p_own = _batch_ratios(spec_x, spec_s, spec_h, root_w, stage.energy[frames_b],
                                                 nsrc, nchan, workspace)
            out[:, :, :, frames_b] = ratios.transpose(1, 0, 2, 3)
            _exact_frame_sdr(stage, references, systems, starts, frames_b, int(width), p_all, p_own, root_w,
                             fft_len, filters_len, workers)
    out[np.broadcast_to(stage.undefined[:, None, None, :], out.shape)] = np.nan
    return out


def _batches(references, systems, starts, index, width, fft_len, batch, kept, workspace, workers):
    """``(frames, spec_x, spec_s)`` for the frames ``index`` (all of one width): the kept blocks
    first, then the other frames transformed ``batch`` at a time."""
    done = np.zeros(len(starts), dtype=bool)
    for first, spec_x, spec_s in kept:
        frames_b = np.arange(first, first + spec_x.shape[2])
        done[frames_b] = True
        yield frames_b, spec_x, spec_s
    rest = index[~done[index]]
    for b0 in range(0, len(rest), batch):
        frames_b = rest[b0:b0 + batch]
        yield (frames_b, *spectra(references, systems, starts[frames_b], width, fft_len, workspace, workers=workers))


def _exact_frame_sdr(stage, references, systems, starts, frames_b, width, p_all, p_own, root_w, fft_len,
                     filters_len, workers):
    """Where an estimate equals its reference exactly over a frame, ``|s_hat - s|^2`` is 0 and the
    SDR would be ``+inf``; museval sums its three error terms instead, whose rounding residue
    gives a finite 300-400 dB or, sometimes, exactly 0 (``+inf``). Redo museval's sum in the time
    domain for those (rare) frames, so that finite and infinite values fall where museval's do."""
    hits = stage.exact[:, frames_b] & ~stage.undefined[:, frames_b, None]
    for k, i, j in zip(*np.nonzero(hits)):
        t = frames_b[i]
        length = width + filters_len - 1
        own = scipy.fft.irfft(p_own[:, k, j, :, i] / root_w[:, None], n=fft_len, axis=0, workers=workers)[:length]
        full = scipy.fft.irfft(p_all[:, k, j, :, i] / root_w[:, None], n=fft_len, axis=0, workers=workers)[:length]
        s_true = np.zeros_like(own)
        s_true[:width] = references[j, starts[t]:starts[t] + width]
        e_spat = own - s_true
        e_interf = full - s_true - e_spat
        e_artif = -s_true - e_spat - e_interf
        e_artif[:width] += systems[k][j, starts[t]:starts[t] + width]
        stage.sdr[k, j, t] = safe_db(np.sum(s_true ** 2), np.sum((e_spat + e_interf + e_artif) ** 2))
