"""Model files: plain-data round trip, weights-only loading, clear errors for bad files."""
import pytest
import torch

from demucs_study.errors import ParamsError
from demucs_study.models import MODELS, Demucs, build_model
from demucs_study.models.io import ModelError, load_model, load_package, save_model

TINY = dict(channels=4, depth=3, lstm_layers=1)


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = build_model("demucs", **TINY)
    path = save_model(model, tmp_path / "model.th", extra={"epoch": 3, "valid_loss": 0.25})
    return model, path


def test_round_trip_gives_bitwise_identical_outputs(saved):
    model, path = saved
    loaded = load_model(path)
    assert type(loaded) is Demucs and not loaded.training
    assert loaded._init_args == model._init_args
    mix = torch.randn(2, 2, model.valid_length(2000))
    with torch.no_grad():
        assert torch.equal(loaded(mix), model.eval()(mix))


def test_file_is_plain_data_loadable_with_weights_only(saved):
    _, path = saved
    package = torch.load(path, weights_only=True, map_location="cpu")
    assert package["class"] == "demucs"
    assert package["kwargs"]["channels"] == 4 and package["kwargs"]["samplerate"] == 44100
    assert package["extra"] == {"samplerate": 44100, "sources": ["drums", "bass", "other", "vocals"],
                                "epoch": 3, "valid_loss": 0.25}
    assert all(isinstance(v, torch.Tensor) for v in package["state"].values())
    assert load_package(path)["extra"]["sources"] == ["drums", "bass", "other", "vocals"]
    assert [p.name for p in path.parent.iterdir()] == ["model.th"]  # no temporary file left behind


def test_missing_truncated_and_garbage_files_name_the_path(saved, tmp_path):
    _, path = saved
    with pytest.raises(ModelError, match=r"model file .*nothere\.th does not exist"):
        load_model(tmp_path / "nothere.th")
    truncated = tmp_path / "truncated.th"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ModelError, match=r"cannot read model file .*truncated\.th: it is truncated, corrupt"):
        load_model(truncated)
    garbage = tmp_path / "garbage.th"
    garbage.write_bytes(b"not a model at all" * 10)
    with pytest.raises(ModelError, match=r"cannot read model file .*garbage\.th"):
        load_model(garbage)


class Payload:
    """Unpickling this would run code (print); weights-only loading must refuse it."""

    def __reduce__(self):
        return (print, ("this must never run",))


def test_pickled_code_is_refused(tmp_path, capsys):
    path = tmp_path / "code.th"
    torch.save({"class": "demucs", "kwargs": {}, "state": {}, "extra": {"x": Payload()}}, path)
    with pytest.raises(ModelError, match=r"refusing to load model file .*code\.th: it holds Python objects \(print\)"):
        load_model(path)
    assert "must never run" not in capsys.readouterr().out


def test_unknown_class_wrong_content_and_mismatched_weights(saved, tmp_path):
    model, path = saved
    package = torch.load(path, weights_only=True)
    other = tmp_path / "other.th"
    torch.save({**package, "class": "nope"}, other)
    with pytest.raises(ModelError, match=r"other\.th holds a model of unknown class 'nope'; this version knows \['demucs'"):
        load_model(other)
    torch.save({"weights": package["state"]}, other)
    with pytest.raises(ModelError, match=r"other\.th is not a model file written by .*save_model"):
        load_model(other)
    torch.save({**package, "kwargs": {**package["kwargs"], "channels": 8}}, other)
    with pytest.raises(ModelError, match=r"model file .*other\.th does not match the 'demucs' model"):
        load_model(other)


def test_save_rejects_non_plain_extra_and_keeps_the_old_file(saved):
    model, path = saved
    before = path.read_bytes()
    with pytest.raises(TypeError, match="extra: Tensor value"):
        save_model(model, path, extra={"bad": torch.zeros(1)})
    assert path.read_bytes() == before


def test_build_model_errors():
    assert MODELS["demucs"] is Demucs
    with pytest.raises(ParamsError, match=r"unknown model 'wavenet'; choose one of \['demucs'"):
        build_model("wavenet")
    with pytest.raises(ParamsError, match=r"model 'demucs' has no argument\(s\) \['chanels'\]"):
        build_model("demucs", chanels=4)
