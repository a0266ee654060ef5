"""Which training windows each step uses, and how long the model's input is.

Order: epoch ``e`` (0-based) shuffles the windows ``repeat`` times with a ``torch.Generator`` seeded
by :func:`epoch_seed` (seed, e) and concatenates the permutations; consecutive runs of
``batch_size`` indices are the global batches (an incomplete last batch is dropped: Remix needs
full groups). Since the order depends only on (seed, epoch), a resumed run draws the same batches.

Length of an epoch: :func:`epoch_steps` = ``(repeat x windows of the whole training split) //
batch_size``. A run on a labeled budget (``train.labeled_fraction`` < 1, a subset of the tracks)
keeps that number of steps: its fewer windows are shuffled as many more times as needed
(``epoch_batches(..., steps=)``), so every run of a profile trains for the same number of steps
on batches of the same size (the same training budget). On the whole set the draws are exactly
those of ``repeat`` permutations.
With ``world`` processes, rank r takes the r-th contiguous slice of ``batch_size / world`` items of
every global batch (so Remix groups stay within one process, as in the released Demucs).
"""
from __future__ import annotations

import torch

from ..errors import ParamsError

_EPOCH_STRIDE = 1_000_003  # a prime: (seed, epoch) pairs map to distinct seeds for epochs < 1e6


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of the shuffle generator of ``epoch`` (0-based)."""
    return (int(seed) * _EPOCH_STRIDE + int(epoch)) % 2**63


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    return torch.Generator().manual_seed(epoch_seed(seed, epoch))


def epoch_steps(num_items: int, batch_size: int, repeat: int) -> int:
    """Steps per epoch for ``num_items`` windows of the whole training split: ``(repeat x num_items) //
    batch_size`` (the budget every run of a profile keeps, whatever its labeled fraction)."""
    return (max(1, int(repeat)) * int(num_items)) // int(batch_size)


def epoch_order(num_items: int, repeat: int, generator: torch.Generator, length: int | None = None) -> list[int]:
    """Successive permutations of ``range(num_items)`` drawn from ``generator``: ``repeat`` of them, or
    (``length`` given) as many as needed to hold at least ``length`` indices."""
    order: list[int] = []
    if length is None:
        for _ in range(max(1, int(repeat))):
            order += torch.randperm(num_items, generator=generator).tolist()
    else:
        while len(order) < length:
            order += torch.randperm(num_items, generator=generator).tolist()
    return order


def epoch_batches(num_items: int, batch_size: int, repeat: int, generator: torch.Generator,
                  steps: int | None = None) -> list[list[int]]:
    """The global batches of one epoch: lists of ``batch_size`` window indices in ``[0, num_items)``.

    ``steps``: how many (default: as many full batches as ``repeat`` permutations hold); with
    ``steps = epoch_steps(num_items, batch_size, repeat)`` the batches are those of the default.
    """
    if steps is None:
        order = epoch_order(num_items, repeat, generator)
        steps = len(order) // batch_size
    else:
        order = epoch_order(num_items, repeat, generator, length=int(steps) * batch_size)
    return [order[i * batch_size:(i + 1) * batch_size] for i in range(int(steps))]


def shard(batch: list[int], rank: int, world: int) -> list[int]:
    """Rank ``rank``'s contiguous share of a global batch (``len(batch)`` divisible by ``world``)."""
    local = len(batch) // world
    return batch[rank * local:(rank + 1) * local]


def check_batching(num_items: int, batch_size: int, world: int, remix_group: int, where: str) -> None:
    """Raise :class:`ParamsError` for a batch size the loop cannot split (``where`` names the params file);
    ``num_items``: the windows of the whole training split (they set the number of steps)."""
    if batch_size < 1:
        raise ParamsError(f"train.batch_size={batch_size} must be >= 1 ({where})")
    if batch_size % world:
        raise ParamsError(f"train.batch_size={batch_size} is the global batch and must be divisible by the "
                          f"{world} processes of torchrun ({where}); change it or --nproc_per_node")
    local = batch_size // world
    if remix_group and remix_group > 1 and local % remix_group:
        raise ParamsError(f"each of the {world} process(es) gets {local} items per batch, not a multiple of "
                          f"train.remix_group={remix_group} ({where}); make train.batch_size a multiple of "
                          f"{remix_group * world} or change train.remix_group")
    if num_items < batch_size:
        raise ParamsError(f"only {num_items} training windows for train.batch_size={batch_size} ({where}): "
                          "lower the batch size, train.segment or train.stride, or use more training tracks")


def input_length(model, length: int) -> int:
    """The longest input the model accepts that fits in ``length`` samples.

    For a model with ``valid_length(n)`` (smallest valid input producing at least n samples;
    nondecreasing in n) this is ``valid_length(n*)`` for the largest n* with
    ``valid_length(n*) <= length``; a model without it accepts any length. The training windows
    (after the Shift augmentation) are centre-cropped to this length, a few thousand samples
    shorter at most for Demucs (valid lengths are spaced by stride**depth = 4096 samples).
    """
    valid = getattr(model, "valid_length", None)
    if valid is None:
        return int(length)
    if valid(1) > length:
        raise ParamsError(f"training windows of {length} samples are shorter than the smallest input the model "
                          f"accepts ({valid(1)} samples); increase train.segment")
    lo, hi = 1, int(length)  # invariant: valid(lo) <= length
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if valid(mid) <= length:
            lo = mid
        else:
            hi = mid - 1
    return int(valid(lo))
