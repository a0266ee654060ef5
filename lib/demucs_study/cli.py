"""``python -m demucs_study <command> ...``: one entry point for every command.

Each command's code lives in the package of its concern, in that package's ``cli.py``, as a function
named after the command (``train`` -> ``demucs_study.training.cli:train``) that takes ``argv`` and
returns the exit code. It is imported only when its command runs, so ``--help`` stays fast. The
parameters are a top-level concern (``config``, ``grid``): their command, ``grid``, is here.
"""
from __future__ import annotations

import importlib
import sys

from .errors import StudyError

#: command -> ("module:function", one line of help).
COMMANDS = {
    "generate-data": ("demucs_study.data.synth.cli:generate_data", "render the synthetic MUSDB-layout dataset"),
    "real-music": ("demucs_study.data.cli:real_music", "gather installed Debian music packages into one folder"),
    "train": ("demucs_study.training.cli:train", "train an experiment from a params YAML (resumes if interrupted)"),
    "separate": ("demucs_study.separation.cli:separate", "separate audio files into drums, bass, other, vocals"),
    "evaluate": ("demucs_study.evaluation.cli:evaluate", "BSSEval v4 (SiSEC 2018) of separated tracks, one JSON each"),
    "table": ("demucs_study.reporting.cli:table", "build the comparison tables from per-track results"),
    "run-notebook": ("demucs_study.reporting.cli:run_notebook", "execute a notebook with papermill for a profile"),
    "grid": ("demucs_study.cli:grid", "write a generated profile's parameter files (params/extended/)"),
}


def grid(argv: list[str] | None = None) -> int:
    """``python -m demucs_study grid PROFILE``: write ``params/PROFILE/`` from its grid in
    ``demucs_study.grid.GRIDS`` (``--check``: only say how the folder differs, exit 1 if it does)."""
    import argparse

    from .grid import GRIDS, check_grid, estimate, expected_seconds_note, render, write_grid

    p = argparse.ArgumentParser(prog="python -m demucs_study grid", description=grid.__doc__.split("\n")[0])
    p.add_argument("profile", choices=sorted(GRIDS))
    p.add_argument("--check", action="store_true", help="compare the folder with the grid, write nothing")
    a = p.parse_args(argv)
    if a.check:
        differences = check_grid(a.profile)
        print("\n".join(differences) if differences else f"params/{a.profile}/ is what its grid says")
        return 1 if differences else 0
    written = write_grid(a.profile)
    from .config import profile_experiments

    rendered = render(GRIDS[a.profile])
    rows = estimate(rendered.experiments, profile_experiments(GRIDS[a.profile].base))
    timing = f"; {expected_seconds_note(rows)}" if GRIDS[a.profile].timed else ""
    print(f"params/{a.profile}/: {len(written)} file(s) written{timing}")
    return 0


def usage() -> str:
    lines = ["usage: python -m demucs_study <command> [options]", "", "commands:"]
    lines += [f"  {name:<14} {help_}" for name, (_, help_) in COMMANDS.items()]
    return "\n".join(lines)


def command(name: str):
    """The function of command ``name`` (imports its module)."""
    module, function = COMMANDS[name][0].split(":")
    return getattr(importlib.import_module(module), function)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"error: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    try:
        return int(command(name)(rest) or 0)
    except StudyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
