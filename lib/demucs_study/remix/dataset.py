"""Remixed training examples: an unlabeled excerpt without source j plus a labeled stem of source j.

Item ``i`` of epoch ``e`` is drawn by a generator seeded from (seed, epoch, i) only
(:func:`~demucs_study.remix.classifier_train.item_rng`, its own stream), so it is the same in any
batch, process or DataLoader worker, and a resumed run sees the same items:

1. **excerpt u**: the manifest rows are laid end to end by their number of accepted L-excerpts and
   ``i`` (modulo their total) picks a row, hence a source j (with ``balance``, j is drawn
   uniformly among the sources first, then a row of j in proportion to its excerpts); the crop of
   ``length`` samples starts anywhere in the row (uniform, sample resolution);
2. **stem s_j**: a window of ``length`` samples of a labeled training track where j plays (not
   silent by :mod:`.labels`; candidates every ``stem_stride`` seconds, :class:`StemPool`), drawn
   uniformly: the random offset is the Shift augmentation;
3. **normalisation**, each part by the statistics of its own track, as the training windows are
   (:func:`demucs_study.data.datasets.normalize`; before the flips, as training windows are
   normalised when read and augmented in the loop): ``u' = (u - mean_u) / std_u`` (a mixture) and
   ``s' = (s - mean_s / 4) / std_s`` (a stem of a 4-stem track). The training mixture is
   ``u' + s'``. This is what the Remix augmentation already does with stems of different songs;
   each part keeps the level it has relative to its own song, so s_j sits in u as it sat in its
   own mix (statistics of the remix itself would need the whole remixed track, which does not exist);
4. the usual augmentations, each with probability 1/2 and independently for u and s_j: sign flip
   and left/right swap (Shift is step 2; the Remix augmentation has no meaning for one stem).

An item is ``(rest u' (C, T), stem s' (C, T), source index j)`` (float32, float32, int64; j in
:data:`demucs_study.SOURCES` order); :func:`collate` stacks items into a :class:`RemixBatch`.
"""
from __future__ import annotations

import bisect
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np
import torch

from .. import SOURCES
from ..data.datasets import EPS, normalize
from ..errors import ParamsError
from . import labels as L
from .classifier_train import item_rng
from .errors import RemixError
from .extract import load_manifest, open_unlabeled

_STREAM = 0x4E31  # SeedSequence stream of the remixed items
#: Seconds between the candidate stem windows of a labeled track (``remix.dataset.stem_stride``).
STEM_STRIDE = 0.25


def normalize_stem(stem: np.ndarray, mean: float, std: float) -> np.ndarray:
    """One stem ``(C, T)`` of a track of ``len(SOURCES)`` stems normalised as
    :func:`demucs_study.data.datasets.normalize` normalises it among its stems (float32)."""
    shift = np.float32(mean) / np.float32(len(SOURCES))
    return ((stem - shift) / (np.float32(std) + np.float32(EPS))).astype(np.float32)


class RemixBatch(NamedTuple):
    """A batch of remixed examples: ``rest`` (B, C, T), ``stem`` (B, C, T), ``source`` (B,) int64."""

    rest: torch.Tensor
    stem: torch.Tensor
    source: torch.Tensor

    @property
    def mixture(self) -> torch.Tensor:
        return self.rest + self.stem

    def to(self, device) -> "RemixBatch":
        return RemixBatch(self.rest.to(device), self.stem.to(device), self.source.to(device))


def collate(items) -> RemixBatch:
    """Stack dataset items into a :class:`RemixBatch` (``DataLoader(collate_fn=collate)``)."""
    rest, stem, source = zip(*items)
    return RemixBatch(torch.stack(rest), torch.stack(stem), torch.as_tensor(source, dtype=torch.int64))


class StemPool:
    """Where each source plays in the labeled tracks: candidate windows of ``length`` samples every
    ``stride`` samples, kept for source j when j is not silent over the window."""

    def __init__(self, tracks: Sequence, length: int, stride: int, sources: Sequence[str],
                 relative_db: float = L.RELATIVE_DB, absolute_db: float = L.ABSOLUTE_DB):
        self.tracks = list(tracks)
        self.length = int(length)
        self.candidates: dict[str, np.ndarray] = {}
        found: dict[str, list] = {s: [] for s in sources}
        for k, t in enumerate(self.tracks):
            starts, silent = L.window_labels(np.asarray(t.stems()), self.length, int(stride), relative_db, absolute_db)
            for s in sources:
                j = SOURCES.index(s)
                found[s] += [(k, int(o)) for o in starts[~silent[:, j]]]
        for s in sources:
            if not found[s]:
                raise RemixError(f"the labeled training set has no {s} stem to remix: {s} is silent in every "
                                 f"{self.length}-sample window of its {len(self.tracks)} track(s); use a labeled set "
                                 f"with {s} stems, or remove {s} from remix.sources")
            self.candidates[s] = np.asarray(found[s], dtype=np.int64)
        self._arrays: dict[str, np.ndarray] = {}

    def draw(self, source: str, rng: np.random.Generator) -> tuple[np.ndarray, float, float]:
        """(raw stem (C, length) float32, track mean, track std) of a random window where ``source`` plays."""
        k, offset = self.candidates[source][int(rng.integers(len(self.candidates[source])))]
        track = self.tracks[int(k)]
        key = track.dir.as_posix()
        if key not in self._arrays:
            self._arrays[key] = track.stems()
        x = np.array(self._arrays[key][SOURCES.index(source), :, offset:offset + self.length], dtype=np.float32)
        return x, float(track.mean), float(track.std)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_arrays"] = {}
        return state


