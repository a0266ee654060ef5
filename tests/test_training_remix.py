"""A remix experiment is a params file: the smoke remix run trains through the same loop, checkpoints nothing
new, resumes bit for bit, shares its budget's classifier and extraction with the other runs of that budget,
keeps the steps of the whole set on a labeled budget, never reads the hidden stems, and stops on bad input
with one message naming the cause and the fix, before writing anything."""
import random
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from demucs_study.config import load_params
from demucs_study.errors import ParamsError
from demucs_study.remix.errors import RemixError
from demucs_study.training import checkpoint as C
from demucs_study.training.cli import train as train_cli
from demucs_study.training.experiment import train_experiment
from demucs_study.training.runs import load_history, run_dir

from watch_helpers import touched, watching

ROOT = Path(__file__).resolve().parents[1]
#: Every test here trains smoke experiments (seconds each): part of make test, not of make test-fast.
pytestmark = pytest.mark.slow
REMIX = ROOT / "params" / "smoke" / "demucs_remix.yaml"
THREADS = 1


def params(*overrides, path=REMIX):
    return load_params(path, list(overrides))


def states_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def env(tmp_path_factory, smoke_data):
    runs = tmp_path_factory.mktemp("remix-runs")
    threads = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEMUCS_STUDY_DATA", str(smoke_data))
        mp.setenv("DEMUCS_STUDY_RUNS", str(runs / "a"))
        mp.delenv("MUSDB_ROOT", raising=False)
        yield SimpleNamespace(mp=mp, runs=runs, data=smoke_data)
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def full_run(env):
    """The smoke remix experiment trained without interruption, every file access watched."""
    with watching() as seen:
        result = train_experiment(params(), progress=False, threads=THREADS)
    return {"result": result, "seen": seen}


def test_remix_run_trains_and_logs_both_losses(full_run):
    result = full_run["result"]
    assert result["done"] and result["experiment"] == "demucs rho=0.25"
    history = load_history(result["run_dir"])
    for entry in history["history"]:
        assert np.isfinite(entry["train_supervised"]) and np.isfinite(entry["train_weak"])
        assert np.isfinite(entry["valid"])
    info = history["remix"]
    assert info["items"] > 0 and info["unlabeled"].endswith("unlabeled")
    assert set(info["yield"]) == {"drums", "bass", "vocals"} and sum(y["minutes"] for y in info["yield"].values()) > 0
    assert info["classifier"].startswith("classifier-") and info["extraction"].startswith("extract-")
    # L = 1 s is shorter than the 2 s training segment: the remixed items are the longest valid input within 1 s
    assert 0.5 * 44100 < info["length"] <= 44100


def test_remix_run_checkpoints_nothing_new_and_keeps_the_steps(full_run):
    ck = torch.load(full_run["result"]["checkpoint"], weights_only=True)
    assert set(ck) == set(C.KEYS)
    # 3 smoke tracks x 5 windows = 15 windows: 3 steps of 4 per epoch, as the run without remix
    assert ck["optimizer"]["state"][0]["step"].item() == 2 * 3
    shared = Path(full_run["result"]["run_dir"]).parent / "_remix"
    assert sorted(p.name.split("-")[0] for p in shared.iterdir()) == ["classifier", "extract"]
    assert sorted(p.name for p in full_run["result"]["run_dir"].iterdir()) == ["best.th", "checkpoint.th",
                                                                                 "history.json"]


def test_remix_run_never_reads_the_hidden_stems(full_run, env):
    seen = full_run["seen"]
    root = next(p for p in Path(env.data).glob("synth-smoke-*") if (p / "unlabeled").is_dir())
    assert any("unlabeled" in args and ".wav" in args or "cache/unlabeled" in args for _, args in seen)
    assert any("stems.npy" in args for _, args in seen)      # the watch saw the labeled stems
    assert touched(seen, root / "unlabeled_truth") == []


