"""What a dataset holds: per-track durations and when each stem is active (for the data notebook)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import SOURCES

#: A 1 s frame counts as active when its RMS is above this level (dBFS). -50 dBFS is well above the
#: float noise floor and below any audible part of our stems.
ACTIVITY_THRESHOLD_DB = -50.0


def frame_rms_db(x: np.ndarray, samplerate: int, frame: float = 1.0) -> np.ndarray:
    """RMS in dBFS of consecutive ``frame``-second frames of ``x`` (..., channels, time) -> (..., frames).

    The channels are pooled; a last partial frame is dropped; silence gives -inf.
    """
    n = int(round(frame * samplerate))
    frames = x.shape[-1] // n
    if frames == 0:
        raise ValueError(f"signal of {x.shape[-1]} samples is shorter than one {frame} s frame")
    cut = x[..., : frames * n].reshape(*x.shape[:-1], frames, n)
    power = np.mean(np.square(cut, dtype=np.float64), axis=(-3, -1))
    with np.errstate(divide="ignore"):
        return 10 * np.log10(power)


def stem_activity(stems: np.ndarray, samplerate: int, frame: float = 1.0,
                  threshold_db: float = ACTIVITY_THRESHOLD_DB) -> np.ndarray:
    """Boolean activity of each stem per frame: stems (sources, channels, time) -> (sources, frames)."""
    return frame_rms_db(stems, samplerate, frame) > threshold_db


def silent_runs(active: np.ndarray, frame: float = 1.0) -> list[tuple[float, float]]:
    """Start and end (seconds) of the runs of inactive frames in a 1-D activity vector."""
    runs, start = [], None
    for i, a in enumerate(list(active) + [True]):
        if not a and start is None:
            start = i
        elif a and start is not None:
            runs.append((start * frame, i * frame))
            start = None
    return runs


def track_summary(name: str, split: str, stems: np.ndarray, samplerate: int) -> dict:
    """One row of the dataset table: duration, and per stem the fraction of active 1 s frames."""
    act = stem_activity(stems, samplerate)
    row = {"track": name, "split": split, "duration (s)": round(stems.shape[-1] / samplerate, 2)}
    for source, a in zip(SOURCES, act):
        row[f"{source} active"] = round(float(a.mean()), 2)
    row["longest silence (s)"] = max((e - s for a in act for s, e in silent_runs(a)), default=0.0)
    return row


def dataset_table(cache, splits=("train", "valid", "test")):
    """One :func:`track_summary` row per track of the prepared ``cache`` (a ``data.raw.RawCache``)."""
    import pandas as pd

    from .datasets import iter_tracks

    return pd.DataFrame([track_summary(t.name, split, t.stems, t.samplerate)
                         for split in splits for t in iter_tracks(cache, split)])


def split_summary(table):
    """Per split: number of tracks, minutes of audio, and the mean active fraction of each stem."""
    return table.groupby("split", sort=False).agg(
        tracks=("track", "count"), minutes=("duration (s)", lambda s: s.sum() / 60),
        **{f"{s} active": (f"{s} active", "mean") for s in SOURCES})


def song_sections(root, track: str):
    """``(metadata, sections)`` of a synthetic ``track`` from the generator's manifest in ``root``:
    the track's manifest entry and a DataFrame of its sections (which stems play where); ``(None,
    None)`` for a dataset without a manifest (the real MUSDB18) or a track it does not list."""
    import pandas as pd

    from .synth.generate import read_manifest

    manifest = read_manifest(root)
    meta = next((m for m in (manifest or {}).get("tracks", []) if m.get("name") == track), None)
    if meta is None:
        return None, None
    return meta, pd.DataFrame(meta.get("sections", []))


def generator_note(root) -> str:
    """One Markdown line about the dataset at ``root``: the generator version, SoundFont, production
    and where the hidden stems of the unlabeled songs are; or that it is not a synthetic set."""
    from .synth.generate import read_manifest

    manifest = read_manifest(root)
    if manifest is None:
        return "Not a synthetic set (no generator manifest): the real MUSDB18."
    sfont = manifest.get("soundfont", {})
    return (f"Generator version {manifest.get('version')}, SoundFont **{sfont.get('tag', '?')}** "
            f"(`{Path(str(sfont.get('file', '?'))).name}`), production "
            f"{'on' if manifest.get('production', False) else 'off'}; hidden stems of the unlabeled songs in "
            f"`{manifest.get('hidden_truth', '-')}/`.")
