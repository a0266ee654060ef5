"""Tiny constructed data for the remix tests: tracks of sines whose silent sections are known exactly.

* :func:`song` - stems ``(4, 2, T)``: one sine per source (drums 110 Hz, bass 55 Hz, other 330 Hz,
  vocals 660 Hz, as tests/fakedata.py) plus a little noise, each source zeroed over given sections.
* :func:`cached_tracks` - write songs as raw-cache entries (``mixture.npy``, ``stems.npy``) and return
  :class:`~demucs_study.data.raw.CachedTrack` objects, what the remix functions take.
* :func:`unlabeled_root` - a synthetic-layout root: ``unlabeled/<name>.wav`` mixtures and the hidden
  ``unlabeled_truth/<name>/<stem>.wav``.
* :func:`shared_data` - the tiny classifier trained once per session; :func:`extraction_setup` - it and an
  unlabeled folder of :data:`UNLABELED_SONGS`, once per module; :func:`run_extract` - an extraction there.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from demucs_study import SOURCES
from demucs_study.data.raw import CachedTrack
from demucs_study.utils import mono_stats, save_npy

SR = 44100
FREQS = {"drums": 110.0, "bass": 55.0, "other": 330.0, "vocals": 660.0}
#: The classifier of the tests: 0.5 s windows every 0.25 s, small and quick.
TINY_CLASSIFIER = {"window": 0.5, "hop": 0.25, "epochs": 60, "batch_size": 16, "lr": 3e-3, "n_mels": 64,
                   "channels": [8, 16, 16], "gain_db": 3.0, "min_selected": 3}


def song(seconds: float, silent: dict | None = None, seed: int = 0, levels_db: dict | None = None) -> np.ndarray:
    """Stems ``(4, 2, T)`` float32; ``silent``: ``{source: [(start s, end s), ...]}`` zeroed exactly;
    ``levels_db``: per-source gain in dB (default 0)."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * SR))
    t = np.arange(n) / SR
    stems = np.empty((len(SOURCES), 2, n), dtype=np.float32)
    for k, s in enumerate(SOURCES):
        f = FREQS[s] * (1 + 0.05 * rng.random())
        gain = 10 ** ((levels_db or {}).get(s, 0.0) / 20)
        for c in range(2):
            stems[k, c] = gain * (0.12 * np.sin(2 * np.pi * f * t + rng.random() * 6)
                                  + 0.01 * rng.standard_normal(n))
        for a, b in (silent or {}).get(s, []):
            stems[k, :, int(round(a * SR)):int(round(b * SR))] = 0.0
    return stems


def cached_tracks(folder: Path, songs: dict[str, np.ndarray], split: str = "train") -> list[CachedTrack]:
    """Raw-cache entries for ``{name: stems (4, 2, T)}`` under ``folder/split``; returns the tracks."""
    out = []
    for name, stems in songs.items():
        d = Path(folder) / split / name
        mixture = stems.sum(axis=0)
        save_npy(d / "mixture.npy", mixture)
        save_npy(d / "stems.npy", stems)
        mean, std = mono_stats(mixture)
        out.append(CachedTrack(name=name, split=split, dir=d, length=stems.shape[-1], samplerate=SR, mean=mean,
                               std=std))
    return out


def unlabeled_root(root: Path, songs: dict[str, np.ndarray]) -> Path:
    """``root/unlabeled/<name>.wav`` (mixtures) and ``root/unlabeled_truth/<name>/<stem>.wav``; returns
    the unlabeled folder."""
    folder = Path(root) / "unlabeled"
    folder.mkdir(parents=True, exist_ok=True)
    for name, stems in songs.items():
        sf.write(folder / f"{name}.wav", stems.sum(axis=0).T, SR, subtype="FLOAT")
        truth = Path(root) / "unlabeled_truth" / name
        truth.mkdir(parents=True, exist_ok=True)
        for k, s in enumerate(SOURCES):
            sf.write(truth / f"{s}.wav", stems[k].T, SR, subtype="FLOAT")
    return folder


