"""Small shared helpers: atomic writes, JSON, seeding."""
from __future__ import annotations

import contextlib
import json
import os
import random
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it onto ``path``.

    Whatever was at ``path`` stays untouched if the body raises or the process dies: the rename
    is atomic on POSIX, so a reader sees either the old file or the complete new one.
    The temporary name keeps the suffix of ``path`` so writers that infer a format from it work.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():  # mkstemp makes the file private; give it the usual permissions
            os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def copy_file(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Copy ``src`` to ``dst`` atomically (:func:`atomic_path`): a hard link when both are on one file system (no
    bytes copied; the library replaces files by renaming, never in place, so the copy keeps its content when the
    original is rewritten), else a byte copy. Returns ``dst``."""
    import shutil

    with atomic_path(dst) as tmp:
        tmp.unlink()
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
    return Path(dst)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | os.PathLike, obj: Any, indent: int = 1) -> None:
    """Write ``obj`` as JSON atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=indent, sort_keys=False) + "\n")


def save_npy(path: str | os.PathLike, array) -> None:
    """``np.save`` of ``array`` as contiguous float32, atomically (the temp name ends in .npy)."""
    with atomic_path(path) as tmp:
        np.save(tmp, np.ascontiguousarray(array, dtype=np.float32))


#: Samples per block in :func:`mono_stats` (bounds its memory on long tracks).
STATS_BLOCK = 1 << 18


def mono_stats(x) -> tuple[float, float]:
    """Mean and population std (ddof=0) of the mono mixture ``x.mean(0)`` of ``x`` (channels, time):
    the per-track normalisation statistics of the original Demucs (docs/paper.md, section "Training").

    ``x``: a numpy array or a CPU torch tensor. Computed in float64, :data:`STATS_BLOCK` samples at a
    time (two passes: the mean, then the centred sum of squares), so the memory does not grow with
    the track.
    """
    x = x.numpy() if hasattr(x, "numpy") and not isinstance(x, np.ndarray) else np.asarray(x)
    length = x.shape[-1]
    blocks = range(0, length, STATS_BLOCK)
    mean = sum(float(x[:, i:i + STATS_BLOCK].astype(np.float64).mean(axis=0).sum()) for i in blocks) / length
    squares = sum(float(np.square(x[:, i:i + STATS_BLOCK].astype(np.float64).mean(axis=0) - mean).sum())
                  for i in blocks)
    return mean, (squares / length) ** 0.5


def read_json(path: str | os.PathLike) -> Any:
    return json.loads(Path(path).read_text())


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch global generators (training only; inference takes explicit seeds)."""
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
