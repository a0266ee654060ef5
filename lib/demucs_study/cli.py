"""``python -m demucs_study <command> ...``: one entry point for every command.

Each command's code lives in the package of its concern, in that package's ``cli.py``, as a function
named after the command (``train`` -> ``demucs_study.training.cli:train``) that takes ``argv`` and
returns the exit code. It is imported only when its command runs, so ``--help`` stays fast.
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
}


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
