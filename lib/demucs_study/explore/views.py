"""What the explorer shows for one selection, as pure functions: excerpts, residuals, remixes, scores,
figures and tables. Inputs are arrays ``(C, T)`` / ``(S, C, T)`` and plain values; nothing here touches
widgets or files.

Conventions a teacher can rely on:

* **Fixed scales.** Levels are absolute (dBFS), never normalised per clip: every spectrogram uses the same
  colour scale (:data:`SPEC_DB`, a full-scale sine at 0 dB) and the waveforms of one figure share one
  amplitude axis, so a quiet stem looks (and, through :mod:`.audio`, sounds) quiet.
* **SDR of an excerpt** is the "new SDR" of the whole excerpt (``evaluation.bsseval.new_sdr``:
  ``10 log10(|s|^2 / |s - s_hat|^2)``), undefined (NaN) when the reference is silent there. The stored
  evaluation is BSSEval v4 over 1 s frames, whose per-track number is the median over the frames.
* **Remix.** Each estimated stem gets a gain in dB; *mute* silences a stem; *solo* keeps only the soloed
  stems (mute wins over solo). The same gains applied to the true stems give the remix the estimates
  should sound like, and the SDR between the two measures the remix.
"""
from __future__ import annotations

import base64
import io
import math
from typing import Iterable, Mapping

import numpy as np

from .data import FrameScores, TrackAudio, stem_index

#: The longest excerpt shown and played at once (seconds): longer ranges are cut to it.
MAX_SECONDS = 30.0
#: The shortest excerpt (seconds).
MIN_SECONDS = 0.5
#: The length of the excerpt chosen when a track is opened.
DEFAULT_SECONDS = 8.0
#: Spectrogram colour scale in dBFS (a full-scale sine at 0 dB), the same in every figure.
SPEC_DB = (-100.0, -10.0)
#: Spectrogram analysis: FFT size (46 ms at 44.1 kHz) and the most frames drawn.
N_FFT = 2048
MAX_FRAMES = 700
#: Frequency axes: log from 30 Hz to 16 kHz (default), or linear up to 8 kHz.
FREQ_SCALES = {"log": (30.0, 16000.0), "linear": (0.0, 8000.0)}
#: Remix presets: stems muted or soloed (gains back to 0 dB).
PRESETS = {
    "all stems": {},
    "karaoke (no vocals)": {"mute": ("vocals",)},
    "drumless practice": {"mute": ("drums",)},
    "bassless practice": {"mute": ("bass",)},
    "a cappella (vocals only)": {"solo": ("vocals",)},
    "rhythm section": {"solo": ("drums", "bass")},
}
#: Colours of the signals in figures.
SIGNAL_COLORS = {"mixture": "#4c4c4c", "reference": "#0072b2", "estimate": "#d55e00", "residual": "#8a2be2"}


# ---- ranges and excerpts
def clamp_range(start: float, stop: float, duration: float, max_seconds: float | None = None) -> tuple[float, float]:
    """``(start, stop)`` inside ``[0, duration]``, at least :data:`MIN_SECONDS` (or the whole track when it
    is shorter) and at most ``max_seconds`` (default :data:`MAX_SECONDS`) long (the end moves)."""
    max_seconds = MAX_SECONDS if max_seconds is None else max_seconds
    duration = max(float(duration), 0.0)
    start = min(max(float(start), 0.0), duration)
    stop = min(max(float(stop), start), duration)
    if stop - start > max_seconds:
        stop = start + max_seconds
    if stop - start < min(MIN_SECONDS, duration):
        stop = min(start + MIN_SECONDS, duration)
        start = max(0.0, min(start, stop - MIN_SECONDS))
    return start, stop


def excerpt(x: np.ndarray, samplerate: int, start: float, stop: float) -> np.ndarray:
    """The samples of ``x`` (``(..., T)``, memory-mapped or not) from ``start`` to ``stop`` seconds, as a
    float32 array of its own."""
    a = max(0, int(round(start * samplerate)))
    b = min(x.shape[-1], max(a, int(round(stop * samplerate))))
    return np.array(x[..., a:b], dtype=np.float32)


