"""The training loop on the smoke profile: it trains, checkpoints, resumes bit for bit, logs, saves the best model."""
import json
import math
import os
import random
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from demucs_study.config import load_params
from demucs_study.errors import ParamsError, StudyError
from demucs_study.models import Demucs, load_model
from demucs_study.training.cli import train as train_cli
from demucs_study.training.experiment import train_experiment
from demucs_study.training.runs import best_model_path, load_history, run_dir
from demucs_study.training import batches as B
from demucs_study.training import checkpoint as C
from demucs_study.training import rng
from demucs_study.training.experiment import train_hash
from demucs_study.training.loop import loss_function, validate, whole_track

ROOT = Path(__file__).resolve().parents[1]
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
        assert set(entry) == {"epoch", "train", "valid", "best", "best_epoch", "seconds", "lr"}
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
    assert ck["optimizer"]["state"][0]["step"].item() == 2 * 2  # 2 epochs x 2 batches of 4 among 9 windows
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


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.th"
    good = {k: k for k in C.KEYS} | {"format_version": C.FORMAT_VERSION, "epoch": 1}
    C.save_checkpoint(path, good)
    assert C.load_checkpoint(path)["epoch"] == 1

    def dying_save(obj, f):
        Path(f).write_bytes(b"half a checkpoint")
        raise KeyboardInterrupt  # killed while writing

    monkeypatch.setattr(torch, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        C.save_checkpoint(path, good | {"epoch": 2})
    assert C.load_checkpoint(path)["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.th"]
    with pytest.raises(ValueError, match=r"missing the keys \['sampler'\]"):
        C.save_checkpoint(path, {k: 0 for k in C.KEYS if k != "sampler"})


def test_corrupt_checkpoint_is_named(tmp_path):
    bad = tmp_path / "checkpoint.th"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(C.CheckpointError, match=r"cannot read checkpoint .*checkpoint\.th .*delete it"):
        C.load_checkpoint(bad)


class QuarterModel(torch.nn.Module):
    """A model with Demucs' contract: valid inputs are 100 + 8k samples, output trimmed by 50 each side, mix / 4."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(()))
        self.seen = []

    def valid_length(self, n):
        return 100 + 8 * math.ceil(max(n, 1) / 8)

    def forward(self, mix):
        self.seen.append(mix.shape[-1])
        assert (mix.shape[-1] - 100) % 8 == 0
        out = mix[..., 50:-50] * self.w / 4
        return out[:, None].expand(-1, 4, -1, -1)


def fake_tracks(lengths, seed=0):
    g = np.random.default_rng(seed)
    for n in lengths:
        stems = g.standard_normal((4, 2, n)).astype(np.float32) * 0.1
        mix = stems.sum(0)
        mono = mix.mean(0)
        yield SimpleNamespace(mixture=mix, stems=stems, mean=float(mono.mean()), std=float(mono.std()))


def test_validation_runs_whole_tracks_and_mixture_over_4_is_the_baseline():
    model = QuarterModel()
    out = validate(model, fake_tracks([1001, 2003]), loss_function("l1"), "cpu")
    assert out["tracks"] == 2
    assert model.seen == [model.valid_length(1001), model.valid_length(2003)]  # one pass per whole track
    assert out["loss"] == pytest.approx(out["baseline"], rel=1e-6) and out["baseline"] > 0
    seen = []

    def separator(m, mix):  # gets the raw whole mixture, returns raw estimates
        seen.append(tuple(mix.shape))
        return torch.zeros(4, *mix.shape)

    other = validate(model, fake_tracks([1001, 2003]), loss_function("l1"), "cpu", separate=separator)
    assert seen == [(2, 1001), (2, 2003)] and other["loss"] != pytest.approx(out["loss"])


def test_whole_track_output_is_aligned_with_the_input():
    model = QuarterModel()
    mix = torch.randn(2, 777)
    est = whole_track(model, mix)
    assert est.shape == (4, 2, 777)
    assert torch.allclose(est, (mix / 4).expand(4, 2, 777))


def test_input_length_is_the_longest_valid_length_that_fits():
    model = Demucs(channels=4)
    for n in (88200, 100000, 264600):
        length = B.input_length(model, n)
        assert length <= n < length + 4 ** 6  # valid inputs are spaced by stride ** depth = 4096
        size = length
        for _ in range(model.depth):  # every strided conv sees full windows: no sample dropped
            assert (size - model.kernel_size) % model.stride == 0
            size = (size - model.kernel_size) // model.stride + 1
    # the model runs on it (its output is ~10,900 samples shorter: docs/paper.md, section "Model", 451,924 -> 441,004)
    assert model(torch.zeros(1, 2, length)).shape[-1] == length - 10920
    with pytest.raises(ParamsError, match="shorter than the smallest input"):
        B.input_length(model, 100)


def test_epoch_order_depends_only_on_seed_and_epoch():
    one = B.epoch_batches(10, 4, 2, B.epoch_generator(42, 3))
    assert one == B.epoch_batches(10, 4, 2, B.epoch_generator(42, 3))
    assert one != B.epoch_batches(10, 4, 2, B.epoch_generator(42, 4))
    assert len(one) == 5 and all(len(b) == 4 for b in one)  # 2 passes over 10 windows, last partial batch dropped
    assert B.shard([0, 1, 2, 3, 4, 5, 6, 7], 1, 2) == [4, 5, 6, 7]


@pytest.mark.parametrize("num, batch, world, group, message", [
    (9, 6, 4, 0, r"batch_size=6 is the global batch and must be divisible by the 4 processes"),
    (9, 4, 2, 4, r"gets 2 items per batch, not a multiple of train.remix_group=4"),
    (3, 4, 1, 4, r"only 3 training windows for train.batch_size=4"),
])
def test_bad_batching_is_explained(num, batch, world, group, message):
    with pytest.raises(ParamsError, match=message):
        B.check_batching(num, batch, world, group, "x.yaml")


def test_unknown_loss_and_bad_epochs_are_params_errors(env):
    with pytest.raises(ParamsError, match=r"unknown train.loss='l3'"):
        loss_function("l3")
    with pytest.raises(ParamsError, match=r"train.epochs=0 must be >= 1"):
        train_experiment(smoke_params("train.epochs=0"), progress=False)


def test_train_hash_ignores_what_does_not_change_learning():
    base = train_hash(smoke_params())
    assert train_hash(smoke_params("train.epochs=5", "train.workers=2", "separate.shifts=3")) == base
    assert train_hash(smoke_params("train.lr=1e-3")) != base


def test_rng_capture_restores_every_generator():
    g = torch.Generator().manual_seed(1)
    state = rng.capture({"g": g})
    json.dumps({"ok": True})
    first = (torch.rand(3), np.random.rand(3), random.random(), torch.rand(2, generator=g))
    rng.restore(state, {"g": g})
    second = (torch.rand(3), np.random.rand(3), random.random(), torch.rand(2, generator=g))
    assert torch.equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    assert first[2] == second[2] and torch.equal(first[3], second[3])
    with pytest.raises(ValueError, match=r"generator states for \['g'\] but the run has \[\]"):
        rng.restore(state, {})


def test_load_history_of_untrained_run_says_what_to_do(tmp_path):
    with pytest.raises(StudyError, match=r"no training log .*history.json.*python -m demucs_study train"):
        load_history(tmp_path)


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