def test_remix_run_resumes_bit_for_bit_and_reuses_the_classifier(env, full_run):
    env.mp.setenv("DEMUCS_STUDY_RUNS", str(env.runs / "b"))
    try:
        assert train_cli(["--params", str(REMIX), "--stop-after-epochs", "1", "--no-progress", "--threads",
                          str(THREADS)]) == 0
        folder = run_dir(params())
        assert load_history(folder)["epochs_done"] == 1 and not (folder / "best.th").exists()
        classifier = next((folder.parent / "_remix").glob("classifier-*")) / "classifier.th"
        mtime = classifier.stat().st_mtime_ns
        torch.manual_seed(123), np.random.seed(5), random.seed(9)   # another process state in between
        resumed = train_experiment(params(), progress=False, threads=THREADS)
        assert classifier.stat().st_mtime_ns == mtime             # not trained again
    finally:
        env.mp.setenv("DEMUCS_STUDY_RUNS", str(env.runs / "a"))
    a = torch.load(full_run["result"]["checkpoint"], weights_only=True)
    b = torch.load(resumed["checkpoint"], weights_only=True)
    assert states_equal(a["model"], b["model"]) and states_equal(a["best_state"], b["best_state"])
    assert [e["train"] for e in a["history"]] == [e["train"] for e in b["history"]]
    # the comparison has teeth: the same run without remix ends elsewhere
    env.mp.setenv("DEMUCS_STUDY_RUNS", str(env.runs / "c"))
    try:
        plain = train_experiment(params("remix.rho=0"), progress=False, threads=THREADS)
    finally:
        env.mp.setenv("DEMUCS_STUDY_RUNS", str(env.runs / "a"))
    assert plain["experiment"] == "demucs"
    assert not states_equal(a["model"], torch.load(plain["checkpoint"], weights_only=True)["model"])


def test_runs_of_one_budget_share_the_classifier_and_a_labeled_budget_keeps_the_steps(env, full_run):
    shared = Path(full_run["result"]["run_dir"]).parent / "_remix"
    before = sorted(p.name for p in shared.iterdir())
    # another remix run of the same budget (another loss weight): same classifier, same extraction
    other = train_experiment(params("remix.weight=0.5", "train.epochs=1"), progress=False, threads=THREADS)
    assert sorted(p.name for p in shared.iterdir()) == before
    assert load_history(other["run_dir"])["remix"]["classifier"] == \
        load_history(full_run["result"]["run_dir"])["remix"]["classifier"]
    # a quarter of the labeled songs (1 of 3): its own classifier, and the steps of the whole set
    quarter = train_experiment(params("train.labeled_fraction=0.25", "train.epochs=1"), progress=False,
                               threads=THREADS)
    assert quarter["experiment"] == "demucs rho=0.25 epochs=1 labeled_fraction=0.25"
    classifiers = sorted(p.name for p in shared.glob("classifier-*"))
    assert len(classifiers) == 2 and load_history(quarter["run_dir"])["remix"]["classifier"] in classifiers
    ck = torch.load(quarter["checkpoint"], weights_only=True)
    assert ck["optimizer"]["state"][0]["step"].item() == 3      # 3 windows of 1 track, 3 steps of the 15 windows


def test_bad_input_is_one_clear_error_and_nothing_is_written(env, tmp_path):
    env.mp.setenv("DEMUCS_STUDY_RUNS", str(tmp_path / "runs"))
    try:
        with pytest.raises(RemixError, match=r"remix.unlabeled_data = real, but .*real-unlabeled does not exist: "
                                             r"install the freely licensed real music with make real-music"):
            train_experiment(params("remix.unlabeled_data=real"), progress=False, threads=THREADS)
        (tmp_path / "empty").mkdir()
        with pytest.raises(RemixError, match=r"holds no audio file .* the folder is remix.unlabeled_data"):
            train_experiment(params(f"remix.unlabeled_data={tmp_path / 'empty'}"), progress=False, threads=THREADS)
        with pytest.raises(RemixError, match=r"every file in .* is shorter than segment = 20 s .*remix.excerpt = 20 s"):
            train_experiment(params("remix.excerpt=20.0"), progress=False, threads=THREADS)
        with pytest.raises(RemixError, match=r"found no excerpt of 1 s above its thresholds .* no manifest written"):
            train_experiment(params("remix.extract.min_mix_db=10.0"), progress=False, threads=THREADS)
        with pytest.raises(ParamsError, match=r"the weak loss compares waveforms, but MMDense trains on another "
                                              r"representation"):
            train_experiment(params("remix.rho=0.25", path=ROOT / "params" / "smoke" / "mmdenselstm.yaml"),
                             progress=False, threads=THREADS)
    finally:
        env.mp.setenv("DEMUCS_STUDY_RUNS", str(env.runs / "a"))
    smoke = tmp_path / "runs" / "smoke"
    # no run folder holds anything; the shared folder holds finished classifiers (reusable) and no manifest
    assert [p for p in smoke.rglob("*") if p.is_file() and "_remix" not in p.relative_to(smoke).parts] == []
    assert list(smoke.rglob("manifest.json")) == [] and list(smoke.rglob("*.tmp*")) == []
    assert all((p / "classifier.th").is_file() for p in (smoke / "_remix").glob("classifier-*"))
