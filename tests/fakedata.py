"""Tiny MUSDB-like datasets for the data tests: a few tracks of sines and noise, ~0.5-1 s long.

* :func:`make_wav_dataset` - MUSDB18-HQ layout (float32 wav, so values come back exactly) with a
  ``setup.yaml`` naming the validation tracks, like our synthetic set.
* :func:`make_stem_dataset` - MUSDB18 layout: ``.stem.mp4`` files (AAC) written by stempeg, stream
  order mixture, drums, bass, other, vocals.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

STEM_ORDER = ("mixture", "drums", "bass", "other", "vocals")
WAV_TRAIN = ("Alpha - First", "Bravo - Second", "Charlie - Third")
WAV_VALID = ("Bravo - Second",)
WAV_TEST = ("Delta - Fourth", "Echo - Fifth")


def fake_stems(seed: int, samples: int, sr: int = 44100) -> np.ndarray:
    """(4, 2, samples) float32 stems: a different sine per source plus a little noise, peak < 0.25,
    so that the mixture stays within [-1, 1]."""
    rng = np.random.default_rng(seed)
    t = np.arange(samples) / sr
    stems = []
    for k, base in enumerate((110.0, 55.0, 330.0, 660.0)):
        freq = base * (1 + 0.1 * rng.random())
        left = 0.15 * np.sin(2 * np.pi * freq * t + rng.random() * 6) + 0.02 * rng.standard_normal(samples)
        right = 0.12 * np.sin(2 * np.pi * freq * t + rng.random() * 6) + 0.02 * rng.standard_normal(samples)
        stems.append(np.stack([left, right]) * (0.5 + 0.5 * (k + 1) / 4))
    return np.asarray(stems, dtype=np.float32)


def write_wav_track(folder: Path, stems: np.ndarray, sr: int = 44100) -> np.ndarray:
    """Write ``stems`` (4, 2, T) and their sum as a MUSDB18-HQ track folder; returns (5, 2, T)."""
    folder.mkdir(parents=True, exist_ok=True)
    audio = np.concatenate([stems.sum(0, keepdims=True), stems]).astype(np.float32)
    for name, x in zip(STEM_ORDER, audio):
        sf.write(folder / f"{name}.wav", x.T, sr, subtype="FLOAT")
    return audio


def make_wav_dataset(root: Path, train=WAV_TRAIN, valid=WAV_VALID, test=WAV_TEST, seconds: float = 1.0,
                     sr: int = 44100, lengths: dict | None = None, setup: bool = True) -> dict[str, np.ndarray]:
    """MUSDB18-HQ layout under ``root``; returns ``{track name: (5, 2, T) mixture then stems}``.

    ``valid`` names (a subset of ``train``) go to ``setup.yaml``'s ``validation_tracks``;
    ``lengths`` may give some tracks their own length in samples.
    """
    lengths = lengths or {}
    out = {}
    for seed, (subset, name) in enumerate([("train", n) for n in train] + [("test", n) for n in test]):
        samples = lengths.get(name, int(round(seconds * sr)))
        out[name] = write_wav_track(root / subset / name, fake_stems(seed, samples, sr), sr)
    if setup:
        (root / "setup.yaml").write_text(yaml.safe_dump({"validation_tracks": list(valid)}))
    return out


STEM_TRAIN = ("Actions - One Minute Smile", "Leaf - Summerghost", "Zulu Band - Train Song",
              "Yankee - Another Train Song")
STEM_VALID = ("Actions - One Minute Smile", "Leaf - Summerghost")  # in musdb's built-in validation list
STEM_TEST = ("Xray - Test Song", "Whiskey - Last Song")


def make_stem_dataset(root: Path, train=STEM_TRAIN, test=STEM_TEST, seconds: float = 0.5,
                      sr: int = 44100) -> dict[str, np.ndarray]:
    """MUSDB18 layout (``.stem.mp4``, AAC) under ``root``; returns ``{name: (5, 2, T)}`` as encoded."""
    import stempeg

    jobs = {}
    for seed, (subset, name) in enumerate([("train", n) for n in train] + [("test", n) for n in test]):
        stems = fake_stems(100 + seed, int(round(seconds * sr)), sr)
        audio = np.concatenate([stems.sum(0, keepdims=True), stems])
        jobs[name] = (root / subset / f"{name}.stem.mp4", audio)

    def write(item):
        path, audio = item
        path.parent.mkdir(parents=True, exist_ok=True)
        stempeg.write_stems(str(path), audio.transpose(0, 2, 1), sample_rate=sr,
                            writer=stempeg.StreamsWriter(codec="aac", stem_names=list(STEM_ORDER)))

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(write, jobs.values()))
    return {name: audio for name, (_, audio) in jobs.items()}
