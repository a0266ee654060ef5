"""demucs_study.data.raw: decode once, exact float32 copies, reuse, re-decode on change, stats."""
from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf

from demucs_study.data import raw
from demucs_study.data.musdb import TrackInfo
from demucs_study.data.raw import RawCache
from demucs_study.errors import DatasetError
from fakedata import WAV_TEST, WAV_TRAIN, WAV_VALID, make_wav_dataset


@pytest.fixture
def dataset(tmp_path):
    root = tmp_path / "hq"
    return root, make_wav_dataset(root, seconds=0.25)


def test_prepare_copies_tracks_exactly_with_stats(tmp_path, dataset):
    root, audio = dataset
    cache = RawCache(root, cache_dir=tmp_path / "cache")
    out = cache.prepare(["train", "valid", "test"])
    assert sorted(cache.decoded) == sorted(WAV_TRAIN + WAV_TEST)
    assert [t.name for t in out["valid"]] == list(WAV_VALID)
    assert [t.name for t in out["test"]] == sorted(WAV_TEST)
    for split, tracks in out.items():
        for t in tracks:
            ref = audio[t.name]
            mix, stems = t.mixture(), t.stems()
            assert isinstance(mix, np.memmap) and mix.dtype == np.float32 and stems.shape == (4, 2, ref.shape[-1])
            np.testing.assert_array_equal(mix, ref[0])
            np.testing.assert_array_equal(stems, ref[1:])
            mono = ref[0].astype(np.float64).mean(0)
            assert t.split == split and t.length == ref.shape[-1] and t.samplerate == 44100
            assert t.mean == pytest.approx(mono.mean(), abs=1e-12) and t.std == pytest.approx(mono.std(), rel=1e-9)
            assert t.dir == tmp_path / "cache" / ("test" if split == "test" else "train") / t.name
    assert not list((tmp_path / "cache").rglob(".*tmp*"))  # no temporary file left


def test_second_prepare_does_no_work(tmp_path, dataset, monkeypatch):
    root, _ = dataset
    cache = RawCache(root, cache_dir=tmp_path / "cache")
    cache.prepare(["train", "test"])
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*.npy")}

    def no_decoding(self, samplerate=None):
        raise AssertionError(f"{self.name} decoded again")

    monkeypatch.setattr(TrackInfo, "load", no_decoding)
    again = RawCache(root, cache_dir=tmp_path / "cache")
    out = again.prepare(["train", "test"], jobs=2)
    assert again.decoded == [] and len(out["train"]) == 2
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*.npy")} == stamps


def test_changed_source_is_decoded_again(tmp_path, dataset):
    root, audio = dataset
    cache = RawCache(root, cache_dir=tmp_path / "cache")
    cache.prepare(["test"])
    name = sorted(WAV_TEST)[0]
    new = np.zeros((audio[name].shape[-1], 2), np.float32)
    path = root / "test" / name / "vocals.wav"
    sf.write(path, new, 44100, subtype="FLOAT")
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse clocks
    cache.prepare(["test"])
    assert cache.decoded == [name]
    t = [t for t in cache.tracks("test") if t.name == name][0]
    assert np.all(t.stems()[3] == 0)


def test_default_cache_dir_and_errors(tmp_path, dataset, monkeypatch):
    root, _ = dataset
    monkeypatch.setenv("DEMUCS_STUDY_DATA", str(tmp_path / "data"))
    cache = RawCache(root)
    assert cache.cache_dir.parent == tmp_path / "data" / "cache"
    assert cache.cache_dir.name.startswith("hq-") and cache.cache_dir.name == raw.root_id(root)
    assert raw.root_id(tmp_path / "other" / "hq") != raw.root_id(root)
    with pytest.raises(DatasetError, match=r"the valid split of .*hq is not in the cache .*prepare\(\['valid'\]\)"):
        cache.tracks("valid")


def test_resampled_cache(tmp_path, dataset):
    root, _ = dataset
    cache = RawCache(root, cache_dir=tmp_path / "c22", samplerate=22050)
    [t, _] = cache.prepare(["test"])["test"]
    assert t.samplerate == 22050 and t.stems().shape[-1] == t.length == 5513  # 11025 / 2, rounded up by soxr
