"""Batch composition: ``r = round(rho * batch_size)`` items of every batch are remixed.

The epoch keeps the **training budget of the run without remix**: the same steps as
:func:`demucs_study.training.batches.epoch_batches` (``steps``: those of the whole labeled
split, see :func:`~demucs_study.training.batches.epoch_steps`), each of ``batch_size`` items,
``batch_size - r`` supervised and ``r`` remixed.

**Supervised part: the baseline's batch, augmented, then cut.** Each step loads exactly the
windows of the baseline's batch (``epoch_batches`` with the same seed and epoch), passes them
through the same augmentations (so every augmentation generator draws exactly what the baseline's
draws, and the Remix augmentation keeps its full groups), and keeps the first ``batch_size - r``
augmented items (:func:`supervised_kept`). The remixed run is therefore the baseline with ``r``
items of every batch replaced by remixed examples, and nothing else changed: a controlled
comparison. The items cut are random recombinations (after the Remix augmentation, each holds
stems of random windows of its group), so every labeled stem is seen about ``1 - rho`` times as
often. With ``rho = 0`` the plan is exactly ``epoch_batches`` (a run with rho 0 *is* the baseline).

**Remixed part.** Indices into the remix dataset from their own generator, seeded from (seed,
epoch) on another stream: successive permutations of the dataset's nominal size, consumed ``r``
at a time (every excerpt is used once before any is reused). Both parts depend on (seed, epoch)
only, so a resumed run draws the same plan.

Under DistributedDataParallel rank k takes the k-th contiguous slice of both parts
(:func:`shard_plan`) and keeps the first ``(batch_size - r) / world`` of its supervised slice, so
``r`` must divide by the number of processes (``batch_size`` already does).
"""
from __future__ import annotations

import torch

from ..errors import ParamsError
from ..training import batches as B

_REMIX_STREAM = 0x7E31  # offsets the remix generator's seed from the supervised shuffle's

#: One step: (the supervised windows loaded, as the baseline's batch; the remix items).
Plan = list[tuple[list[int], list[int]]]


def remix_count(batch_size: int, rho: float) -> int:
    """The number of remixed items per batch, ``round(rho * batch_size)``; ``rho`` must be in [0, 1]."""
    rho = float(rho)
    if not 0.0 <= rho <= 1.0:
        raise ParamsError(f"remix.rho = {rho} must be in [0, 1] (the fraction of each batch that is remixed; "
                          "0: no remix)")
    return int(round(rho * int(batch_size)))


def supervised_kept(batch_size: int, rho: float, world: int = 1) -> int:
    """How many of a process's ``batch_size / world`` augmented supervised items a step keeps."""
    return (int(batch_size) - remix_count(batch_size, rho)) // int(world)


def remix_generator(seed: int, epoch: int) -> torch.Generator:
    return torch.Generator().manual_seed((B.epoch_seed(seed, epoch) + _REMIX_STREAM * 0x9E3779B1) % 2**63)


def epoch_plan(num_windows: int, num_remix: int, batch_size: int, repeat: int, rho: float, seed: int,
               epoch: int, steps: int | None = None) -> Plan:
    """The global batches of one epoch: ``[(supervised window indices, remix item indices), ...]``.

    The supervised part of each step is the baseline's batch (``batch_size`` windows: those of
    ``training.batches.epoch_batches(num_windows, batch_size, repeat, epoch_generator(seed, epoch),
    steps)``), of which the loop keeps :func:`supervised_kept` after augmenting; the remix part
    holds ``r`` indices in ``[0, num_remix)``.
    """
    r = remix_count(batch_size, rho)
    if r and num_remix < 1:
        raise ParamsError(f"remix.rho = {rho} asks for {r} remixed item(s) per batch but the remix dataset is empty")
    supervised = B.epoch_batches(num_windows, batch_size, repeat, B.epoch_generator(seed, epoch), steps)
    remixed: list[int] = []
    if r:
        g = remix_generator(seed, epoch)
        while len(remixed) < len(supervised) * r:
            remixed += torch.randperm(num_remix, generator=g).tolist()
    return [(s, remixed[i * r:(i + 1) * r]) for i, s in enumerate(supervised)]


def shard_plan(plan: Plan, rank: int, world: int) -> Plan:
    """Rank ``rank``'s contiguous share of each part of each batch."""
    return [(B.shard(s, rank, world), B.shard(m, rank, world)) for s, m in plan]


def check_plan(num_windows: int, batch_size: int, rho: float, world: int, remix_group: int, where: str) -> None:
    """Raise :class:`ParamsError` (naming ``where``, the params file) for a composition the loop cannot split.

    ``num_windows``: the windows of the whole training split (they set the steps); the checks of
    ``training.batches.check_batching`` (including the Remix augmentation's groups, which apply to
    the full supervised batch), then ``r`` remixed items divisible by the processes."""
    B.check_batching(num_windows, batch_size, world, remix_group, where)
    r = remix_count(batch_size, rho)
    if r % world:
        raise ParamsError(f"remix.rho = {rho} makes {r} remixed item(s) per batch of train.batch_size = {batch_size}; "
                          f"they must divide by the {world} processes of torchrun ({where}); change remix.rho or "
                          "train.batch_size")
