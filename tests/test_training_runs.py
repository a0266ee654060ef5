"""The files of a training run and reading them back (training.runs)."""
import json

import pytest

from demucs_study.errors import StudyError
from demucs_study.training.runs import (BEST, CHECKPOINT, HISTORY, best_model_path, load_history,
                                        profile_histories, run_dir, safe_name)


@pytest.fixture
def runs(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMUCS_STUDY_RUNS", str(tmp_path / "runs"))
    return tmp_path / "runs"


def write_history(folder, experiment, **extra):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / HISTORY).write_text(json.dumps({"experiment": experiment, "history": [], **extra}))


# ---- moved from test_training_experiment.py

def test_load_history_of_untrained_run_says_what_to_do(tmp_path):
    with pytest.raises(StudyError, match=r"no training log .*history.json.*python -m demucs_study train"):
        load_history(tmp_path)


# ---- names and folders

def test_file_names():
    assert (CHECKPOINT, HISTORY, BEST) == ("checkpoint.th", "history.json", "best.th")


@pytest.mark.parametrize("experiment, folder", [
    ("demucs", "demucs"),
    ("demucs glu=False lr=0.0005", "demucs glu=False lr=0.0005"),  # spaces and = kept
    ("a/b", "a_b"), ("../up", ".._up"), ("nul\0byte", "nul_byte"),
])
def test_safe_name(experiment, folder):
    assert safe_name(experiment) == folder


def test_run_dir_and_best_model_path_follow_the_runs_folder(runs):
    params = {"profile": "quick", "experiment": "demucs remix/unlabeled"}
    assert run_dir(params) == runs / "quick" / "demucs remix_unlabeled"
    assert best_model_path(params) == runs / "quick" / "demucs remix_unlabeled" / "best.th"
    assert run_dir(params).parent.parent == runs  # a name with a slash never escapes its profile


def test_load_history_reads_the_json(tmp_path):
    write_history(tmp_path, "demucs", best_valid=0.25, history=[{"epoch": 1}])
    assert load_history(tmp_path) == {"experiment": "demucs", "history": [{"epoch": 1}], "best_valid": 0.25}
    assert load_history(str(tmp_path))["best_valid"] == 0.25


def test_load_history_message_is_pinned(tmp_path):
    with pytest.raises(StudyError, match=rf"^no training log {tmp_path / HISTORY}: this experiment has not "
                                         r"trained yet; run python -m demucs_study train --params <its params "
                                         r"file>$"):
        load_history(tmp_path)


# ---- profile_histories

def test_profile_histories_are_keyed_by_experiment_and_sorted(runs):
    # written in an order that is neither sorted by experiment nor by folder
    write_history(runs / "quick" / "zz", "demucs glu=False")
    write_history(runs / "quick" / "aa", "demucs remix")
    write_history(runs / "quick" / "mm", "demucs")
    (runs / "quick" / "untrained").mkdir()                   # no history.json: left out
    write_history(runs / "smoke" / "demucs", "smoke one")   # another profile: left out
    out = profile_histories("quick")
    assert list(out) == ["demucs", "demucs glu=False", "demucs remix"]
    assert out["demucs remix"]["experiment"] == "demucs remix"  # keyed by the name in the file, not the folder
    assert list(profile_histories("smoke")) == ["smoke one"]


def test_profile_without_runs_has_no_histories(runs):
    assert profile_histories("full") == {}
