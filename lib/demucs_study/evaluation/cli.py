"""``python -m demucs_study evaluate``: BSSEval v4 (SiSEC 2018) of separated tracks, one JSON per track::

    python -m demucs_study evaluate --references DIR --estimates DIR --out DIR [--jobs N]

``--references`` is a MUSDB18-HQ-layout root (``<root>/test/<track>/<stem>.wav``, our synthetic
set too) or a folder of track folders; ``--estimates`` holds ``<track>/<stem>.wav`` as written by
``separate``; ``--out`` receives one museval JSON per track (existing ones are kept: resumable).
"""
from __future__ import annotations

import argparse
import warnings

from .aggregate import aggregate, track_scores_from_json
from .bsseval import SilentStemWarning
from .jobs import evaluate_tracks, json_path, tasks_from_folders


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m demucs_study evaluate",
                                description="museval BSSEval v4 (SiSEC 2018) of separated tracks, one JSON per track")
    p.add_argument("--references", required=True, help="reference root: <root>/<split>/<track>/<stem>.wav or <root>/<track>/...")
    p.add_argument("--estimates", required=True, help="estimates folder: <track>/<stem>.wav")
    p.add_argument("--out", required=True, help="output folder for <track>.json (existing files are kept)")
    p.add_argument("--split", default="test", help="sub-folder of --references to use if it exists (default test)")
    p.add_argument("--tracks", nargs="+", default=None, help="evaluate only these tracks")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (one BLAS thread each)")
    p.add_argument("--name", default=None, help="system name in the printed summary (default: the --out folder name)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no summary")
    return p


def evaluate(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    tasks = tasks_from_folders(args.references, args.estimates, split=args.split, tracks=args.tracks)
    with warnings.catch_warnings():
        warnings.simplefilter("always", SilentStemWarning)
        status = evaluate_tracks(tasks, args.out, jobs=args.jobs, progress=not args.quiet)
    if not args.quiet:
        counts = {s: sum(v == s for v in status.values()) for s in ("evaluated", "exists", "silent")}
        print(f"{len(status)} tracks: {counts['evaluated']} evaluated, {counts['exists']} already done, "
              f"{counts['silent']} skipped (silent stem)")
        if counts["evaluated"] + counts["exists"]:
            files = [json_path(args.out, n) for n, s in status.items() if s != "silent"]
            scores = track_scores_from_json(files, system=args.name)
            print(aggregate(scores).round(2).to_string())
    return 0
