"""Where things live. Every location can be moved with an environment variable.

==========================  ===========================  =====================================
what                        default                      environment variable
==========================  ===========================  =====================================
generated data and caches   ``<repo>/data``              ``DEMUCS_STUDY_DATA``
checkpoints and logs        ``<repo>/runs``              ``DEMUCS_STUDY_RUNS``
tables, figures, notebooks  ``<repo>/results``           ``DEMUCS_STUDY_RESULTS``
real MUSDB18 (optional)     none: synthetic data is used ``MUSDB_ROOT``
==========================  ===========================  =====================================
"""
from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The checkout this package was installed from (editable install), else the working directory."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "lib" / "demucs_study").is_dir():
            return parent
    return Path.cwd()


def _dir(var: str, default: str) -> Path:
    value = os.environ.get(var)
    return Path(value).expanduser() if value else repo_root() / default


def data_dir() -> Path:
    return _dir("DEMUCS_STUDY_DATA", "data")


def runs_dir() -> Path:
    return _dir("DEMUCS_STUDY_RUNS", "runs")


def results_dir() -> Path:
    return _dir("DEMUCS_STUDY_RESULTS", "results")


def params_dir() -> Path:
    return repo_root() / "params"


def musdb_root() -> Path | None:
    value = os.environ.get("MUSDB_ROOT")
    return Path(value).expanduser() if value else None
