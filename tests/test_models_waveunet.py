"""Wave-U-Net: the paper's size, the valid-length contract at 44.1 kHz through the 22.05 kHz network,
alignment of outputs and training targets, the difference output, save/load, smoke training."""
import math

import numpy as np
import pytest
import torch

from demucs_study import SOURCES
from demucs_study.augment import make_augmentations
from demucs_study.errors import ParamsError
from demucs_study.models import MODELS, WaveUNet, build_model
from demucs_study.models.resample import EDGE, resample
from demucs_study.models.utils import center_trim
from demucs_study.separation.apply import apply_model

from model_helpers import n_params, round_trip, smoke_epochs

TINY = dict(levels=4, filters=4)
RATES = [22050, 44100]


def tones(length, freqs=(220.0, 1370.0, 3100.0, 5100.0), seed=0):
    """A stereo sum of sines below 6 kHz: unchanged (to ~1e-4) by a round trip through 22.05 kHz."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(length, dtype=torch.float64) / 44100
    out = torch.zeros(2, length, dtype=torch.float64)
    for f in freqs:
        phase = float(torch.rand(1, generator=g)) * 6
        out += torch.randn(2, 1, generator=g, dtype=torch.float64) * torch.sin(2 * math.pi * f * t + phase)
    return out.float()


def silenced(model):
    """The same model with the output convs of drums, bass, other set to zero: by the difference
    output, vocals is then the (resampled, cropped) mixture itself, an identity to check alignment."""
    with torch.no_grad():
        for conv in model.output:
            conv.weight.zero_()
            conv.bias.zero_()
    return model.eval()


def reference_padding(num_frames, layers=12, filter_size=15, merge_filter_size=5, output_filter_size=1):
    """(input, output) lengths of the public Wave-U-Net code for a desired output of ``num_frames`` samples
    (``UnetAudioSeparator.get_padding`` with valid convolutions), rewritten here to cross-check ours."""
    rem = float(num_frames) - output_filter_size + 1
    for _ in range(layers):
        rem = (rem + merge_filter_size - 1 + 1.0) / 2.0
    bottom = int(np.ceil(rem))
    out, inp = bottom, bottom + filter_size - 1
    for _ in range(layers):
        out = 2 * out - 1 - merge_filter_size + 1
        inp = 2 * inp - 1 + filter_size - 1
    return inp, out - output_filter_size + 1


def test_registered_with_a_difference_source_last():
    assert MODELS["waveunet"] is WaveUNet
    model = build_model("waveunet", **TINY)
    assert model.sources == list(SOURCES) and model.sources[-1] == "vocals"
    assert model.samplerate == 44100 and model.audio_channels == 2 and model.model_rate == 22050


def test_paper_configuration_has_the_reference_parameter_count_and_lengths():
    with torch.device("meta"):
        model = WaveUNet()  # L = 12, F = 24, kernels 15 / 5 / 1, stereo, 4 sources, difference output
    # 10,263,498: "Sep_Vars: 10263498" printed by the public TensorFlow code (f90/Wave-U-Net, Training.py)
    # when training its full_multi_instrument configuration (a training log posted at
    # gist.github.com/leoybkim/789d367a0ee2c63db8a513613270b017), i.e. the SiSEC STL2 model.
    assert n_params(model) == 10_263_498
    # Its input / output lengths (22.05 kHz) for the reference's desired output of 16384 samples.
    assert reference_padding(16384) == (147443, 16389)
    assert model._net_lengths(model._bottom_for(16384)) == (147443, 16389)
    assert model._net_lengths(model._bottom_for(16389)) == (147443, 16389)


def produced(model, bottom):
    """Length of separate's output for the valid input whose bottleneck has ``bottom`` samples."""
    lengths = model._net_lengths(bottom) if bottom >= 1 else None
    return None if lengths is None else model._factor * lengths[1] - 2 * model._crop_out


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("length", [1, 999, 1000, 44100, 100001])
def test_valid_length_contract(rate, length):
    model = WaveUNet(**TINY, model_rate=rate).eval()
    valid = model.valid_length(length)
    assert valid >= length and valid % (44100 // rate) == 0
    with torch.no_grad():
        out = model.separate(torch.randn(1, 2, valid))
    assert out.shape[:3] == (1, 4, 2) and out.shape[-1] >= length
    assert (valid - out.shape[-1]) % 2 == 0   # exactly centred: as many samples cut on each side
    # valid inputs are one per bottleneck length; the next shorter one gives too short an output
    bottom = next(b for b in range(1, 10 ** 6)
                  if model._net_lengths(b) and model._outer(model._net_lengths(b)[0]) == valid)
    assert produced(model, bottom) == out.shape[-1]
    shorter = produced(model, bottom - 1)
    assert shorter is None or shorter < length
    assert model.valid_length(length + 1) >= valid  # non-decreasing


@pytest.mark.parametrize("rate", RATES)
def test_forward_rejects_an_invalid_length_with_the_fix(rate):
    model = WaveUNet(**TINY, model_rate=rate)
    valid = model.valid_length(5000)
    with pytest.raises(ValueError, match=r"not a valid length; pad it to model.valid_length"):
        model(torch.zeros(1, 2, valid + 2))


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("length", [3000, 20000])
def test_separate_is_centred_on_the_input_identity_check(rate, length):
    torch.manual_seed(0)
    model = silenced(WaveUNet(**TINY, model_rate=rate))
    valid = model.valid_length(length)
    mix = tones(valid)[None]
    with torch.no_grad():
        out = model.separate(mix)
    reference = center_trim(mix, out)
    assert torch.equal(out[:, :3], torch.zeros_like(out[:, :3]))
    error = (out[0, 3] - reference[0]).abs().max() / reference.abs().max()
    assert error < (1e-6 if rate == 44100 else 1e-3)
    # one sample off is far off: the check does see the alignment
    shifted = mix[..., (valid - out.shape[-1]) // 2 + 1:][..., :out.shape[-1]]
    assert (out[0, 3] - shifted[0]).abs().max() / reference.abs().max() > 0.02


def test_training_output_and_target_at_22khz_are_aligned_with_the_input():
    torch.manual_seed(0)
    model = silenced(WaveUNet(**TINY))
    valid = model.valid_length(8000)
    stems = torch.stack([tones(valid, freqs=(110.0 * (s + 1), 900.0 + 700 * s), seed=s) for s in range(4)])[None]
    with torch.no_grad():
        out = model(stems.sum(1))
        target = model.target(stems, out)
    m = out.shape[-1]
    assert out.shape == target.shape == (1, 4, 2, m)
    # output sample j is at input sample (T - 2 M) / 2 + 2 j (documented in WaveUNet.forward)
    start = (valid - 2 * m) // 2
    direct = stems[..., start:start + 2 * m:2]
    for s in range(4):
        assert (target[0, s] - direct[0, s]).abs().max() < 1e-3 * direct[0, s].abs().max()
    # the difference source of the identity model is the mixture, whose target is the sum of the targets
    assert torch.allclose(out[0, 3], target[0].sum(0), atol=1e-4 * float(target.abs().max()))


def test_zero_output_init_starts_from_silence_and_the_mixture_and_still_learns():
    torch.manual_seed(0)
    model = WaveUNet(**TINY, zero_output_init=True)
    reference_init = WaveUNet(**TINY)
    mix = tones(model.valid_length(3000))[None]
    out = model(mix)
    assert torch.equal(out[:, :3], torch.zeros_like(out[:, :3]))
    assert torch.equal(out[:, 3], center_trim(model.target(mix[:, None], out)[:, 0], out))
    assert reference_init(mix)[:, :3].abs().max() > 0.01
    (out[:, 0] - 1).square().mean().backward()
    assert model.output[0].weight.grad.abs().max() > 0   # the zero layer gets a gradient at once


@pytest.mark.parametrize("rate", RATES)
def test_difference_output_sums_to_the_mixture(rate):
    torch.manual_seed(1)
    model = WaveUNet(**TINY, model_rate=rate).eval()
    valid = model.valid_length(6000)
    mix = torch.randn(2, 2, valid)
    with torch.no_grad():
        out = model(mix)
    assert not torch.allclose(out[:, 0], torch.zeros_like(out[:, 0]))   # a real (random) network
    as_target = model.target(mix[:, None], out)[:, 0]   # the mixture in the training domain
    assert torch.allclose(out.sum(1), as_target, atol=1e-5)
    if rate == 44100:
        assert torch.allclose(out.sum(1), center_trim(mix, out), atol=1e-5)


def test_resampling_is_aligned_and_linear():
    x = tones(20000)
    down = resample(x, 44100, 22050)
    assert down.shape == (2, 10000)
    assert (down[:, 300:-300] - x[:, 600:-600:2]).abs().max() < 1e-4
    up = resample(down, 22050, 44100)
    assert up.shape == (2, 20000) and (up[:, 600:-600] - x[:, 600:-600]).abs().max() < 1e-3
    y = torch.randn(2, 20000)
    assert torch.allclose(resample(x + y, 44100, 22050), down + resample(y, 44100, 22050), atol=1e-5)
    assert resample(x, 44100, 44100) is x


def test_resampler_edges_fit_in_the_dropped_margins():
    """Converting a chunk gives the same samples as converting the whole signal (to 1e-5 of the peak)
    once EDGE // 2 (after /2) or EDGE (after x2) samples are dropped at each end."""
    x = torch.randn(2, 60000, generator=torch.Generator().manual_seed(0))
    down = resample(x, 44100, 22050)
    part = resample(x[:, 20000:40000], 44100, 22050)
    assert (part - down[:, 10000:20000]).abs()[:, EDGE // 2:-(EDGE // 2)].max() < 1e-5 * down.abs().max()
    assert (part - down[:, 10000:20000]).abs()[:, :8].max() > 1e-3 * down.abs().max()   # the edges do differ
    up = resample(down, 22050, 44100)
    part = resample(down[:, 10000:20000], 22050, 44100)
    assert (part - up[:, 20000:40000]).abs()[:, EDGE:-EDGE].max() < 1e-5 * up.abs().max()


@pytest.mark.parametrize("rate", RATES)
def test_apply_model_on_a_short_track(rate):
    torch.manual_seed(0)
    model = silenced(WaveUNet(**TINY, model_rate=rate))
    fade = torch.ones(30000)
    fade[:2000] = torch.sin(torch.linspace(0, math.pi / 2, 2000)) ** 2
    fade[-2000:] = fade[:2000].flip(0)
    # faded in and out: at 22.05 kHz a jump from the zeros beyond the track would ring (band limit)
    mix = tones(30000) * 0.3 * fade   # mean ~0: apply_model pads the normalised track with zeros (= the mean)
    stems = apply_model(model, mix, shifts=1, segment=0.25, overlap=0.25, seed=0)
    assert stems.shape == (4, 2, 30000) and torch.isfinite(stems).all()
    # the identity model gives the mixture back in vocals (the band below 11 kHz, i.e. all of it here),
    # drums, bass and other being the constant mean / 4 of the de-normalisation
    assert float(stems[:3].std(dim=-1).max()) < 1e-6
    tolerance = 1e-5 if rate == 44100 else 2e-3
    assert (stems[3] + stems[:3].sum(0) - mix).abs().max() < tolerance * mix.abs().max()


def test_save_load_round_trip_is_bitwise_and_weights_only(tmp_path):
    torch.manual_seed(0)
    model = WaveUNet(**TINY, output_activation="tanh")
    loaded = round_trip(model, tmp_path / "waveunet.th", torch.randn(1, 2, model.valid_length(3000)))
    assert loaded._init_args["levels"] == 4 and loaded._init_args["output_activation"] == "tanh"


@pytest.mark.parametrize("kwargs, match", [
    (dict(model_rate=16000), r"model_rate=16000: .*22050 Hz .* or 44100 Hz; set models.waveunet.model_rate"),
    (dict(output_activation="relu"), r"output_activation='relu': use one of \['linear', 'tanh'\]"),
    (dict(up_kernel=4), r"up_kernel=4: give an odd kernel size"),
    (dict(levels=0), r"levels=0: give a whole number >= 1 \(models.waveunet.levels\)"),
    (dict(sources=["vocals"]), r"at least two sources"),
])
def test_bad_arguments_are_clear_errors(kwargs, match):
    with pytest.raises(ParamsError, match=match):
        WaveUNet(**{**TINY, **kwargs})


@pytest.mark.parametrize("rate", RATES)
def test_two_smoke_epochs_have_finite_decreasing_loss(rate):
    torch.manual_seed(0)
    model = WaveUNet(levels=3, filters=6, model_rate=rate)
    augment = make_augmentations(flip=False, generator_seed=0, scale=(0.7, 1.0))   # the recipe's gains
    losses = smoke_epochs(model, augment, "mse", lr=1e-3, segment=model.valid_length(4000))
    assert losses[1] < losses[0], losses


@pytest.mark.slow
def test_smoke_experiment_trains_with_the_recipe_and_separates(smoke_data, tmp_path_factory):
    from pathlib import Path

    from model_helpers import smoke_experiment

    result = smoke_experiment(smoke_data, tmp_path_factory, Path(__file__).resolve().parents[1] / "params/smoke/waveunet.yaml")
    assert result["experiment"] == "waveunet"   # trained with its own recipe, which is its default
