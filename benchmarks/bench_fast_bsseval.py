"""museval 0.4.1 against demucs_study.evaluation.fast: speed, agreement and memory of BSSEval v4.

Both evaluate the same 4-stem stereo synthetic tracks (``bench_museval.render_track``: noise bands,
tones and bursts, estimates = attenuated stem + leakage + noise) with museval's SiSEC 2018
settings (v4, win = hop = 1 s, 512-tap filters), in the same process and with the same number of
threads (BLAS and FFT), back to back. Writes ``benchmarks/bench_fast_bsseval.json``:

* per duration (30 s and 4 min by default): museval (one run) and fast (median of three runs,
  every run listed) wall and CPU seconds, the ratios, the
  largest absolute deviation per metric over all frames and sources, and whether the NaN and inf
  frames are the same; the SDR-only mode's time and ratio;
* K systems on one track: time of one ``evaluate_systems`` call with K estimate sets, the cost
  of each extra system, and the ratio against K museval runs;
* memory on a long track (10 min by default), in a fresh child process: the process' peak RSS
  above the inputs, and the peak of the arrays the evaluator allocates (``tracemalloc``, which
  numpy reports to), next to the size of the inputs;
* the 30 s comparison again with 2 threads, in a child process (the primary figures use 1).

    python benchmarks/bench_fast_bsseval.py [--seconds 30 240] [--systems 1 2 4] [--memory-minutes 10]
                                            [--threads 1] [--two-threads-seconds 30] [--quick]

``--threads`` sets OMP/OPENBLAS/MKL threads before numpy loads and ``workers`` of the fast FFTs
(museval's own FFTs are single-threaded). CPU seconds are this process' user + system time. The
wall times depend on what else runs on the machine: the load average before and after is recorded.
"""
from __future__ import annotations

import os
import sys


def _threads_from_argv() -> int:
    for i, arg in enumerate(sys.argv):
        if arg == "--threads" and i + 1 < len(sys.argv):
            return int(sys.argv[i + 1])
        if arg.startswith("--threads="):
            return int(arg.split("=", 1)[1])
    return 1


THREADS = _threads_from_argv()
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(THREADS)

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_museval import SR, render_track  # noqa: E402

METRICS = ("SDR", "ISR", "SIR", "SAR")


