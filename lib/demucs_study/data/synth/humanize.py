"""Human timing and dynamics for composed notes: swing, per-player push/lag, timing scatter, dynamics.

The composer (:mod:`.parts`) writes notes on the grid. A song's *feel* (:func:`draw_feel`) sets its
swing and how tight the band is; :func:`humanize` then moves each part's notes:

* **swing** - off-beat 8ths or 16ths come late by a fraction of a step, the same for the whole band;
* **push/lag** - each player sits a few ms ahead of or behind the beat (bass and singers often lag,
  pads are slow to speak); the drummer is the reference, with the hi-hat a little ahead or behind;
* **scatter** - Gaussian timing noise per note (a few ms for a tight drummer, more for a singer;
  professional drummers' onsets scatter by roughly 5-20 ms around the grid);
* **dynamics** - a slow random walk of velocity over bars per player, a crescendo over the bar before
  a louder section, and per-note velocity noise.

Notes are ``(pitch, start, end, velocity)`` tuples in seconds; everything is drawn from the given
``np.random.Generator``, so the result is a pure function of the song's seed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Typical push (-) / lag (+) of each role behind the grid, ms: (mean, sd) of the per-song draw.
LAG_MS = {"drums": (0.0, 0.0), "bass": (4.0, 5.0), "pad": (12.0, 6.0), "comp": (2.0, 5.0), "arp": (0.0, 4.0),
          "lead": (4.0, 6.0), "riff": (2.0, 4.0), "lead-vocal": (10.0, 8.0), "harmony-vocal": (14.0, 8.0)}
#: Timing scatter of each role relative to the band's tightness (1 = the drummer's).
SCATTER = {"drums": 1.0, "bass": 1.3, "pad": 2.0, "comp": 1.4, "arp": 0.8, "lead": 1.6, "riff": 1.2,
           "lead-vocal": 2.5, "harmony-vocal": 2.5}
HATS = (42, 44, 46, 51)  # closed, pedal, open hi-hat, ride


@dataclass(frozen=True)
class Feel:
    swing: float          # delay of off-beat steps, as a fraction of a step (0 = straight)
    swing_step: float     # the swung grid step, in beats (0.5 = 8ths, 0.25 = 16ths)
    tightness_ms: float   # timing scatter (sd, ms) of the drummer; other players scale it


def draw_feel(rng: np.random.Generator, plan) -> Feel:
    """The song's feel: straight or swung (about a third of songs), and how tight the band plays."""
    swung = plan.drum_style == "shuffle" or rng.random() < 0.3
    swing = float(rng.uniform(0.08, 0.3)) if swung else 0.0
    step = 0.25 if plan.tempo < 112 and rng.random() < 0.7 else 0.5
    if plan.drum_style == "shuffle":  # the groove is already in triplets
        swing, step = 0.0, 0.5
    return Feel(swing, step, float(rng.uniform(2.0, 8.0)))


def _swing_shift(beats: np.ndarray, feel: Feel) -> np.ndarray:
    """Delay (in beats) of notes at ``beats`` (positions from the first downbeat) under ``feel``."""
    if feel.swing <= 0:
        return np.zeros_like(beats)
    pos = beats / feel.swing_step
    near = np.round(pos)
    odd = (np.abs(pos - near) < 0.12) & (near % 2 == 1)
    return np.where(odd, feel.swing * feel.swing_step, 0.0)


def humanize(rng: np.random.Generator, plan, part, items: list, feel: Feel) -> list:
    """``items`` (pitch, start, end, velocity) performed with ``feel`` by the player of ``part``."""
    if not items:
        return []
    arr = np.array([(p, s, e, v) for p, s, e, v in items], dtype=np.float64)
    pitch, start, end, vel = arr.T
    beats = (start - plan.offset) / plan.beat
    shift = _swing_shift(beats, feel) * plan.beat
    mean, sd = LAG_MS.get(part.role, (0.0, 4.0))
    lag = rng.normal(mean, sd) / 1000.0
    scatter = feel.tightness_ms * SCATTER.get(part.role, 1.5) / 1000.0
    jitter = rng.normal(0.0, scatter, len(start))
    if part.is_drum:  # the hats sit ahead of or behind kick and snare, by the player's habit
        hat = np.isin(pitch, HATS)
        lag_hat = rng.normal(0.0, 4.0) / 1000.0
        jitter = np.where(hat, jitter * 0.8 + lag_hat, jitter)
    move = shift + lag + jitter
    new_start = np.maximum(0.0, start + move)
    new_end = np.maximum(new_start + 0.02, end + shift + lag + jitter * 0.5)
    # dynamics: a random walk over bars, a crescendo into louder sections, per-note noise
    bars = np.floor(np.maximum(0.0, beats) / 4).astype(int)
    walk = np.cumsum(rng.normal(0.0, 1.5, bars.max() + 2))
    walk = np.clip(walk - walk.mean(), -8, 8)
    vel = vel + walk[bars] + rng.normal(0.0, 3.0, len(vel))
    for k in range(len(plan.sections) - 1):
        a, b = plan.sections[k], plan.sections[k + 1]
        if b.energy > a.energy and a.bars >= 2:
            t0, t1 = plan.time(b.start_bar - 1), plan.time(b.start_bar)
            inside = (start >= t0) & (start < t1)
            vel = np.where(inside, vel - 10 + 14 * (start - t0) / max(t1 - t0, 1e-6), vel)
    vel = np.clip(np.round(vel), 1, 127)
    keep = new_start < plan.duration - 0.02
    out = [(int(p), float(s), float(min(e, plan.duration)), int(v))
           for p, s, e, v, k in zip(pitch, new_start, new_end, vel, keep) if k]
    return sorted(out, key=lambda n: (n[1], n[0]))
