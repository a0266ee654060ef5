"""``python -m demucs_study <command> ...``: one entry point, each command lives in its own module.

Each module named below defines ``main(argv: list[str]) -> int``; it is imported only when its
command runs, so ``--help`` stays fast and nothing is imported at start-up that is not needed.
"""
from __future__ import annotations

import importlib
import sys

from .errors import StudyError

COMMANDS = {
    "generate-data": ("demucs_study.data.synth.cli", "render the synthetic MUSDB-layout dataset"),
    "train": ("demucs_study.train", "train an experiment from a params YAML (resumes if interrupted)"),
    "separate": ("demucs_study.separate", "separate audio files into drums, bass, other, vocals"),
    "evaluate": ("demucs_study.evaluate", "museval BSSEval v4 of an experiment on the test tracks"),
    "table": ("demucs_study.reporting.tables", "build the comparison tables from per-track results"),
    "run-notebook": ("demucs_study.reporting.runner", "execute a notebook with papermill for a profile"),
}


def usage() -> str:
    lines = ["usage: python -m demucs_study <command> [options]", "", "commands:"]
    lines += [f"  {name:<14} {help_}" for name, (_, help_) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"error: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    try:
        return int(module.main(rest) or 0)
    except StudyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
