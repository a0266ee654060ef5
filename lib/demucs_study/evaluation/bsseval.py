"""Per-track metrics: BSSEval v4 (the SiSEC 2018 protocol; museval itself or :mod:`.fast`) and the
fast "new SDR".

Arrays of stems are ``(sources, channels, time)`` in the order of :data:`demucs_study.SOURCES`;
museval itself takes ``(sources, time, channels)``, the transposition happens here only.
"""
from __future__ import annotations

import json
import math
import warnings
from typing import Sequence

import numpy as np

from .. import SAMPLERATE, SOURCES
from ..errors import AudioError, ParamsError

#: Added to both energies of :func:`new_sdr` so that silence gives 0 dB instead of NaN/inf. The
#: value is the ``delta`` of the "new SDR" of the Music Demixing Challenge 2021 (Mitsufuji et al.
#: 2021, and demucs v3's ``evaluate.new_sdr``); for float audio in [-1, 1] it only matters when a
#: whole stem is (nearly) digital silence.
NEW_SDR_EPS = 1e-7


class SilentStemWarning(UserWarning):
    """A stem is digital silence over the whole track: BSSEval is undefined, the track is skipped."""


def new_sdr(references, estimates, eps: float = NEW_SDR_EPS) -> np.ndarray:
    """The "new SDR" of whole signals, per stem, in dB (no windows, no distortion filters).

    ``10 log10((eps + sum ref^2) / (eps + sum (ref - est)^2))``, summed over channels and time.

    Args:
        references, estimates: ``(sources, channels, time)`` (numpy arrays, or anything
            ``np.asarray`` accepts, e.g. CPU tensors); any leading dimensions are kept, so
            ``(batch, sources, channels, time)`` gives ``(batch, sources)``.
        eps: see :data:`NEW_SDR_EPS`.

    Returns:
        float64 array of shape ``references.shape[:-2]``, e.g. ``(sources,)``.
    """
    ref = np.asarray(references, dtype=np.float64)
    est = np.asarray(estimates, dtype=np.float64)
    if ref.shape != est.shape or ref.ndim < 2:
        raise AudioError(
            f"new_sdr needs references and estimates of the same shape (..., channels, time); "
            f"got {ref.shape} and {est.shape}")
    num = eps + np.sum(ref ** 2, axis=(-2, -1))
    den = eps + np.sum((ref - est) ** 2, axis=(-2, -1))
    return 10.0 * np.log10(num / den)


def _is_silent(stem: np.ndarray) -> bool:
    """museval's test (``metrics._any_source_silent``) for one stem ``(channels, time)``: the sum
    over channels is exactly zero at every sample."""
    return bool(np.all(np.sum(stem, axis=0) == 0))


def check_stems(name: str, references: np.ndarray, estimates: np.ndarray,
                sources: Sequence[str] = SOURCES) -> tuple[np.ndarray, np.ndarray]:
    """Validate one track's arrays, return them as float64 ``(sources, channels, time)``.

    Raises :class:`AudioError` naming the track for a wrong number of stems, mismatched shapes
    or lengths, an empty track or non-finite samples.
    """
    ref = np.asarray(references)
    est = np.asarray(estimates)
    for what, arr in (("references", ref), ("estimates", est)):
        if arr.ndim != 3:
            raise AudioError(f"track {name!r}: {what} must be (sources, channels, time), got shape {arr.shape}")
        if arr.shape[0] != len(sources):
            raise AudioError(
                f"track {name!r}: {what} hold {arr.shape[0]} stems, expected {len(sources)} "
                f"({', '.join(sources)}); a stem is missing or extra")
    if ref.shape[1] != est.shape[1]:
        raise AudioError(f"track {name!r}: references have {ref.shape[1]} channels, estimates {est.shape[1]}")
    if ref.shape[2] != est.shape[2]:
        raise AudioError(
            f"track {name!r}: references are {ref.shape[2]} samples long, estimates {est.shape[2]}; "
            f"estimates must have the length of the mixture (separate the full track again)")
    if ref.shape[2] == 0:
        raise AudioError(f"track {name!r}: the track is empty (0 samples)")
    ref = ref.astype(np.float64, copy=False)
    est = est.astype(np.float64, copy=False)
    for what, arr in (("reference", ref), ("estimate", est)):
        bad = ~np.isfinite(arr).all(axis=(1, 2))
        if bad.any():
            stem = sources[int(np.argmax(bad))]
            raise AudioError(f"track {name!r}: the {what} of {stem!r} holds NaN or inf samples")
    return ref, est


