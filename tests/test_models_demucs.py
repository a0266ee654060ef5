"""The Demucs model: lengths, sizes from the paper, ablation switches, rescale init."""
import math

import pytest
import torch
from torch import nn

from demucs_study import SOURCES
from demucs_study.errors import ParamsError
from demucs_study.models import Demucs

TINY = dict(channels=4, depth=3)


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def test_valid_length_of_10_s_and_output_length_from_the_paper(monkeypatch):
    # oneDNN spends seconds preparing kernels on the first long input; the length does not depend on it
    monkeypatch.setattr(torch.backends.mkldnn, "enabled", False)
    model = Demucs(channels=2)
    assert model.valid_length(441000) == 451924
    with torch.no_grad():
        out = model(torch.randn(1, 2, 451924))
    assert out.shape == (1, 4, 2, 441004)


@pytest.mark.parametrize("length", [1, 1000, 44100])
def test_valid_length_gives_full_windows_and_enough_output(length):
    model = Demucs(**TINY)
    valid = model.valid_length(length)
    assert valid >= length
    lengths = [valid]
    for _ in range(3):  # every strided conv sees full windows: no sample dropped
        assert (lengths[-1] - 8) % 4 == 0
        lengths.append((lengths[-1] - 8) // 4 + 1)
    with torch.no_grad():
        out_len = model(torch.randn(1, 2, valid)).shape[-1]
    assert out_len >= length
    # smallest such length: the next shorter input with full windows (4 ** depth samples less)
    # either cannot run (too short for the decoder's context convs) or gives too short an output
    try:
        with torch.no_grad():
            shorter = model(torch.randn(1, 2, valid - 4 ** 3)).shape[-1]
    except RuntimeError:
        shorter = -1
    assert shorter < length


@pytest.mark.parametrize("channels, millions", [(64, 265.7), (100, 648.5)])
def test_parameter_counts_from_the_paper(channels, millions):
    with torch.device("meta"):  # no memory, no init cost
        model = Demucs(channels=channels, rescale=0)  # rescale does not change the count
    assert round(n_params(model) / 1e6, 1) == millions


ABLATIONS = [dict(), dict(glu=False), dict(rewrite=False), dict(context=1), dict(lstm_layers=0), dict(rescale=0)]


@pytest.mark.parametrize("options", ABLATIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "default")
def test_every_ablation_builds_runs_and_trains(options):
    torch.manual_seed(0)
    model = Demucs(**TINY, **options)
    mix = torch.randn(2, 2, model.valid_length(3000))
    out = model(mix)
    assert out.shape[:3] == (2, 4, 2) and out.shape[-1] >= 3000
    assert out.dtype == torch.float32 and torch.isfinite(out).all()
    out.abs().mean().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_ablation_switches_change_the_architecture():
    default = Demucs(**TINY)
    convs = lambda m, k: [c for c in m.modules() if isinstance(c, nn.Conv1d) and c.kernel_size == (k,)]  # noqa: E731
    assert [c.out_channels for c in convs(default, 1)] == [8, 16, 32]          # GLU: 2 C_i
    assert [c.out_channels for c in convs(Demucs(**TINY, glu=False), 1)] == [4, 8, 16]
    assert convs(Demucs(**TINY, rewrite=False), 1) == [] and convs(Demucs(**TINY, rewrite=False), 3) == []
    assert len(convs(default, 3)) == 3 and len(convs(Demucs(**TINY, context=1), 1)) == 6
    no_lstm = Demucs(**TINY, lstm_layers=0)
    assert no_lstm.lstm is None and not any(isinstance(m, nn.LSTM) for m in no_lstm.modules())
    assert default.lstm.lstm.hidden_size == 16 and default.lstm.lstm.num_layers == 2
    assert default.lstm.lstm.bidirectional and default.lstm.linear.in_features == 32
    last = default.decoder[-1]
    assert isinstance(last[-1], nn.ConvTranspose1d) and last[-1].out_channels == 8   # 4 sources x 2 channels
    assert all(isinstance(block[-1], nn.ReLU) for block in default.decoder[:-1])


def test_rescale_sets_weight_std_to_sqrt_of_std_times_reference():
    torch.manual_seed(1)
    plain = Demucs(**TINY, rescale=0)
    torch.manual_seed(1)
    scaled = Demucs(**TINY, rescale=0.1)
    pairs = [(a, b) for a, b in zip(plain.modules(), scaled.modules()) if isinstance(a, (nn.Conv1d, nn.ConvTranspose1d))]
    assert len(pairs) == 12
    for a, b in pairs:
        std = a.weight.std().item()
        assert b.weight.std().item() == pytest.approx(math.sqrt(std * 0.1), rel=1e-4)
        torch.testing.assert_close(b.bias, a.bias / math.sqrt(std / 0.1))
    # the LSTM is untouched
    torch.testing.assert_close(plain.lstm.lstm.weight_hh_l0, scaled.lstm.lstm.weight_hh_l0, rtol=0, atol=0)


def test_sources_convention_and_recorded_arguments():
    model = Demucs(**TINY)
    assert model.sources == list(SOURCES)
    assert model._init_args["sources"] == 4 and model._init_args["channels"] == 4
    assert model._init_args["samplerate"] == 44100
    rebuilt = Demucs(**model._init_args)
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {k: v.shape for k, v in model.state_dict().items()}
    two = Demucs(sources=("vocals", "accompaniment"), **TINY)
    assert two.sources == ["vocals", "accompaniment"] and two._init_args["sources"] == ["vocals", "accompaniment"]
    with torch.no_grad():
        assert two(torch.randn(1, 2, two.valid_length(100))).shape[:3] == (1, 2, 2)
    with pytest.raises(ParamsError, match=r"sources=3: an int is only a shorthand for the 4 MUSDB stems"):
        Demucs(sources=3)


def test_forward_rejects_wrong_input_shape():
    with pytest.raises(ValueError, match=r"expects \(batch, 2, time\), got \(2, 1000\)"):
        Demucs(**TINY)(torch.randn(2, 1000))

