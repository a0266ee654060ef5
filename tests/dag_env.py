"""The environment of a DAG run inside a test: data, runs and results in a temporary folder, this interpreter,
no MUSDB18 (shared by the smoke and extended-smoke DAG tests)."""
import os
import sys
from pathlib import Path


def dag_env(base: Path) -> dict[str, str]:
    env = {**os.environ, "DEMUCS_STUDY_DATA": str(base / "data"), "DEMUCS_STUDY_RUNS": str(base / "runs"),
           "DEMUCS_STUDY_RESULTS": str(base / "results"), "PYTHON": sys.executable}
    env.pop("MUSDB_ROOT", None)
    return env
