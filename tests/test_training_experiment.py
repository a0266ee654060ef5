"""The training loop on the smoke profile: it trains, checkpoints, resumes bit for bit, logs, saves the best model.
(The pieces it is made of are tested in test_training_{batches,checkpoint,loop,rng,runs,dist,cli}.py.)"""
import math
import os
import random
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from demucs_study.config import load_params
from demucs_study.errors import ParamsError
from demucs_study.models import Demucs
from demucs_study.models.io import load_model
from demucs_study.training.cli import train as train_cli
from demucs_study.training.experiment import train_experiment
from demucs_study.training.runs import best_model_path, load_history, run_dir
from demucs_study.training import checkpoint as C
from demucs_study.training import rng
from demucs_study.training.experiment import train_hash

ROOT = Path(__file__).resolve().parents[1]
#: Every test here trains the smoke experiment (seconds each): part of make test, not of make test-fast.
pytestmark = pytest.mark.slow
SMOKE = ROOT / "params" / "smoke" / "demucs.yaml"
THREADS = 1


def smoke_params(*overrides):
    return load_params(SMOKE, list(overrides))


@pytest.fixture(scope="module")
def env(tmp_path_factory, smoke_data):
    """Runs in a per-module temp dir; the smoke data set is shared with test_training_ddp.py (made once)."""
    data = smoke_data
    runs = tmp_path_factory.mktemp("runs")
    threads = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEMUCS_STUDY_DATA", str(data))
        mp.setenv("DEMUCS_STUDY_RUNS", str(runs / "a"))
        mp.delenv("MUSDB_ROOT", raising=False)
        yield SimpleNamespace(mp=mp, runs=runs)
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def full_run(env):
    """The smoke experiment trained without interruption (2 epochs) in runs/a."""
    return train_experiment(smoke_params(), progress=False, threads=THREADS)


def states_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_smoke_trains_with_finite_losses_and_logs_every_epoch(full_run):
    params = smoke_params()
    assert full_run["done"] and full_run["epochs_done"] == params["train"]["epochs"] == 2
    assert full_run["run_dir"] == run_dir(params) == Path(os.environ["DEMUCS_STUDY_RUNS"]) / "smoke" / "demucs"
    history = load_history(full_run["run_dir"])
    assert history["done"] is True and history["epochs_done"] == 2
    assert [e["epoch"] for e in history["history"]] == [1, 2]
    for entry in history["history"]:
        assert set(entry) == {"epoch", "train", "valid", "best", "best_epoch", "steps", "seconds", "lr"}
        assert entry["steps"] == 3   # 15 smoke windows, batches of 4 (the last partial batch dropped)
        assert all(math.isfinite(entry[k]) for k in ("train", "valid", "best", "seconds"))
        assert entry["lr"] == pytest.approx(3e-4)
    assert history["best_valid"] == min(e["valid"] for e in history["history"])
    assert history["history"][-1]["best"] == history["best_valid"]
    assert math.isfinite(history["baseline_valid"]) and history["baseline_valid"] > 0
    assert full_run["history"] == history["history"]


def test_finished_run_returns_at_once_without_touching_files(full_run, monkeypatch):
    from demucs_study.training import experiment

    ck = full_run["checkpoint"]
    mtime = ck.stat().st_mtime_ns

    def no_building(*args, **kwargs):
        raise AssertionError("a finished run must not load data or build a model again")

    monkeypatch.setattr(experiment, "_build", no_building)
    again = train_experiment(smoke_params(), progress=False, threads=THREADS)
    assert again["done"] and again["history"] == full_run["history"]
    assert ck.stat().st_mtime_ns == mtime


def test_checkpoint_holds_states_optimizer_history_and_every_rng(full_run):
    ck = torch.load(full_run["checkpoint"], weights_only=True)
    assert set(ck) == set(C.KEYS)
    assert ck["epoch"] == 2 and ck["world_size"] == 1 and ck["params_hash"] == train_hash(smoke_params())
    assert ck["history"] == full_run["history"]
    assert ck["best_epoch"] == min(ck["history"], key=lambda e: e["valid"])["epoch"]
    model = Demucs(**smoke_params()["models"]["demucs"])
    assert ck["model"].keys() == model.state_dict().keys() == ck["best_state"].keys()
    assert ck["optimizer"]["state"][0]["step"].item() == 2 * 3  # 2 epochs x 3 batches of 4 among 15 windows
    (state,) = ck["rng"]
    assert state["torch"].dtype == torch.uint8 and state["numpy"]["keys"].shape == (624,)
    assert state["python"]["state"].shape == (625,)
    # FlipSign, FlipChannels, Shift, Remix: one generator each, keyed by their index in the Sequential
    assert sorted(state["generators"]) == ["0", "1", "2", "3"]
    assert all(g.dtype == torch.uint8 for g in state["generators"].values())
    assert ck["sampler"]["epoch"] == 2 and ck["sampler"]["seed"] == 42


