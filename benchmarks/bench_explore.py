"""Latency of the explorer's callbacks (``demucs_study.explore.app.ExplorerApp``) on a 30 s track.

Claim checked: changing a control updates what depends on it within about a second for a 30 s track of the
``quick`` profile on this machine (2 shared cores).

Method. A synthetic quick-size test set is written to a temporary folder (MUSDB18-HQ layout, ``--tracks`` tracks
of ``--seconds`` seconds: tones and noise with a vocal stem that is silent in places), cached with the study's
raw cache, with estimates of the ``quick`` profile's ``demucs`` experiment (the true stems plus seeded noise: the
explorer's cost does not depend on how good they are), of MIX and IRM2, and per-frame scores in museval's JSON
layout (new SDR of 1 s frames; museval itself takes a minute per track-minute and is not what is measured). The
app is built headless (no browser: the time measured is the kernel's, which is what a student waits for before
the page updates), then each control is changed ``--repeats`` times to values not seen before (no memo hits) and,
separately, back to a value already shown (memo hits). Reported per callback: wall seconds (median and max),
which views were recomputed and each view's own seconds, and the CPU seconds the callback used (this process'
threads plus the ffmpeg encoders it waited for): unlike the wall time, that does not grow with other jobs' load;
on an idle 2-core machine the wall time would lie between half of it and all of it. Range callbacks are measured
with the default 8 s excerpt and with the whole 30 s track. ``os.getloadavg()`` before and after says how busy
the shared machine was.

Run: ``.venv/bin/python benchmarks/bench_explore.py [--seconds 30] [--repeats 5]``; writes ``bench_explore.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "lib"))
SR = 44100
PROFILE = "quick"


def write_profile(root: Path, tracks: int, seconds: float) -> dict[str, str]:
    """The synthetic test set, its cache, estimates and frame scores under ``root``; returns the environment."""
    import soundfile as sf
    import yaml

    env = {"MUSDB_ROOT": str(root / "musdb"), "DEMUCS_STUDY_DATA": str(root / "data"),
           "DEMUCS_STUDY_RUNS": str(root / "runs"), "DEMUCS_STUDY_RESULTS": str(root / "results")}
    os.environ.update(env)
    from demucs_study import SOURCES
    from demucs_study.config import load_params
    from demucs_study.evaluation.bsseval import new_sdr
    from demucs_study.evaluation.testset import estimates_dir, evals_dir, reference_estimates, test_cache
    from demucs_study.utils import save_npy, write_json

    rng = np.random.default_rng(2019)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    for k in range(tracks):
        stems = []
        for i, base in enumerate((80.0, 55.0, 330.0, 440.0)):
            tone = 0.2 * np.sin(2 * np.pi * base * (1 + 0.05 * k) * t) * (0.6 + 0.4 * np.sin(2 * np.pi * t / (3 + i)))
            stems.append(np.stack([tone, 0.9 * tone]) + 0.02 * rng.standard_normal((2, n)))
        stems = np.asarray(stems, dtype=np.float32)
        stems[3, :, : int(seconds / 3 * SR)] = 0.0            # vocals come in after a third of the song
        folder = root / "musdb" / "test" / f"Bench - Track {k + 1}"
        folder.mkdir(parents=True)
        for name, x in zip(("mixture", *SOURCES), (stems.sum(0), *stems)):
            sf.write(folder / f"{name}.wav", x.T, SR, subtype="FLOAT")
    train = root / "musdb" / "train" / "Bench - Train"
    train.mkdir(parents=True)
    for name in ("mixture", *SOURCES):
        sf.write(train / f"{name}.wav", np.zeros((SR, 2), np.float32), SR, subtype="FLOAT")
    (root / "musdb" / "setup.yaml").write_text(yaml.safe_dump({"validation_tracks": []}))

    params = load_params(ROOT / "params" / PROFILE / "demucs.yaml")
    cache = test_cache(params)
    for track in cache.tracks("test"):
        stems = track.stems(mmap=False)
        est = (stems + 0.05 * rng.standard_normal(stems.shape)).astype(np.float32)
        save_npy(estimates_dir(PROFILE, params["experiment"]) / f"{track.name}.npy", est)
    for system in ("MIX", "IRM2"):
        reference_estimates(params, system, cache=cache)
    for track in cache.tracks("test"):
        stems = track.stems(mmap=False)
        for system in (params["experiment"], "MIX", "IRM2"):
            est = np.load(estimates_dir(PROFILE, system) / f"{track.name}.npy")
            targets = []
            for i, name in enumerate(SOURCES):
                frames = []
                for f in range(int(seconds)):
                    ref, e = stems[i, :, f * SR:(f + 1) * SR], est[i, :, f * SR:(f + 1) * SR]
                    value = float(new_sdr(ref[None], e[None])[0]) if np.any(ref) else float("nan")
                    frames.append({"time": float(f), "duration": 1.0, "metrics": {"SDR": value}})
                targets.append({"name": name, "frames": frames})
            write_json(evals_dir(PROFILE, system) / f"{track.name}.json", {"targets": targets})
    return env


def measure(app, label: str, change, values, what: str) -> dict:
    """Apply ``change(value)`` for each of ``values``; wall seconds and the views recomputed each time."""
    walls, cpus, views = [], [], []
    for value in values:
        before = dict(app.renders)
        start, cpu = time.perf_counter(), cpu_seconds()
        change(value)
        walls.append(time.perf_counter() - start)
        cpus.append(cpu_seconds() - cpu)
        if app.view_errors:
            raise RuntimeError(f"{label}: the app shows errors {app.view_errors}")
        views.append({name: round(app.timings[name], 3) for name in app.renders
                      if app.renders[name] != before.get(name, 0)})
    return {"callback": label, "what": what, "runs": len(walls), "median_s": round(statistics.median(walls), 3),
            "max_s": round(max(walls), 3), "cpu_median_s": round(statistics.median(cpus), 3),
            "wall_s": [round(w, 3) for w in walls], "cpu_s": [round(c, 3) for c in cpus], "views_s": views}


def cpu_seconds() -> float:
    """CPU seconds of this process (every thread) and of its finished children (the ffmpeg encoders)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="track length (default 30: the quick profile's)")
    parser.add_argument("--tracks", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5, help="changes per callback (default 5)")
    parser.add_argument("--out", default=str(HERE / "bench_explore.json"))
    args = parser.parse_args()
    os.environ.setdefault("MPLBACKEND", "Agg")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-explore-") as tmp:
        write_profile(Path(tmp), args.tracks, args.seconds)
        from demucs_study.explore.app import COMPARE, LISTEN, REMIX, ExplorerApp

        start = time.perf_counter()
        app = ExplorerApp(PROFILE)
        build = time.perf_counter() - start
        r, d = args.repeats, args.seconds
        starts = [1.0 + 2.0 * k for k in range(r)]
        stems = ["drums", "bass", "other", "vocals"]
        results = [
            measure(app, "stem", lambda v: setattr(app.stem, "value", v), [stems[k % 4] for k in range(r)],
                    "another stem: reference, estimate, residual players; figure; frame scores; scores"),
            measure(app, "range (8 s excerpt)", lambda v: setattr(app.range, "value", (v, v + 8.0)), starts,
                    "move an 8 s range: every listen player, the figure, the shaded frames, scores"),
            measure(app, f"range (whole {d:.0f} s track)", lambda v: setattr(app.range, "value", (v, d)),
                    [0.1 * k for k in range(r)], f"a range of ~{d:.0f} s: every listen player and the figure"),
            measure(app, "system", lambda v: setattr(app.system, "value", v),
                    [["MIX", "IRM2", "demucs"][k % 3] for k in range(r)], "another system: estimate, residual, figure"),
            measure(app, "frequency axis", lambda v: setattr(app.freq, "value", v),
                    [["linear", "log"][k % 2] for k in range(r)], "the figure only (memo for repeats)"),
            measure(app, "stem, back to one already shown", lambda v: setattr(app.stem, "value", v),
                    [["bass", "other"][k % 2] for k in range(r)], "players from the memo; figures redrawn"),
        ]
        app.range.value = (4.0, 12.0)
        app.tabs.selected_index = REMIX
        results.append(measure(app, "remix gain", lambda v: setattr(app.gains["vocals"], "value", v),
                               [-3.0 * (k + 1) for k in range(r)], "the remix and true-remix players, its SDR"))
        results.append(measure(app, "remix preset", lambda v: setattr(app.preset, "value", v),
                               [["karaoke (no vocals)", "drumless practice", "rhythm section", "all stems",
                                 "a cappella (vocals only)"][k % 5] for k in range(r)], "the remix players"))
        results.append(measure(app, "open the compare tab", lambda v: setattr(app.tabs, "selected_index", v),
                               [COMPARE], "two columns of players, a 5-band figure, frame scores"))
        results.append(measure(app, "compare: other system", lambda v: setattr(app.other, "value", v),
                               [["MIX", "IRM2"][k % 2] for k in range(r)], "the compare tab's views"))
        app.tabs.selected_index = LISTEN
        results.append(measure(app, "track", lambda v: setattr(app.track, "value", v),
                               [app.data.tracks[(k + 1) % len(app.data.tracks)] for k in range(min(r, 3))],
                               "everything of the listen tab, on another track"))
    from demucs_study.explore.audio import EXPLORER_BITRATE, OPUS_COMPLEXITY
    import matplotlib
    import torch

    result = {
        "benchmark": "explorer callback latency (headless ExplorerApp, quick-size synthetic tracks)",
        "config": {"profile": PROFILE, "seconds": args.seconds, "tracks": args.tracks, "repeats": r,
                   "player": f"Ogg/Opus {EXPLORER_BITRATE}, complexity {OPUS_COMPLEXITY}",
                   "build_app_s": round(build, 2)},
        "results": results,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "numpy": np.__version__, "matplotlib": matplotlib.__version__, "torch": torch.__version__,
                    "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in os.getloadavg()]},
        "note": "the machine is shared with other jobs: a load average above the CPU count means the wall times are "
                "inflated by waiting for a core; re-run on an idle machine for final figures",
    }
    from demucs_study.utils import write_json

    write_json(args.out, result, indent=2)
    for x in results:
        print(f"{x['callback']:36s} wall median {x['median_s']:.2f} s (max {x['max_s']:.2f}), "
              f"CPU median {x['cpu_median_s']:.2f} s")
    print("load average before/after:", result["machine"]["loadavg_before"], result["machine"]["loadavg_after"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
