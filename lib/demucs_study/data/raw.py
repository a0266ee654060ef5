"""The raw cache: every track decoded once to float32 ``.npy`` for fast random access.

musdb re-decodes a track through ffmpeg on every access (and rounds it to 16 bit), far too slow
for drawing training windows; the original Demucs first converted MUSDB to raw float32 files (its
``raw`` step) for the same reason. Layout of a cache::

    <cache_dir>/<subset>/<track name>/mixture.npy   (2, T) float32
    <cache_dir>/<subset>/<track name>/stems.npy     (4, 2, T) float32, order demucs_study.SOURCES
    <cache_dir>/<subset>/<track name>/stats.json    length, samplerate, mean and std, source key
    <cache_dir>/<split>.json                        the tracks of each prepared split

``stats.json`` is written last, so its presence marks a complete entry. Its ``source`` key holds
the size and modification time of each source file (and the sample rate asked for): an entry
whose source changed is decoded again. ``mean``/``std`` are those of the mono mixture (mean of the
two channels) over the whole track, the per-track normalisation of the original Demucs
(population std, ddof=0).
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import SAMPLERATE, paths
from ..errors import DatasetError
from ..parallel import parallel_map
from ..utils import mono_stats, read_json, save_npy, write_json
from .musdb import SPLITS, TrackInfo, list_tracks

CACHE_VERSION = 1


def root_id(root: str | os.PathLike) -> str:
    """A folder name for the cache of ``root``: its base name and a hash of its absolute path."""
    root = Path(root).expanduser().absolute()
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", root.name) or "root"
    return f"{safe}-{hashlib.sha1(str(root).encode()).hexdigest()[:10]}"


def default_cache_dir(root: str | os.PathLike) -> Path:
    """``<data_dir>/cache/<root id>`` (see :func:`demucs_study.paths.data_dir`)."""
    return paths.data_dir() / "cache" / root_id(root)


def source_key(files, samplerate: int) -> dict:
    """What a cache entry was decoded from: (name, size, mtime_ns) of each file, and the rate."""
    out = []
    for f in files:
        st = Path(f).stat()
        out.append([Path(f).name, st.st_size, st.st_mtime_ns])
    return {"files": out, "samplerate": int(samplerate), "version": CACHE_VERSION}


@dataclass(frozen=True)
class CachedTrack:
    """One decoded track of the cache; :meth:`mixture` and :meth:`stems` memory-map its arrays."""

    name: str
    split: str
    dir: Path
    length: int
    samplerate: int
    mean: float
    std: float

    def mixture(self, mmap: bool = True) -> np.ndarray:
        """(2, T) float32, memory-mapped read-only unless ``mmap=False``."""
        return np.load(self.dir / "mixture.npy", mmap_mode="r" if mmap else None)

    def stems(self, mmap: bool = True) -> np.ndarray:
        """(4, 2, T) float32 in the order of :data:`demucs_study.SOURCES`."""
        return np.load(self.dir / "stems.npy", mmap_mode="r" if mmap else None)


class RawCache:
    """Decoded copies of the tracks of the dataset at ``root`` (any layout :mod:`.musdb` reads).

    ``cache_dir`` defaults to :func:`default_cache_dir`; ``samplerate`` is the rate tracks are
    stored at (resampled with soxr if the source differs).
    """

    def __init__(self, root: str | os.PathLike, cache_dir: str | os.PathLike | None = None,
                 samplerate: int = SAMPLERATE):
        self.root = Path(root).expanduser().absolute()
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir(self.root)
        self.samplerate = int(samplerate)
        #: names of the tracks the last :meth:`prepare` decoded (the others were reused)
        self.decoded: list[str] = []

    def __repr__(self) -> str:
        return f"RawCache({str(self.root)!r}, cache_dir={str(self.cache_dir)!r})"

    def _entry_dir(self, subset: str, name: str) -> Path:
        return self.cache_dir / subset / name

    def _ensure(self, info: TrackInfo) -> tuple[str, bool]:
        """Decode ``info`` unless a complete entry from the same source exists; (key, decoded?)."""
        folder = self._entry_dir(info.subset, info.name)
        key = source_key(info.files, self.samplerate)
        stats_path = folder / "stats.json"
        if stats_path.is_file() and (folder / "mixture.npy").is_file() and (folder / "stems.npy").is_file():
            try:
                if read_json(stats_path).get("source") == key:
                    return f"{info.subset}/{info.name}", False
            except ValueError:
                pass  # a damaged stats file: decode again
        mix, stems, sr = info.load(samplerate=self.samplerate)
        mean, std = mono_stats(mix)
        save_npy(folder / "mixture.npy", mix)
        save_npy(folder / "stems.npy", stems)
        write_json(stats_path, {
            "name": info.name, "subset": info.subset, "length": int(mix.shape[-1]), "samplerate": int(sr),
            "mean": mean, "std": std, "source": key,
        })
        return f"{info.subset}/{info.name}", True

    def prepare(self, splits=SPLITS, jobs: int = 1, progress: bool = False) -> dict[str, list[CachedTrack]]:
        """Decode every track of ``splits`` that is not cached yet; returns the tracks of each split.

        ``jobs`` tracks are decoded at once (threads: decoding runs in libsndfile or ffmpeg).
        """
        if isinstance(splits, str):
            splits = [splits]
        self.decoded = []
        out = {}
        for split in splits:
            infos = list_tracks(self.root, split)
            results = parallel_map(self._ensure, infos, jobs, progress, desc=f"caching {split} tracks",
                                   unit="track", processes=False)
            self.decoded += [info.name for info, (_, new) in zip(infos, results) if new]
            write_json(self.cache_dir / f"{split}.json",
                       {"root": str(self.root), "split": split, "tracks": [key for key, _ in results]})
            out[split] = self.tracks(split)
        return out

    def tracks(self, split: str) -> list[CachedTrack]:
        """The cached tracks of ``split`` (after :meth:`prepare`), in dataset order."""
        index = self.cache_dir / f"{split}.json"
        if not index.is_file():
            raise DatasetError(f"the {split} split of {self.root} is not in the cache {self.cache_dir}; call "
                               f"RawCache(...).prepare([{split!r}]) first")
        out = []
        for key in read_json(index)["tracks"]:
            folder = self.cache_dir / key
            try:
                stats = read_json(folder / "stats.json")
            except (OSError, ValueError):
                raise DatasetError(f"cache entry {folder} is incomplete; run RawCache(...).prepare() again, or "
                                   f"delete {self.cache_dir}") from None
            out.append(CachedTrack(name=stats["name"], split=split, dir=folder, length=int(stats["length"]),
                                   samplerate=int(stats["samplerate"]), mean=float(stats["mean"]),
                                   std=float(stats["std"])))
        return out
