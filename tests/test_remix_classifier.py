"""The silence classifier network: log-mel features, registered and saved weights-only with its thresholds,
windows of a mixture scored in order. (Its training: test_remix_classifier_train.py.)"""
import numpy as np
import pytest
import torch

from demucs_study.models import MODELS
from demucs_study.models.io import ModelError, load_model, save_model
from demucs_study.remix import classifier_train as CT
from demucs_study.remix.classifier import SilenceClassifier, frames, load_classifier, mel_filterbank, score_mixture
from demucs_study.training import checkpoint as C

from remix_helpers import SR, shared_data


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return shared_data(tmp_path_factory)


def states_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_mel_filterbank_covers_the_range_with_unit_area_filters():
    bank = mel_filterbank(2048, 64, SR, 20.0, 16000.0)
    assert bank.shape == (64, 1025) and (bank >= 0).all()
    assert np.allclose(bank.sum(axis=1), 1.0)
    centres = (bank * np.arange(1025)).sum(axis=1) / bank.sum(axis=1) * SR / 2048
    assert np.all(np.diff(centres) > 0) and centres[0] < 100 and 12000 < centres[-1] < 16000


def test_classifier_file_is_registered_and_loads_weights_only(shared):
    _, _, result = shared
    from demucs_study.models.io import registry

    assert registry()["silence_classifier"] is SilenceClassifier and "silence_classifier" not in MODELS
    package = torch.load(result["classifier"], weights_only=True)
    assert package["class"] == "silence_classifier"
    assert package["extra"]["thresholds"] == result["thresholds"]
    assert package["extra"]["window"] == 0.5 and package["extra"]["hop"] == 0.25
    assert package["extra"]["config"]["drop"] == CT.DEFAULTS["drop"]
    assert not any(k.startswith("mel") or "stft_window" in k for k in package["state"])   # fixed buffers not stored
    model = load_model(result["classifier"])
    ck = C.load_checkpoint(result["checkpoint"])
    assert states_equal(model.state_dict(), ck["best_state"])
    x = torch.randn(2, 2, SR // 2) * 0.1
    assert torch.equal(model.probabilities(x), load_classifier(result["classifier"])[0].probabilities(x))


def test_windows_are_scored_in_order_and_short_input_is_refused(tmp_path):
    torch.manual_seed(0)
    model = SilenceClassifier(window=0.5, channels=[4, 4, 4]).eval()
    x = torch.randn(2, SR * 2) * 0.1
    w = frames(x, SR // 2, SR // 4)
    assert w.shape == (7, 2, SR // 2) and torch.equal(w[3], x[:, 3 * SR // 4: 3 * SR // 4 + SR // 2])
    p = score_mixture(model, x.numpy(), SR // 4, batch_size=3)          # batches of 3 windows: same as one pass
    assert p.shape == (7, 4) and np.allclose(p, model.probabilities(w).double().numpy(), atol=1e-6)
    assert score_mixture(model, x[:, :100].numpy(), SR // 4).shape == (0, 4)
    with pytest.raises(ValueError, match="needs at least n_fft=2048 samples"):
        model(torch.zeros(1, 2, 100))
    with pytest.raises(ValueError, match=r"expects \(batch, 2, time\)"):
        model(torch.zeros(2, 100))
    other = tmp_path / "other.th"
    from demucs_study.models import Demucs

    save_model(Demucs(channels=4, depth=2), other)
    with pytest.raises(ModelError, match="not a silence classifier"):
        load_classifier(other)

