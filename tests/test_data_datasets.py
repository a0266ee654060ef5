"""demucs_study.data.datasets: normalisation, training windows (count, mapping, shapes), whole tracks."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from demucs_study.data.datasets import TrainWindows, denormalize, iter_tracks, normalize
from demucs_study.data.raw import RawCache
from demucs_study.errors import DatasetError, ParamsError
from fakedata import make_wav_dataset

SR = 44100
LENGTHS = {"Alpha - First": 30000, "Charlie - Third": 5000, "Delta - Fourth": 12000, "Echo - Fifth": 100}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ds")
    audio = make_wav_dataset(tmp / "hq", lengths=LENGTHS, seconds=0.3)
    c = RawCache(tmp / "hq", cache_dir=tmp / "cache")
    c.prepare(["train", "valid", "test"])
    return c, audio


def test_normalize_round_trip_and_stems_sum_to_mixture(cache):
    c, audio = cache
    for t in c.tracks("train"):
        mix, stems = t.mixture(mmap=False), t.stems(mmap=False)
        nmix = normalize(mix, t.mean, t.std)
        nstems = normalize(stems, t.mean, t.std, stems=True)
        assert abs(float(nmix.mean(0).mean())) < 1e-6 and float(nmix.mean(0).std()) == pytest.approx(1, rel=1e-5)
        np.testing.assert_allclose(nstems.sum(0), nmix, atol=1e-5)
        np.testing.assert_allclose(denormalize(nstems, t.mean, t.std, stems=True), stems, atol=1e-6)
        np.testing.assert_allclose(denormalize(nmix, t.mean, t.std), mix, atol=1e-6)
    x = torch.ones(3, 4, 2, 5)  # a batch of stems (B, S, C, T), torch
    assert torch.allclose(normalize(x, 2.0, 0.5, stems=True), torch.ones_like(x))
    assert normalize(np.zeros((2, 3)), 0.0, 0.0).max() == 0  # silent track: no division by zero


def test_window_count_and_mapping(cache):
    c, audio = cache
    ds = TrainWindows(c, "train", segment=0.1, stride=0.05, shift=0.02)
    T, stride = round(0.12 * SR), round(0.05 * SR)
    assert ds.length == T and ds.stride == stride
    # Alpha 30000 samples, Charlie 5000 < T: nothing ("Bravo" is the validation track)
    assert [t.name for t in ds.tracks] == ["Alpha - First", "Charlie - Third"]
    assert ds.counts == [(30000 - T) // stride + 1, 0] and len(ds) == sum(ds.counts) == 12
    track, offset = ds.locate(len(ds) - 1)
    assert track.name == "Alpha - First" and offset == 11 * stride and offset + T <= 30000
    assert ds.locate(-1) == ds.locate(len(ds) - 1)
    with pytest.raises(IndexError):
        ds[len(ds)]
    raw = audio["Alpha - First"][1:]
    for i in (0, 3, len(ds) - 1):
        x = ds[i]
        assert isinstance(x, torch.Tensor) and x.dtype == torch.float32 and x.shape == (4, 2, T)
        _, off = ds.locate(i)
        t = ds.tracks[0]
        np.testing.assert_allclose(x.numpy(), normalize(raw[..., off: off + T], t.mean, t.std, stems=True),
                                   atol=1e-5)
    plain = TrainWindows(c, "train", segment=0.1, stride=0.05, shift=0.02, normalize=False)
    np.testing.assert_array_equal(plain[5].numpy(), raw[..., 5 * stride: 5 * stride + T])


def test_windows_survive_pickling_and_dataloader(cache):
    import pickle

    c, _ = cache
    ds = TrainWindows(c, c.tracks("test"), segment=0.05, stride=0.1)
    first = ds[0]
    clone = pickle.loads(pickle.dumps(ds))
    assert clone._arrays == {} and torch.equal(clone[0], first)
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=2)))
    assert batch.shape == (2, 4, 2, round(0.05 * SR))


def test_no_window_at_all(cache):
    c, _ = cache
    with pytest.raises(DatasetError, match=r"no training window: the 2 track\(s\) are all shorter than segment \+ "
                                           r"shift = 1\.5 s \(longest 0\.68 s\); lower the segment"):
        TrainWindows(c, "train", segment=1.0, stride=1.0, shift=0.5)
    with pytest.raises(ParamsError, match="segment > 0"):
        TrainWindows(c, "train", segment=0.0, stride=1.0)
    with pytest.raises(DatasetError, match="expects 22050 Hz"):
        TrainWindows(c, "train", segment=0.1, stride=0.1, samplerate=22050)


def test_iter_tracks_gives_raw_whole_tracks(cache):
    c, audio = cache
    tracks = list(iter_tracks(c, "test"))
    assert [t.name for t in tracks] == ["Delta - Fourth", "Echo - Fifth"]
    for t in tracks:
        assert t.mixture.shape == (2, LENGTHS[t.name]) and t.stems.shape == (4, 2, LENGTHS[t.name])
        assert t.mixture.dtype == np.float32 and not isinstance(t.stems, np.memmap)
        np.testing.assert_array_equal(t.stems, audio[t.name][1:])
        np.testing.assert_array_equal(t.mixture, audio[t.name][0])
        assert t.std > 0 and t.samplerate == SR
    [v] = iter_tracks(c, "valid")
    assert v.name == "Bravo - Second"
