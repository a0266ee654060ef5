"""One way to run a function over many items in parallel, with a progress bar: :func:`parallel_map`.

Used by the synthetic generator (processes), the raw cache (threads: decoding runs in libsndfile or
ffmpeg) and the track scoring (processes with one BLAS thread each). Results come back in the order of
the items, so what is computed never depends on ``jobs``.
"""
from __future__ import annotations

import contextlib
import os
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Environment variables that cap BLAS/OpenMP threads; worker processes inherit them when
#: ``single_thread`` is set (one process per core, one thread per process).
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "NUMEXPR_NUM_THREADS")


@contextlib.contextmanager
def single_thread_env() -> Iterator[None]:
    """Set :data:`THREAD_VARS` to 1 while worker processes are spawned (they inherit them)."""
    saved = {k: os.environ.get(k) for k in THREAD_VARS}
    os.environ.update({k: "1" for k in THREAD_VARS})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _limit_threads() -> None:
    """First thing in a single-thread worker: cap BLAS threads with threadpoolctl when it is there."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(1)


def parallel_map(fn: Callable[[T], R], items: Iterable[T], jobs: int = 1, progress: bool = False,
                 desc: str = "", unit: str = "item", processes: bool = True,
                 single_thread: bool = False) -> list[R]:
    """``[fn(item) for item in items]``, ``jobs`` at a time, in the order of ``items``.

    ``jobs <= 1`` (or a single item) runs here, in this process. Otherwise ``processes=True`` uses
    spawned worker processes (``fn`` and the items must pickle; no fork of a parent holding torch
    threads) and ``processes=False`` threads. ``single_thread``: workers get one BLAS/OpenMP thread
    each. ``progress``: a tqdm bar (``desc``, ``unit``). An exception in ``fn`` is raised here.
    """
    from tqdm.auto import tqdm

    items = list(items)
    jobs = 1 if jobs is None else jobs
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    with tqdm(total=len(items), desc=desc, unit=unit, disable=not progress) as bar:
        if jobs == 1 or len(items) <= 1:
            out = []
            for item in items:
                out.append(fn(item))
                bar.update()
            return out
        from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

        workers = min(jobs, len(items))
        # Workers are spawned on the first submit, so the thread caps must hold while the pool runs.
        env = single_thread_env() if single_thread and processes else contextlib.nullcontext()
        with env:
            if processes:
                import multiprocessing

                pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                           initializer=_limit_threads if single_thread else None)
            else:
                pool = ThreadPoolExecutor(workers)
            with pool:
                out = []
                for result in pool.map(fn, items):
                    out.append(result)
                    bar.update()
                return out
