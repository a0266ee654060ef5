"""Fixtures shared by several test modules."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def smoke_data(tmp_path_factory) -> Path:
    """The smoke profile's synthetic dataset, made once per session by the data step
    (``data.roots.prepare_root``); returns the data folder to point ``DEMUCS_STUDY_DATA`` at."""
    from demucs_study.config import load_params
    from demucs_study.data.roots import prepare_root

    data = tmp_path_factory.getbasetemp() / "train-smoke-data"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEMUCS_STUDY_DATA", str(data))
        mp.delenv("MUSDB_ROOT", raising=False)
        params = load_params(ROOT / "params" / "smoke" / "data.yaml")
        prepare_root(params["dataset"], params["profile"])
    return data


@pytest.fixture(scope="session")
def explore_root(tmp_path_factory) -> dict:
    """A small explorable smoke profile (``tests/explore_fixture.py``), built once per session; returns the
    environment variables that point the library at it."""
    from explore_fixture import make_explore_profile

    return make_explore_profile(tmp_path_factory.mktemp("explore"))


@pytest.fixture
def explore_env(explore_root, monkeypatch) -> dict:
    """:func:`explore_root` set in the environment for one test."""
    for key, value in explore_root.items():
        monkeypatch.setenv(key, value)
    return explore_root


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """``make paper-results PROFILE=smoke`` once per session into temporary folders (this interpreter, no MUSDB18): the
    smoke DAG test checks it, and the extended-smoke DAG reuses its finished Demucs run (``runs_from: smoke``).
    Returns ``(base folder, environment, the completed process)``."""
    base = tmp_path_factory.mktemp("paper")
    env = {**os.environ, "DEMUCS_STUDY_DATA": str(base / "data"), "DEMUCS_STUDY_RUNS": str(base / "runs"),
           "DEMUCS_STUDY_RESULTS": str(base / "results"), "PYTHON": sys.executable}
    env.pop("MUSDB_ROOT", None)
    # -j2: independent steps two at a time (the DAG is -j safe: stamps, locked provenance); the outputs are those
    # of a serial run (per-track JSON and tables compared byte for byte here), in about 70 % of its time
    first = subprocess.run(["make", "-j2", "-C", str(ROOT), "paper-results", "PROFILE=smoke"], env=env,
                           capture_output=True, text=True, timeout=1500)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    return base, env, first
