"""Distributed set-up from the torchrun environment (training.dist): on a single process every helper is a
no-op that never touches torch.distributed. (Two real gloo ranks: test_training_ddp.py, slow.)"""
import pytest
import torch

from demucs_study.training import dist

TORCHRUN_VARS = ("WORLD_SIZE", "RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE")


@pytest.fixture
def no_torchrun(monkeypatch):
    for var in TORCHRUN_VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def collectives_forbidden(monkeypatch):
    """Any call into torch.distributed's collectives or process group fails the test."""
    def forbidden(*args, **kwargs):
        raise AssertionError("a single process must not call torch.distributed")

    for name in ("init_process_group", "destroy_process_group", "barrier", "all_reduce", "all_gather_object"):
        monkeypatch.setattr(torch.distributed, name, forbidden)


def test_setup_without_torchrun_is_rank_0_of_1_on_cpu(no_torchrun, collectives_forbidden):
    d = dist.setup("cpu")
    assert d == dist.Dist(rank=0, world=1, local_rank=0, local_world=1, device="cpu")
    assert d.is_main and not d.distributed


def test_setup_with_a_world_of_one(monkeypatch, collectives_forbidden):
    for var, value in zip(TORCHRUN_VARS, ("1", "0", "0", "1")):
        monkeypatch.setenv(var, value)
    assert dist.setup("cpu") == dist.Dist()


def test_default_device_is_cuda_only_when_there_is_one(no_torchrun, collectives_forbidden, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert dist.setup(None).device == "cpu"


def test_single_process_helpers_are_no_ops(no_torchrun, collectives_forbidden):
    d = dist.setup("cpu")
    values = [1.5, 2.0]
    summed = dist.all_sum(d, values)
    assert summed == [1.5, 2.0] and summed is not values  # a copy: the caller may change it
    obj = {"loss": 0.5}
    gathered = dist.gather_to_all(d, obj)
    assert gathered == [obj] and gathered[0] is obj
    assert dist.barrier(d) is None


def test_teardown_without_a_process_group_does_nothing(collectives_forbidden):
    assert not torch.distributed.is_initialized()
    assert dist.teardown() is None


def test_rank_and_world_properties():
    assert dist.Dist(rank=1, world=2).distributed and not dist.Dist(rank=1, world=2).is_main
    assert dist.Dist(rank=0, world=2).is_main
    with pytest.raises(AttributeError):
        dist.Dist().rank = 1  # frozen: shared by the whole run
