"""Speed of the synthetic dataset generator: seconds of song rendered and written per second.

Generates 8 tracks x 30 s (6 train, 1 valid, 1 test: 5 wav files each) in a temporary folder with
jobs=1 and jobs=2 (processes) and writes ``benchmarks/bench_synth.json``:
wall seconds, CPU seconds, audio seconds (tracks x duration) and x-real-time (audio / wall), with the
default SoundFont (FluidR3_GM when installed: each worker process parses its 142 MB once, included)
and production on. The machine is shared, so the 1-minute load average before and after each run is
recorded, and a note when other work was running.
Run: ``.venv/bin/python benchmarks/bench_synth.py [--tracks 8] [--duration 30]``.
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

from demucs_study.data.synth.generate import GENERATOR_VERSION, generate_dataset
from demucs_study.data.synth.render import soundfont_tag
from demucs_study.utils import write_json


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run(jobs: int, tracks: int, duration: float, seed: int = 0) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench_synth_"))
    try:
        load = os.getloadavg()[0]
        cpu0, t0 = _cpu_seconds(), time.perf_counter()
        generate_dataset(tmp / "data", seed=seed, train=tracks - 2, valid=1, test=1, unlabeled=0,
                         duration=duration, jobs=jobs)
        wall = time.perf_counter() - t0
        cpu = _cpu_seconds() - cpu0
        load_after = os.getloadavg()[0]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    audio = tracks * duration
    return {"jobs": jobs, "tracks": tracks, "duration": duration, "seconds": round(wall, 3),
            "cpu_seconds": round(cpu, 3), "audio_seconds": audio, "x_real_time": round(audio / wall, 1),
            "x_real_time_per_cpu_second": round(audio / cpu, 1), "load_average_1min_before": round(load, 2),
            "load_average_1min_after": round(load_after, 2)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tracks", type=int, default=8)
    p.add_argument("--duration", type=float, default=30.0)
    a = p.parse_args()
    results = [run(j, a.tracks, a.duration) for j in (1, 2)]
    report = {"benchmark": "synthetic dataset generation (demucs_study.data.synth)",
              "generator_version": GENERATOR_VERSION, "soundfont": soundfont_tag(None), "production": True,
              "cpu_count": os.cpu_count(), "python": platform.python_version(), "target_x_real_time_jobs2": 30,
              "runs": results}
    own = {1: 1.0, 2: 2.0}
    busy = [r for r in results if r["load_average_1min_before"] > 0.5 or r["load_average_1min_after"] > own[r["jobs"]] + 0.5]
    if busy:
        report["note"] = ("the machine was shared with other work during these runs (1-minute load averages above "
                          "what the benchmark itself puts on it): wall times are longer than on an idle machine; "
                          "x_real_time_per_cpu_second is less affected")
    write_json(Path(__file__).with_suffix(".json"), report, indent=2)
    for r in results:
        print(f"jobs={r['jobs']}: {r['audio_seconds']:.0f} s of audio in {r['seconds']:.2f} s "
              f"= {r['x_real_time']}x real time ({r['x_real_time_per_cpu_second']}x per CPU second, "
              f"load {r['load_average_1min_before']})")


if __name__ == "__main__":  # worker processes are spawned: they re-import this file
    main()
