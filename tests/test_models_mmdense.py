"""MMDense(LSTM): shapes of the training domain, the valid-length contract, alignment of separate, the
Wiener filter (sum of the estimates, oracle magnitudes), save/load, the paper's structure, smoke training."""
import math

import pytest
import torch

from demucs_study import SOURCES
from demucs_study.augment import make_augmentations
from demucs_study.errors import ParamsError
from demucs_study.models import MODELS, MMDense, build_model
from demucs_study.models.spectral import istft, stft, wiener
from demucs_study.models.utils import center_trim
from demucs_study.separation.apply import apply_model

from model_helpers import n_params, round_trip, smoke_epochs

TINY = dict(n_fft=256, hop_length=64, band_edges=[4000], band_features=[4, 4], band_growth=[2, 2],
            band_layers=[[1, 1, 1], [1, 0, 1]], band_lstm=[[0, 4, 0], [0, 2, 0]], full_features=2,
            full_growth=2, full_layers=[1, 1, 1, 1, 1], full_lstm=[0, 0, 4, 0, 0], final_growth=2, final_layers=1)
VARIANTS = [dict(), dict(lstm=False), dict(per_source=False), dict(wiener_iterations=0), dict(wiener_iterations=2)]


def tiny(**kwargs):
    torch.manual_seed(0)
    return MMDense(**{**TINY, **kwargs}).eval()


