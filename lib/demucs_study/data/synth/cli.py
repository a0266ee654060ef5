"""``python -m demucs_study generate-data``: render (or confirm) a synthetic dataset.

Either a profile's set, where the study reads it (``--params params/<profile>/data.yaml``), or any
set given by its arguments (``--out DIR --seed N --train N ...``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .generate import DEFAULTS, ensure_dataset

HELPS = {"train": "training tracks (in train/)", "valid": "validation tracks (in train/, named in setup.yaml)",
         "test": "test tracks (in test/)", "unlabeled": "mixtures without stems (in unlabeled/)"}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m demucs_study generate-data",
                                description="Render the synthetic MUSDB18-HQ-layout dataset (skipped if "
                                            "OUT/manifest.json already matches these arguments).")
    p.add_argument("--params", type=Path, default=None,
                   help="a profile's data.yaml: make that profile's dataset where the study reads it "
                        "(the other options are then ignored, but --jobs)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: <data dir>/synth)")
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"], help="every track derives from (seed, split, index)")
    for k, h in HELPS.items():
        p.add_argument(f"--{k}", type=int, default=DEFAULTS[k], help=f"number of {h}")
    p.add_argument("--duration", type=float, default=DEFAULTS["duration"], help="seconds per track")
    p.add_argument("--soundfont", type=Path, default=None,
                   help="a General MIDI .sf2 (default: FluidR3_GM if installed, else pretty_midi's TimGM6mb)")
    p.add_argument("--dry", action="store_true", help="no effects, reverbs nor bus processing (production off)")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default 1, or the profile's)")
    return p


def generate_data(argv: list[str] | None = None) -> int:
    a = _parser().parse_args(argv)
    progress = sys.stderr.isatty()
    if a.params is not None:
        from ...config import load_params
        from ..roots import prepare_root

        params = load_params(a.params)
        root = prepare_root(params["dataset"], params["profile"], jobs=a.jobs, progress=progress)
        print(f"dataset of profile {params['profile']!r}: {root}")
        return 0
    from ...paths import data_dir

    out = a.out if a.out is not None else data_dir() / "synth"
    m = ensure_dataset(out, seed=a.seed, train=a.train, valid=a.valid, test=a.test, unlabeled=a.unlabeled,
                       duration=a.duration, soundfont=a.soundfont, jobs=a.jobs or 1, progress=progress,
                       production=not a.dry)
    counts = ", ".join(f"{len(v)} {k}" for k, v in m["splits"].items())
    print(f"synthetic dataset in {Path(out).expanduser().resolve()}: {counts} ({m['args']['duration']:g} s each)")
    return 0