#: The implementations :func:`evaluate_track` can use: ``"fast"`` (:mod:`.fast`, the default) and
#: ``"museval"`` (museval 0.4.1 itself). Both write museval's per-track JSON.
BACKENDS = ("fast", "museval")


def evaluate_track(name: str, references, estimates, samplerate: int = SAMPLERATE,
                   win: float = 1.0, hop: float = 1.0, sources: Sequence[str] = SOURCES,
                   backend: str = "fast", return_conditioning: bool = False):
    """BSSEval v4 of one track, all stems evaluated together (SiSEC 2018), as museval computes it.

    Args:
        name: the track name (used in messages only).
        references, estimates: ``(4, 2, T)`` float arrays, stems in the order of ``sources``;
            cast to float64 first (as demucs' own evaluation does).
        samplerate: Hz, to turn ``win`` and ``hop`` (seconds) into samples.
        win, hop: frame length and hop in seconds; SiSEC 2018 uses 1 s and 1 s.
        backend: ``"fast"`` (:func:`demucs_study.evaluation.fast.evaluate_systems`: museval's
            numbers to rounding, about 10x faster on 30 s tracks and over 20x on full-length
            songs) or ``"museval"`` (``museval.evaluate``).
        return_conditioning: also return the track's
            :class:`~demucs_study.evaluation.fast.Conditioning` (None with the museval backend).

    Returns:
        museval 0.4.1's per-track JSON as a dict (what ``TrackStore.json`` encodes, built by
        museval's ``TrackStore`` for both backends and validated against its schema):
        ``{"targets": [{"name", "frames": [{"time", "duration", "metrics": {"SDR", "SIR",
        "SAR", "ISR"}}]}], "museval_version"}``; values rounded to 1e-5 as museval does, frames
        where BSSEval is undefined (a silent reference or estimate in that frame) and infinite
        values are ``nan`` (museval writes them as ``NaN``). ``None`` when a stem is digital
        silence over the whole track (museval raises then): a :class:`SilentStemWarning` naming the
        track and stem is issued instead. With ``return_conditioning``: ``(dict or None,
        conditioning or None)``.

    Cost (museval backend): a fixed ~8-10 s of one CPU core per track (museval solves one 4096 x
    4096 system per stem: 4 stems x 2 channels x 512 filter taps) plus the per-minute work; 62 CPU
    s per track-minute for 30 s tracks here (``benchmarks/bench_museval.json``), ~45 s for
    full-length songs. The fast backend: ``benchmarks/bench_fast_bsseval.json``.
    """
    if backend not in BACKENDS:
        raise ParamsError(f"track {name!r}: unknown evaluation backend {backend!r}; use one of {', '.join(BACKENDS)}")
    ref, est = check_stems(name, references, estimates, sources)
    if not (isinstance(samplerate, (int, np.integer)) and samplerate > 0):
        raise AudioError(f"track {name!r}: samplerate must be a positive integer, got {samplerate!r}")
    if not (win > 0 and hop > 0):
        raise AudioError(f"track {name!r}: win and hop must be positive seconds, got win={win}, hop={hop}")
    for what, arr in (("reference", ref), ("estimate", est)):
        for stem, signal in zip(sources, arr):
            if _is_silent(signal):
                warnings.warn(SilentStemWarning(
                    f"track {name!r}: the {what} of {stem!r} is silent over the whole track; BSSEval is "
                    f"undefined there, the track is skipped"), stacklevel=2)
                return (None, None) if return_conditioning else None

    compute = _fast_metrics if backend == "fast" else _museval_metrics
    (sdr, isr, sir, sar), conditioning = compute(name, ref.transpose(0, 2, 1), est.transpose(0, 2, 1),
                                                 int(win * samplerate), int(hop * samplerate), sources)
    scores = track_json(name, sources, win, hop, sdr, isr, sir, sar)
    return (scores, conditioning) if return_conditioning else scores


