"""The order of the training windows per epoch, its split over processes, the batching checks and the
model input length (training.batches)."""
import math

import pytest
import torch

from demucs_study.errors import ParamsError
from demucs_study.models import Demucs
from demucs_study.training import batches as B


class StepModel(torch.nn.Module):
    """Valid inputs are 100 + 8k samples (k >= 1), like a Demucs with a small stride."""

    def valid_length(self, n):
        return 100 + 8 * math.ceil(max(n, 1) / 8)


# ---- moved from test_training_experiment.py

def test_input_length_is_the_longest_valid_length_that_fits():
    model = Demucs(channels=4)
    for n in (88200, 100000, 264600):
        length = B.input_length(model, n)
        assert length <= n < length + 4 ** 6  # valid inputs are spaced by stride ** depth = 4096
        size = length
        for _ in range(model.depth):  # every strided conv sees full windows: no sample dropped
            assert (size - model.kernel_size) % model.stride == 0
            size = (size - model.kernel_size) // model.stride + 1
    # the model runs on it (its output is ~10,900 samples shorter: docs/paper.md, section "Model", 451,924 -> 441,004)
    assert model(torch.zeros(1, 2, length)).shape[-1] == length - 10920
    with pytest.raises(ParamsError, match="shorter than the smallest input"):
        B.input_length(model, 100)


def test_epoch_order_depends_only_on_seed_and_epoch():
    one = B.epoch_batches(10, 4, 2, B.epoch_generator(42, 3))
    assert one == B.epoch_batches(10, 4, 2, B.epoch_generator(42, 3))
    assert one != B.epoch_batches(10, 4, 2, B.epoch_generator(42, 4))
    assert len(one) == 5 and all(len(b) == 4 for b in one)  # 2 passes over 10 windows, last partial batch dropped
    assert B.shard([0, 1, 2, 3, 4, 5, 6, 7], 1, 2) == [4, 5, 6, 7]


@pytest.mark.parametrize("num, batch, world, group, message", [
    (9, 6, 4, 0, r"batch_size=6 is the global batch and must be divisible by the 4 processes"),
    (9, 4, 2, 4, r"gets 2 items per batch, not a multiple of train.remix_group=4"),
    (3, 4, 1, 4, r"only 3 training windows for train.batch_size=4"),
])
def test_bad_batching_is_explained(num, batch, world, group, message):
    with pytest.raises(ParamsError, match=message):
        B.check_batching(num, batch, world, group, "x.yaml")


# ---- epoch order

def test_epoch_order_ignores_the_global_generators_and_other_seeds_differ():
    expected = B.epoch_batches(10, 2, 1, B.epoch_generator(7, 0))
    torch.manual_seed(123)
    torch.rand(5)
    assert B.epoch_batches(10, 2, 1, B.epoch_generator(7, 0)) == expected
    assert B.epoch_batches(10, 2, 1, B.epoch_generator(8, 0)) != expected


def test_epoch_seeds_are_distinct_for_nearby_seeds_and_epochs():
    seeds = {B.epoch_seed(s, e) for s in range(5) for e in range(200)}
    assert len(seeds) == 5 * 200
    assert B.epoch_seed(1, 0) == 1_000_003 and B.epoch_seed(0, 5) == 5
    assert 0 <= B.epoch_seed(2**62, 3) < 2**63


def test_each_pass_is_a_permutation_and_the_partial_batch_is_dropped():
    batches = B.epoch_batches(10, 3, 2, B.epoch_generator(42, 0))
    assert len(batches) == 6 and all(len(b) == 3 for b in batches)  # 20 indices -> 6 batches of 3, 2 dropped
    flat = [i for b in batches for i in b]
    assert sorted(flat[:10]) == list(range(10))  # the first pass holds every window once
    assert set(flat[10:]) <= set(range(10))


def test_repeat_below_one_still_makes_one_pass():
    assert len(B.epoch_batches(8, 4, 0, B.epoch_generator(1, 1))) == 2


def test_same_generator_continues_into_different_draws():
    """A resumed run restores the shuffle generator's state: drawing again from it gives the next order."""
    g = B.epoch_generator(3, 0)
    first = B.epoch_batches(12, 4, 1, g)
    state = g.get_state()
    second = B.epoch_batches(12, 4, 1, g)
    assert first != second
    g2 = torch.Generator()
    g2.set_state(state)
    assert B.epoch_batches(12, 4, 1, g2) == second


# ---- shard

def test_shards_are_contiguous_and_cover_the_batch():
    batch = [9, 3, 7, 1, 0, 4]
    assert [B.shard(batch, r, 3) for r in range(3)] == [[9, 3], [7, 1], [0, 4]]
    assert B.shard(batch, 0, 1) == batch


# ---- check_batching

def test_good_batching_passes():
    assert B.check_batching(9, 8, 2, 4, "x.yaml") is None
    assert B.check_batching(4, 4, 1, 0, "x.yaml") is None  # no Remix: any local size
    assert B.check_batching(6, 6, 2, 1, "x.yaml") is None  # group 1 is no grouping


@pytest.mark.parametrize("num, batch, world, group, message", [
    (9, 0, 1, 4, r"^train.batch_size=0 must be >= 1 \(params/q/d.yaml\)$"),
    (9, 6, 4, 0, r"^train.batch_size=6 is the global batch and must be divisible by the 4 processes of torchrun "
                 r"\(params/q/d.yaml\); change it or --nproc_per_node$"),
    (9, 4, 2, 4, r"^each of the 2 process\(es\) gets 2 items per batch, not a multiple of train.remix_group=4 "
                 r"\(params/q/d.yaml\); make train.batch_size a multiple of 8 or change train.remix_group$"),
    (3, 4, 1, 4, r"^only 3 training windows for train.batch_size=4 \(params/q/d.yaml\): lower the batch size, "
                 r"train.segment or train.stride, or use more training tracks$"),
])
def test_batching_messages_are_pinned(num, batch, world, group, message):
    with pytest.raises(ParamsError, match=message):
        B.check_batching(num, batch, world, group, "params/q/d.yaml")


# ---- input_length

def test_input_length_by_hand():
    model = StepModel()
    assert B.input_length(model, 1000) == 996  # 100 + 8 * 112
    assert B.input_length(model, 996) == 996 and B.input_length(model, 995) == 988
    assert B.input_length(model, 108) == 108  # the smallest valid input
    with pytest.raises(ParamsError, match=r"^training windows of 107 samples are shorter than the smallest input "
                                          r"the model accepts \(108 samples\); increase train.segment$"):
        B.input_length(model, 107)


def test_model_without_valid_length_takes_the_window_as_is():
    assert B.input_length(torch.nn.Identity(), 4321) == 4321
