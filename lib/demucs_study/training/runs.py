"""The files of a training run, and reading them back.

A run lives in ``runs/<profile>/<experiment>/`` (:func:`run_dir`; the experiment's name as is,
spaces and ``=`` included, ``/`` replaced by ``_``):

* ``checkpoint.th`` - after every epoch (:mod:`.checkpoint`), atomic;
* ``history.json`` - after every epoch, atomic: ``{"history": [{"epoch", "train", "valid", "best",
  "best_epoch", "steps" (optimisation steps), "seconds" (training and validation), "lr"}, ...], "baseline_valid", "best_valid", "best_epoch", "epochs_done",
  "done", "params", ...}``; ``baseline_valid`` is the validation loss of predicting mixture / 4 for
  every stem;
* ``best.th`` - at the end: the model of the epoch with the lowest validation loss, written by
  :func:`demucs_study.models.io.save_model` (loads with ``weights_only=True``).
"""
from __future__ import annotations

from pathlib import Path

from .. import paths
from ..errors import StudyError
from ..utils import read_json

CHECKPOINT = "checkpoint.th"
HISTORY = "history.json"
BEST = "best.th"


def safe_name(experiment: str) -> str:
    """The folder name of an experiment: its name with ``/`` (and NUL) replaced by ``_``."""
    return experiment.replace("/", "_").replace("\0", "_")


def run_dir(params: dict) -> Path:
    """``<runs_dir>/<profile>/<experiment>``: where the run of ``params`` keeps its files."""
    return paths.runs_dir() / str(params["profile"]) / safe_name(str(params["experiment"]))


def best_model_path(params: dict) -> Path:
    """Where the best model of the experiment is (or will be) saved."""
    return run_dir(params) / BEST


def load_history(folder: str | Path) -> dict:
    """The ``history.json`` of a run folder; a clear error if the run has not trained yet."""
    path = Path(folder) / HISTORY
    if not path.is_file():
        raise StudyError(f"no training log {path}: this experiment has not trained yet; run python -m "
                         "demucs_study train --params <its params file>")
    return read_json(path)


def profile_histories(profile: str) -> dict[str, dict]:
    """The history of every run of ``profile`` that has one, keyed by experiment name (sorted)."""
    out = {}
    for path in sorted((paths.runs_dir() / profile).glob(f"*/{HISTORY}")):
        doc = read_json(path)
        out[doc["experiment"]] = doc
    return dict(sorted(out.items()))
