"""The per-epoch checkpoint (training.checkpoint): atomic write, weights-only round trip, clear errors."""
import math
from pathlib import Path

import pytest
import torch

from demucs_study.errors import StudyError
from demucs_study.training import checkpoint as C


def full_checkpoint(epoch: int = 3) -> dict:
    """Every key of C.KEYS with the kinds of values a real run stores (plain data and tensors)."""
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    # Adam's state dict after one step, written out (building an optimizer costs seconds the first time)
    optimizer = {"state": {i: {"step": torch.tensor(1.0), "exp_avg": torch.randn(p.shape),
                               "exp_avg_sq": torch.rand(p.shape)} for i, p in enumerate(model.parameters())},
                 "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1]}]}
    return {"format_version": C.FORMAT_VERSION, "experiment": "demucs glu=False", "params": {"train": {"lr": 1e-3}},
            "params_hash": "0123456789abcdef", "epoch": epoch, "model": C.cpu_state(model.state_dict()),
            "best_state": C.cpu_state(model.state_dict()), "best_loss": math.inf, "best_epoch": 0,
            "optimizer": optimizer, "history": [{"epoch": 1, "train": 0.5, "valid": 0.4}],
            "baseline_valid": 0.6, "world_size": 1, "rng": [{"torch": torch.get_rng_state()}],
            "sampler": {"seed": 42, "epoch": epoch, "state": torch.Generator().manual_seed(1).get_state()}}


# ---- moved from test_training_experiment.py

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


# ---- round trip and errors

def test_round_trip_gives_back_every_key_and_tensor(tmp_path):
    ck = full_checkpoint()
    path = C.save_checkpoint(tmp_path / "run" / "checkpoint.th", ck)
    assert path == tmp_path / "run" / "checkpoint.th"
    back = C.load_checkpoint(path)
    assert set(back) == set(C.KEYS)
    for key in ("model", "best_state"):
        assert back[key].keys() == ck[key].keys()
        assert all(torch.equal(back[key][k], ck[key][k]) for k in ck[key])
    assert back["best_loss"] == math.inf and back["history"] == ck["history"]
    assert torch.equal(back["optimizer"]["state"][0]["exp_avg"], ck["optimizer"]["state"][0]["exp_avg"])
    assert torch.equal(back["sampler"]["state"], ck["sampler"]["state"])
    assert torch.equal(back["rng"][0]["torch"], ck["rng"][0]["torch"])
    # what load_checkpoint accepts is what torch.load accepts with weights_only=True: plain data
    assert torch.load(path, weights_only=True)["experiment"] == "demucs glu=False"


def test_truncated_checkpoint_is_an_error_naming_the_file(tmp_path):
    path = C.save_checkpoint(tmp_path / "checkpoint.th", full_checkpoint())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # the machine died while copying it
    with pytest.raises(C.CheckpointError, match=rf"^cannot read checkpoint {path} \(\w+: .*\); delete it to train "
                                                r"this experiment from the start$"):
        C.load_checkpoint(path)


def test_missing_file_is_a_checkpoint_error(tmp_path):
    with pytest.raises(C.CheckpointError, match=r"cannot read checkpoint .*nope\.th \(FileNotFoundError: "):
        C.load_checkpoint(tmp_path / "nope.th")


def test_checkpoint_lacking_keys_is_refused_at_load(tmp_path):
    path = tmp_path / "checkpoint.th"
    torch.save({"format_version": C.FORMAT_VERSION, "epoch": 1, "model": {}}, path)
    missing = [k for k in C.KEYS if k not in ("format_version", "epoch", "model")]
    with pytest.raises(C.CheckpointError, match=rf"checkpoint {path} lacks the keys {missing}; delete it".replace(
            "[", r"\[").replace("]", r"\]")):
        C.load_checkpoint(path)


@pytest.mark.parametrize("content", [{"format_version": C.FORMAT_VERSION + 1}, {"epoch": 1}, [1, 2, 3]])
def test_other_formats_are_refused(tmp_path, content):
    path = tmp_path / "checkpoint.th"
    torch.save(content, path)
    with pytest.raises(C.CheckpointError, match=rf"^{path} is not a checkpoint of format {C.FORMAT_VERSION}; "
                                                r"delete it to train this experiment from the start$"):
        C.load_checkpoint(path)


def test_pickled_objects_are_refused_by_the_weights_only_load(tmp_path):
    path = tmp_path / "checkpoint.th"
    torch.save(full_checkpoint() | {"params": Path("not plain data")}, path)
    with pytest.raises(C.CheckpointError, match=r"cannot read checkpoint .*UnpicklingError"):
        C.load_checkpoint(path)


def test_checkpoint_error_is_a_study_error():
    assert issubclass(C.CheckpointError, StudyError) and issubclass(C.CheckpointError, ValueError)


def test_cpu_state_is_a_detached_copy():
    model = torch.nn.Linear(2, 1)
    state = C.cpu_state(model.state_dict())
    before = state["weight"].clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    assert torch.equal(state["weight"], before)  # later training steps do not change it
    assert not state["weight"].requires_grad and state["weight"].device.type == "cpu"
    assert state.keys() == model.state_dict().keys()
