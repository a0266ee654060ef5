"""museval (BSSEval v4, SiSEC 2018 settings) cost on this machine, serial and with worker processes.

Renders a few synthetic 4-stem stereo tracks (band-limited noise, harmonic tones, drum-like
bursts; estimates = attenuated stem + leakage of the other stems + noise, like a separator's
output), writes them as wav in the MUSDB layout, and evaluates them through
``demucs_study.evaluation.jobs.evaluate_tracks`` with ``jobs=1`` and ``jobs=2``. Writes seconds per
track-minute and the speed-up to ``benchmarks/bench_museval.json``.

    python benchmarks/bench_museval.py [--tracks 4] [--seconds 30] [--jobs 2]

Every process runs with one BLAS thread (set below, before numpy loads), so the serial run is
one core and the parallel run ``jobs`` cores. The wall time depends on what else runs on the
machine: the load average before and after is recorded with the result.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

SR = 44100


def render_track(seconds: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(references, estimates), each (4, 2, T) float32, deterministic from ``seed``."""
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR

    def band(lo, hi):
        sos = butter(4, [lo, hi], btype="bandpass", fs=SR, output="sos")
        return sosfilt(sos, rng.standard_normal((2, t.size)), axis=-1)

    def norm(x, rms):
        return x * rms / np.sqrt(np.mean(x ** 2))

    tempo = rng.uniform(1.5, 2.5)  # beats per second
    f0 = 55 * 2 ** (rng.integers(0, 12) / 12)
    drums = norm(band(60, 12000) * np.exp(-((t * tempo * 2) % 1) * 10), 0.2)
    notes = f0 * 2 ** (rng.choice([0, 3, 5, 7], size=int(seconds * tempo) + 1) / 12)
    freq = notes[(t * tempo).astype(int)]
    bass = norm(np.sin(2 * np.pi * np.cumsum(freq) / SR) + 0.3 * band(40, 300), 0.2)
    other = norm(sum(np.sin(2 * np.pi * 4 * f0 * r * t) for r in (1, 1.26, 1.5)) + band(300, 5000), 0.1)
    vib = 2 * np.sin(2 * np.pi * 5 * t)
    vocals = norm(sum(np.sin(2 * np.pi * k * 8 * f0 * t + k * vib) / k for k in range(1, 6))
                  + 0.3 * band(1000, 8000), 0.1)
    vocals *= (np.sin(2 * np.pi * t / 8) > -0.3)  # phrases and rests
    refs = np.stack([drums, bass, other, vocals]) + 3e-3 * rng.standard_normal((4, 2, t.size))
    leak = refs.sum(axis=0, keepdims=True) - refs
    est = 0.9 * refs + 0.08 * leak + 0.02 * rng.standard_normal(refs.shape)
    return refs.astype(np.float32), est.astype(np.float32)


def write_dataset(root: Path, tracks: int, seconds: float) -> None:
    import soundfile as sf

    from demucs_study import SOURCES

    for k in range(tracks):
        refs, est = render_track(seconds, seed=k)
        for side, stems in (("ref/test", refs), ("est", est)):
            folder = root / side / f"track{k:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            for stem, x in zip(SOURCES, stems):
                sf.write(folder / f"{stem}.wav", x.T, SR, subtype="FLOAT")
            if side == "ref/test":
                sf.write(folder / "mixture.wav", stems.sum(axis=0).T, SR, subtype="FLOAT")


def timed(tasks, out: Path, jobs: int) -> dict:
    from demucs_study.evaluation.aggregate import aggregate, track_scores_from_json
    from demucs_study.evaluation.jobs import evaluate_tracks

    before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    status = evaluate_tracks(tasks, out, jobs=jobs)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before))
    assert set(status.values()) == {"evaluated"}, status
    sdr = aggregate(track_scores_from_json(out)).iloc[0]
    return {"jobs": jobs, "wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
            "sdr_all_db": round(float(sdr["All"]), 3)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tracks", type=int, default=4)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", default=str(Path(__file__).with_suffix(".json")))
    args = p.parse_args()

    from museval.version import _version as museval_version

    from demucs_study.evaluation.jobs import tasks_from_folders

    load_before = os.getloadavg()
    minutes = args.tracks * args.seconds / 60
    with tempfile.TemporaryDirectory(prefix="bench_museval_") as tmp:
        root = Path(tmp)
        write_dataset(root, args.tracks, args.seconds)
        tasks = tasks_from_folders(root / "ref", root / "est")
        # warm-up: import museval & co. once in this process so the serial run does not pay it
        from demucs_study.evaluation.bsseval import evaluate_track  # noqa: F401
        runs = [timed(tasks, root / "serial", 1), timed(tasks, root / "parallel", args.jobs)]
    for run in runs:
        run["seconds_per_track_minute"] = round(run["wall_seconds"] / minutes, 2)
        run["cpu_seconds_per_track_minute"] = round(run["cpu_seconds"] / minutes, 2)
    result = {
        "what": "museval BSSEval v4 (win = hop = 1 s, 4 stereo stems together) through "
                "demucs_study.evaluation.jobs.evaluate_tracks, wav files in and JSON out",
        "tracks": args.tracks, "seconds_per_track": args.seconds, "samplerate": SR,
        "serial": runs[0], "parallel": runs[1],
        "speedup": round(runs[0]["wall_seconds"] / runs[1]["wall_seconds"], 2),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "numpy": np.__version__, "museval": museval_version, "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in os.getloadavg()]},
        "note": "the machine is shared with other jobs: a load average above the CPU count means the wall "
                "times (and the speed-up) are pessimistic; cpu_seconds count this process and its workers",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    from demucs_study.utils import write_json

    write_json(args.out, result, indent=2)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