def museval_layout(seconds: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A track as the study scores it: float64 (the study casts before museval), (nsrc, samples, nchan)."""
    refs, ests = render_track(seconds, seed)
    return refs.transpose(0, 2, 1).astype(np.float64), ests.transpose(0, 2, 1).astype(np.float64)


def other_system(refs: np.ndarray, ests: np.ndarray, k: int) -> np.ndarray:
    """The k-th extra estimate set: a different leakage and noise level (deterministic)."""
    rng = np.random.default_rng(100 + k)
    leak = refs.sum(axis=0, keepdims=True) - refs
    return (0.85 + 0.02 * k) * refs + (0.05 + 0.01 * k) * leak + (0.01 + 0.005 * k) * rng.standard_normal(refs.shape)


def timed(fn, *args, **kwargs):
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn(*args, **kwargs)
    return result, round(time.perf_counter() - wall, 3), round(time.process_time() - cpu, 3)


def deviations(fast: np.ndarray, ref: np.ndarray) -> dict:
    """Largest |fast - museval| per metric over the frames both give finite values, and the masks."""
    out = {}
    for m, name in enumerate(METRICS):
        a, b = fast[m], ref[m]
        finite = np.isfinite(a) & np.isfinite(b)
        out[name] = float(np.max(np.abs(a[finite] - b[finite]), initial=0.0))
    out["same_nan_frames"] = bool(np.array_equal(np.isnan(fast), np.isnan(ref)))
    out["same_inf_frames"] = bool(np.array_equal(np.isinf(fast), np.isinf(ref)))
    return out


def repeated(fn, runs: int) -> tuple[object, dict]:
    """``fn()`` ``runs`` times: its result and the median wall and CPU seconds (and every run's)."""
    results = [timed(fn) for _ in range(runs)]
    walls, cpus = [r[1] for r in results], [r[2] for r in results]
    return results[0][0], {"wall_seconds": float(np.median(walls)), "cpu_seconds": float(np.median(cpus)),
                           "runs_wall_seconds": walls, "runs_cpu_seconds": cpus}


def compare_on(seconds: float, workers: int, runs: int = 3) -> dict:
    """museval once, then the fast full and SDR-only evaluations ``runs`` times each (medians)."""
    import museval

    from demucs_study.evaluation.fast import evaluate, evaluate_systems

    refs, ests = museval_layout(seconds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        theirs, museval_wall, museval_cpu = timed(museval.evaluate, refs, ests)
    scores, fast = repeated(lambda: evaluate_systems(refs, [ests], workers=workers)[0], runs)
    _, sdr_only = repeated(lambda: evaluate(refs, ests, sdr_only=True, workers=workers), runs)
    ours = np.array(list(scores))
    return {
        "seconds": seconds, "frames": int(ours.shape[2]),
        "museval": {"wall_seconds": museval_wall, "cpu_seconds": museval_cpu},
        "fast": fast, "fast_sdr_only": sdr_only,
        "speedup_wall": round(museval_wall / fast["wall_seconds"], 1),
        "speedup_cpu": round(museval_cpu / fast["cpu_seconds"], 1),
        "sdr_only_speedup_wall": round(museval_wall / sdr_only["wall_seconds"], 1),
        "sdr_only_speedup_cpu": round(museval_cpu / sdr_only["cpu_seconds"], 1),
        "max_abs_deviation_db": deviations(ours, np.array(theirs)),
        "conditioning": {"cond_estimate": float(f"{scores.conditioning.cond:.3g}"),
                         "ill_conditioned": scores.conditioning.ill_conditioned},
    }


def systems_on(seconds: float, counts: list[int], museval_cpu: float, workers: int) -> dict:
    from demucs_study.evaluation.fast import evaluate_systems

    refs, ests = museval_layout(seconds)
    runs = []
    for count in counts:
        systems = [ests] + [other_system(refs, ests, k) for k in range(1, count)]
        _, times = repeated(lambda: evaluate_systems(refs, systems, workers=workers), 3)
        wall, cpu = times["wall_seconds"], times["cpu_seconds"]
        runs.append({"systems": count, "wall_seconds": wall, "cpu_seconds": cpu,
                     "cpu_seconds_per_system": round(cpu / count, 3),
                     "speedup_cpu_vs_museval_per_system": round(count * museval_cpu / cpu, 1)})
    one = runs[0]["cpu_seconds"]
    for run in runs[1:]:
        run["cpu_seconds_per_extra_system"] = round((run["cpu_seconds"] - one) / (run["systems"] - 1), 3)
    return {"seconds": seconds, "museval_cpu_seconds_per_system": museval_cpu, "runs": runs}


def _status_mb(field: str) -> float:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak) of this process, MB. Not ``ru_maxrss``: a child
    started by fork + exec inherits its parent's peak there."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def long_track(minutes: float) -> tuple[np.ndarray, np.ndarray]:
    """A long float32 track, museval's layout, built in place: a 30 s track repeated."""
    refs, ests = render_track(30.0, 0)
    n = int(minutes * 60 * SR)
    out = []
    for stems in (refs, ests):
        long = np.empty((stems.shape[0], n, stems.shape[1]), dtype=np.float32)
        for a in range(0, n, stems.shape[2]):
            b = min(n, a + stems.shape[2])
            long[:, a:b] = stems[:, :, :b - a].transpose(0, 2, 1)
        out.append(long)
    return out[0], out[1]


def memory_child(minutes: float, workers: int) -> None:
    """In a fresh process: a long float32 track evaluated twice (the inputs are not copied): once
    for the process' peak resident memory, once under ``tracemalloc`` for the arrays' peak."""
    from demucs_study.evaluation.fast import evaluate_systems

    refs, ests = long_track(minutes)
    rss_inputs = _status_mb("VmRSS")
    scores, wall, cpu = timed(lambda: evaluate_systems(refs, [ests], workers=workers)[0])
    peak_rss = _status_mb("VmHWM")
    tracemalloc.start()
    evaluate_systems(refs, [ests], workers=workers)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(json.dumps({
        "minutes": minutes, "input_mb": round((refs.nbytes + ests.nbytes) / 2 ** 20, 1), "dtype": str(refs.dtype),
        "process_rss_with_inputs_mb": round(rss_inputs, 1),
        "process_peak_rss_mb": round(peak_rss, 1),
        "process_peak_rss_above_inputs_mb": round(peak_rss - rss_inputs, 1),
        "evaluator_arrays_peak_mb": round(peak / 2 ** 20, 1),
        "wall_seconds": wall, "cpu_seconds": cpu, "frames": int(scores.sdr.shape[1]),
        "note": "process_peak_rss_above_inputs_mb: what the evaluation adds to the process' peak resident "
                "memory (first run); evaluator_arrays_peak_mb: the largest total of the arrays allocated "
                "during the call (second run, tracemalloc, which numpy reports to)",
    }))


def in_child(flag: str, value: float, threads: int) -> dict:
    """Run this script with ``flag value`` in a fresh process; return the JSON it prints last."""
    cmd = [sys.executable, __file__, flag, str(value), "--threads", str(threads)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, env=os.environ.copy())
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare_child(seconds: float, workers: int) -> None:
    from demucs_study.evaluation.fast import evaluate

    evaluate(*museval_layout(2.0), workers=workers)
    print(json.dumps(compare_on(seconds, workers)))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, nargs="+", default=[30.0, 240.0])
    p.add_argument("--systems", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--memory-minutes", type=float, default=10.0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--two-threads-seconds", type=float, default=30.0,
                   help="also compare on a track this long with 2 threads, in a child process (0: no)")
    p.add_argument("--quick", action="store_true", help="10 s track, systems 1 2, 1-minute memory track; prints only")
    p.add_argument("--memory-child", type=float, default=None, help=argparse.SUPPRESS)
    p.add_argument("--compare-child", type=float, default=None, help=argparse.SUPPRESS)
    p.add_argument("--out", default=str(Path(__file__).with_suffix(".json")))
    args = p.parse_args()
    workers = THREADS if THREADS > 1 else None
    if args.memory_child is not None:
        memory_child(args.memory_child, workers)
        return 0
    if args.compare_child is not None:
        compare_child(args.compare_child, workers)
        return 0
    if args.quick:
        args.seconds, args.systems, args.memory_minutes, args.two_threads_seconds = [10.0], [1, 2], 1.0, 0

    import scipy
    from museval.version import _version as museval_version

    from demucs_study.evaluation.fast import evaluate

    warm = museval_layout(2.0)
    evaluate(*warm)  # FFT plans and imports, outside the timings
    load_before = os.getloadavg()
    tracks = [compare_on(s, workers) for s in args.seconds]
    systems = systems_on(args.seconds[0], args.systems, tracks[0]["museval"]["cpu_seconds"], workers)
    memory = in_child("--memory-child", args.memory_minutes, THREADS)
    two = in_child("--compare-child", args.two_threads_seconds, 2) if args.two_threads_seconds else None
    result = {
        "what": "BSSEval v4 (images, 512-tap time-invariant filters, win = hop = 1 s) of 4-stem stereo "
                "synthetic tracks: museval.evaluate against demucs_study.evaluation.fast, same process, "
                "same threads, back to back",
        "threads": THREADS, "samplerate": SR, "tracks": tracks, "systems_on_one_track": systems,
        "memory": memory, "two_threads": two,
        "targets": {"full_speedup_30s": 10, "full_speedup_4min": 20, "sdr_only_speedup": 100, "memory_10min_mb": 2048},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "numpy": np.__version__, "scipy": scipy.__version__, "museval": museval_version,
                    "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in os.getloadavg()]},
        "note": "a load average above the CPU count means other jobs shared the cores: wall times are then "
                "pessimistic for both sides; the CPU-second ratios are the steadier figures",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if not args.quick:
        from demucs_study.utils import write_json

        write_json(args.out, result, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
