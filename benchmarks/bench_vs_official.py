"""Speed of our Demucs against the official ``demucs`` package, as ratios measured in one run.

Ours: :class:`demucs_study.models.demucs.Demucs` (channels C, every other argument the 2019
default: depth 6, kernel 8, stride 4, context 3, 2 LSTM layers, GLU, rewrite, rescale 0.1).
Official: ``demucs.demucs.Demucs`` (the v2/v3 waveform model shipped in the PyPI ``demucs``
package) with the switches that bring it back to the 2019 architecture, :data:`OFFICIAL_KWARGS`:
no DConv branch (``dconv_mode=0``), no GroupNorm (``norm_starts`` past the depth), ReLU instead of
GELU, BiLSTM bottleneck, no input normalisation and no x2 resampling. Its ``context`` is a
half-width: the decoder conv has kernel ``2 * context + 1`` and padding ``context``, so
``context=1`` is the same kernel-3 conv as our ``context=3``, but padded (no samples lost).
Both then have the same parameter shapes (checked and recorded in the JSON).

Because of that padding the two valid lengths differ: ours has no padding anywhere, so for an
8 s target it needs a longer input (the caller pads) and returns fewer samples than it is given;
the official model returns as many samples as it is given. Each model gets its own
``valid_length(target)`` input, cut from the same seeded stems (centre-trimmed), and the L1 loss
is taken against the stems trimmed to its output. Lengths are recorded. For 8 s ours is fed
365,908 samples, the official 353,620: every level of ours is 3.5 % longer (bottleneck 88 vs 85
steps), so a ratio near 1.03 in training is the architecture's cost (the 2 samples each unpadded
context conv drops, times 4 per level up: 10,920 samples), not the implementation's; for 30 s the
excess is 0.9 % (1,336,660 vs 1,324,372).

Settings:

* ``train``: batch 4 x 8 s, forward + L1 loss + backward + Adam step (lr 3e-4).
* ``infer``: one 30 s stereo track, batch 1, forward under ``torch.no_grad``; ours pads the track
  to its valid length inside the timed call (what a caller must do), the official pads internally.

Method: the two models of a setting are timed in the same process, interleaved (the order
alternates every repetition), after ``--warmup`` discarded calls each (oneDNN's first call on a
new shape and Adam's state allocation are slow). Reported: median seconds of each and the ratio
ours / official (< 1: ours faster). The machine may be shared: the load average at the start and
end is recorded; interleaving keeps the ratio meaningful under load, absolute times are not.
With 2 threads on a busy 2-core machine single calls can be 10x slower (an OpenMP thread gets
descheduled and the other waits at the barrier): medians absorb a few such calls; the ratio of the
best calls, of the process CPU seconds and the median of per-repetition ratios (adjacent calls)
are recorded as cross-checks. ``OMP_WAIT_POLICY=PASSIVE``
is set by default (before torch loads) for the same reason: measured here under load average ~4,
a C=16 training step took 8-22 s with the default spinning policy and 2.6-3.1 s with PASSIVE (and
with 1 thread); it applies to both models alike.

    .venv/bin/python benchmarks/bench_vs_official.py [--quick] [--reps 7] [--threads 2]
        [--train-channels 8 16] [--infer-channels 16 64] [--omp-wait-policy PASSIVE] [--profile]

``--quick``: channels 8 only (train and infer), 3 repetitions. ``--profile`` prints the
torch.profiler top operators of one call of each model for every setting (not written to JSON).
Needs the official package, installed without its dependencies (no torchaudio, torch untouched):
``pip install --no-deps demucs==4.1.0 julius==0.2.8 einops==0.8.2``.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

SAMPLERATE = 44100
SOURCES = ["drums", "bass", "other", "vocals"]
DEPTH = 6
OFFICIAL_KWARGS = dict(
    sources=SOURCES, audio_channels=2, growth=2.0, depth=DEPTH, rewrite=True, lstm_layers=2,
    kernel_size=8, stride=4, context=1, gelu=False, glu=True, norm_starts=DEPTH + 4, norm_groups=4,
    dconv_mode=0, normalize=False, resample=False, rescale=0.1, samplerate=SAMPLERATE)


def build(which: str, channels: int, seed: int = 0):
    """A seeded model: ``which`` is ``"ours"`` or ``"official"``."""
    import torch

    torch.manual_seed(seed)
    if which == "ours":
        from demucs_study.models.demucs import Demucs

        return Demucs(channels=channels)
    from demucs.demucs import Demucs as Official

    return Official(channels=channels, **OFFICIAL_KWARGS)


def input_length(model, which: str, target: int) -> int:
    """Samples each model is fed for ``target`` output samples (see module docstring)."""
    return model.valid_length(target)


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def param_shapes(model) -> list:
    return sorted(tuple(p.shape) for p in model.parameters())


def make_step(which: str, model, kind: str, stems):
    """A no-argument callable doing one timed call, plus a description of its lengths.

    ``stems``: ``(B, 4, 2, T)`` seeded stems, long enough for both models; each model takes its
    input (the stem sum) and its target centre-trimmed from them.
    """
    import torch
    import torch.nn.functional as F

    from demucs_study.models.utils import center_trim

    target = stems.shape[-1] if kind == "infer" else TRAIN_SAMPLES
    if kind == "infer":
        mix = stems.sum(dim=1)                                # (1, 2, T): the raw 30 s track
        model.eval()
        if which == "ours":
            pad = input_length(model, which, target) - target

            def call():
                with torch.no_grad():
                    return model(F.pad(mix, (pad // 2, pad - pad // 2)))
        else:
            def call():
                with torch.no_grad():
                    return model(mix)
        with torch.no_grad():
            out_len = call().shape[-1]
        fed = target + pad if which == "ours" else model.valid_length(target)  # official pads inside
        return call, {"input_samples": fed, "output_samples": out_len}

    length = input_length(model, which, target)
    src = center_trim(stems, length).contiguous()
    mix = src.sum(dim=1)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=3e-4)
    with torch.no_grad():
        out_len = model(mix).shape[-1]
    ref = center_trim(src, out_len).contiguous()

    def call():
        opt.zero_grad(set_to_none=True)
        loss = F.l1_loss(model(mix), ref)
        loss.backward()
        opt.step()
        return loss

    return call, {"input_samples": length, "output_samples": out_len}


TRAIN_SAMPLES = 8 * SAMPLERATE


def bench_setting(kind: str, channels: int, reps: int, warmup: int, profile: bool) -> dict:
    import torch

    batch, seconds = (4, 8.0) if kind == "train" else (1, 30.0)
    models = {w: build(w, channels) for w in ("ours", "official")}
    counts = {w: n_params(m) for w, m in models.items()}
    longest = max(input_length(m, w, int(seconds * SAMPLERATE)) for w, m in models.items())
    gen = torch.Generator().manual_seed(1234)
    stems = 0.1 * torch.randn(batch, len(SOURCES), 2, longest, generator=gen)
    if kind == "infer":
        stems = stems[..., :int(seconds * SAMPLERATE)]
    calls, lengths = {}, {}
    for w, m in models.items():
        calls[w], lengths[w] = make_step(w, m, kind, stems)
    for _ in range(warmup):
        for w in calls:
            calls[w]()
    times: dict[str, list[float]] = {w: [] for w in calls}
    cpu: dict[str, list[float]] = {w: [] for w in calls}
    order = list(calls)
    for r in range(reps):
        for w in (order if r % 2 == 0 else order[::-1]):
            c0, t0 = time.process_time(), time.perf_counter()
            calls[w]()
            times[w].append(time.perf_counter() - t0)
            cpu[w].append(time.process_time() - c0)
        print(f"  {kind} C={channels} rep {r + 1}/{reps}: "
              + ", ".join(f"{w} {times[w][-1]:.3f} s" for w in order), flush=True)
    if profile:
        from torch.profiler import ProfilerActivity, profile as prof

        for w in order:
            with prof(activities=[ProfilerActivity.CPU]) as p:
                calls[w]()
            print(f"--- profile {kind} C={channels} {w}")
            print(p.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))
    med = {w: statistics.median(t) for w, t in times.items()}
    best = {w: min(t) for w, t in times.items()}
    med_cpu = {w: statistics.median(t) for w, t in cpu.items()}
    return {
        "kind": kind, "channels": channels, "batch": batch, "seconds_of_audio": seconds,
        "median_seconds": {w: round(v, 4) for w, v in med.items()},
        "ratio_ours_over_official": round(med["ours"] / med["official"], 3),
        "min_seconds": {w: round(v, 4) for w, v in best.items()},
        "ratio_of_min": round(best["ours"] / best["official"], 3),
        "median_cpu_seconds": {w: round(v, 4) for w, v in med_cpu.items()},
        "ratio_of_median_cpu": round(med_cpu["ours"] / med_cpu["official"], 3),
        "median_paired_ratio": round(statistics.median(o / f for o, f in zip(times["ours"], times["official"])), 3),
        "all_seconds": {w: [round(x, 4) for x in t] for w, t in times.items()},
        "lengths": lengths, "parameters": counts,
        "same_parameter_shapes": param_shapes(models["ours"]) == param_shapes(models["official"]),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="channels 8 only, 3 repetitions")
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--omp-wait-policy", default="PASSIVE", choices=["PASSIVE", "ACTIVE", "unset"],
                   help="OMP_WAIT_POLICY for torch's OpenMP threads (set before torch loads; an "
                        "OMP_WAIT_POLICY already in the environment wins)")
    p.add_argument("--train-channels", type=int, nargs="*", default=[8, 16])
    p.add_argument("--infer-channels", type=int, nargs="*", default=[16, 64])
    p.add_argument("--profile", action="store_true", help="print torch.profiler tables (not saved)")
    p.add_argument("--out", default=str(Path(__file__).with_suffix(".json")))
    args = p.parse_args()
    if args.quick:
        args.reps, args.train_channels, args.infer_channels = 3, [8], [8]

    if args.omp_wait_policy != "unset":
        os.environ.setdefault("OMP_WAIT_POLICY", args.omp_wait_policy)
    try:
        import demucs.demucs  # noqa: F401
    except ImportError as exc:
        raise SystemExit(f"bench_vs_official needs the official package ({exc}): "
                         ".venv/bin/pip install --no-deps demucs==4.1.0 julius==0.2.8 einops==0.8.2")
    import torch

    from demucs_study.utils import write_json

    torch.set_num_threads(args.threads)
    load_start = os.getloadavg()
    started = time.perf_counter()
    settings = [("train", c) for c in args.train_channels] + [("infer", c) for c in args.infer_channels]
    results = []
    for kind, channels in settings:
        print(f"{kind} channels={channels} ...", flush=True)
        results.append(bench_setting(kind, channels, args.reps, args.warmup, args.profile))
        r = results[-1]
        print(f"{kind} C={channels}: ours {r['median_seconds']['ours']:.3f} s, official "
              f"{r['median_seconds']['official']:.3f} s, ratio {r['ratio_ours_over_official']}", flush=True)
    params = {str(c): {w: n_params(build(w, c)) for w in ("ours", "official")} for c in (16, 64)}
    report = {
        "benchmark": "our Demucs vs the official demucs package: training step and inference speed",
        "method": "same process, interleaved calls (order alternating), warm-up calls discarded; "
                  "ratio_ours_over_official = median wall seconds ours / official (< 1: ours faster), "
                  "the result; ratio_of_min (best call each), ratio_of_median_cpu (process CPU "
                  "seconds, all threads) and median_paired_ratio (median over repetitions of the ratio "
                  "of the two adjacent calls) are cross-checks, less sensitive to other jobs on the machine",
        "train": "batch 4 x 8 s target, each model fed its valid_length input; forward + L1 + backward "
                 "+ Adam step",
        "infer": "one 30 s stereo track, batch 1, no_grad forward (ours pads to valid_length inside "
                 "the timed call, the official pads internally)",
        "command": "python benchmarks/bench_vs_official.py " + " ".join(sys.argv[1:]),
        "reps": args.reps, "warmup": args.warmup, "quick": args.quick,
        "official_kwargs": {k: v for k, v in OFFICIAL_KWARGS.items()},
        "official_context_note": "official context=1 is a kernel-3 conv padded by 1 (kernel 2*context+1); "
                                 "ours context=3 is a kernel-3 conv without padding",
        "ours_kwargs": "defaults of demucs_study.models.demucs.Demucs but channels",
        "parameters": params,
        "results": results,
        "machine": {
            "cpus": os.cpu_count(), "threads": torch.get_num_threads(), "torch": torch.__version__,
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "unset"),
            "demucs": _version("demucs"), "julius": _version("julius"),
            "einops": _version("einops"),
            "python": platform.python_version(), "platform": platform.platform(),
            "loadavg_start": [round(x, 2) for x in load_start],
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        },
        "wall_seconds": round(time.perf_counter() - started, 1),
        "note": "absolute seconds depend on the machine load (see loadavg); the ratios are measured "
                "interleaved in the same run and are the result. Re-run on an idle machine.",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    write_json(args.out, report, indent=1)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
