"""Training windows and whole tracks, read from the :class:`~.raw.RawCache`.

Normalisation (as in the original Demucs, per track, from the whole track's statistics):
``mean`` and ``std`` are those of the track's mono mixture (:mod:`.raw`). The mixture is normalised
as ``(mix - mean) / std`` and stems as ``(stems - mean / S) / std`` with ``S = 4`` sources, so that
the normalised stems still sum to the normalised mixture. This is a small, deliberate deviation
from the original, which subtracted ``mean`` from each stem (then the normalised stems sum to the
normalised mixture minus ``3 mean / std``); the mean of music is close to 0, so the difference
is tiny. ``std`` gets :data:`EPS` added so that a silent track does not divide by zero.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import torch

from .. import SAMPLERATE
from ..errors import DatasetError, ParamsError
from .raw import CachedTrack, RawCache

#: Added to ``std`` before dividing (a silent track has std 0).
EPS = 1e-8


def normalize(x, mean: float, std: float, stems: bool = False):
    """Normalise a mixture ``(..., C, T)``: ``(x - mean) / (std + EPS)``; with ``stems=True``, stems
    ``(..., S, C, T)``: ``(x - mean / S) / (std + EPS)``. numpy arrays or torch tensors."""
    shift = mean / x.shape[-3] if stems else mean
    return (x - shift) / (std + EPS)


def denormalize(x, mean: float, std: float, stems: bool = False):
    """Inverse of :func:`normalize` (same ``stems`` flag)."""
    shift = mean / x.shape[-3] if stems else mean
    return x * (std + EPS) + shift


def denormalize_(stems, mean: float, std: float):
    """:func:`denormalize` of stems ``(..., S, C, T)`` in place (a torch tensor: no second copy of a
    long track's estimates); returns ``stems``."""
    return stems.mul_(std + EPS).add_(mean / stems.shape[-3])


def _tracks_of(cache: RawCache, tracks) -> list[CachedTrack]:
    if isinstance(tracks, str):
        return cache.tracks(tracks)
    return list(tracks)


class TrainWindows(torch.utils.data.Dataset):
    """Windows of stems for training: item ``i`` is a float32 tensor ``(4, 2, T)``.

    ``T = round((segment + shift) * samplerate)``: the extra ``shift`` seconds let the Shift
    augmentation crop a random ``segment`` out of each window. Windows start every ``stride``
    seconds in each track; a last partial window is dropped, so a track of ``L`` samples gives
    ``(L - T) // stride + 1`` windows (none if ``L < T``). ``tracks``: a split name or a list of
    :class:`~.raw.CachedTrack`. Index -> (track, offset) is deterministic (:meth:`locate`).
    With ``normalize``, stems are normalised as described in this module's docstring.
    """

    def __init__(self, cache: RawCache, tracks: str | Sequence[CachedTrack], segment: float, stride: float,
                 shift: float = 0.0, samplerate: int = SAMPLERATE, normalize: bool = True):
        if segment <= 0 or stride <= 0 or shift < 0:
            raise ParamsError(f"training windows need segment > 0, stride > 0 and shift >= 0 (seconds); got "
                              f"segment={segment}, stride={stride}, shift={shift}")
        self.tracks = _tracks_of(cache, tracks)
        self.samplerate = int(samplerate)
        self.length = int(round((segment + shift) * samplerate))
        self.stride = max(1, int(round(stride * samplerate)))
        self.normalize = normalize
        for t in self.tracks:
            if t.samplerate != self.samplerate:
                raise DatasetError(f"track {t.name} is cached at {t.samplerate} Hz but training expects "
                                   f"{self.samplerate} Hz; prepare the cache with samplerate={self.samplerate}")
        self.counts = [(t.length - self.length) // self.stride + 1 if t.length >= self.length else 0
                       for t in self.tracks]
        self.starts = np.concatenate([[0], np.cumsum(self.counts)]).astype(np.int64)
        if self.starts[-1] == 0:
            longest = max((t.length for t in self.tracks), default=0) / self.samplerate
            raise DatasetError(
                f"no training window: the {len(self.tracks)} track(s) are all shorter than segment + shift = "
                f"{segment + shift:g} s (longest {longest:.2f} s); lower the segment/shift parameters or use "
                "longer tracks"
            )
        self._arrays: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return int(self.starts[-1])

    def locate(self, index: int) -> tuple[CachedTrack, int]:
        """(track, offset in samples) of window ``index``."""
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"window {index} out of range (0..{n - 1})")
        k = bisect.bisect_right(self.starts, index) - 1
        return self.tracks[k], int(index - self.starts[k]) * self.stride

    def _stems(self, track: CachedTrack) -> np.ndarray:
        arr = self._arrays.get(track.dir.as_posix())
        if arr is None:
            arr = self._arrays[track.dir.as_posix()] = track.stems()
        return arr

    def __getitem__(self, index: int) -> torch.Tensor:
        track, offset = self.locate(index)
        x = np.array(self._stems(track)[..., offset: offset + self.length], dtype=np.float32)
        if self.normalize:
            x = normalize(x, np.float32(track.mean), np.float32(track.std), stems=True).astype(np.float32)
        return torch.from_numpy(x)

    def __getstate__(self):  # DataLoader workers reopen the memory maps rather than copy them
        state = dict(self.__dict__)
        state["_arrays"] = {}
        return state


@dataclass
class Track:
    """A whole track for validation or test, raw (not normalised): ``mixture`` (2, T), ``stems``
    (4, 2, T) float32 numpy arrays, and the ``mean``/``std`` of its mono mixture."""

    name: str
    mixture: np.ndarray
    stems: np.ndarray
    mean: float
    std: float
    samplerate: int = SAMPLERATE


def iter_tracks(cache: RawCache, split: str | Sequence[CachedTrack]) -> Iterator[Track]:
    """Yield the whole tracks of ``split`` (a split name or a list of cached tracks), one at a time."""
    for t in _tracks_of(cache, split):
        yield Track(name=t.name, mixture=t.mixture(mmap=False), stems=t.stems(mmap=False), mean=t.mean, std=t.std,
                    samplerate=t.samplerate)