def labeled_songs() -> dict[str, np.ndarray]:
    """Three 4 s training songs and what is silent where (every source silent somewhere)."""
    return {
        "Train A": song(4.0, {"drums": [(0.5, 1.5)], "vocals": [(2.5, 3.5)]}, seed=1),
        "Train B": song(4.0, {"bass": [(1.0, 2.0)], "other": [(3.0, 4.0)]}, seed=2),
        "Train C": song(4.0, {"vocals": [(0.0, 1.0)], "bass": [(2.5, 3.5)], "drums": [(3.0, 4.0)]}, seed=3),
    }


def valid_songs() -> dict[str, np.ndarray]:
    return {"Valid A": song(5.0, {"drums": [(0.5, 1.5)], "bass": [(1.5, 2.5)], "other": [(2.5, 3.5)],
                                   "vocals": [(3.5, 4.5)]}, seed=4),
            "Valid B": song(5.0, {"vocals": [(0.5, 1.5)], "other": [(1.5, 2.5)], "bass": [(2.5, 3.5)],
                                   "drums": [(3.5, 4.5)]}, seed=5)}


def shared_data(tmp_path_factory):
    """(labeled tracks, validation tracks, classifier result) made once per test session: the tiny
    classifier trained on :func:`labeled_songs` (``train_classifier`` returns at once when its
    folder already holds the finished run)."""
    from demucs_study.remix.classifier_train import train_classifier

    base = tmp_path_factory.getbasetemp() / "remix-shared"
    train = cached_tracks(base, labeled_songs(), "train") if not (base / "train").is_dir() else None
    valid = cached_tracks(base, valid_songs(), "valid") if not (base / "valid").is_dir() else None
    if train is None:
        train = _reopen(base, labeled_songs(), "train")
        valid = _reopen(base, valid_songs(), "valid")
    result = train_classifier(train, valid, base / "classifier", config=TINY_CLASSIFIER, seed=0, log=lambda m: None)
    return train, valid, result


#: Unlabeled songs of the extraction tests: bass silent over 2-4 s and other over 4.5-6 s of Song X.
UNLABELED_SONGS = {
    "Song X": song(6.0, {"bass": [(2.0, 4.0)], "other": [(4.5, 6.0)]}, seed=9),
    "Song Y": song(3.0, seed=10),
    "Song Z": song(0.5, seed=11),          # shorter than any excerpt: listed, never scanned
}


def extraction_setup(tmp_path_factory) -> dict:
    """``{"classifier" (path), "valid" (tracks), "folder" (unlabeled), "root", "cache"}``."""
    _, valid, result = shared_data(tmp_path_factory)
    root = tmp_path_factory.mktemp("unl")
    folder = unlabeled_root(root, UNLABELED_SONGS)
    return {"classifier": result["classifier"], "valid": valid, "folder": folder, "root": root,
            "cache": root / "cache"}


def run_extract(setup: dict, name: str, **kwargs):
    """(manifest, its path, the warnings' messages) of an extraction of ``setup``'s folder."""
    import warnings

    from demucs_study.remix.errors import RemixWarning
    from demucs_study.remix.extract import extract

    path = setup["root"] / f"{name}.json"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RemixWarning)
        manifest = extract(setup["classifier"], setup["folder"], path, cache_dir=setup["cache"], **kwargs)
    return manifest, path, [str(w.message) for w in caught]


def _reopen(folder: Path, songs: dict, split: str) -> list[CachedTrack]:
    out = []
    for name, stems in songs.items():
        mean, std = mono_stats(stems.sum(axis=0))
        out.append(CachedTrack(name=name, split=split, dir=Path(folder) / split / name, length=stems.shape[-1],
                               samplerate=SR, mean=mean, std=std))
    return out
