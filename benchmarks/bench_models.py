"""Training-step and separation time of the three models at their quick-profile sizes, and the
parameter counts of their paper sizes, on this CPU.

Claims checked:
* the quick profile's Wave-U-Net and MMDenseLSTM (``params/quick/defaults.yaml``, ``models.waveunet``
  and ``models.mmdense``) cost about as much per training step as its 16-channel Demucs (~1 s);
* the paper configuration of Wave-U-Net (L = 12, F = 24, stereo, 4 sources) has the 10,263,498
  parameters that the public reference code prints for it, and its input / output lengths for the
  reference's 16,384 output samples are 147,443 / 16,389 (22.05 kHz).

Method: for each model a fresh child process builds it from the quick profile's arguments (seeded),
with the augmentations of the quick profile and Adam, and times ``training.loop.train_step`` on random
stems (batch 4, windows of 5 s after a 1 s shift: the quick profile's), the loss of each model's recipe
(L1 for Demucs, MSE for the others); the first step is a warm-up, the median of the next ``--steps`` is
reported, as wall time and as the process's CPU time (the CPU time is less sensitive to other jobs on
a shared machine). Then it times ``separate.apply_model`` on a 30 s random stereo track with the quick
profile's ``separate`` options (chunks of 10 s, overlap 0.25, one shift). ``--threads`` torch threads
(2: the machine's cores). Parameter counts of the paper sizes (full profile) are counted on the meta
device (no memory). One run of each; ratios are to Demucs. ``OMP_WAIT_POLICY=PASSIVE`` as in training.

    python benchmarks/bench_models.py [--steps 3] [--threads 2] [--out benchmarks/bench_models.json]
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))
MODELS = ["demucs", "waveunet", "mmdense"]
LOSS = {"demucs": "l1", "waveunet": "mse", "mmdense": "mse"}
#: The public Wave-U-Net code's numbers for its full_multi_instrument configuration (see
#: tests/test_models_waveunet.py for where they are printed).
WAVEUNET_REFERENCE = {"parameters": 10_263_498, "input": 147_443, "output": 16_389}


def _params(profile: str) -> dict:
    from demucs_study.config import load_params

    return load_params(ROOT / "params" / profile / "defaults.yaml")


def child(name: str, steps: int, threads: int) -> dict:
    import torch

    from demucs_study.augment import make_augmentations
    from demucs_study.models import build_model
    from demucs_study.separation.apply import apply_model
    from demucs_study.training.batches import input_length
    from demucs_study.training.loop import loss_function, train_step

    params = _params("quick")
    tp, sp = params["train"], params["separate"]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build_model(name, **params["models"][name])
    shift = int(float(tp["shift"]) * 44100)
    augment = make_augmentations(shift=shift, flip=bool(tp["flip"]), remix_group=int(tp["remix_group"]),
                                 generator_seed=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=float(tp["lr"]))
    window = int(float(tp["segment"]) * 44100) + shift
    length = input_length(model, window - shift)
    stems = torch.randn(int(tp["batch_size"]), 4, 2, window, generator=torch.Generator().manual_seed(0)) * 0.3
    walls, cpus = [], []
    for _ in range(steps + 1):
        wall, cpu = time.perf_counter(), time.process_time()
        train_step(model, stems, augment, optimizer, loss_function(LOSS[name]), length)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    track = torch.randn(2, 30 * 44100, generator=torch.Generator().manual_seed(1)) * 0.1
    model.eval()
    wall, cpu = time.perf_counter(), time.process_time()
    stems = apply_model(model, track, shifts=int(sp["shifts"]), split=bool(sp["split"]),
                        segment=float(sp["segment"]), overlap=float(sp["overlap"]))
    separate_wall, separate_cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert stems.shape == (4, 2, track.shape[-1])
    return {"model": name, "kwargs": params["models"][name], "parameters": sum(p.numel() for p in model.parameters()),
            "input_length": length, "batch": int(tp["batch_size"]), "segment": float(tp["segment"]),
            "threads": threads, "step_seconds": statistics.median(walls[1:]),
            "step_cpu_seconds": statistics.median(cpus[1:]), "steps": walls[1:], "warmup": walls[0],
            "separate_30s_seconds": separate_wall, "separate_30s_cpu_seconds": separate_cpu,
            "separate_options": {k: sp[k] for k in ("shifts", "split", "segment", "overlap")}}


def paper_sizes() -> dict:
    import torch

    from demucs_study.models import WaveUNet, build_model

    full = _params("full")["models"]
    counts = {}
    with torch.device("meta"):
        for name in MODELS:
            counts[name] = sum(p.numel() for p in build_model(name, **full[name]).parameters())
        counts["mmdense lstm=false (MMDenseNet)"] = sum(
            p.numel() for p in build_model("mmdense", **{**full["mmdense"], "lstm": False}).parameters())
        wave = WaveUNet(**full["waveunet"])
    inp, out = wave._net_lengths(wave._bottom_for(16384))
    return {"counts": counts, "full_kwargs": {name: full[name] for name in MODELS},
            "waveunet_check": {"parameters": counts["waveunet"], "input": inp, "output": out,
                               "reference": WAVEUNET_REFERENCE,
                               "matches": (counts["waveunet"], inp, out) == tuple(WAVEUNET_REFERENCE.values())}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_suffix(".json"))
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.steps, args.threads)))
        return 0
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "PYTHONPATH": str(ROOT / "lib")}
    results = []
    for name in MODELS:
        load_before = os.getloadavg()[0]
        out = subprocess.run([sys.executable, __file__, "--steps", str(args.steps), "--threads", str(args.threads),
                              "--child", name], env=env, capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["load_before"], row["load_after"] = load_before, os.getloadavg()[0]
        print(f"{name:>8}: {row['parameters']:>10,} parameters, step {row['step_seconds']:.2f} s "
              f"(cpu {row['step_cpu_seconds']:.2f} s), separate 30 s in {row['separate_30s_seconds']:.1f} s "
              f"(load {row['load_before']:.1f} -> {row['load_after']:.1f})", flush=True)
        results.append(row)
    base = results[0]
    ratios = {row["model"]: {"step": row["step_seconds"] / base["step_seconds"],
                             "step_cpu": row["step_cpu_seconds"] / base["step_cpu_seconds"],
                             "separate": row["separate_30s_seconds"] / base["separate_30s_seconds"]}
              for row in results}
    sizes = paper_sizes()
    print("ratios to demucs:", json.dumps(ratios))
    print("paper sizes:", json.dumps(sizes["counts"]), "wave-u-net matches the reference:",
          sizes["waveunet_check"]["matches"])
    report = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": platform.platform(),
              "cpus": os.cpu_count(), "results": results, "ratios_to_demucs": ratios, "paper_sizes": sizes}
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