def _singular(name: str) -> AudioError:
    return AudioError(
        f"track {name!r}: the references' correlation matrix is singular (e.g. two identical "
        f"stems or an all-zero channel), which museval 0.4.1 cannot handle with numpy 2")


def _museval_metrics(name, ref, est, win, hop, sources):
    import museval

    try:
        metrics = museval.evaluate(ref, est, win=win, hop=hop, mode="v4", padding=False)
    except AttributeError as exc:
        # museval 0.4.1 falls back to lstsq through ``np.linalg.linalg.LinAlgError``, a name numpy 2
        # removed: an exactly singular reference correlation matrix then ends up here.
        if "linalg" not in str(exc):
            raise
        raise _singular(name) from None
    return metrics, None


def _fast_metrics(name, ref, est, win, hop, sources):
    from .fast import evaluate_systems

    scores = evaluate_systems(ref, [est], win=win, hop=hop, padding=False, track=name, names=sources)[0]
    if scores.conditioning.lstsq_fallback:
        raise _singular(name)  # museval would fail here: score the same tracks with both backends
    return tuple(scores), scores.conditioning


def track_json(name: str, sources: Sequence[str], win: float, hop: float, sdr, isr, sir, sar) -> dict:
    """museval's per-track JSON (``TrackStore``, validated against museval's ``musdb.schema.json``)
    from per-frame metrics ``(nsrc, nwin)`` in dB; ``win`` and ``hop`` in seconds."""
    from museval.aggregate import TrackStore

    store = TrackStore(track_name=name, win=win, hop=hop)
    for i, stem in enumerate(sources):
        store.add_target(target_name=stem, values={
            "SDR": sdr[i].tolist(), "SIR": sir[i].tolist(), "ISR": isr[i].tolist(), "SAR": sar[i].tolist()})
    store.validate()
    return json.loads(store.json)


def max_deviation(scores: dict, other: dict, name: str = "track") -> dict[str, float]:
    """Largest absolute difference per metric between two per-track JSON dicts (``--check``).

    Frames must line up (same targets, frame times and durations; an :class:`AudioError` naming
    the track says where they do not). A frame that is NaN in both is equal; NaN in only one of
    them counts as an ``inf`` deviation.

    Returns:
        ``{"SDR": dB, "SIR": dB, "SAR": dB, "ISR": dB}``.
    """
    names = [t["name"] for t in scores["targets"]]
    if names != [t["name"] for t in other["targets"]]:
        raise AudioError(f"track {name!r}: the two results hold different targets: {names} and "
                         f"{[t['name'] for t in other['targets']]}")
    worst: dict[str, float] = {}
    for ta, tb in zip(scores["targets"], other["targets"]):
        frames_a = [(f["time"], f["duration"]) for f in ta["frames"]]
        if frames_a != [(f["time"], f["duration"]) for f in tb["frames"]]:
            raise AudioError(f"track {name!r}: the frames of {ta['name']!r} differ between the two results "
                             f"({len(ta['frames'])} and {len(tb['frames'])} frames)")
        for fa, fb in zip(ta["frames"], tb["frames"]):
            for metric, va in fa["metrics"].items():
                vb = fb["metrics"][metric]
                nan_a, nan_b = math.isnan(va), math.isnan(vb)
                delta = 0.0 if nan_a and nan_b else math.inf if nan_a or nan_b else abs(va - vb)
                worst[metric] = max(worst.get(metric, 0.0), delta)
    return worst