def loudest_window(x: np.ndarray, samplerate: int, seconds: float = DEFAULT_SECONDS,
                   step: float = 0.5) -> tuple[float, float]:
    """The ``seconds``-long window of ``x`` ``(C, T)`` (starting on a multiple of ``step``) with the most
    energy: where a stem is clearly audible, for the first view of a track."""
    length = x.shape[-1]
    duration = length / samplerate
    if duration <= seconds:
        return 0.0, duration
    hop = max(1, int(step * samplerate))
    blocks = length // hop
    energy = np.square(np.asarray(x[..., : blocks * hop], dtype=np.float32)).sum(axis=0).reshape(blocks, hop).sum(1)
    width = max(1, int(round(seconds / step)))
    sums = np.convolve(energy, np.ones(width), mode="valid")
    start = float(np.argmax(sums)) * step if sums.size else 0.0
    return clamp_range(start, start + seconds, duration)


def residual(reference: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """What the estimate missed or added: ``reference - estimate``."""
    return np.asarray(reference, dtype=np.float32) - np.asarray(estimate, dtype=np.float32)


def listen_signals(track: TrackAudio, estimates: np.ndarray, stem: str, start: float,
                   stop: float) -> dict[str, np.ndarray]:
    """The excerpts to hear and see for ``stem``: ``mixture``, ``reference`` (the true stem), ``estimate``
    and ``residual`` (reference - estimate); without references (your own song) only mixture and estimate."""
    sr, i = track.samplerate, stem_index(track.sources, stem)
    out = {"mixture": excerpt(track.mixture, sr, start, stop)}
    est = excerpt(estimates[i], sr, start, stop)
    if track.references is not None:
        ref = excerpt(track.references[i], sr, start, stop)
        out["reference"] = ref
        out["estimate"] = est
        out["residual"] = residual(ref, est)
    else:
        out["estimate"] = est
    return out


# ---- scores
def sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """The new SDR (dB) of ``estimate`` against ``reference`` (same shape); NaN when the reference is silent."""
    from ..evaluation.bsseval import new_sdr

    ref = np.asarray(reference, dtype=np.float64)
    if not np.any(ref):
        return math.nan
    return float(new_sdr(ref[None], np.asarray(estimate, dtype=np.float64)[None])[0])


def fmt_db(value: float | None) -> str:
    """``4.2 dB``, or a dash for an undefined value."""
    return "–" if value is None or not math.isfinite(value) else f"{value:.1f} dB"


def selection_scores(track: TrackAudio, estimates: Mapping[str, np.ndarray], stem: str, start: float, stop: float,
                     frames: Mapping[str, FrameScores | None] | None = None):
    """One row per system of ``estimates`` (name -> ``(S, C, T)``): the SDR of the excerpt and, from the stored
    evaluation (``frames``: name -> per-frame scores or None), the median SDR of the frames in the excerpt and
    over the whole track. A table (DataFrame) indexed by system; NaN where undefined or not evaluated."""
    import pandas as pd

    frames = frames or {}
    i = stem_index(track.sources, stem)
    rows = {}
    for system, est in estimates.items():
        ref = None if track.references is None else excerpt(track.references[i], track.samplerate, start, stop)
        this = math.nan if ref is None else sdr(ref, excerpt(est[i], track.samplerate, start, stop))
        scores = frames.get(system)
        within = scores.within(start, stop) if scores is not None else np.array([])
        within = within[np.isfinite(within)]
        rows[system] = {"SDR of the excerpt": this,
                        "median frame SDR, excerpt": float(np.median(within)) if within.size else math.nan,
                        "median frame SDR, track": scores.median if scores is not None else math.nan}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "system"
    return table


def scores_html(table) -> str:
    """The scores table as compact HTML (dB, dashes where undefined)."""
    import html

    head = "".join(f"<th style='padding:0 .6em'>{html.escape(c)}</th>" for c in table.columns)
    body = []
    for system, row in table.iterrows():
        cells = "".join(f"<td style='padding:0 .6em;text-align:right'>{fmt_db(v)}</td>" for v in row)
        body.append(f"<tr><td><b>{html.escape(str(system))}</b></td>{cells}</tr>")
    return (f"<table class='explore-scores' style='border-collapse:collapse;font-size:90%'><tr><th></th>{head}</tr>"
            + "".join(body) + "</table>")


# ---- remix
def stem_gains(sources: Iterable[str], gains_db: Mapping[str, float] | None = None, mute: Iterable[str] = (),
               solo: Iterable[str] = ()) -> np.ndarray:
    """Linear gain per stem (in the order of ``sources``) from gains in dB, muted and soloed stems: a stem
    plays when it is not muted and either nothing is soloed or it is."""
    sources = list(sources)
    gains_db, mute, solo = dict(gains_db or {}), set(mute), set(solo)
    for name in set(gains_db) | mute | solo:
        stem_index(sources, name)
    out = np.array([10 ** (float(gains_db.get(s, 0.0)) / 20) for s in sources], dtype=np.float32)
    for k, s in enumerate(sources):
        if s in mute or (solo and s not in solo):
            out[k] = 0.0
    return out


def remix(stems: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """``sum_i gains[i] * stems[i]``: ``(S, C, T)`` and ``(S,)`` -> ``(C, T)`` float32."""
    stems = np.asarray(stems, dtype=np.float32)
    gains = np.asarray(gains, dtype=np.float32)
    if gains.shape != stems.shape[:1]:
        raise ValueError(f"one gain per stem: {stems.shape[0]} stems, {gains.shape} gains")
    return np.tensordot(gains, stems, axes=1).astype(np.float32)


def remix_signals(track: TrackAudio, estimates: np.ndarray, gains: np.ndarray, start: float,
                  stop: float) -> dict[str, np.ndarray]:
    """The remix of the estimates over the excerpt (``"remix"``) and, with references, the same remix of the
    true stems (``"true remix"``)."""
    sr = track.samplerate
    out = {"remix": remix(excerpt(estimates, sr, start, stop), gains)}
    if track.references is not None:
        out["true remix"] = remix(excerpt(track.references, sr, start, stop), gains)
    return out


# ---- figures
#: Image formats of :func:`figure_bytes` and their encoder settings: PNG for line art, JPEG (quality 90)
#: for spectrograms, a third of the PNG's size for no visible loss at this resolution.
IMAGE_FORMATS = {"png": {"compress_level": 3}, "jpeg": {"quality": 90}}


def figure_bytes(fig, dpi: int = 72, fmt: str = "png") -> bytes:
    """``fig`` encoded as ``fmt`` (a key of :data:`IMAGE_FORMATS`), then closed."""
    import matplotlib.pyplot as plt

    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"image format {fmt!r}: use one of {', '.join(IMAGE_FORMATS)}")
    buf = io.BytesIO()
    metadata = {"Software": None} if fmt == "png" else None
    fig.savefig(buf, format=fmt, dpi=dpi, metadata=metadata, pil_kwargs=dict(IMAGE_FORMATS[fmt]))
    plt.close(fig)
    return buf.getvalue()


def spectrogram(x: np.ndarray, samplerate: int, n_fft: int = N_FFT,
                max_frames: int = MAX_FRAMES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Magnitude spectrogram in dBFS of ``x`` ``(C, T)`` (channels averaged): ``(times, freqs, db)`` with
    ``db`` ``(freqs, frames)``; the hop grows with the length so that at most ``max_frames`` frames are made."""
    mono = np.asarray(x, dtype=np.float32).reshape(-1, x.shape[-1]).mean(axis=0)
    if mono.size < n_fft:
        mono = np.pad(mono, (0, n_fft - mono.size))
    hop = max(n_fft // 4, -(-(mono.size - n_fft) // max(max_frames - 1, 1)))
    window = np.hanning(n_fft).astype(np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(mono, n_fft)[::hop]
    mag = np.abs(np.fft.rfft(frames * window, axis=-1)) * (2.0 / window.sum())
    db = 20 * np.log10(mag.T + 1e-10)
    times = (np.arange(frames.shape[0]) * hop + n_fft / 2) / samplerate
    freqs = np.fft.rfftfreq(n_fft, 1.0 / samplerate)
    return times, freqs, db


def _log_rows(db: np.ndarray, freqs: np.ndarray, fmin: float, fmax: float, rows: int = 256) -> np.ndarray:
    """``db`` resampled to ``rows`` log-spaced frequencies from ``fmin`` to ``fmax``."""
    target = np.geomspace(fmin, fmax, rows)
    index = np.interp(target, freqs, np.arange(freqs.size))
    lo = np.floor(index).astype(int)
    hi = np.minimum(lo + 1, freqs.size - 1)
    frac = (index - lo)[:, None]
    return db[lo] * (1 - frac) + db[hi] * frac


def _envelope(x: np.ndarray, columns: int = 1200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Min and max of the channel mean over ``columns`` blocks: ``(positions 0..1, low, high)``."""
    mono = np.asarray(x, dtype=np.float32).reshape(-1, x.shape[-1]).mean(axis=0)
    n = mono.size
    if n == 0:
        return np.zeros(1), np.zeros(1), np.zeros(1)
    columns = max(1, min(columns, n))
    size = n // columns
    blocks = mono[: size * columns].reshape(columns, size)
    pos = (np.arange(columns) + 0.5) * size / n
    return pos, blocks.min(axis=1), blocks.max(axis=1)


def _color(name: str) -> str:
    for key, color in SIGNAL_COLORS.items():
        if name.startswith(key):
            return color
    return "#4c4c4c"


def signals_figure(signals: Mapping[str, np.ndarray], samplerate: int, start: float = 0.0, title: str = "",
                   freq_scale: str = "log", peak: float | None = None, width: float = 11.0):
    """One band per named excerpt ``(C, T)``, top to bottom: its waveform (left; one amplitude scale for all
    bands, ``peak`` or the largest peak shown) and its spectrogram (right; :data:`SPEC_DB`, frequency axis
    ``freq_scale``: ``"log"`` or ``"linear"``). Time in seconds of the track (the excerpt starts at ``start``).

    Two axes hold every band (stacked traces and one stacked image): a redraw stays well under a second."""
    import matplotlib.pyplot as plt

    if freq_scale not in FREQ_SCALES:
        raise ValueError(f"freq_scale {freq_scale!r}: use one of {', '.join(FREQ_SCALES)}")
    names = list(signals)
    n = len(names)
    if peak is None:
        peak = max([float(np.max(np.abs(x))) if x.size else 0.0 for x in signals.values()] + [1e-3])
    fmin, fmax = FREQ_SCALES[freq_scale]
    duration = max(max(x.shape[-1] for x in signals.values()) / samplerate, 1e-3)
    height = 0.55 + 1.1 * n
    fig = plt.figure(figsize=(width, height))
    bottom, top = 0.42 / height, 1 - 0.25 / height
    wave = fig.add_axes((0.015, bottom, 0.29, top - bottom))
    spec = fig.add_axes((0.36, bottom, 0.55, top - bottom))
    cbar = fig.add_axes((0.92, bottom, 0.012, top - bottom))

    band_rows, gap = 200, 8
    bands = []
    for row, name in enumerate(names):
        x = signals[name]
        offset = -row * 2.2 * peak
        pos, low, high = _envelope(x)
        span = x.shape[-1] / samplerate
        wave.fill_between(start + pos * span, offset + low, offset + high, color=_color(name), lw=0)
        wave.axhline(offset, color="#bbbbbb", lw=0.4)
        wave.text(0.01, offset + 1.05 * peak, name, transform=wave.get_yaxis_transform(), fontsize=8, va="top",
                  ha="left", color=_color(name), fontweight="bold")
        times, freqs, db = spectrogram(x, samplerate)
        if freq_scale == "log":
            rows = _log_rows(db, freqs, fmin, fmax, band_rows)
        else:
            keep = freqs <= fmax
            rows = _linear_rows(db[keep], band_rows)
        bands.append(rows)
    width_frames = max(b.shape[1] for b in bands)
    blank = np.full((gap, width_frames), np.nan)
    stack = []
    for rows in reversed(bands):                       # the first signal on top
        if rows.shape[1] < width_frames:
            rows = np.pad(rows, ((0, 0), (0, width_frames - rows.shape[1])), constant_values=np.nan)
        stack += [rows, blank]
    image = np.vstack(stack[:-1])
    cmap = plt.get_cmap("magma").with_extremes(bad="white")
    im = spec.imshow(image, origin="lower", aspect="auto", cmap=cmap, vmin=SPEC_DB[0], vmax=SPEC_DB[1],
                     extent=(start, start + duration, 0, image.shape[0]), interpolation="nearest")
    if freq_scale == "log":
        marks = [f for f in (100, 1000, 10000) if fmin <= f <= fmax]
        where = [(math.log(f) - math.log(fmin)) / (math.log(fmax) - math.log(fmin)) * band_rows for f in marks]
        labels = [f"{f // 1000}k" if f >= 1000 else str(f) for f in marks]
    else:
        marks = [f for f in (2000, 4000, 6000) if f <= fmax]
        where = [f / fmax * band_rows for f in marks]
        labels = [f"{f // 1000}k" for f in marks]
    ticks, tick_labels = [], []
    for k in range(n):
        base = (n - 1 - k) * (band_rows + gap)
        ticks += [base + w for w in where]
        tick_labels += labels
    spec.set_yticks(ticks, tick_labels)
    spec.set_ylabel("frequency (Hz)", fontsize=8)
    wave.set_yticks([])
    wave.set_ylim(-(n - 1) * 2.2 * peak - 1.1 * peak, 1.1 * peak)
    wave.set_xlim(start, start + duration)
    for ax in (wave, spec):
        ax.tick_params(labelsize=7)
        ax.set_xlabel("time (s)", fontsize=8)
    wave.set_title(f"waveform (one band: ±{peak:.2f})", fontsize=8)
    spec.set_title(f"{title} · spectrogram, {freq_scale} frequency" if title else
                   f"spectrogram, {freq_scale} frequency", fontsize=8)
    fig.colorbar(im, cax=cbar, label="dBFS")
    cbar.tick_params(labelsize=7)
    return fig


def _linear_rows(db: np.ndarray, rows: int) -> np.ndarray:
    """``db`` ``(freqs, frames)`` resampled to ``rows`` evenly spaced frequencies."""
    index = np.linspace(0, db.shape[0] - 1, rows)
    return db[np.round(index).astype(int)]


#: Where :func:`frames_figure` puts its axes (left, bottom, width, height in figure fractions): the selection
#: is drawn over the image there (:func:`frames_html`), so moving it does not redraw the figure.
FRAMES_AXES = (0.06, 0.2, 0.64, 0.74)


def frames_figure(frames: Mapping[str, FrameScores | None], stem: str, duration: float,
                  colors: Mapping[str, str] | None = None, width: float = 11.0):
    """The stored per-frame SDR of ``stem`` over the whole track (``duration`` s), one line per system of
    ``frames`` (the first drawn thick, the others thin; None: not evaluated, said in the legend), with the
    frames where the first system's SDR is undefined (silent reference or estimate) hatched. The axes fill
    :data:`FRAMES_AXES`; :func:`frames_html` shades the selected range over the image."""
    import matplotlib.pyplot as plt

    colors = dict(colors or {})
    fig = plt.figure(figsize=(width, 2.1))
    ax = fig.add_axes(FRAMES_AXES)
    drawn = False
    for k, (system, scores) in enumerate(frames.items()):
        color = colors.get(system, f"C{k}")
        if scores is None or not scores.values.size:
            ax.plot([], [], color=color, lw=0, label=f"{system}: not evaluated")
            continue
        edges = np.append(scores.times, scores.times[-1] + scores.durations[-1])
        values = np.append(scores.values, scores.values[-1])
        ax.step(edges, values, where="post", color=color, lw=2.2 if k == 0 else 1.0, alpha=1 if k == 0 else 0.7,
                label=f"{system} (track median {fmt_db(scores.median)})")
        drawn = drawn or bool(np.isfinite(scores.values).any())
        if k == 0:
            undefined = ~np.isfinite(scores.values)
            for t, d in zip(scores.times[undefined], scores.durations[undefined]):
                ax.axvspan(t, t + d, facecolor="none", edgecolor="#9e9e9e", hatch="//", lw=0)
            if undefined.any():
                ax.plot([], [], color="#9e9e9e", lw=0, marker="s", mfc="none",
                        label=f"undefined ({int(undefined.sum())} frames: silent reference or estimate)")
    ax.set_xlim(0, max(duration, 1e-3))
    ax.set_xlabel("time (s)", fontsize=8)
    ax.set_ylabel(f"{stem} SDR (dB)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    if not drawn:
        ax.text(0.5, 0.5, "no stored frame score to draw (not evaluated, or undefined everywhere)",
                transform=ax.transAxes, ha="center", va="center", color="#666")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return fig


def frames_html(png: bytes, start: float, stop: float, duration: float, box=FRAMES_AXES) -> str:
    """The image of :func:`frames_figure` with the selection ``[start, stop]`` shaded over its axes (HTML)."""
    left, bottom, width, height = box
    duration = max(duration, 1e-9)
    a = left + width * min(max(start / duration, 0.0), 1.0)
    b = left + width * min(max(stop / duration, 0.0), 1.0)
    data = base64.b64encode(png).decode()
    return (f"<div class='explore-frames' style='position:relative;display:inline-block;max-width:100%'>"
            f"<img style='display:block;max-width:100%' alt='per-frame SDR' src='data:image/png;base64,{data}'>"
            f"<div class='explore-frames-selection' title='selection {start:.1f}-{stop:.1f} s' "
            f"style='position:absolute;left:{100 * a:.3f}%;width:{100 * max(b - a, 0.002):.3f}%;"
            f"top:{100 * (1 - bottom - height):.3f}%;height:{100 * height:.3f}%;background:rgba(255,193,7,.35);"
            f"border-left:1px solid #e0a800;border-right:1px solid #e0a800;pointer-events:none'></div></div>")
