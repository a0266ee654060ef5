"""apply_model: overlap-add identity, exact shapes, shift trick, seeding, chunking, normalisation.
(The chunk grid and its weights are tested in test_separation_chunks.py.)"""
import numpy as np
import pytest
import torch

from demucs_study.errors import AudioError, ParamsError
from demucs_study.models import Demucs
from demucs_study.separation.apply import apply_model
from demucs_study.separation.chunks import plan_chunks
from separate_helpers import ConvModel, IdentityModel, RecordingModel

SR = 1000  # test models run at 1 kHz: a "segment" of 1 s is 1000 samples


def mixture(length, seed=0, dc=0.3):
    rng = np.random.default_rng(seed)
    return (0.5 * rng.standard_normal((2, length)) + dc).astype(np.float32)


# ---- overlap-add of an identity model gives back its input

@pytest.mark.parametrize("length", [1, 7, 999, 1000, 2501, 10007])
@pytest.mark.parametrize("overlap", [0.0, 0.25, 0.6])
def test_identity_model_gives_back_the_mixture(length, overlap):
    mix = mixture(length)
    stems = apply_model(IdentityModel(samplerate=SR), mix, segment=1.0, overlap=overlap)
    assert isinstance(stems, np.ndarray) and stems.shape == (4, 2, length) and stems.dtype == np.float32
    np.testing.assert_allclose(stems, np.broadcast_to(mix / 4, stems.shape), atol=1e-6)
    np.testing.assert_allclose(stems.sum(0), mix, atol=1e-6)


@pytest.mark.parametrize("length", [5, 3333])
def test_identity_model_with_shifts_and_without_split(length):
    mix = mixture(length, seed=1)
    model = IdentityModel(samplerate=SR)
    # segment 0.1 s < the 0.5 s shifts: some chunks lie wholly in the padding (skipped)
    for kwargs in (dict(shifts=3), dict(shifts=2, split=False), dict(split=False), dict(shifts=4, segment=0.1)):
        stems = apply_model(model, mix, **{"segment": 1.0, **kwargs})
        np.testing.assert_allclose(stems, np.broadcast_to(mix / 4, stems.shape), atol=1e-6, err_msg=str(kwargs))


def test_torch_in_torch_out_and_dtype_kept():
    mix = torch.from_numpy(mixture(1234)).double()
    stems = apply_model(IdentityModel(samplerate=SR), mix, segment=0.5)
    assert isinstance(stems, torch.Tensor) and stems.dtype == torch.float64 and stems.shape == (4, 2, 1234)
    np.testing.assert_allclose(stems.sum(0).numpy(), mix.numpy(), atol=1e-6)
    stems64 = apply_model(IdentityModel(samplerate=SR), mixture(50).astype(np.float64))
    assert stems64.dtype == np.float64


def test_model_without_valid_length_or_samplerate():
    # defaults: valid_length(n) = n, 44.1 kHz (a 10 s segment covers these 3000 samples in one call)
    model = RecordingModel()
    mix = mixture(3000)
    stems = apply_model(model, mix)
    np.testing.assert_allclose(stems, np.broadcast_to(mix / 4, stems.shape), atol=1e-6)
    assert [x.shape for x in model.inputs] == [(1, 2, 3000)]


def test_model_sees_the_track_normalised_by_its_mono_statistics():
    model = RecordingModel()
    mix = mixture(3000, dc=-0.2)
    apply_model(model, mix, split=False)
    mono = mix.mean(0)
    expected = (mix - mono.mean()) / mono.std()
    np.testing.assert_allclose(model.inputs[0][0].numpy(), expected, atol=1e-5)


def test_silent_mixture_is_not_scaled_up():
    stems = apply_model(IdentityModel(samplerate=SR), np.zeros((2, 500), np.float32))
    assert np.all(stems == 0)


# ---- memory bounded by the chunk size: every model call is one chunk, whatever the track length

@pytest.mark.parametrize("length", [300, 20000])
def test_model_inputs_are_bounded_by_the_chunk_size(length):
    model = IdentityModel(samplerate=SR)
    apply_model(model, mixture(length), segment=0.5, shifts=2)
    assert max(shape[-1] for shape in model.calls) <= model.valid_length(500)
    per_pass = len(plan_chunks(length, 500, 125))
    assert per_pass * 2 <= len(model.calls) <= (per_pass + 1) * 2


# ---- chunking vs one piece

def test_chunked_equals_whole_track_for_a_translation_equivariant_model():
    torch.manual_seed(0)
    model = ConvModel(samplerate=SR)
    mix = mixture(4321, seed=2)
    whole = apply_model(model, mix, split=False)
    for overlap in (0.0, 0.25):
        chunked = apply_model(model, mix, segment=0.37, overlap=overlap)
        np.testing.assert_allclose(chunked, whole, atol=1e-5)


@pytest.fixture(scope="module")
def demucs():
    torch.manual_seed(0)
    return Demucs(channels=4, depth=3, lstm_layers=0, samplerate=SR * 4)