def test_best_model_is_saved_and_loads_weights_only(full_run):
    path = best_model_path(smoke_params())
    assert full_run["best"] == path and path.is_file()
    package = torch.load(path, weights_only=True)
    assert package["extra"]["epoch"] == load_history(full_run["run_dir"])["best_epoch"]
    model = load_model(path)
    ck = torch.load(full_run["checkpoint"], weights_only=True)
    assert states_equal(model.state_dict(), ck["best_state"])


def test_resume_after_one_epoch_gives_bitwise_identical_weights(env, full_run):
    env.mp.setenv("DEMUCS_STUDY_RUNS", str(env.runs / "b"))
    try:
        # The CLI, stopped after epoch 1 (the flag does not enter the experiment's name).
        assert train_cli(["--params", str(SMOKE), "--stop-after-epochs", "1", "--no-progress", "--threads", str(THREADS)]) == 0
        folder = run_dir(smoke_params())
        assert load_history(folder)["epochs_done"] == 1 and not load_history(folder)["done"]
        assert not (folder / "best.th").exists()
        # Another process state in between: the global generators are disturbed.
        torch.manual_seed(123), np.random.seed(5), random.seed(9)
        resumed = train_experiment(smoke_params(), progress=False, threads=THREADS)
    finally:
        env.mp.setenv("DEMUCS_STUDY_RUNS", str(env.runs / "a"))
    assert resumed["done"] and resumed["epochs_done"] == 2
    a = torch.load(full_run["checkpoint"], weights_only=True)
    b = torch.load(resumed["checkpoint"], weights_only=True)
    assert states_equal(a["model"], b["model"])
    assert states_equal(a["best_state"], b["best_state"])
    assert states_equal(load_model(full_run["best"]).state_dict(), load_model(resumed["best"]).state_dict())
    assert [e["train"] for e in a["history"]] == [e["train"] for e in b["history"]]


def test_resume_without_restoring_rng_would_differ(env, full_run, monkeypatch):
    """The bitwise test above has teeth: skipping the RNG restore changes the weights."""
    env.mp.setenv("DEMUCS_STUDY_RUNS", str(env.runs / "c"))
    try:
        train_experiment(smoke_params(), stop_after_epochs=1, progress=False, threads=THREADS)
        monkeypatch.setattr(rng, "restore", lambda state, generators=None: None)
        broken = train_experiment(smoke_params(), progress=False, threads=THREADS)
    finally:
        env.mp.setenv("DEMUCS_STUDY_RUNS", str(env.runs / "a"))
    a = torch.load(full_run["checkpoint"], weights_only=True)
    b = torch.load(broken["checkpoint"], weights_only=True)
    assert not states_equal(a["model"], b["model"])


def test_bad_epochs_are_a_params_error(env):
    with pytest.raises(ParamsError, match=r"train.epochs=0 must be >= 1"):
        train_experiment(smoke_params("train.epochs=0"), progress=False)


def test_train_hash_ignores_what_does_not_change_learning():
    base = train_hash(smoke_params())
    assert train_hash(smoke_params("train.epochs=5", "train.workers=2", "separate.shifts=3")) == base
    assert train_hash(smoke_params("train.lr=1e-3")) != base


def test_checkpoint_of_other_parameters_is_not_resumed(env, capsys):
    env.mp.setenv("DEMUCS_STUDY_RUNS", str(env.runs / "d"))
    try:
        params = smoke_params()
        folder = run_dir(params)
        stale = {k: None for k in C.KEYS} | {"format_version": C.FORMAT_VERSION, "params_hash": "0" * 16, "epoch": 1}
        C.save_checkpoint(folder / "checkpoint.th", stale)
        (folder / "best.th").write_bytes(b"a model of other parameters")
        result = train_experiment(params, stop_after_epochs=0, progress=False, threads=THREADS)
    finally:
        env.mp.setenv("DEMUCS_STUDY_RUNS", str(env.runs / "a"))
    assert "made with other parameters" in capsys.readouterr().out
    assert result["epochs_done"] == 0 and not result["done"] and not (folder / "best.th").exists()


def test_divergence_stops_with_a_clear_error_and_keeps_no_bad_checkpoint(env, monkeypatch):
    from demucs_study.training import experiment

    monkeypatch.setattr(experiment, "train_epoch", lambda *a, **k: (float("nan"), 2))
    env.mp.setenv("DEMUCS_STUDY_RUNS", str(env.runs / "e"))
    try:
        with pytest.raises(experiment.TrainingDiverged, match=r"'demucs' diverged at epoch 1 .*lower train.lr"):
            train_experiment(smoke_params(), progress=False, threads=THREADS)
        assert not (run_dir(smoke_params()) / "checkpoint.th").exists()
    finally:
        env.mp.setenv("DEMUCS_STUDY_RUNS", str(env.runs / "a"))
