"""Batch composition: ``r = round(rho * batch_size)`` items of every batch are remixed.

The epoch keeps the **training budget of the run without remix**: as many steps as
:func:`demucs_study.training.batches.epoch_batches` gives (``repeat`` shuffles of the labeled
windows, in batches of ``batch_size``), each step of ``batch_size`` items, ``batch_size - r``
supervised and ``r`` remixed. The supervised indices are the same shuffled order consumed
``batch_size - r`` at a time (so with remix a labeled window is seen a little less often); with
``rho = 0`` the plan is exactly ``epoch_batches`` (a remix run with rho 0 *is* the baseline).
The remixed indices come from their own generator, seeded from (seed, epoch) on another stream:
successive permutations of the remix dataset's nominal size, consumed ``r`` at a time (every
excerpt is used once before any is reused). Both depend on (seed, epoch) only, so a resumed run
draws the same plan. Under DistributedDataParallel rank k takes the k-th slice of both parts
(:func:`shard_plan`), so both ``batch_size - r`` and ``r`` must divide by the number of processes.
"""
from __future__ import annotations

import torch

from ..errors import ParamsError
from ..training import batches as B

_REMIX_STREAM = 0x7E31  # offsets the remix generator's seed from the supervised shuffle's

Plan = list[tuple[list[int], list[int]]]


def remix_count(batch_size: int, rho: float) -> int:
    """The number of remixed items per batch, ``round(rho * batch_size)``; ``rho`` must be in [0, 1]."""
    rho = float(rho)
    if not 0.0 <= rho <= 1.0:
        raise ParamsError(f"remix.rho = {rho} must be in [0, 1] (the fraction of each batch that is remixed)")
    return int(round(rho * int(batch_size)))


def remix_generator(seed: int, epoch: int) -> torch.Generator:
    return torch.Generator().manual_seed((B.epoch_seed(seed, epoch) + _REMIX_STREAM * 0x9E3779B1) % 2**63)


def epoch_plan(num_windows: int, num_remix: int, batch_size: int, repeat: int, rho: float, seed: int,
               epoch: int) -> Plan:
    """The global batches of one epoch: ``[(supervised window indices, remix item indices), ...]``."""
    r = remix_count(batch_size, rho)
    if r and num_remix < 1:
        raise ParamsError(f"remix.rho = {rho} asks for {r} remixed item(s) per batch but the remix dataset is empty")
    generator = B.epoch_generator(seed, epoch)
    order: list[int] = []
    for _ in range(max(1, int(repeat))):  # the same draws as training.batches.epoch_batches
        order += torch.randperm(num_windows, generator=generator).tolist()
    steps = len(order) // batch_size
    supervised = batch_size - r
    remixed: list[int] = []
    if r:
        g = remix_generator(seed, epoch)
        while len(remixed) < steps * r:
            remixed += torch.randperm(num_remix, generator=g).tolist()
    return [(order[i * supervised:(i + 1) * supervised], remixed[i * r:(i + 1) * r]) for i in range(steps)]


def shard_plan(plan: Plan, rank: int, world: int) -> Plan:
    """Rank ``rank``'s contiguous share of each part of each batch."""
    return [(B.shard(s, rank, world), B.shard(m, rank, world)) for s, m in plan]


def check_plan(num_windows: int, batch_size: int, rho: float, world: int, remix_group: int, where: str) -> None:
    """Raise :class:`ParamsError` (naming ``where``, the params file) for a composition the loop cannot split."""
    B.check_batching(num_windows, batch_size, world, 0, where)
    r = remix_count(batch_size, rho)
    supervised = batch_size - r
    if r % world or supervised % world:
        raise ParamsError(f"remix.rho = {rho} makes {r} remixed and {supervised} supervised items per batch of "
                          f"train.batch_size = {batch_size}; each must divide by the {world} processes ({where})")
    local = supervised // world
    if remix_group and remix_group > 1 and local % remix_group:
        raise ParamsError(f"the Remix augmentation (train.remix_group = {remix_group}) needs the supervised part of "
                          f"each batch to be a multiple of {remix_group}, but remix.rho = {rho} leaves {supervised} of "
                          f"train.batch_size = {batch_size} ({local} per process) ({where}); e.g. batch_size 8 with rho "
                          "0.5, or 16 with 0.25, or set train.remix_group to 0")
