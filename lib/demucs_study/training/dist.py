"""Distributed training from the environment ``torchrun`` sets (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_*).

One process per device: gloo on CPU, nccl on GPU. Without torchrun (no WORLD_SIZE, or 1) everything
here is a no-op on a single process, so the loop has one code path.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    local_world: int = 1
    device: str = "cpu"

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1


def setup(device: str | None = None) -> Dist:
    """Join the process group if started by torchrun (WORLD_SIZE > 1) and pick this process's device.

    ``device``: "cpu", "cuda" or None (cuda if available). On GPU rank r uses ``cuda:LOCAL_RANK``.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        device = f"cuda:{local_rank}" if world > 1 else (device if ":" in device else "cuda:0")
        torch.cuda.set_device(torch.device(device))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if device.startswith("cuda") else "gloo"
        torch.distributed.init_process_group(backend=backend)
    return Dist(rank=rank, world=world, local_rank=local_rank, local_world=local_world, device=device)


def teardown() -> None:
    """Leave the process group, if this process joined one."""
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def barrier(d: Dist) -> None:
    if d.distributed:
        torch.distributed.barrier()


def all_sum(d: Dist, values: list[float]) -> list[float]:
    """Sum a few numbers over the ranks (float64 on this process's device)."""
    if not d.distributed:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=d.device)
    torch.distributed.all_reduce(t)
    return t.tolist()


def gather_to_all(d: Dist, obj):
    """Every rank's ``obj`` as a list indexed by rank (pickled in memory between our own processes)."""
    if not d.distributed:
        return [obj]
    out = [None] * d.world
    torch.distributed.all_gather_object(out, obj)
    return out