def test_chunked_close_to_whole_track_for_a_small_demucs(demucs):
    mix = mixture(4 * SR * 3, seed=3, dc=0.0)
    whole = apply_model(demucs, mix, split=False)
    chunked = apply_model(demucs, mix, segment=1.0)
    assert np.corrcoef(whole.ravel(), chunked.ravel())[0, 1] > 0.95


# ---- shift trick: seeded, local RNG, same level

def test_same_seed_same_stems_and_global_rng_untouched(demucs):
    mix = mixture(4 * SR * 2, seed=4, dc=0.0)
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()
    first = apply_model(demucs, mix, shifts=2, seed=7, segment=1.0)
    second = apply_model(demucs, mix, shifts=2, seed=7, segment=1.0)
    other = apply_model(demucs, mix, shifts=2, seed=8, segment=1.0)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert all(np.array_equal(a, b) for a, b in zip(np.random.get_state(), np_state))
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(first, other)


def test_shifted_and_unshifted_agree_in_shape_and_level(demucs):
    mix = mixture(4 * SR * 2, seed=5, dc=0.0)
    plain = apply_model(demucs, mix, segment=1.0)
    shifted = apply_model(demucs, mix, shifts=4, segment=1.0)
    assert shifted.shape == plain.shape == (4, 2, mix.shape[-1])
    assert 0.8 < shifted.std() / plain.std() < 1.2
    assert np.corrcoef(plain.ravel(), shifted.ravel())[0, 1] > 0.9


def test_shifts_pad_the_track_by_less_than_half_a_second():
    model = RecordingModel()  # 44.1 kHz by default: shifts in [0, 22050) samples
    mix = mixture(3000)
    apply_model(model, mix, shifts=6, split=False, seed=3)
    mono = mix.mean(0)
    normalised = (mix - mono.mean()) / mono.std()
    offsets = [x.shape[-1] - 3000 for x in model.inputs]
    assert len(offsets) == 6 and len(set(offsets)) > 1 and all(0 <= o < 22050 for o in offsets)
    for offset, x in zip(offsets, model.inputs):
        assert torch.all(x[0, :, :offset] == 0)
        np.testing.assert_allclose(x[0, :, offset:].numpy(), normalised, atol=1e-5)


def test_reversed_numpy_view_is_accepted():
    mix = mixture(100)[:, ::-1]
    stems = apply_model(IdentityModel(samplerate=SR), mix)
    np.testing.assert_allclose(stems.sum(0), mix, atol=1e-6)


def test_train_mode_is_restored_and_no_gradient_kept(demucs):
    demucs.train()
    stems = apply_model(demucs, torch.from_numpy(mixture(2000)))
    assert demucs.training and not stems.requires_grad
    demucs.eval()


# ---- progress and bad input

def test_progress_prints_one_line_per_chunk_when_not_a_terminal(capsys):
    apply_model(IdentityModel(samplerate=SR), mixture(2500), segment=1.0, progress=True)
    err = capsys.readouterr().err
    assert err.splitlines() == [f"separate: chunk {i}/3" for i in range(1, 4)]  # starts 0, 750, 1500


def test_progress_callable_is_called_after_every_chunk_of_every_shift(capsys):
    calls = []
    apply_model(IdentityModel(samplerate=SR), mixture(2500), segment=1.0, shifts=2, seed=3,
                progress=lambda done, total: calls.append((done, total)))
    total = calls[0][1]
    assert [done for done, _ in calls] == list(range(1, total + 1)) and {t for _, t in calls} == {total}
    assert total >= 6                                        # 3 chunks or more per shift (the shift pads the track)
    assert capsys.readouterr().err == ""                     # nothing printed


@pytest.mark.parametrize("mix, message", [
    (np.zeros(100, np.float32), r"must be shaped \(2, time\).*got \(100,\)"),
    (np.zeros((3, 100), np.float32), r"must be shaped \(2, time\).*got \(3, 100\)"),
    (np.zeros((2, 0), np.float32), r"at least one sample"),
    (np.zeros((2, 100), np.int16), r"must hold floats"),
    (np.full((2, 100), np.nan, np.float32), r"NaN or infinite"),
])
def test_bad_mixtures_are_rejected(mix, message):
    with pytest.raises(AudioError, match=message):
        apply_model(IdentityModel(samplerate=SR), mix)


@pytest.mark.parametrize("kwargs, message", [
    (dict(shifts=-1), r"shifts=-1: give a whole number >= 0"),
    (dict(shifts=1.5), r"shifts=1.5"),
    (dict(segment=0), r"segment=0: give the chunk length in seconds"),
    (dict(overlap=1.0), r"overlap=1.0: give the fraction .* in \[0, 1\)"),
])
def test_bad_options_are_rejected(kwargs, message):
    with pytest.raises(ParamsError, match=message):
        apply_model(IdentityModel(samplerate=SR), mixture(10), **kwargs)
