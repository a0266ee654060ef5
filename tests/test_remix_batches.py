"""Batch composition of a remix run: the baseline's batches (same steps, same windows, same augmentation draws)
with round(rho x batch_size) items replaced by remixed ones; reproducible per (seed, epoch); sharded per process."""
import pytest
import torch

from demucs_study.errors import ParamsError
from demucs_study.remix.batches import check_plan, epoch_plan, remix_count, shard_plan, supervised_kept
from demucs_study.training import batches as B


def test_at_rho_0_the_plan_is_the_baseline():
    for repeat in (1, 2):
        baseline = B.epoch_batches(37, 4, repeat, B.epoch_generator(42, 3))
        plan = epoch_plan(37, 11, 4, repeat, 0.0, 42, 3)
        assert [s for s, _ in plan] == baseline and all(m == [] for _, m in plan)
    assert supervised_kept(4, 0.0) == 4


def test_the_supervised_part_is_the_baseline_batch_and_r_items_are_remixed():
    baseline = B.epoch_batches(37, 4, 1, B.epoch_generator(42, 3))
    plan = epoch_plan(37, 11, 4, 1, 0.25, 42, 3)
    assert len(plan) == len(baseline) == 9                      # the same steps
    assert [s for s, _ in plan] == baseline                     # the same windows, loaded whole
    assert all(len(m) == 1 for _, m in plan) and supervised_kept(4, 0.25) == 3
    remixed = [i for _, m in plan for i in m]
    assert sorted(remixed) == sorted(set(remixed)) and set(remixed) <= set(range(11))  # no repeat before 11 drawn
    assert epoch_plan(37, 11, 4, 1, 0.25, 42, 3) == plan and epoch_plan(37, 11, 4, 1, 0.25, 42, 4) != plan
    long = epoch_plan(40, 3, 8, 1, 0.5, 1, 0)
    drawn = [i for _, m in long for i in m]
    assert len(drawn) == 20 and all(sorted(drawn[k:k + 3]) == [0, 1, 2] for k in range(0, 18, 3))
    assert remix_count(8, 0.3) == 2 and remix_count(4, 1.0) == 4 and supervised_kept(4, 1.0) == 0


def test_a_labeled_budget_keeps_the_steps_of_the_whole_set():
    steps = B.epoch_steps(37, 4, 1)
    assert steps == 9 and B.epoch_steps(37, 4, 2) == 18
    # 9 windows (a quarter of the set) fill the 9 steps of the whole set: successive permutations
    plan = epoch_plan(9, 5, 4, 1, 0.25, 42, 0, steps=steps)
    order = [i for s, _ in plan for i in s]
    assert len(plan) == 9 and len(order) == 36
    assert all(sorted(order[k:k + 9]) == list(range(9)) for k in range(0, 36, 9))
    assert [s for s, _ in plan] == B.epoch_batches(9, 4, 1, B.epoch_generator(42, 0), steps)
    # with the whole set, steps= gives exactly the default batches
    for n, b, r in ((37, 4, 1), (40, 8, 2), (9, 4, 1)):
        assert B.epoch_batches(n, b, r, B.epoch_generator(1, 2), B.epoch_steps(n, b, r)) == \
            B.epoch_batches(n, b, r, B.epoch_generator(1, 2))


def test_each_process_takes_its_slice_of_both_parts():
    plan = epoch_plan(40, 7, 8, 1, 0.25, 1, 0)
    assert shard_plan(plan, 1, 2)[0] == (plan[0][0][4:], plan[0][1][1:])
    assert shard_plan(plan, 0, 2)[0] == (plan[0][0][:4], plan[0][1][:1])
    assert supervised_kept(8, 0.25, world=2) == 3


def test_batch_composition_errors_name_the_fix():
    with pytest.raises(ParamsError, match=r"remix.rho = 1.5 must be in \[0, 1\]"):
        remix_count(4, 1.5)
    check_plan(100, 4, 0.25, 1, 4, "x")        # the Remix augmentation applies to the whole supervised batch
    check_plan(100, 8, 0.25, 2, 4, "x")
    with pytest.raises(ParamsError, match=r"remix.rho = 0.25 makes 1 remixed item\(s\) per batch of "
                                          r"train.batch_size = 4; they must divide by the 2 processes of torchrun "
                                          r"\(params/quick/r.yaml\); change remix.rho or train.batch_size"):
        check_plan(100, 4, 0.25, 2, 0, "params/quick/r.yaml")
    with pytest.raises(ParamsError, match="only 3 training windows for train.batch_size=4"):
        check_plan(3, 4, 0.25, 1, 0, "x")
    with pytest.raises(ParamsError, match="the remix dataset is empty"):
        epoch_plan(10, 0, 4, 1, 0.5, 0, 0)


def test_the_remix_stream_differs_from_the_shuffle():
    from demucs_study.remix.batches import remix_generator

    a = torch.randperm(50, generator=remix_generator(3, 1))
    assert not torch.equal(a, torch.randperm(50, generator=B.epoch_generator(3, 1)))
    assert torch.equal(a, torch.randperm(50, generator=remix_generator(3, 1)))
