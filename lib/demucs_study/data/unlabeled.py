"""Unlabeled mixtures: a folder of audio files of any common format, rate and channel count.

Every file is decoded once (:func:`demucs_study.audio.read_audio`, resampled to ``samplerate`` with
soxr, mono duplicated to stereo) into a float32 ``.npy`` cache with its statistics; items are
``(2, T)`` float32 tensors, windows of ``segment`` seconds every ``stride`` seconds (a last partial
window dropped), normalised by that file's own mono mean/std as in :mod:`.datasets`.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .. import SAMPLERATE, paths
from ..errors import DatasetError, ParamsError
from ..utils import mono_stats, read_json, save_npy, write_json
from .datasets import normalize
from .raw import root_id, source_key

#: File name suffixes taken as audio (anything ffmpeg or libsndfile reads).
AUDIO_SUFFIXES = frozenset({
    ".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".mp4", ".aac", ".aif", ".aiff",
    ".aifc", ".wma", ".webm", ".mka", ".caf", ".w64", ".au",
})


@dataclass(frozen=True)
class Window:
    """Where an item comes from: the source ``file`` and the ``offset`` in samples (at the target rate)."""

    file: Path
    offset: int


@dataclass(frozen=True)
class _Entry:
    file: Path
    array: Path
    length: int
    mean: float
    std: float


class UnlabeledAudio(torch.utils.data.Dataset):
    """Windows ``(2, T)`` of the audio files under ``folder`` (searched recursively, sorted by path),
    ``T = round(segment * samplerate)``; ``.windows[i]`` tells where item ``i`` comes from.

    ``cache_dir`` defaults to ``<data_dir>/cache/unlabeled/<folder id>``.
    """

    def __init__(self, folder: str | os.PathLike, segment: float, stride: float, samplerate: int = SAMPLERATE,
                 cache_dir: str | os.PathLike | None = None):
        folder = Path(folder).expanduser()
        if segment <= 0 or stride <= 0:
            raise ParamsError(f"unlabeled windows need segment > 0 and stride > 0 (seconds); got segment={segment}, "
                              f"stride={stride}")
        if not folder.is_dir():
            raise DatasetError(f"unlabeled audio folder {folder} does not exist; give a folder of mixtures (wav, "
                               "flac, mp3, ogg, m4a...), or run generate-data for the synthetic one")
        self.folder = folder
        self.samplerate = int(samplerate)
        self.length = int(round(segment * samplerate))
        self.stride = max(1, int(round(stride * samplerate)))
        self.cache_dir = (Path(cache_dir) if cache_dir is not None
                          else paths.data_dir() / "cache" / "unlabeled" / root_id(folder))
        files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
                       and not any(part.startswith(".") for part in p.relative_to(folder).parts))
        if not files:
            raise DatasetError(f"unlabeled audio folder {folder} holds no audio file (looked for "
                               f"{', '.join(sorted(AUDIO_SUFFIXES))}); put mixtures in it")
        self.entries = [self._ensure(f) for f in files]
        self.windows: list[Window] = []
        for e in self.entries:
            if e.length >= self.length:
                self.windows += [Window(e.file, k * self.stride)
                                 for k in range((e.length - self.length) // self.stride + 1)]
        if not self.windows:
            longest = max(e.length for e in self.entries) / self.samplerate
            raise DatasetError(f"no unlabeled window: every file in {folder} is shorter than segment = {segment:g} s "
                               f"(longest {longest:.2f} s); lower the segment or add longer files")
        self._by_file = {e.file: e for e in self.entries}
        self._arrays: dict[Path, np.ndarray] = {}

    def _ensure(self, file: Path) -> _Entry:
        from ..audio import read_audio

        rel = file.relative_to(self.folder).as_posix()
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", file.stem)[:60]
        base = self.cache_dir / f"{safe}-{hashlib.sha1(rel.encode()).hexdigest()[:10]}"
        array, stats_path = base.with_suffix(".npy"), base.with_suffix(".json")
        key = source_key([file], self.samplerate)
        if array.is_file() and stats_path.is_file():
            try:
                stats = read_json(stats_path)
                if stats.get("source") == key:
                    return _Entry(file, array, int(stats["length"]), float(stats["mean"]), float(stats["std"]))
            except ValueError:
                pass
        x, _ = read_audio(file, samplerate=self.samplerate, channels=2)  # AudioError names the file
        mean, std = mono_stats(x)
        stats = {"file": rel, "length": int(x.shape[-1]), "samplerate": self.samplerate,
                 "mean": mean, "std": std, "source": key}
        save_npy(array, x)
        write_json(stats_path, stats)
        return _Entry(file, array, stats["length"], stats["mean"], stats["std"])

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> torch.Tensor:
        w = self.windows[index]
        entry = self._by_file[w.file]
        arr = self._arrays.get(w.file)
        if arr is None:
            arr = self._arrays[w.file] = np.load(entry.array, mmap_mode="r")
        x = np.array(arr[:, w.offset: w.offset + self.length], dtype=np.float32)
        x = normalize(x, np.float32(entry.mean), np.float32(entry.std)).astype(np.float32)
        return torch.from_numpy(x)

    def __getstate__(self):  # DataLoader workers reopen the memory maps rather than copy them
        state = dict(self.__dict__)
        state["_arrays"] = {}
        return state
