"""parallel_map: results in the order of the items whatever ``jobs``, in this process, in threads or in
spawned processes; errors raised in the caller; single-thread workers; the thread variables restored."""
from __future__ import annotations

import os
import threading

import pytest

from demucs_study import parallel
from demucs_study.parallel import THREAD_VARS, parallel_map, single_thread_env


def square(x: int) -> int:
    return x * x


def worker_info(x: int) -> tuple[int, int, dict]:
    """(x, the worker's pid, its thread variables): module-level, so spawned workers can unpickle it."""
    return x, os.getpid(), {v: os.environ.get(v) for v in THREAD_VARS}


def fail_on_three(x: int) -> int:
    if x == 3:
        raise KeyError(f"item {x} is bad")
    return x


ITEMS = list(range(12))


@pytest.mark.parametrize("jobs", [1, 2])
def test_threads_return_results_in_item_order(jobs):
    threads = []

    def record(x):
        threads.append(threading.get_ident())
        return -x

    assert parallel_map(record, iter(ITEMS), jobs=jobs, processes=False) == [-x for x in ITEMS]
    if jobs == 1:  # run here, in this thread
        assert set(threads) == {threading.get_ident()}
    else:
        assert threading.get_ident() not in threads


def test_one_job_runs_in_this_process_even_when_processes_are_asked():
    out = parallel_map(worker_info, ITEMS, jobs=1, processes=True, single_thread=True)
    assert [x for x, _, _ in out] == ITEMS
    assert {pid for _, pid, _ in out} == {os.getpid()}


def test_a_single_item_runs_here_whatever_jobs():
    ((x, pid, _),) = parallel_map(worker_info, [5], jobs=4, processes=True)
    assert (x, pid) == (5, os.getpid())


def test_spawned_workers_return_results_in_item_order():
    """Two spawned processes (a spawn costs a second or so on a busy machine: three pools in this file)."""
    out = parallel_map(worker_info, ITEMS, jobs=2, processes=True)
    assert [x for x, _, _ in out] == ITEMS
    pids = {pid for _, pid, _ in out}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2


def test_single_thread_workers_get_one_thread_and_the_parent_env_is_kept(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    out = parallel_map(worker_info, ITEMS[:4], jobs=2, processes=True, single_thread=True)
    assert os.environ["OMP_NUM_THREADS"] == "7" and "MKL_NUM_THREADS" not in os.environ
    assert [env for _, _, env in out] == [{v: "1" for v in THREAD_VARS}] * 4  # every worker: one thread


def test_exception_in_a_spawned_worker_is_raised_in_the_caller():
    with pytest.raises(KeyError, match="item 3 is bad"):
        parallel_map(fail_on_three, ITEMS, jobs=2, processes=True)


@pytest.mark.parametrize("jobs", [1, 2])
def test_exception_in_fn_is_raised_in_the_caller(jobs):
    with pytest.raises(KeyError, match="item 3 is bad"):
        parallel_map(fail_on_three, ITEMS, jobs=jobs, processes=False)


def test_empty_items_give_an_empty_list():
    assert parallel_map(square, [], jobs=2) == []
    assert parallel_map(square, (), jobs=1) == []


def test_jobs_none_means_one_job_here():
    assert parallel_map(worker_info, [1, 2], jobs=None, processes=True)[1][:2] == (2, os.getpid())


@pytest.mark.parametrize("jobs", [-1, -4])
def test_negative_jobs_is_an_error(jobs):
    with pytest.raises(ValueError, match=rf"jobs must be a positive integer, got {jobs}"):
        parallel_map(square, [1], jobs=jobs)


def test_jobs_zero_is_an_error():
    with pytest.raises(ValueError, match=r"jobs must be a positive integer, got 0"):
        parallel_map(square, [1, 2], jobs=0, processes=False)


def test_progress_bar_is_drawn_only_when_asked(capsys):
    parallel_map(square, [1, 2], jobs=1, progress=True, desc="squaring", unit="n")
    err = capsys.readouterr().err
    assert "squaring" in err and "2/2" in err
    parallel_map(square, [1, 2], jobs=1, progress=False, desc="squaring")
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------- moved from test_evaluation_bsseval.py
def test_workers_are_spawned_with_one_blas_thread(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "8")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    with parallel.single_thread_env():
        assert all(os.environ[v] == "1" for v in parallel.THREAD_VARS)
    assert os.environ["OMP_NUM_THREADS"] == "8" and "OPENBLAS_NUM_THREADS" not in os.environ


def test_single_thread_env_restores_the_variables_when_the_body_raises(monkeypatch):
    monkeypatch.setenv("NUMEXPR_NUM_THREADS", "3")
    monkeypatch.delenv("VECLIB_MAXIMUM_THREADS", raising=False)
    with pytest.raises(RuntimeError, match="boom"):
        with single_thread_env():
            assert os.environ["VECLIB_MAXIMUM_THREADS"] == "1" and os.environ["NUMEXPR_NUM_THREADS"] == "1"
            raise RuntimeError("boom")
    assert os.environ["NUMEXPR_NUM_THREADS"] == "3" and "VECLIB_MAXIMUM_THREADS" not in os.environ
