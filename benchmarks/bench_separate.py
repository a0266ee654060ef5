"""Peak memory and time of separating long tracks: chunked (split=True) vs in one piece (split=False).

Claim checked: with ``split=True`` the memory :func:`demucs_study.separation.apply.apply_model` needs beyond
its input and output buffers is bounded by the chunk size (10 s by default), whatever the track
length; with ``split=False`` the model's activations grow with the track.

Method. Every measurement runs in a fresh child process (``--child``), so that peaks do not leak
from one run to the next. The child imports torch, builds a seeded random Demucs (``--channels``,
depth 6 as in the paper; weights do not change memory), allocates a seeded white-noise stereo
track of N minutes at 44.1 kHz, reads its resident set size (``/proc/self/statm``, ``rss_before``),
runs the separation, then reads its peak resident set size (``resource.getrusage(RUSAGE_SELF)
.ru_maxrss``, the kernel's high-water mark of the RSS, which counts torch's and numpy's native
allocations alike, unlike ``tracemalloc``). Reported per run:

* ``peak_rss_mb``: the high-water mark of the whole process;
* ``increase_mb = peak_rss - rss_before``: what the separation added;
* ``output_mb``: the stems ``(4, 2, T)`` float32 the call must return (4 x 2 x 4 bytes per sample);
* ``working_mb = increase - output``: everything else (chunk buffers, model activations). This is the
  number that must stay flat with ``split=True`` when the track gets longer.

Timing uses one torch thread by default (``--threads``): on a CPU shared with other jobs, OpenMP with
several threads can be an order of magnitude slower and far noisier. Results go to
``benchmarks/bench_separate.json``.

Adding a measurement (e.g. the official ``demucs`` package): write ``measure_<name>(args) -> dict``
that builds its model and track, calls :func:`_rss_before` right before separating and returns
:func:`_report` of the result; register it in :data:`MEASUREMENTS`; it runs for every (minutes,
split) of the grid and lands under ``results[name]``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLERATE = 44100
_STATE: dict = {}


def _rss_now() -> int:
    """Current resident set size in bytes (Linux ``/proc/self/statm``; ru_maxrss elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return _peak_rss()


def _peak_rss() -> int:
    """High-water mark of the resident set size in bytes (ru_maxrss is in kB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _rss_before() -> None:
    """Mark the start of the measured call: memory and clocks."""
    _STATE.update(rss_before=_rss_now(), wall=time.perf_counter(), cpu=time.process_time())


def _report(stems, length: int) -> dict:
    """The numbers of one run, ``stems`` being the returned (S, C, T) array."""
    wall, cpu = time.perf_counter() - _STATE["wall"], time.process_time() - _STATE["cpu"]
    peak, before = _peak_rss(), _STATE["rss_before"]
    output = int(stems.nbytes)
    mb = 1 / 2**20
    return {"samples": length, "peak_rss_mb": round(peak * mb, 1), "rss_before_mb": round(before * mb, 1),
            "increase_mb": round((peak - before) * mb, 1), "output_mb": round(output * mb, 1),
            "working_mb": round((peak - before - output) * mb, 1), "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2), "realtime_factor": round(wall / (length / SAMPLERATE), 4)}


def _track(minutes: float, seed: int = 0):
    import numpy as np

    length = int(round(minutes * 60 * SAMPLERATE))
    return (0.1 * np.random.default_rng(seed).standard_normal((2, length), dtype=np.float32)), length


def measure_demucs_study(args) -> dict:
    """Our apply_model on a random Demucs(channels=args.channels)."""
    import torch

    from demucs_study.models import Demucs
    from demucs_study.separation.apply import apply_model

    torch.manual_seed(0)
    model = Demucs(channels=args.channels).eval()
    mix, length = _track(args.minutes)
    _rss_before()
    stems = apply_model(model, mix, split=args.split, segment=args.segment, overlap=0.25, shifts=0)
    return _report(stems, length)


#: Measurement name -> function run in the child; each must work for every (minutes, split).
MEASUREMENTS = {"demucs_study": measure_demucs_study}


def child(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    args.minutes = args.minutes[0]
    result = MEASUREMENTS[args.child](args)
    print(json.dumps(result))


def run_child(name: str, minutes: float, split: bool, args) -> dict:
    cmd = [sys.executable, __file__, "--child", name, "--minutes", str(minutes), "--channels", str(args.channels),
           "--threads", str(args.threads), "--segment", str(args.segment)] + ([] if split else ["--no-split"])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1.0, 3.0, 10.0], help="track lengths")
    parser.add_argument("--channels", type=int, default=16, help="Demucs channels (C_1); depth 6")
    parser.add_argument("--segment", type=float, default=10.0, help="chunk length in seconds (split=True)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads in the child")
    parser.add_argument("--no-split", dest="split", action="store_false", help=argparse.SUPPRESS)
    parser.add_argument("--only", nargs="+", choices=sorted(MEASUREMENTS), default=sorted(MEASUREMENTS))
    parser.add_argument("--skip-unsplit-above", type=float, default=3.0,
                        help="no split=False run for tracks longer than this many minutes (default 3: in one "
                             "piece a 10 min track needs about 6 GB with channels=16)")
    parser.add_argument("--out", type=Path, default=HERE / "bench_separate.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return 0

    import torch

    from demucs_study.utils import write_json

    results: dict = {}
    for name in args.only:
        rows = results.setdefault(name, [])
        for minutes in args.minutes:
            for split in (True, False):
                if not split and minutes > args.skip_unsplit_above:
                    continue
                row = {"minutes": minutes, "split": split, **run_child(name, minutes, split, args)}
                rows.append(row)
                print(json.dumps({"measurement": name, **row}), flush=True)
    write_json(args.out, {
        "benchmark": "separate: peak resident memory and time, chunked vs whole track",
        "method": "fresh child process per run; peak = getrusage ru_maxrss, before = /proc/self/statm RSS "
                  "right before the call; working = peak - before - output stems (4 x 2 x T float32)",
        "config": {"channels": args.channels, "depth": 6, "segment_s": args.segment, "overlap": 0.25,
                   "shifts": 0, "samplerate": SAMPLERATE, "torch_threads": args.threads,
                   "split_false_up_to_minutes": args.skip_unsplit_above},
        "machine": {"python": platform.python_version(), "torch": torch.__version__,
                    "platform": platform.platform(), "cpus": os.cpu_count()},
        "results": results,
    })
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
