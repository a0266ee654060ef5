"""Seconds per training step of Demucs on this CPU, for the sizes the profiles use.

Claim checked: the quick profile's training (``params/quick/defaults.yaml``) fits in 15 minutes on a
2-core CPU: epochs x steps per epoch x seconds per step (+ validation) <= 900 s.

Method: for each (channels, segment, batch, threads) a fresh child process builds a seeded Demucs
(depth 6, the profiles' other defaults), the augmentations and Adam, and times
``demucs_study.training.loop.train_step`` (augment, crop to the valid input length, mixture = sum of
stems, forward, L1, backward, Adam step) on random stems; the first step is a warm-up, the median of
the next ``--steps`` is reported. ``OMP_WAIT_POLICY=PASSIVE`` is set as ``python -m demucs_study
train`` does (spinning OpenMP threads are ~10x slower when other processes share the cores).
The load average before and after each child is recorded: the machine is shared.

    python benchmarks/bench_train.py [--steps 4] [--out benchmarks/bench_train.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

CONFIGS = [  # (channels, segment s, batch, threads)
    (16, 5.0, 4, 1),
    (16, 5.0, 4, 2),
    (16, 8.0, 4, 2),
    (8, 5.0, 4, 2),
    (32, 5.0, 4, 2),
]


def child(channels: int, segment: float, batch: int, threads: int, steps: int) -> dict:
    import torch

    from demucs_study.augment import make_augmentations
    from demucs_study.models import Demucs
    from demucs_study.training.batches import input_length
    from demucs_study.training.loop import loss_function, train_step

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Demucs(channels=channels)
    augment = make_augmentations(shift=44100, flip=True, remix_group=4, generator_seed=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
    window = int((segment + 1.0) * 44100)
    length = input_length(model, window - 44100)
    stems = torch.randn(batch, 4, 2, window, generator=torch.Generator().manual_seed(0)) * 0.3
    times = []
    for _ in range(steps + 1):
        start = time.perf_counter()
        train_step(model, stems, augment, optimizer, loss_function("l1"), length)
        times.append(time.perf_counter() - start)
    return {"channels": channels, "segment": segment, "batch": batch, "threads": threads,
            "seconds_per_step": statistics.median(times[1:]), "steps": times[1:], "warmup": times[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_suffix(".json"))
    parser.add_argument("--child", nargs=4, type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        c, s, b, t = args.child
        print(json.dumps(child(int(c), s, int(b), int(t), args.steps)))
        return 0
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    results = []
    for c, s, b, t in CONFIGS:
        load_before = os.getloadavg()[0]
        out = subprocess.run([sys.executable, __file__, "--steps", str(args.steps), "--child", str(c), str(s),
                              str(b), str(t)], env=env, capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["load_before"], row["load_after"] = load_before, os.getloadavg()[0]
        print(f"channels {c:>3} segment {s:>4} s batch {b} threads {t}: {row['seconds_per_step']:.2f} s/step "
              f"(load {row['load_before']:.1f} -> {row['load_after']:.1f})", flush=True)
        results.append(row)
    report = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": platform.platform(),
              "cpus": os.cpu_count(), "results": results}
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
