"""``python -m demucs_study train`` (training.cli): its options, and what it prints and returns.

Training itself is replaced by a stub here (the real loop: test_training_experiment.py)."""
import subprocess
import sys
from pathlib import Path

import pytest

from demucs_study.cli import main as cli_main
from demucs_study.training import cli as train_module
from demucs_study.training import dist, experiment

SMOKE = str(Path(__file__).resolve().parents[1] / "params" / "smoke" / "demucs.yaml")


def test_help_exits_0_and_lists_the_options():
    """The real entry point; fast: --help is answered before torch is imported."""
    proc = subprocess.run([sys.executable, "-m", "demucs_study", "train", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == ""
    for option in ("--params", "--set", "--stop-after-epochs", "--no-progress", "--device", "--threads"):
        assert option in proc.stdout
    assert proc.stdout.startswith("usage: python -m demucs_study train")


def test_missing_params_file_is_one_error_line(tmp_path, capsys, monkeypatch):
    """What ``python -m demucs_study train --params <missing>`` prints (the CLI's main, in this process:
    a subprocess would spend seconds importing torch before reading the parameters)."""
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")  # train() sets it if unset: keep this process's value
    missing = tmp_path / "nope" / "demucs.yaml"
    assert cli_main(["train", "--params", str(missing)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"error: parameter file {missing} does not exist; pick one of the files in params/<profile>/\n"


def test_params_is_required(capsys):
    with pytest.raises(SystemExit) as exit_:
        train_module.train([])
    assert exit_.value.code == 2
    assert "the following arguments are required: --params" in capsys.readouterr().err


@pytest.fixture
def stub_training(monkeypatch):
    """Replace train_experiment; record its arguments; count teardowns."""
    calls = {"train": [], "teardown": 0}

    def fake(params, **kwargs):
        calls["train"].append((params, kwargs))
        return calls["result"]

    monkeypatch.setattr(experiment, "train_experiment", fake)
    monkeypatch.setattr(dist, "teardown", lambda: calls.__setitem__("teardown", calls["teardown"] + 1))
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    return calls


def test_options_reach_train_experiment_and_the_summary_is_printed(stub_training, capsys):
    stub_training["result"] = {"done": True, "experiment": "demucs lr=0.001", "best_valid": 0.12345,
                               "baseline_valid": 0.5, "best": "runs/smoke/demucs lr=0.001/best.th"}
    argv = ["--params", SMOKE, "--set", "train.lr=1e-3", "--stop-after-epochs", "3", "--no-progress",
            "--device", "cpu", "--threads", "2"]
    assert train_module.train(argv) == 0
    ((params, kwargs),) = stub_training["train"]
    assert params["experiment"] == "demucs lr=0.001" and params["train"]["lr"] == 1e-3
    assert kwargs == {"stop_after_epochs": 3, "progress": False, "device": "cpu", "threads": 2}
    assert stub_training["teardown"] == 1
    assert capsys.readouterr().out == ("done: 'demucs lr=0.001', best valid 0.1235 (baseline mixture/4: 0.5000); "
                                       "model in runs/smoke/demucs lr=0.001/best.th\n")


def test_a_stopped_run_says_how_to_continue(stub_training, capsys):
    stub_training["result"] = {"done": False, "epochs_done": 1, "run_dir": "runs/smoke/demucs"}
    assert train_module.train(["--params", SMOKE]) == 0
    assert stub_training["train"][0][1] == {"stop_after_epochs": None, "progress": True, "device": None,
                                            "threads": None}
    assert capsys.readouterr().out == ("stopped after 1 epoch(s); run the same command to continue "
                                       "(runs/smoke/demucs)\n")


def test_other_ranks_print_nothing(stub_training, capsys, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    stub_training["result"] = {"done": True}  # rank 1 must not even read it
    assert train_module.train(["--params", SMOKE]) == 0
    assert capsys.readouterr().out == ""


def test_teardown_runs_when_training_fails(stub_training, capsys, monkeypatch):
    def diverged(params, **kwargs):
        raise experiment.TrainingDiverged("'demucs' diverged at epoch 1")

    monkeypatch.setattr(experiment, "train_experiment", diverged)
    assert cli_main(["train", "--params", SMOKE]) == 1
    assert stub_training["teardown"] == 1
    assert capsys.readouterr().err == "error: 'demucs' diverged at epoch 1\n"


def test_unknown_override_is_a_params_error(stub_training, capsys):
    assert cli_main(["train", "--params", SMOKE, "--set", "train.nope=1"]) == 1
    assert capsys.readouterr().err.startswith("error: unknown parameter train.nope (known keys here: ")
    assert stub_training["train"] == []
