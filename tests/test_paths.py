"""Where things live, and the environment variables that move them (paths)."""
from pathlib import Path

import pytest

from demucs_study import paths

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = [("DEMUCS_STUDY_DATA", paths.data_dir, "data"), ("DEMUCS_STUDY_RUNS", paths.runs_dir, "runs"),
           ("DEMUCS_STUDY_RESULTS", paths.results_dir, "results")]


@pytest.fixture
def clean_env(monkeypatch):
    for var, _, _ in FOLDERS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("MUSDB_ROOT", raising=False)
    return monkeypatch


def test_repo_root_is_this_checkout():
    assert paths.repo_root() == ROOT
    assert (paths.repo_root() / "pyproject.toml").is_file()


def test_repo_root_does_not_depend_on_the_working_directory(tmp_path, clean_env):
    clean_env.chdir(tmp_path)
    assert paths.repo_root() == ROOT
    assert paths.data_dir() == ROOT / "data"


@pytest.mark.parametrize("var, function, default", FOLDERS, ids=[f[0] for f in FOLDERS])
def test_defaults_are_folders_of_the_checkout(clean_env, var, function, default):
    assert function() == ROOT / default


@pytest.mark.parametrize("var, function, default", FOLDERS, ids=[f[0] for f in FOLDERS])
def test_each_variable_moves_its_folder_only(clean_env, tmp_path, var, function, default):
    clean_env.setenv(var, str(tmp_path / "elsewhere"))
    assert function() == tmp_path / "elsewhere"
    others = [(f, d) for v, f, d in FOLDERS if v != var]
    assert all(f() == ROOT / d for f, d in others)


@pytest.mark.parametrize("var, function, default", FOLDERS, ids=[f[0] for f in FOLDERS])
def test_an_empty_variable_means_the_default(clean_env, var, function, default):
    clean_env.setenv(var, "")
    assert function() == ROOT / default


def test_home_is_expanded(clean_env, tmp_path):
    clean_env.setenv("HOME", str(tmp_path))
    clean_env.setenv("DEMUCS_STUDY_RUNS", "~/my runs")
    clean_env.setenv("MUSDB_ROOT", "~/musdb18")
    assert paths.runs_dir() == tmp_path / "my runs"
    assert paths.musdb_root() == tmp_path / "musdb18"


def test_musdb_root_is_none_unless_set(clean_env, tmp_path):
    assert paths.musdb_root() is None
    clean_env.setenv("MUSDB_ROOT", "")
    assert paths.musdb_root() is None
    clean_env.setenv("MUSDB_ROOT", str(tmp_path))
    assert paths.musdb_root() == tmp_path


def test_params_dir_is_in_the_checkout(clean_env, tmp_path):
    clean_env.setenv("DEMUCS_STUDY_DATA", str(tmp_path))  # no variable moves the parameters
    assert paths.params_dir() == ROOT / "params"
    assert (paths.params_dir() / "defaults.yaml").is_file()
