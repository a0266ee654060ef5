"""Ground truth the paper never had: how silent the extracted excerpts truly are.

Our unlabeled songs are synthetic, and the generator also writes their stems to
``<root>/unlabeled_truth/<track>/<stem>.wav`` (``<track>`` the unlabeled file's name without its
suffix), a folder nothing else reads. **This module is the only reader of that folder** (the name
:data:`TRUTH_DIR` appears nowhere else in the package), and only :func:`measure_extraction` opens
it; training, extraction and the remix dataset never do (a test proves it).

For each excerpt the extraction accepted (every hop-aligned L-crop of every manifest row), with
``u`` the unlabeled mixture and ``s_j`` the true stem of its source over the excerpt:

* **truly silent**: the silence rule of :mod:`.labels` over the excerpt;
* **leaked energy**: ``10 log10(mean s_j^2 / mean u^2)`` dB, how loud the "absent" source really is
  relative to the excerpt (what the weak loss wrongly attributes to the other sources). Digital
  silence is floored at :data:`~.labels.FLOOR_DB` (-200 dB), so an exactly silent stem in an
  excerpt at -25 dBFS shows as -175 dB.

Per source: ``precision`` (share truly silent), the leak's power mean (``leak_db_mean``: the
leak of the average excerpt, dominated by the worst ones), median, 90th percentile and maximum,
and the ``recall`` (share of the truly silent excerpts, louder than ``min_mix_db``, that were
extracted).
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from . import labels as L
from .errors import RemixError

#: The folder of hidden true stems, next to the ``unlabeled`` folder of a synthetic dataset.
TRUTH_DIR = "unlabeled_truth"


def truth_folder(manifest: dict) -> Path:
    """``<root>/unlabeled_truth`` for the manifest's unlabeled folder ``<root>/unlabeled``."""
    return Path(manifest["folder"]).parent / TRUTH_DIR


def _read_truth(folder: Path, track: str, sources, samples: int, samplerate: int) -> np.ndarray:
    from ..audio import read_audio

    name = Path(track).with_suffix("").as_posix()
    stems = []
    for s in sources:
        path = folder / name / f"{s}.wav"
        if not path.is_file():
            raise RemixError(f"no true {s} stem for unlabeled track {track!r}: {path} is missing; the ground truth "
                             "exists only for synthetic unlabeled songs (regenerate the dataset to write it); real "
                             "unlabeled music has none, so report the classifier's yield only")
        x, _ = read_audio(path, samplerate=samplerate, channels=2)
        if x.shape[-1] != samples:
            raise RemixError(f"true stem {path} has {x.shape[-1]} samples but the unlabeled mixture {track!r} has "
                             f"{samples}; the ground truth is from another generation: regenerate the dataset")
        stems.append(x)
    return np.stack(stems)


def _power_mean_db(leak_db: np.ndarray) -> float:
    """The leak of the average excerpt: ``10 log10(mean(10 ** (leak / 10)))``."""
    return float(10 * np.log10(np.mean(10.0 ** (np.asarray(leak_db, dtype=np.float64) / 10))))


def measure_extraction(manifest: dict, truth_dir: str | os.PathLike | None = None,
                       relative_db: float = L.RELATIVE_DB, absolute_db: float = L.ABSOLUTE_DB,
                       with_excerpts: bool = False) -> dict:
    """Precision, leaked energy and recall of an extraction, per source, against the true stems.

    ``truth_dir``: default :func:`truth_folder`. Returns ``{"length_seconds", "sources": {source:
    {"excerpts", "truly_silent", "precision", "leak_db_mean", "leak_db_median", "leak_db_p90", "leak_db_max",
    "silent_excerpts", "recall"}}}`` and, with ``with_excerpts``, ``"excerpts"``: one dict per
    accepted excerpt (track, source, start, leak_db, truly_silent) for histograms.
    """
    return measure_extractions([manifest], truth_dir, relative_db, absolute_db, with_excerpts)[0]


