"""The mix bus: a glue compressor and a look-ahead peak limiter, as one gain curve for all stems.

A mastered record goes through a bus compressor and a limiter, which are non-linear: limiting every
stem on its own would not give the limited mix. Here the processors only *compute* a gain curve
``g(t)`` from the mix; that curve then multiplies every stem, and the mixture is the float32 sum of
the processed stems. So the stems sum exactly to the mixture, and each stem is what the mastered mix
contains of that source (the gain riding of the bus applied to it, as a stem export of a mastered
mix would be). The curve is the same for all stems, so it moves no source relative to another.

* **compressor** - stereo-linked RMS detector on frames of ``HOP`` samples, soft knee, threshold set
  below the song's loud level (so it works whatever the absolute level), attack/release smoothing of
  the gain in dB;
* **limiter** - the gain each sample needs to stay under the ceiling, held over a look-ahead window
  and the release time, then averaged over the look-ahead: the average never exceeds the needed
  gain at the peak (so no sample passes the ceiling) and has no steps (no clicks).

How hard a song is pushed into the limiter (``drive_db``: 0-6 dB of peak reduction) and compressed
is drawn per song: some songs are loud modern masters, others dynamic.
"""
from __future__ import annotations

import numpy as np

HOP = 128  # samples per compressor frame (2.9 ms at 44.1 kHz)


def draw_bus(rng: np.random.Generator) -> dict:
    """The bus settings of one song."""
    r = lambda lo, hi, nd=2: round(float(rng.uniform(lo, hi)), nd)  # noqa: E731
    return {"comp_depth_db": r(2, 8, 1), "comp_ratio": r(1.5, 3.5), "comp_attack_ms": r(10, 40, 1),
            "comp_release_ms": r(100, 400, 0), "comp_knee_db": 6.0,
            "drive_db": r(0, 6, 1), "lookahead_ms": 1.5, "release_ms": r(20, 80, 0)}


def compressor_gain(mix: np.ndarray, samplerate: int, depth_db: float, ratio: float, attack_ms: float,
                    release_ms: float, knee_db: float = 6.0) -> np.ndarray:
    """Compressor gain (T,) float64 for ``mix`` (T, channels), linear between frames. The threshold is ``depth_db`` below the
    95th percentile of the frames' RMS level (dB), so loud passages get about that much compression."""
    n = mix.shape[0]
    frames = max(1, n // HOP)
    cut = np.square(mix[: frames * HOP], dtype=np.float64).reshape(frames, HOP, -1).mean(axis=(1, 2))
    level = 10 * np.log10(cut + 1e-12)
    loud = np.percentile(level[level > level.max() - 60], 95) if np.any(level > -100) else 0.0
    thr = loud - depth_db
    over = level - thr
    # soft knee (Giannoulis, Massberg & Reiss 2012, "Digital dynamic range compressor design")
    gr = np.where(over <= -knee_db / 2, 0.0,
                  np.where(over >= knee_db / 2, over * (1 / ratio - 1),
                           (1 / ratio - 1) * (over + knee_db / 2) ** 2 / (2 * knee_db)))
    a_att = np.exp(-HOP / (attack_ms / 1000 * samplerate))
    a_rel = np.exp(-HOP / (release_ms / 1000 * samplerate))
    smooth = np.empty(frames)
    g = 0.0
    for i, target in enumerate(gr.tolist()):  # gain (dB, <= 0): attack when falling, release when rising
        a = a_att if target < g else a_rel
        g = a * g + (1 - a) * target
        smooth[i] = g
    centers = np.arange(frames) * HOP + HOP / 2
    return np.interp(np.arange(n), centers, 10 ** (smooth / 20))  # the gain, linear between frame centres


def limiter_gain(x: np.ndarray, samplerate: int, ceiling: float = 1.0, lookahead_ms: float = 1.5,
                 release_ms: float = 50.0) -> np.ndarray:
    """Gain (T,) float32 that keeps ``x`` (T, channels) * gain within ``ceiling`` at every sample
    (up to float32 rounding)."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    peak = np.abs(x).max(axis=1).astype(np.float32, copy=False)
    need = np.minimum(np.float32(1.0), np.float32(ceiling) / np.maximum(peak, np.float32(1e-12)))
    la = max(1, int(round(lookahead_ms / 1000 * samplerate)))
    hold = max(0, int(round(release_ms / 1000 * samplerate)))
    size = la + hold + 1  # window [t - hold, t + la]
    held = minimum_filter1d(need, size, mode="nearest", origin=hold - size // 2)
    # average over [t - la + 1, t]: every value there is held over a window containing t
    smooth = uniform_filter1d(held, la, mode="nearest", origin=(la - 1) - la // 2)
    return np.minimum(smooth, 1.0)


def bus_gain(mix: np.ndarray, samplerate: int, settings: dict) -> tuple[np.ndarray, dict]:
    """The bus gain curve (T,) float32 of a mix (T, channels), and a summary of what it did
    (compressor and limiter gain reduction in dB)."""
    gc = compressor_gain(mix, samplerate, settings["comp_depth_db"], settings["comp_ratio"],
                         settings["comp_attack_ms"], settings["comp_release_ms"], settings["comp_knee_db"])
    gc = gc.astype(np.float32)
    y = mix * gc[:, None]
    peak = float(np.abs(y).max())
    if peak <= 0:
        return np.ones(mix.shape[0], np.float32), {"comp_max_gr_db": 0.0, "limiter_max_gr_db": 0.0}
    pre = np.float32(10 ** (settings["drive_db"] / 20) / peak)  # the loudest peak hits the ceiling drive_db too hot
    y *= pre
    gl = limiter_gain(y, samplerate, 1.0, settings["lookahead_ms"], settings["release_ms"])
    g = (gc * pre * gl).astype(np.float32)
    r = lambda v: round(float(v), 2)  # noqa: E731
    return g, {"comp_max_gr_db": r(-20 * np.log10(gc.min())), "comp_mean_gr_db": r(-20 * np.mean(np.log10(gc))),
               "limiter_max_gr_db": r(-20 * np.log10(gl.min()))}
