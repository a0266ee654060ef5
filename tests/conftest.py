"""Fixtures shared by several test modules."""
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
