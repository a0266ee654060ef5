"""Silence labels: per window and source, is the source silent?

A source is **silent** in a window when its energy there is negligible either

* relative to the mixture: ``stem_db - mix_db < relative_db`` (default :data:`RELATIVE_DB` = -30 dB), or
* in absolute terms: ``stem_db < absolute_db`` dBFS (default :data:`ABSOLUTE_DB` = -60 dBFS),

where ``stem_db`` and ``mix_db`` are the mean power (both channels pooled) of the stem and of the
mixture over the window, in dB (full scale = 1.0). The rule is an OR: the relative test is what the
remix scheme needs (a "silent" source leaks into the remixed example's unlabeled part at most
``relative_db`` below it, so the weak target is wrong by at most that much); the absolute test
handles windows whose mixture is itself nearly silent (song starts, fade-outs), where the ratio is
meaningless (0/0) and any stem below the 16-bit noise floor is inaudible (-60 dBFS, the level of
``audio.is_silent``).

Justification of the defaults (the histogram of ``stem_db - mix_db`` over 1 s windows every 0.5 s
of the quick profile's 30 training songs, 1,770 windows, reproduced in the remix notebook with
:func:`energy_table`): an inactive stem is digital zero (drums 15 %, bass 12 %, other 3 %,
vocals 24 % of the windows); a playing one sits between -25 and 0 dB relative to its mixture
(more than 99.7 % of the non-zero windows of drums, bass and other; 93 % for vocals, whose note
releases leave 2 % of the windows between -40 and -25 dB and 4 % below -40 dB). -30 dB falls in
the nearly empty gap between the two modes, so the labels hardly depend on its exact value; a stem
20 dB below the mixture (clearly audible) is not silent. On real recordings the gap is narrower (bleed, reverb): the thresholds are
parameters (``remix.labels.relative_db``, ``remix.labels.absolute_db``).

Everything here is numpy on ``(..., channels, time)`` arrays (torch tensors work too through
:func:`power_db`); energies use float64.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from .. import SOURCES

#: A stem more than this many dB below its mixture (over a window) is silent.
RELATIVE_DB = -30.0
#: A stem below this level (dBFS, mean power over the window) is silent whatever the mixture.
ABSOLUTE_DB = -60.0
#: Power floor (dB) instead of -inf for digital silence, so that differences stay finite.
FLOOR_DB = -200.0


def power_db(x, axis=(-2, -1)) -> np.ndarray:
    """Mean power of ``x`` over ``axis`` (default: channels and time) in dB, floored at :data:`FLOOR_DB`."""
    x = np.asarray(x.detach().cpu() if hasattr(x, "detach") else x, dtype=np.float64)
    power = np.mean(np.square(x), axis=axis)
    with np.errstate(divide="ignore"):
        return np.maximum(10 * np.log10(power), FLOOR_DB)


def is_silent(stem_db, mix_db, relative_db: float = RELATIVE_DB, absolute_db: float = ABSOLUTE_DB) -> np.ndarray:
    """The silence rule on levels: ``stem_db`` ``(..., S)`` and ``mix_db`` ``(...)`` -> bool ``(..., S)``."""
    stem_db = np.asarray(stem_db, dtype=np.float64)
    mix_db = np.asarray(mix_db, dtype=np.float64)[..., None]
    return (stem_db - mix_db < relative_db) | (stem_db < absolute_db)


def silence_labels(stems, mixture=None, relative_db: float = RELATIVE_DB,
                   absolute_db: float = ABSOLUTE_DB) -> np.ndarray:
    """Silence of each source over the whole of ``stems`` ``(..., S, C, T)`` -> bool ``(..., S)``.

    ``mixture`` ``(..., C, T)`` defaults to the sum of the stems.
    """
    stems = np.asarray(stems.detach().cpu() if hasattr(stems, "detach") else stems, dtype=np.float64)
    if stems.ndim < 3:
        raise ValueError(f"stems must be (..., sources, channels, time), got shape {stems.shape}")
    mix = stems.sum(axis=-3) if mixture is None else mixture
    return is_silent(power_db(stems), power_db(mix), relative_db, absolute_db)


def window_starts(length: int, window: int, hop: int) -> np.ndarray:
    """Start samples of the windows of ``window`` samples every ``hop`` within ``length`` (last partial dropped)."""
    if window <= 0 or hop <= 0:
        raise ValueError(f"window ({window}) and hop ({hop}) must be positive sample counts")
    if length < window:
        return np.zeros(0, dtype=np.int64)
    return np.arange(0, length - window + 1, hop, dtype=np.int64)


def _window_power(x: np.ndarray, window: int, hop: int) -> np.ndarray:
    """Mean power over channels and each window: ``(..., C, T)`` -> ``(..., n)`` (cumulative sums, float64)."""
    power = np.mean(np.square(np.asarray(x, dtype=np.float64)), axis=-2)      # (..., T)
    csum = np.concatenate([np.zeros(power.shape[:-1] + (1,)), np.cumsum(power, axis=-1)], axis=-1)
    starts = window_starts(power.shape[-1], window, hop)
    out = (csum[..., starts + window] - csum[..., starts]) / window
    return np.maximum(out, 0.0)  # cumulative-sum rounding can give tiny negatives


def _db(power: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.maximum(10 * np.log10(power), FLOOR_DB)


def window_energies(stems: np.ndarray, window: int, hop: int, mixture: np.ndarray | None = None) -> dict:
    """Levels of the windows of one track: ``stems`` ``(S, C, T)``; ``window`` and ``hop`` in samples.

    Returns ``{"start": (n,) samples, "stem_db": (n, S), "mix_db": (n,), "relative_db": (n, S)}``
    (``relative_db = stem_db - mix_db``). ``mixture`` defaults to the sum of the stems.
    """
    stems = np.asarray(stems)
    if stems.ndim != 3:
        raise ValueError(f"stems must be (sources, channels, time), got shape {stems.shape}")
    mix = stems.astype(np.float64).sum(axis=0) if mixture is None else mixture
    stem_db = _db(_window_power(stems, window, hop)).T            # (n, S)
    mix_db = _db(_window_power(mix, window, hop))                  # (n,)
    return {"start": window_starts(stems.shape[-1], window, hop), "stem_db": stem_db, "mix_db": mix_db,
            "relative_db": stem_db - mix_db[:, None]}


def window_labels(stems: np.ndarray, window: int, hop: int, relative_db: float = RELATIVE_DB,
                  absolute_db: float = ABSOLUTE_DB, mixture: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(start samples ``(n,)``, silence ``(n, S)`` bool) of the windows of one track ``(S, C, T)``."""
    e = window_energies(stems, window, hop, mixture)
    return e["start"], is_silent(e["stem_db"], e["mix_db"], relative_db, absolute_db)


