"""How much a set of mixtures sounds like produced records: signal features, their distributions, distances.

Every feature is a pure function of a ``(channels, time)`` float array and its sample rate:

===============  =============================================================================
``lufs``         integrated loudness (ITU-R BS.1770-4 / EBU R128, gated), LUFS, with pyloudnorm
``crest_db``     crest factor: peak over RMS, dB (all channels pooled); mastered pop is ~8-12 dB
``centroid_hz``  spectral centroid (magnitude-weighted mean frequency), median over sounding frames
``rolloff_hz``   frequency under which 85 % of a frame's spectral magnitude lies (librosa's
                 convention), median over sounding frames
``flatness``     spectral flatness (geometric over arithmetic mean) of the *long-term* power
                 spectrum (the average of the frames' power spectra) between 50 Hz and 16 kHz (lossy
                 codecs cut above 16 kHz): 1 for white noise, ~0 for tones
``width``        stereo width: side energy over mid + side energy, ``S = (L-R)/2, M = (L+R)/2``:
                 0 for mono, 0.5 for independent channels, 1 for opposite channels
``onset_rate``   onsets per second, from the positive spectral flux of the log-magnitude
                 spectrogram, peak-picked against a moving average (at most one per 50 ms)
===============  =============================================================================

Frames are 2048 samples with a hop of 1024 (Hann window) on the mid signal; a frame counts as
sounding when its energy is within 60 dB of the loudest frame's.

:func:`feature_table` computes the features of ``excerpt``-second excerpts of every file of a folder
(up to ``max_excerpts`` evenly spaced per file, so a 4-minute game track and a 30-second synthetic
song weigh alike); :func:`distances` compares each set with a reference set per feature:

* ``wasserstein_iqr`` - the 1-D Wasserstein (earth mover's) distance between the two distributions,
  in units of the reference set's interquartile range (IQR): about 0 when the distributions match,
  1 when one is shifted by a whole IQR of the real music;
* ``median_shift_iqr`` - (median of the set - median of the reference) / reference IQR: the signed
  direction of the difference.

:func:`stem_loudness` gives each stem's loudness relative to its mixture (LU), the level balance.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .loudness import as_2d, loudness

FEATURES = ("lufs", "crest_db", "centroid_hz", "rolloff_hz", "flatness", "width", "onset_rate")
LABELS = {"lufs": "loudness (LUFS)", "crest_db": "crest factor (dB)", "centroid_hz": "spectral centroid (Hz)",
          "rolloff_hz": "spectral roll-off 85% (Hz)", "flatness": "spectral flatness",
          "width": "stereo width (side / total energy)", "onset_rate": "onset density (1/s)"}
N_FFT = 2048
HOP = 1024
ROLLOFF = 0.85
FLATNESS_BAND = (50.0, 16000.0)
#: Frames more than this many dB below the loudest frame are left out of frame statistics.
FRAME_FLOOR_DB = 60.0
ONSET_HOP = 512
ONSET_MIN_GAP = 0.05  # s
#: An onset raises the compressed magnitude by at least this much per frequency bin on average
#: (so that the numerical wobble of a steady tone, normalised, is not taken for onsets).
ONSET_MIN_FLUX = 0.005


def _mid(x: np.ndarray) -> np.ndarray:
    return as_2d(x).mean(axis=0)


# ------------------------------------------------------------------ level
def crest_factor_db(x: np.ndarray) -> float:
    """Peak over RMS of ``x`` (all channels pooled), dB; nan for silence."""
    y = as_2d(x)
    rms = np.sqrt(np.mean(np.square(y)))
    return float(20 * np.log10(np.abs(y).max() / rms)) if rms > 0 else float("nan")


# ------------------------------------------------------------------ spectrum
def _stft_power(mono: np.ndarray) -> np.ndarray:
    """Power spectrogram (frames, N_FFT//2 + 1) of Hann-windowed frames, hop HOP (no padding)."""
    if len(mono) < N_FFT:
        mono = np.pad(mono, (0, N_FFT - len(mono)))
    n = 1 + (len(mono) - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n)[:, None]
    return np.abs(np.fft.rfft(mono[idx] * np.hanning(N_FFT), axis=1)) ** 2


def spectral_features(x: np.ndarray, samplerate: int) -> dict:
    """``centroid_hz``, ``rolloff_hz`` (medians over sounding frames) and ``flatness`` (of the long-term
    power spectrum in FLATNESS_BAND) of ``x`` (channels, time); nan for silence."""
    power = _stft_power(_mid(x))
    freqs = np.fft.rfftfreq(N_FFT, 1 / samplerate)
    energy = power.sum(axis=1)
    if energy.max() <= 0:
        return {"centroid_hz": float("nan"), "rolloff_hz": float("nan"), "flatness": float("nan")}
    keep = energy >= energy.max() * 10 ** (-FRAME_FLOOR_DB / 10)
    p = power[keep]
    mag = np.sqrt(p)
    centroid = (mag * freqs).sum(axis=1) / mag.sum(axis=1)
    cum = np.cumsum(mag, axis=1)
    roll = freqs[np.argmax(cum >= ROLLOFF * cum[:, -1:], axis=1)]
    ltas = power.mean(axis=0)[(freqs >= FLATNESS_BAND[0]) & (freqs <= FLATNESS_BAND[1])]
    ltas = np.maximum(ltas, ltas.max() * 1e-20)
    flatness = np.exp(np.mean(np.log(ltas))) / np.mean(ltas)
    return {"centroid_hz": float(np.median(centroid)), "rolloff_hz": float(np.median(roll)),
            "flatness": float(flatness)}


def stereo_width(x: np.ndarray) -> float:
    """Side energy over mid + side energy of a (2, time) signal: 0 mono, 0.5 uncorrelated, 1 anti-phase;
    0 for a single channel, nan for silence."""
    y = as_2d(x)
    if y.shape[0] == 1:
        return 0.0
    mid, side = (y[0] + y[1]) / 2, (y[0] - y[1]) / 2
    m, s = np.sum(mid ** 2), np.sum(side ** 2)
    return float(s / (m + s)) if m + s > 0 else float("nan")


# ------------------------------------------------------------------ onsets
def onset_envelope(x: np.ndarray, samplerate: int) -> np.ndarray:
    """Positive spectral flux of the compressed magnitude spectrogram (``log(1 + 100 |X|)`` of the
    mid signal, frames of 2048, hop 512), one value per hop (the first is 0)."""
    mono = _mid(x)
    if len(mono) < N_FFT:
        mono = np.pad(mono, (0, N_FFT - len(mono)))
    n = 1 + (len(mono) - N_FFT) // ONSET_HOP
    idx = np.arange(N_FFT)[None, :] + ONSET_HOP * np.arange(n)[:, None]
    mag = np.log1p(100 * np.abs(np.fft.rfft(mono[idx] * np.hanning(N_FFT), axis=1)))
    flux = np.maximum(np.diff(mag, axis=0), 0).sum(axis=1)
    return np.concatenate([[0.0], flux])


def onset_times(x: np.ndarray, samplerate: int, delta: float = 0.1) -> np.ndarray:
    """Onset times (s): local maxima of the normalised onset envelope (within +-50 ms) that exceed
    its moving average over +-100 ms by ``delta`` and ONSET_MIN_FLUX per bin, at least ONSET_MIN_GAP apart."""
    env = onset_envelope(x, samplerate)
    strong = env >= ONSET_MIN_FLUX * (N_FFT // 2 + 1)
    if env.max() <= 0 or not strong.any():
        return np.zeros(0)
    env = np.where(strong, env / env.max(), 0.0)
    fps = samplerate / ONSET_HOP
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    local_max = maximum_filter1d(env, 2 * int(round(ONSET_MIN_GAP * fps)) + 1, mode="constant")
    mean = uniform_filter1d(env, 2 * int(round(0.1 * fps)) + 1, mode="constant")
    peaks = np.flatnonzero((env == local_max) & (env >= mean + delta) & (env > 0))
    times, last = [], -1.0
    for p in peaks:  # plateaus and near neighbours: keep the first
        t = p * ONSET_HOP / samplerate
        if t - last >= ONSET_MIN_GAP:
            times.append(t)
            last = t
    return np.array(times)


def onset_rate(x: np.ndarray, samplerate: int) -> float:
    """Onsets per second of ``x`` (channels, time)."""
    return float(len(onset_times(x, samplerate)) / (as_2d(x).shape[-1] / samplerate))


# ------------------------------------------------------------------ per signal, per folder
def features(x: np.ndarray, samplerate: int) -> dict:
    """Every feature of FEATURES for one (channels, time) excerpt."""
    out = {"lufs": loudness(x, samplerate), "crest_db": crest_factor_db(x)}
    out.update(spectral_features(x, samplerate))
    out["width"] = stereo_width(x)
    out["onset_rate"] = onset_rate(x, samplerate)
    return out


def excerpt_starts(length: int, samplerate: int, seconds: float, max_count: int) -> list[int]:
    """Start samples of up to ``max_count`` evenly spaced, non-overlapping ``seconds``-long excerpts from
    the start to the end (one excerpt in the middle if only one fits; the whole signal if it is shorter)."""
    n = int(round(seconds * samplerate))
    if length <= n:
        return [0]
    count = max(1, min(max_count, length // n))
    span = length - n
    return [int(round(span * k / (count - 1))) for k in range(count)] if count > 1 else [span // 2]


def mixture_files(root: str | os.PathLike) -> list[Path]:
    """The mixtures of a folder: a synthetic/MUSDB layout's ``*/<track>/mixture.wav`` and
    ``unlabeled/*.wav``, or else every audio file under it (sorted)."""
    from .unlabeled import AUDIO_SUFFIXES

    root = Path(root)
    mixes = sorted(root.glob("*/*/mixture.wav")) + sorted(root.glob("unlabeled/*.wav"))
    if mixes:
        return mixes
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)


def file_features(path: str | os.PathLike, samplerate: int = 44100, excerpt: float = 30.0,
                  max_excerpts: int = 3) -> list[dict]:
    """Features of the excerpts of one audio file (read as stereo at ``samplerate``)."""
    from ..audio import read_audio

    x, sr = read_audio(path, samplerate=samplerate, channels=2)
    rows = []
    for k, start in enumerate(excerpt_starts(x.shape[1], sr, excerpt, max_excerpts)):
        seg = x[:, start:start + int(round(excerpt * sr))]
        if seg.shape[1] < int(0.5 * sr):
            continue
        rows.append({"file": str(path), "excerpt": k, "start_s": round(start / sr, 2), **features(seg, sr)})
    return rows


def feature_table(files, label: str, samplerate: int = 44100, excerpt: float = 30.0, max_excerpts: int = 3,
                  jobs: int = 1, cache_dir: str | os.PathLike | None = None):
    """A pandas DataFrame of the features of every excerpt of ``files`` (paths, or one folder, whose
    mixtures :func:`mixture_files` lists), with a ``set`` column = ``label``.

    With ``cache_dir``, the table is kept there as CSV under a key of the files (path, size,
    modification time) and the parameters, and read back while they are unchanged."""
    import pandas as pd

    base = None
    if isinstance(files, (str, os.PathLike)):
        base = Path(files)
        files = mixture_files(files)
    files = [Path(f) for f in files]
    cache = None
    if cache_dir is not None:
        import hashlib
        import json

        key = json.dumps([[str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns] for f in files]
                         + [samplerate, excerpt, max_excerpts, FEATURES, N_FFT, HOP, ONSET_MIN_FLUX, FLATNESS_BAND])
        cache = Path(cache_dir) / f"features-{hashlib.sha256(key.encode()).hexdigest()[:16]}.csv"
        if cache.is_file():
            table = pd.read_csv(cache)
            table["set"] = label
            return _with_group(table, base)
    args = [(f, samplerate, excerpt, max_excerpts) for f in files]
    if jobs > 1 and len(files) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            per_file = list(pool.map(_file_features_args, args))
    else:
        per_file = [_file_features_args(a) for a in args]
    rows = [r for rs in per_file for r in rs]
    table = pd.DataFrame(rows, columns=["file", "excerpt", "start_s", *FEATURES])
    table.insert(0, "set", label)
    if cache is not None:
        from ..utils import atomic_path

        cache.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(cache) as tmp:
            table.to_csv(tmp, index=False)
    return _with_group(table, base)


def _with_group(table, base: Path | None):
    """Add a ``group`` column: the first folder of each file under ``base`` (a real package, or a
    synthetic split), else the file's parent folder name."""
    def group(f: str) -> str:
        path = Path(f)
        if base is not None:
            try:
                rel = path.relative_to(base)
                return rel.parts[0] if len(rel.parts) > 1 else ""
            except ValueError:
                pass
        return path.parent.name
    return table.assign(group=[group(f) for f in table["file"]])


def _file_features_args(args) -> list[dict]:
    return file_features(*args)


def distances(table, reference: str):
    """Per set (other than ``reference``) and feature: ``wasserstein_iqr`` and ``median_shift_iqr``
    (see the module doc) against the ``reference`` set of ``table`` (a feature_table concatenation).
    Returns a DataFrame indexed by set, with a column pair per feature and the mean over features."""
    import pandas as pd
    from scipy.stats import wasserstein_distance

    ref = table[table["set"] == reference]
    rows = []
    for name, group in table.groupby("set", sort=False):
        if name == reference:
            continue
        row = {"set": name}
        w_all = []
        for f in FEATURES:
            r = ref[f].replace([np.inf, -np.inf], np.nan).dropna().to_numpy()
            s = group[f].replace([np.inf, -np.inf], np.nan).dropna().to_numpy()
            iqr = float(np.subtract(*np.percentile(r, [75, 25]))) if len(r) else float("nan")
            if len(r) == 0 or len(s) == 0 or not iqr > 0:
                w = shift = float("nan")
            else:
                w = wasserstein_distance(s, r) / iqr
                shift = (np.median(s) - np.median(r)) / iqr
            row[f"{f} W/IQR"] = round(float(w), 3)
            row[f"{f} shift/IQR"] = round(float(shift), 3)
            w_all.append(w)
        row["mean W/IQR"] = round(float(np.nanmean(w_all)), 3)
        rows.append(row)
    return pd.DataFrame(rows).set_index("set")


def describe_distances(dist, reference: str = "real") -> str:
    """Sentences (markdown) saying how far each set of :func:`distances` is from ``reference``: the
    mean Wasserstein distance in reference IQRs, the closest and the furthest features and which way."""
    lines = []
    for name, row in dist.iterrows():
        w = {f: row[f"{f} W/IQR"] for f in FEATURES if row[f"{f} W/IQR"] == row[f"{f} W/IQR"]}
        if not w:
            continue
        near = min(w, key=w.get)
        far = sorted(w, key=w.get, reverse=True)[:2]
        parts = []
        for f in far:
            shift = row[f"{f} shift/IQR"]
            way = "higher" if shift > 0 else "lower"
            parts.append(f"{LABELS[f]} ({w[f]:.2f}; median {abs(shift):.2f} IQR {way})")
        lines.append(f"- **{name}**: {row['mean W/IQR']:.2f} {reference}-IQRs from {reference} on average over "
                     f"the {len(w)} features; closest on {LABELS[near]} ({w[near]:.2f}), furthest on "
                     + " and ".join(parts) + ".")
    return "\n".join(lines)


def summary(table, by: str = "set"):
    """Median and IQR of every feature per set (or per value of another column, e.g. ``"group"``):
    a DataFrame indexed by it."""
    import pandas as pd

    rows = []
    for name, group in table.groupby(by, sort=False):
        row = {by: name, "excerpts": len(group)}
        for f in FEATURES:
            v = group[f].replace([np.inf, -np.inf], np.nan).dropna()
            q1, med, q3 = (np.percentile(v, [25, 50, 75]) if len(v) else (np.nan,) * 3)
            row[f"{f} median"] = round(float(med), 3)
            row[f"{f} IQR"] = round(float(q3 - q1), 3)
        rows.append(row)
    return pd.DataFrame(rows).set_index(by)


def distribution_figure(table, order: list[str] | None = None):
    """One figure: a panel per feature with the distribution (violin + median) of each set."""
    import matplotlib.pyplot as plt

    sets = order or list(dict.fromkeys(table["set"]))
    fig, axes = plt.subplots(1, len(FEATURES), figsize=(2.3 * len(FEATURES), 3.6))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, f in zip(axes, FEATURES):
        data = [table.loc[table["set"] == s, f].replace([np.inf, -np.inf], np.nan).dropna().to_numpy()
                for s in sets]
        pos = [i for i, d in enumerate(data) if len(d) > 1]
        if pos:
            parts = ax.violinplot([data[i] for i in pos], positions=pos, showmedians=True, widths=0.8)
            for body, i in zip(parts["bodies"], pos):
                body.set_facecolor(colors[i % len(colors)])
                body.set_alpha(0.5)
        ax.set_xticks(range(len(sets)))
        ax.set_xticklabels(sets, rotation=35, ha="right", fontsize=8)
        ax.set_title(LABELS[f], fontsize=9)
        ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ reference sets and stem balance
def old_generator_set(out: str | os.PathLike, songs: int = 16, duration: float = 30.0, seed: int = 2019,
                      jobs: int = 1) -> Path:
    """The "old generator" reference (made if missing): ``songs`` unlabeled songs rendered dry
    (``production=False``: no effects, reverbs nor bus) through pretty_midi's small TimGM6mb
    SoundFont, i.e. the sound of generator version 1 (version 2's humanised timing, sung lines and
    panned kits aside). Returns the folder (its mixtures: ``unlabeled/*.wav``)."""
    from .synth.generate import ensure_dataset
    from .synth.render import small_soundfont

    ensure_dataset(out, seed=seed, train=0, valid=0, test=0, unlabeled=songs, duration=duration,
                   soundfont=small_soundfont(), production=False, jobs=jobs)
    return Path(out)


def stem_balance(root: str | os.PathLike, splits=("train", "test"), samplerate: int = 44100):
    """Loudness of each stem relative to the mixture (LU, :func:`stem_loudness`) for every labelled
    track of a MUSDB-layout folder: a DataFrame with a row per track and a column per source."""
    import pandas as pd

    from .. import SOURCES
    from ..audio import read_audio

    rows = []
    for split in splits:
        for folder in sorted(p for p in (Path(root) / split).glob("*") if (p / "mixture.wav").is_file()):
            mix, sr = read_audio(folder / "mixture.wav", samplerate=samplerate, channels=2)
            stems = np.stack([read_audio(folder / f"{s}.wav", samplerate=samplerate, channels=2)[0] for s in SOURCES])
            rows.append({"track": folder.name, "split": split, **stem_loudness(stems, mix, sr)})
    return pd.DataFrame(rows, columns=["track", "split", *SOURCES])



def stem_loudness(stems: np.ndarray, mixture: np.ndarray, samplerate: int, names=None) -> dict:
    """Loudness of each stem relative to its mixture, LU (integrated and gated as BS.1770, so a stem's
    silent sections do not count): ``{name: LUFS(stem) - LUFS(mixture)}``; -inf for a silent stem.
    ``stems`` (sources, channels, time), ``mixture`` (channels, time)."""
    from .. import SOURCES

    names = list(names or SOURCES)
    ref = loudness(mixture, samplerate)
    return {n: round(loudness(s, samplerate) - ref, 2) for n, s in zip(names, stems)}


# ------------------------------------------------------------------ what the data notebook shows
def compare(root: str | os.PathLike, old_songs: int = 16, excerpts: int = 3, jobs: int = 2):
    """The features of the three sets the data notebook compares, as one table: ``real`` (the folder
    ``data/real-unlabeled`` made by ``make real-music``, when it is there), the dataset at ``root``
    (``new generator`` for our synthetic set, ``dataset`` otherwise) and ``old generator``
    (:func:`old_generator_set` of ``old_songs`` songs); up to ``excerpts`` 30 s excerpts per file.
    Features are cached under ``data/cache/realism``."""
    import pandas as pd

    from ..paths import data_dir
    from .synth.generate import read_manifest

    sets = {"real": data_dir() / "real-unlabeled",
            ("new generator" if read_manifest(root) else "dataset"): Path(root),
            "old generator": old_generator_set(data_dir() / f"synth-realism-old-{old_songs}", songs=old_songs,
                                               jobs=jobs)}
    tables = [feature_table(folder, name, max_excerpts=excerpts, jobs=jobs, cache_dir=data_dir() / "cache" / "realism")
              for name, folder in sets.items() if folder.is_dir() and mixture_files(folder)]
    return pd.concat(tables, ignore_index=True)


def real_distances(table, reference: str = "real"):
    """``(distances, sentences)`` of every set to the real one (:func:`distances`,
    :func:`describe_distances`), or ``(None, how to get real music)`` when the table has none."""
    if reference not in set(table["set"]):
        return None, ("No real music here: run `make real-music` (Debian packages, root or sudo) to compare "
                      "with it.")
    dist = distances(table, reference)
    return dist, describe_distances(dist, reference)


def real_by_package(table, reference: str = "real"):
    """The medians of every feature of the real set, per Debian package (None without real music)."""
    real = table[table["set"] == reference]
    if real.empty:
        return None
    return summary(real, by="group")[["excerpts"] + [f"{f} median" for f in FEATURES]].round(3)


def balance_summary(root: str | os.PathLike):
    """Quartiles of :func:`stem_balance` per source (LU relative to the mixture), None for a dataset
    that is not ours (no generator manifest)."""
    from .. import SOURCES
    from .synth.generate import read_manifest

    if not read_manifest(root):
        return None
    return stem_balance(root)[list(SOURCES)].describe(percentiles=[0.25, 0.5, 0.75]).T.round(2)
