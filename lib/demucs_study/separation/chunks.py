"""The chunk grid and the cross-fade weights of overlap-add separation (numpy only).

A signal of ``length`` samples is covered by chunks of ``chunk`` samples whose starts are
``overlap`` samples closer than ``chunk`` (stride ``chunk - overlap``); the last chunk is cut at
``length``. Inside every region shared by two chunks the weights cross-fade linearly (the
"triangular cross-fade" of the later Demucs releases, docs/paper.md, section "Test-time shift trick and chunking"): each chunk
has a trapezoid window, rising over its first ``overlap`` samples when a chunk precedes it and
falling over its last ``overlap`` samples when one follows, and the windows are divided by their sum
at every sample. The weights of all chunks therefore add up to exactly one everywhere (a partition
of unity), so the overlap-add of a model that returns its input gives back that input.
"""
from __future__ import annotations

import functools

import numpy as np


def plan_chunks(length: int, chunk: int, overlap: int) -> list[tuple[int, int]]:
    """``(start, size)`` of the chunks covering ``[0, length)``.

    Starts are ``k * (chunk - overlap)``; every chunk has ``chunk`` samples except the last, cut at
    ``length`` (so a signal shorter than ``chunk`` is one chunk of its own length). The chunks stop at
    the first one that reaches ``length``. Needs ``length >= 1`` and ``0 <= overlap < chunk``.
    """
    length, chunk, overlap = int(length), int(chunk), int(overlap)
    if length < 1 or chunk < 1 or not 0 <= overlap < chunk:
        raise ValueError(f"plan_chunks needs length >= 1, chunk >= 1 and 0 <= overlap < chunk; got "
                         f"length={length}, chunk={chunk}, overlap={overlap}")
    stride = chunk - overlap
    chunks = []
    start = 0
    while True:
        size = min(chunk, length - start)
        chunks.append((start, size))
        if start + size >= length:
            return chunks
        start += stride


def _window(chunks: list[tuple[int, int]], index: int, overlap: int) -> np.ndarray:
    """Trapezoid window of chunk ``index``, float64 ``(size,)``, values in (0, 1] (read-only, cached)."""
    return _trapezoid(chunks[index][1], index > 0, index < len(chunks) - 1, overlap)


@functools.lru_cache(maxsize=16)
def _trapezoid(size: int, rise: bool, fall: bool, overlap: int) -> np.ndarray:
    window = np.ones(size)
    if overlap > 0:
        position = np.arange(size) + 0.5
        if rise:
            window = np.minimum(window, position / overlap)
        if fall:
            window = np.minimum(window, (size - position) / overlap)
    window.flags.writeable = False
    return window


def chunk_weights(chunks: list[tuple[int, int]], index: int, overlap: int) -> np.ndarray:
    """Overlap-add weights of chunk ``index`` of ``chunks`` (from :func:`plan_chunks`): float32 ``(size,)``.

    Its trapezoid window divided, sample by sample, by the sum of the windows of every chunk covering
    that sample; only the neighbours that overlap it are visited, so the cost is O(chunk size).
    Summed over all chunks the weights are 1 at every sample of ``[0, length)`` (to float32 rounding).
    """
    start, size = chunks[index]
    total = np.zeros(size)
    # starts and ends both increase with the index: the overlapping chunks are a run around ``index``
    first = index
    while first > 0 and sum(chunks[first - 1]) > start:
        first -= 1
    last = index
    while last + 1 < len(chunks) and chunks[last + 1][0] < start + size:
        last += 1
    for other in range(first, last + 1):
        o_start, o_size = chunks[other]
        lo, hi = max(start, o_start), min(start + size, o_start + o_size)
        total[lo - start:hi - start] += _window(chunks, other, overlap)[lo - o_start:hi - o_start]
    return (_window(chunks, index, overlap) / total).astype(np.float32)