def measure_extractions(manifests: list, truth_dir: str | os.PathLike | None = None,
                        relative_db: float = L.RELATIVE_DB, absolute_db: float = L.ABSOLUTE_DB,
                        with_excerpts: bool = False) -> list:
    """:func:`measure_extraction` of several extractions of one unlabeled folder (e.g. excerpt lengths
    or labeled budgets), reading each song's true stems once. Returns one result per manifest."""
    from .. import SOURCES

    if not manifests:
        return []
    folders = {m["folder"] for m in manifests}
    if len(folders) != 1:
        raise ValueError(f"measure_extractions: the manifests are of different unlabeled folders {sorted(folders)}")
    first = manifests[0]
    folder = Path(truth_dir) if truth_dir is not None else truth_folder(first)
    if not folder.is_dir():
        raise RemixError(f"no ground truth for the unlabeled folder {first['folder']}: {folder} does not exist. "
                         "It is written by the synthetic generator only; real unlabeled music has none")
    sr = int(first["samplerate"])
    states = []
    for m in manifests:
        by_track: dict[str, list[dict]] = {}
        for row in m["excerpts"]:
            by_track.setdefault(row["track"], []).append(row)
        states.append({"per": {s: {"leak": [], "silent": [], "oracle": 0, "found": 0} for s in m["sources"]},
                       "excerpts": [], "by_track": by_track})
    lengths = {t["track"]: int(t["samples"]) for m in manifests for t in m["tracks"]}
    for track, samples in sorted(lengths.items()):
        users = [(m, st) for m, st in zip(manifests, states) if samples >= int(m["length"])
                 and any(t["track"] == track for t in m["tracks"])]
        if not users:
            continue
        stems = _read_truth(folder, track, SOURCES, samples, sr)
        mixture = stems.sum(axis=0)
        for m, st in users:
            _measure_track(m, st, track, stems, mixture, relative_db, absolute_db, with_excerpts)
    return [_summary(m, st, with_excerpts) for m, st in zip(manifests, states)]


def _measure_track(manifest: dict, st: dict, track: str, stems: np.ndarray, mixture: np.ndarray,
                   relative_db: float, absolute_db: float, with_excerpts: bool) -> None:
    from .. import SOURCES

    n_len, n_hop = int(manifest["length"]), int(manifest["hop"])
    e = L.window_energies(stems, n_len, n_hop, mixture=mixture)
    silent = L.is_silent(e["stem_db"], e["mix_db"], relative_db, absolute_db)
    loud = e["mix_db"] >= float(manifest["min_mix_db"])
    accepted = {s: np.zeros(len(e["start"]), bool) for s in manifest["sources"]}
    for row in st["by_track"].get(track, []):
        first = row["start"] // n_hop
        accepted[row["source"]][first:first + row["excerpts"]] = True
    for s in manifest["sources"]:
        k = SOURCES.index(s)
        idx = np.flatnonzero(accepted[s])
        per = st["per"][s]
        per["leak"] += e["relative_db"][idx, k].tolist()
        per["silent"] += silent[idx, k].tolist()
        per["oracle"] += int(np.sum(silent[:, k] & loud))
        per["found"] += int(np.sum(silent[:, k] & loud & accepted[s]))
        if with_excerpts:
            st["excerpts"] += [{"track": track, "source": s, "start": int(e["start"][i]),
                                "leak_db": float(e["relative_db"][i, k]), "truly_silent": bool(silent[i, k])}
                               for i in idx.tolist()]


def _summary(manifest: dict, st: dict, with_excerpts: bool) -> dict:
    out = {"length_seconds": float(manifest["length_seconds"]), "sources": {}}
    for s in manifest["sources"]:
        per = st["per"][s]
        leak, ok = np.asarray(per["leak"]), np.asarray(per["silent"], bool)
        n = int(leak.size)
        out["sources"][s] = {
            "excerpts": n, "truly_silent": int(ok.sum()),
            "precision": float(ok.mean()) if n else math.nan,
            "leak_db_mean": _power_mean_db(leak) if n else math.nan,
            "leak_db_median": float(np.median(leak)) if n else math.nan,
            "leak_db_p90": float(np.percentile(leak, 90)) if n else math.nan,
            "leak_db_max": float(leak.max()) if n else math.nan,
            "silent_excerpts": per["oracle"],
            "recall": per["found"] / per["oracle"] if per["oracle"] else math.nan,
        }
    if with_excerpts:
        out["excerpts"] = st["excerpts"]
    return out
