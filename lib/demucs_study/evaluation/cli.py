"""``python -m demucs_study evaluate``: BSSEval v4 (SiSEC 2018) of separated tracks, one JSON per track::

    python -m demucs_study evaluate --references DIR --estimates DIR --out DIR [--jobs N] [--backend B]
    python -m demucs_study evaluate --params params/<profile>/<experiment>.yaml [--system S] [--check N]

With folders: ``--references`` is a MUSDB18-HQ-layout root (``<root>/test/<track>/<stem>.wav``, our
synthetic set too) or a folder of track folders; ``--estimates`` holds ``<track>/<stem>.wav`` as
written by ``separate``; ``--out`` receives one museval-layout JSON per track (existing ones are kept:
resumable). With ``--params``: a system of the study (the experiment, or ``--system MIX``/``IRM2``),
whose estimates and scores live where the study keeps them (:mod:`.testset`).

``--backend``: ``fast`` (default: :mod:`.fast`, museval's numbers to rounding, many times faster) or
``museval``. ``--check N`` scores N of the tracks again with museval itself and prints the largest
deviation per metric from the stored scores.
"""
from __future__ import annotations

import argparse
import warnings
from dataclasses import replace
from pathlib import Path

from ..errors import DatasetError
from .aggregate import aggregate, track_scores_from_json
from .bsseval import SilentStemWarning
from .jobs import check_with_museval, evaluate_tracks, json_path, tasks_from_folders


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m demucs_study evaluate",
                                description="BSSEval v4 (SiSEC 2018) of separated tracks, one JSON per track")
    p.add_argument("--references", help="reference root: <root>/<split>/<track>/<stem>.wav or <root>/<track>/...")
    p.add_argument("--estimates", help="estimates folder: <track>/<stem>.wav")
    p.add_argument("--out", help="output folder for <track>.json (existing files are kept)")
    p.add_argument("--params", help="instead of the three folders: a study experiment (params/<profile>/<name>.yaml)")
    p.add_argument("--system", default=None, help="with --params: the system to score (default: the experiment; "
                                                 "MIX or IRM2 for the references)")
    p.add_argument("--backend", default=None, choices=("fast", "museval"),
                   help="BSSEval implementation (default: fast, or eval.backend of --params)")
    p.add_argument("--check", type=int, default=None, metavar="N",
                   help="score N tracks again with museval and print the largest deviation per metric")
    p.add_argument("--split", default="test", help="sub-folder of --references to use if it exists (default test)")
    p.add_argument("--tracks", nargs="+", default=None, help="evaluate only these tracks")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (one BLAS thread each)")
    p.add_argument("--name", default=None, help="system name in the printed summary (default: the --out folder name)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no summary")
    return p


def _tasks(args):
    """(tasks, output folder, system name) from the folders or the study's --params."""
    if args.params:
        from ..config import load_params
        from .testset import evals_dir, system_tasks

        params = load_params(args.params)
        if args.backend:
            params["eval"]["backend"] = args.backend
        system = args.system or params["experiment"]
        return system_tasks(params, system), evals_dir(params["profile"], system), system
    missing = [f"--{k}" for k in ("references", "estimates", "out") if not getattr(args, k)]
    if missing:
        raise DatasetError(f"give {', '.join(missing)} (or --params params/<profile>/<experiment>.yaml)")
    tasks = tasks_from_folders(args.references, args.estimates, split=args.split, tracks=args.tracks)
    if args.backend:
        tasks = [replace(t, backend=args.backend) for t in tasks]
    return tasks, Path(args.out), args.name


def evaluate(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    tasks, out, name = _tasks(args)
    with warnings.catch_warnings():
        warnings.simplefilter("always", SilentStemWarning)
        status = evaluate_tracks(tasks, out, jobs=args.jobs, progress=not args.quiet)
    if not args.quiet:
        counts = {s: sum(v == s for v in status.values()) for s in ("evaluated", "exists", "silent")}
        print(f"{len(status)} tracks: {counts['evaluated']} evaluated, {counts['exists']} already done, "
              f"{counts['silent']} skipped (silent stem)")
        if counts["evaluated"] + counts["exists"]:
            files = [json_path(out, n) for n, s in status.items() if s != "silent"]
            scores = track_scores_from_json(files, system=name)
            print(aggregate(scores).round(2).to_string())
    if args.check:
        deviations = check_with_museval(tasks, out, args.check)
        worst = {m: max(d[m] for d in deviations.values()) for m in ("SDR", "ISR", "SIR", "SAR")}
        for track, d in deviations.items():
            print(f"check {track}: " + ", ".join(f"{m} {d[m]:.3g} dB" for m in ("SDR", "ISR", "SIR", "SAR")))
        print(f"largest deviation from museval over {len(deviations)} track(s): "
              + ", ".join(f"{m} {v:.3g} dB" for m, v in worst.items()))
    return 0