class RemixDataset(torch.utils.data.Dataset):
    """Remixed examples of ``length`` samples from an extraction ``manifest`` (dict or path) and the
    labeled ``tracks`` (raw :class:`~demucs_study.data.raw.CachedTrack`; the labeled budget).

    ``sources``: which D_j to use (default: those of the manifest with excerpts). ``seed``: the run's
    seed; call :meth:`set_epoch` each epoch. ``len()`` is the number of accepted L-excerpts (the
    nominal size of D; indices beyond it wrap around). ``cache_dir``: the unlabeled decode cache
    (default that of :class:`~demucs_study.data.unlabeled.UnlabeledAudio`).
    """

    def __init__(self, manifest, tracks: Sequence, length: int, seed: int, sources: Sequence[str] | None = None,
                 flip: bool = True, balance: bool = False, stem_stride: float = STEM_STRIDE,
                 relative_db: float = L.RELATIVE_DB, absolute_db: float = L.ABSOLUTE_DB, cache_dir=None):
        self.manifest = load_manifest(manifest) if isinstance(manifest, (str, Path)) else manifest
        m = self.manifest
        self.length, self.seed, self.flip, self.balance = int(length), int(seed), bool(flip), bool(balance)
        self.epoch = 0
        sr = int(m["samplerate"])
        if self.length > int(m["length"]):
            raise ParamsError(f"remixed examples of {self.length} samples are longer than the extracted excerpts "
                              f"({m['length']} samples, remix.excerpt = {m['length_seconds']:g} s); extract longer "
                              "excerpts or train the remixed part on shorter inputs")
        present = sorted({r["source"] for r in m["excerpts"]}, key=SOURCES.index)
        self.sources = list(sources) if sources is not None else present
        missing = [s for s in self.sources if s not in present]
        if missing or not self.sources:
            raise RemixError(f"the extraction manifest has no excerpt for {missing or self.sources} (it has "
                             f"{present}); remove them from remix.sources or extract again")
        self.rows = [r for r in m["excerpts"] if r["source"] in self.sources]
        self.cumulative = np.cumsum([r["excerpts"] for r in self.rows]).astype(np.int64)
        self.by_source = {s: [i for i, r in enumerate(self.rows) if r["source"] == s] for s in self.sources}
        audio = open_unlabeled(m["folder"], m["length_seconds"], sr, cache_dir)
        self.files = {e.file.relative_to(audio.folder).as_posix(): e for e in audio.entries}
        for t in m["tracks"]:
            e = self.files.get(t["track"])
            if e is None or e.length != t["samples"]:
                raise RemixError(f"the extraction manifest does not match the unlabeled folder {m['folder']}: "
                                 f"{t['track']!r} is {'missing' if e is None else 'changed'}; run the extraction "
                                 "again")
        if not tracks:
            raise RemixError("no labeled training track to draw stems from; give the training tracks of the "
                             "labeled budget")
        self.pool = StemPool(tracks, self.length, max(1, int(round(stem_stride * sr))), self.sources,
                             relative_db, absolute_db)
        self._arrays: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return int(self.cumulative[-1])

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def _row(self, index: int, rng: np.random.Generator) -> dict:
        if self.balance:
            rows = self.by_source[self.sources[int(rng.integers(len(self.sources)))]]
            weights = np.asarray([self.rows[i]["excerpts"] for i in rows], dtype=np.float64)
            return self.rows[rows[int(rng.choice(len(rows), p=weights / weights.sum()))]]
        k = int(index) % len(self)
        return self.rows[bisect.bisect_right(self.cumulative, k)]

    def _excerpt(self, row: dict, rng: np.random.Generator) -> tuple[np.ndarray, float, float]:
        entry = self.files[row["track"]]
        if row["track"] not in self._arrays:
            self._arrays[row["track"]] = np.load(entry.array, mmap_mode="r")
        start = row["start"] + int(rng.integers(row["length"] - self.length + 1))
        x = np.array(self._arrays[row["track"]][:, start:start + self.length], dtype=np.float32)
        return x, float(entry.mean), float(entry.std)

    @staticmethod
    def _augment(x: np.ndarray, rng: np.random.Generator, flip: bool) -> np.ndarray:
        sign, swap = rng.random() < 0.5, rng.random() < 0.5  # drawn always: the stream does not depend on flip
        if flip and sign:
            x = -x
        if flip and swap and x.shape[0] == 2:
            x = x[::-1]
        return np.ascontiguousarray(x)

    def __getitem__(self, index: int):
        rng = item_rng(self.seed, self.epoch, int(index), stream=_STREAM)
        row = self._row(int(index), rng)
        u, u_mean, u_std = self._excerpt(row, rng)
        s, s_mean, s_std = self.pool.draw(row["source"], rng)
        # normalised first, then flipped: the order of the training windows (normalised when read,
        # augmented in the loop)
        u = self._augment(normalize(u, np.float32(u_mean), np.float32(u_std)).astype(np.float32), rng, self.flip)
        s = self._augment(normalize_stem(s, s_mean, s_std), rng, self.flip)
        return torch.from_numpy(u), torch.from_numpy(s), SOURCES.index(row["source"])

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_arrays"] = {}
        return state