def faded_sources(length, seed=0):
    """Four stereo sources of sines in disjoint frequency regions (differently panned), faded in and out
    so that no STFT frame sees a jump: they barely overlap in the time-frequency plane."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(length) / 44100
    fade = torch.ones(length)
    ramp = min(3000, length // 4)
    fade[:ramp] = torch.sin(torch.linspace(0, math.pi / 2, ramp)) ** 2
    fade[-ramp:] = fade[:ramp].flip(0)
    freqs = [(110.0, 160.0), (900.0, 1300.0), (3000.0, 4200.0), (8000.0, 10500.0)]
    return torch.stack([sum((torch.rand(2, 1, generator=g) + 0.2) * torch.sin(2 * math.pi * f * t + 1.0) for f in fs)
                        for fs in freqs]) * fade


def relative(a, b):
    return float((a - b).norm() / b.norm())


def test_registered_and_structured_like_the_paper():
    assert MODELS["mmdense"] is MMDense
    assert build_model("mmdense", **TINY).sources == list(SOURCES)
    with torch.device("meta"):
        model = MMDense()       # the MMDenseLSTM MUSDB18 network: 4096 / 1024, three bands and the full band
        dense = MMDense(lstm=False)
    assert model.splits == [0, 380, 1024, 2049]     # 4.1 kHz and 11.025 kHz at 4096 points
    net = model.nets[0]
    assert len(model.nets) == 4                      # one network per source
    assert [b.scales for b in net.bands] + [net.full.scales] == [3, 3, 2, 4]
    lstm_units = [m.lstm.hidden_size * 2 for m in net.modules() if type(m).__name__ == "_LSTMBlock"]
    assert sorted(lstm_units) == [8, 32, 128, 128, 128, 128]
    growth = {b.dense.layers[0][2].out_channels for b in net.bands[0].encoder}
    assert growth == {14} and net.final.layers[0][2].out_channels == 12
    # every network of MMDenseLSTM is its MMDenseNet plus the LSTM blocks
    extra = sum(n_params(m) for m in net.modules() if type(m).__name__ == "_LSTMBlock")
    assert (n_params(model) - n_params(dense)) / 4 > extra   # (the blocks also widen the next convs)
    assert n_params(dense) < n_params(model) < 2.5 * n_params(dense)


@pytest.mark.parametrize("kwargs", VARIANTS[:3])
def test_training_domain_is_magnitudes_and_target_matches(kwargs):
    model = tiny(**kwargs).train()
    stems = torch.randn(2, 4, 2, 3001)
    out = model(stems.sum(1))
    frames = 3001 // 64 + 1
    assert out.shape == (2, 4, 2, 129, frames) and (out >= 0).all()
    target = model.target(stems, out)
    assert target.shape == out.shape
    assert torch.allclose(target, stft(stems, 256, 64).abs())
    out.square().mean().backward()          # differentiable through every network
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("length", [1, 999, 4410, 30001])
def test_valid_length_contract(length):
    model = tiny()
    valid = model.valid_length(length)
    assert valid == length + 2 * 256 and model.valid_length(length + 1) > valid
    with torch.no_grad():
        out = model.separate(torch.randn(1, 2, valid))
    assert out.shape == (1, 4, 2, length)         # exactly the n centred samples: the smallest valid length
    with pytest.raises(ValueError, match="give at least model.valid_length"):
        model.separate(torch.randn(1, 2, 2 * 256))


@pytest.mark.parametrize("kwargs", VARIANTS)
def test_separate_estimates_sum_to_the_centred_mixture(kwargs):
    model = tiny(**kwargs)
    mix = torch.randn(2, 2, model.valid_length(5000)) * torch.tensor([1.0, 0.3])[:, None, None]
    with torch.no_grad():
        out = model.separate(mix)
    assert relative(out.sum(1), center_trim(mix, out)) < 1e-4
    assert relative(out[:, 0], center_trim(mix, out)) > 0.05     # not a trivial split


def test_separate_is_centred_on_the_input(monkeypatch):
    """Identity-like checks of the whole separate path (STFT, networks' place, Wiener, iSTFT, trim):
    with the mixture's own magnitude / 4 for every source each estimate is the centred mixture / 4, and
    with the sources' oracle magnitudes it is the centred sources."""
    model = tiny()
    sources = faded_sources(model.valid_length(12000), seed=1)[None]
    mix = sources.sum(1)
    monkeypatch.setattr(model, "_estimate", lambda mag: (mag / 4)[:, None].expand(-1, 4, -1, -1, -1))
    with torch.no_grad():
        out = model.separate(mix)
    assert out.shape == (1, 4, 2, 12000)
    expected = center_trim(mix, out) / 4
    for s in range(4):
        assert relative(out[:, s], expected) < 1e-5
    shifted = mix[..., 256 + 1:256 + 1 + 12000] / 4   # one sample off is far off
    assert relative(out[:, 0], shifted) > 1e-2
    oracle = stft(sources, 256, 64).abs()
    monkeypatch.setattr(model, "_estimate", lambda mag: oracle)
    with torch.no_grad():
        out = model.separate(mix)
    assert relative(out, center_trim(sources, out)) < 0.05   # 256-point STFT: the sources overlap a little


def test_apply_model_on_a_short_track():
    model = tiny()
    mix = torch.randn(2, 20000) * 0.1 + 0.02
    stems = apply_model(model, mix, shifts=1, segment=0.2, overlap=0.25, seed=0)
    assert stems.shape == (4, 2, 20000) and torch.isfinite(stems).all()
    assert relative(stems.sum(0), mix) < 1e-4


def test_save_load_round_trip_is_bitwise_and_weights_only(tmp_path):
    model = tiny(per_source=False)
    model.train()
    with torch.no_grad():      # non-trivial BatchNorm statistics
        model(torch.randn(2, 2, 3000))
    loaded = round_trip(model, tmp_path / "mmdense.th", torch.randn(1, 2, model.valid_length(3000)))
    assert loaded._init_args["band_layers"] == [[1, 1, 1], [1, 0, 1]] and loaded.per_source is False


@pytest.mark.parametrize("kwargs, match", [
    (dict(hop_length=200), r"hop_length=200 > n_fft / 2 = 128: .* lower models.mmdense.hop_length"),
    (dict(band_edges=[30000]), r"band_edges=\[30000\] Hz .* give increasing frequencies below 22050 Hz"),
    (dict(band_growth=[2]), r"band_growth=\[2\]: give one entry per band \(2 bands"),
    (dict(full_layers=[1, 1]), r"full_layers=\[1, 1\]: give an odd-length list"),
    (dict(full_lstm=[0, 3, 0, 0, 0]), r"full_lstm=\[0, 3, 0, 0, 0\]: BiLSTM widths must be even"),
    (dict(band_layers=[[0, 1, 1], [1, 0, 1]]), r"band\[0\]_layers\[0\]=0: only the bottleneck may have no layer"),
    (dict(wiener_iterations=-1), r"wiener_iterations=-1: give a whole number >= 0 \(models.mmdense.wiener_"),
])
def test_bad_arguments_are_clear_errors(kwargs, match):
    with pytest.raises(ParamsError, match=match):
        MMDense(**{**TINY, **kwargs})


@pytest.mark.slow
@pytest.mark.parametrize("kwargs", [dict(), dict(per_source=False, lstm=False)])
def test_two_smoke_epochs_have_finite_decreasing_loss(kwargs):
    torch.manual_seed(0)
    model = MMDense(**{**TINY, **kwargs})
    augment = make_augmentations(flip=True, remix_group=4, generator_seed=0)
    losses = smoke_epochs(model, augment, "mse", lr=3e-3, segment=4000)
    assert losses[1] < losses[0], losses


@pytest.mark.slow
def test_smoke_experiment_trains_on_magnitudes_and_separates(smoke_data, tmp_path_factory):
    from pathlib import Path

    from model_helpers import smoke_experiment

    result = smoke_experiment(smoke_data, tmp_path_factory, Path(__file__).resolve().parents[1] / "params/smoke/mmdenselstm.yaml")
    assert result["experiment"] == "mmdenselstm"   # its recipe (magnitude MSE) is its default