def energy_table(tracks: Iterable, window: float, hop: float, samplerate: int,
                 sources: Sequence[str] = SOURCES) -> dict[str, list]:
    """Per-window levels of many tracks, for the notebook's histogram (``pandas.DataFrame(table)``).

    ``tracks``: objects with ``name`` and ``stems()`` (a :class:`~demucs_study.data.raw.CachedTrack`)
    or ``stems`` (an array, e.g. :class:`~demucs_study.data.datasets.Track`); ``window``/``hop`` in
    seconds. Columns: ``track``, ``start`` (s), ``mix_db``, and per source ``<source>_db`` and
    ``<source>_rel_db``.
    """
    w, h = int(round(window * samplerate)), int(round(hop * samplerate))
    table: dict[str, list] = {"track": [], "start": [], "mix_db": []}
    for s in sources:
        table[f"{s}_db"], table[f"{s}_rel_db"] = [], []
    for track in tracks:
        stems = track.stems() if callable(getattr(track, "stems", None)) else track.stems
        e = window_energies(np.asarray(stems), w, h)
        n = len(e["start"])
        table["track"] += [track.name] * n
        table["start"] += (e["start"] / samplerate).tolist()
        table["mix_db"] += e["mix_db"].tolist()
        for k, s in enumerate(sources):
            table[f"{s}_db"] += e["stem_db"][:, k].tolist()
            table[f"{s}_rel_db"] += e["relative_db"][:, k].tolist()
    return table
