"""``runs_from`` (training.experiment.reuse_run, remix.prepare.reuse_shared): a profile reuses another profile's
finished run of the same training parameters instead of training it again; runs of other parameters, unfinished
runs and a missing folder are not reused. Fast: the runs are constructed files, nothing trains (no dataset exists
here, so an experiment that tried to train would fail)."""
from pathlib import Path

import pytest

from demucs_study.config import load_params
from demucs_study.errors import ParamsError
from demucs_study.remix.prepare import SHARED, reuse_shared
from demucs_study.training.experiment import reuse_run, train_experiment, train_hash
from demucs_study.training.runs import BEST, CHECKPOINT, HISTORY, load_history, profile_histories, run_dir
from demucs_study.utils import read_json, write_json

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def runs(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMUCS_STUDY_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("DEMUCS_STUDY_DATA", str(tmp_path / "data"))      # empty: nothing can train
    monkeypatch.delenv("MUSDB_ROOT", raising=False)
    return tmp_path / "runs"


def finished_run(params: dict, folder: Path | None = None, done: bool = True, epochs: int | None = None) -> Path:
    """A run folder as training leaves it: checkpoint, best model (dummy bytes) and the history."""
    folder = folder or run_dir(params)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CHECKPOINT).write_bytes(b"checkpoint of " + params["experiment"].encode())
    (folder / BEST).write_bytes(b"best of " + params["experiment"].encode())
    epochs = int(params["train"]["epochs"]) if epochs is None else epochs
    write_json(folder / HISTORY, {
        "experiment": params["experiment"], "profile": params["profile"], "params_hash": train_hash(params),
        "epochs": epochs, "epochs_done": epochs, "done": done, "baseline_valid": 0.3, "best_valid": 0.2,
        "best_epoch": epochs, "total_seconds": 300.0, "params": params,
        "history": [{"epoch": e + 1, "train": 0.25, "valid": 0.2, "steps": 67, "seconds": 50.0} for e in range(epochs)]})
    return folder


def quick(name="demucs.yaml", *overrides):
    return load_params(ROOT / "params" / "quick" / name, list(overrides))


def extended(name="demucs.yaml", *overrides):
    return load_params(ROOT / "params" / "extended" / name, list(overrides))


def test_a_finished_run_of_the_same_training_parameters_is_copied_and_not_trained(runs):
    source = finished_run(quick())
    params = extended()
    result = train_experiment(params, progress=False)          # would raise (no dataset) if it trained
    folder = run_dir(params)
    assert folder == runs / "extended" / "demucs" and result["done"] and result["best"] == folder / BEST
    assert (folder / BEST).read_bytes() == (source / BEST).read_bytes()
    assert (folder / CHECKPOINT).read_bytes() == (source / CHECKPOINT).read_bytes()
    history = load_history(folder)
    assert history["reused_from"] == {"profile": "quick", "experiment": "demucs"}
    assert history["profile"] == "extended" and history["params"]["params_file"] == "params/extended/demucs.yaml"
    assert history["params_hash"] == train_hash(params) and history["epochs_done"] == 6
    assert list(profile_histories("extended")) == ["demucs"]
    assert read_json(source / HISTORY)["profile"] == "quick"    # the source is left as it was
    again = train_experiment(params, progress=False)            # now finished here: returned at once
    assert again["history"] == result["history"]


def test_the_remix_runs_and_the_other_models_are_found_under_their_names(runs):
    for name in ("demucs_labeled25_remix.yaml", "waveunet.yaml"):
        finished_run(quick(name))
    for name in ("demucs_rho-0.25_labeled_fraction-0.25.yaml", "waveunet.yaml"):
        assert reuse_run(extended(name)) is not None


def test_a_run_is_found_by_its_hash_whatever_its_folder_is_called(runs):
    finished_run(quick(), folder=runs / "quick" / "an old name")
    assert reuse_run(extended())["reused_from"]["experiment"] == "demucs"


@pytest.mark.parametrize("case", ["other seed", "unfinished", "fewer epochs", "no source profile"])
def test_nothing_else_is_reused(runs, case, capsys):
    if case == "other seed":
        finished_run(quick("demucs.yaml", "seed=43"), folder=runs / "quick" / "demucs")
    elif case == "unfinished":
        finished_run(quick(), done=False)
    elif case == "fewer epochs":
        finished_run(quick(), epochs=5)
    assert reuse_run(extended()) is None
    assert not (run_dir(extended()) / HISTORY).exists()
    assert "runs_from quick: no finished run with these training parameters" in capsys.readouterr().out


def test_a_profile_without_runs_from_never_looks_and_its_own_profile_is_an_error(runs):
    finished_run(quick())
    assert reuse_run(quick("demucs.yaml")) is None        # quick has runs_from: null
    with pytest.raises(ParamsError, match=r"runs_from = 'quick' is the experiment's own profile \(params/quick/"):
        reuse_run(quick("demucs.yaml", "runs_from=quick"))


def test_the_training_hash_ignores_the_profile_the_synthetic_folder_and_runs_from():
    a, b = quick(), extended()
    assert train_hash(a) == train_hash(b)
    assert train_hash(extended("demucs.yaml", "runs_from=smoke")) == train_hash(b)
    assert train_hash(extended("demucs.yaml", "dataset.synth.train=29")) != train_hash(b)   # the data itself counts
    assert train_hash(extended("demucs_seed-43.yaml")) != train_hash(b)


def test_remix_classifier_and_extraction_folders_are_reused_only_when_finished(runs):
    params = extended("demucs_rho-0.25.yaml")
    logs = []
    src = runs / "quick" / SHARED / "classifier-abc"
    out = runs / "extended" / SHARED / "classifier-abc"
    done = lambda folder: (folder / "classifier.th").is_file() and read_json(folder / "history.json").get("done")  # noqa: E731
    src.mkdir(parents=True)
    write_json(src / "history.json", {"done": False})
    (src / "classifier.th").write_bytes(b"weights")
    assert not reuse_shared(params, out, ("classifier.th", "history.json"), logs.append, finished=done)
    write_json(src / "history.json", {"done": True})
    assert reuse_shared(params, out, ("classifier.th", "history.json"), logs.append, finished=done)
    assert (out / "classifier.th").read_bytes() == b"weights" and read_json(out / "history.json") == {"done": True}
    assert logs == ["remix: reused classifier-abc of profile quick (same key: same labeled tracks, parameters and data)"]
    assert not reuse_shared(params, out, ("classifier.th", "history.json"), logs.append, finished=done)  # done here
    assert not reuse_shared(quick("demucs_remix.yaml"), runs / "quick" / SHARED / "x", ("m",), logs.append,
                            finished=lambda f: True)    # no runs_from
