"""demucs_study.data.unlabeled: any format/rate/channels -> normalised stereo 44.1 kHz windows, cached."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest
import soundfile as sf
import torch

from demucs_study.data.unlabeled import UnlabeledAudio
from demucs_study.errors import AudioError, DatasetError

SR = 44100


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "mixes"
    (d / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    mono = (0.3 * np.sin(2 * np.pi * 220 * np.arange(11025) / 22050) + 0.01 * rng.standard_normal(11025))
    sf.write(d / "a_mono22k.wav", mono.astype(np.float32), 22050, subtype="FLOAT")  # 0.5 s
    stereo = 0.2 * rng.standard_normal((2, 33075)).astype(np.float32) + 0.05  # 0.75 s, non-zero mean
    sf.write(d / "sub" / "b.flac", stereo.T, SR, subtype="PCM_24")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000:"
                    "duration=0.6", "-ac", "2", str(d / "c.mp3")], check=True)
    (d / "notes.txt").write_text("not audio")
    (d / ".hidden.wav").write_bytes(b"")  # hidden files are ignored
    return d, mono, stereo


def test_formats_rates_channels_and_windows(tmp_path, folder):
    d, mono, stereo = folder
    ds = UnlabeledAudio(d, segment=0.2, stride=0.1, cache_dir=tmp_path / "cache")
    assert [e.file.name for e in ds.entries] == ["a_mono22k.wav", "c.mp3", "b.flac"]  # sorted by path
    T, stride = round(0.2 * SR), round(0.1 * SR)
    lengths = {e.file.name: e.length for e in ds.entries}
    assert lengths["a_mono22k.wav"] == 22050 and lengths["b.flac"] == 33075
    assert abs(lengths["c.mp3"] - round(0.6 * SR)) < 0.05 * SR
    assert len(ds) == len(ds.windows) == sum((n - T) // stride + 1 for n in lengths.values())
    assert [w.offset for w in ds.windows if w.file.name == "b.flac"] == [k * stride for k in range(6)]
    for i in range(len(ds)):
        x = ds[i]
        assert isinstance(x, torch.Tensor) and x.dtype == torch.float32 and x.shape == (2, T)
    # the flac window comes back normalised by that file's own statistics
    k = next(i for i, w in enumerate(ds.windows) if w.file.name == "b.flac" and w.offset == stride)
    ref = stereo.astype(np.float64).mean(0)
    expected = (stereo[:, stride: stride + T] - ref.mean()) / ref.std()
    np.testing.assert_allclose(ds[k].numpy(), expected, atol=1e-4)  # 24-bit rounding
    # the mono 22.05 kHz file: upsampled, duplicated to both channels, normalised
    a = next(i for i, w in enumerate(ds.windows) if w.file.name == "a_mono22k.wav")
    assert torch.equal(ds[a][0], ds[a][1])
    assert abs(float(ds[a].mean())) < 0.2


def test_decodes_once(tmp_path, folder, monkeypatch):
    d, _, _ = folder
    UnlabeledAudio(d, segment=0.2, stride=0.2, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 3
    from demucs_study import audio

    def no_read(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(audio, "read_audio", no_read)
    again = UnlabeledAudio(d, segment=0.2, stride=0.2, cache_dir=tmp_path / "cache")
    assert len(again) > 0 and again[0].shape == (2, round(0.2 * SR))


def test_bad_folders(tmp_path, folder):
    with pytest.raises(DatasetError, match=r"unlabeled audio folder .*nothing does not exist"):
        UnlabeledAudio(tmp_path / "nothing", segment=1, stride=1)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"unlabeled audio folder .*empty holds no audio file \(looked for .*"
                                           r"\.flac.*\.mp3"):
        UnlabeledAudio(tmp_path / "empty", segment=1, stride=1)
    d, _, _ = folder
    with pytest.raises(DatasetError, match=r"no unlabeled window: every file in .*mixes is shorter than segment = "
                                           r"2 s \(longest 0\.75 s\)"):
        UnlabeledAudio(d, segment=2, stride=1, cache_dir=tmp_path / "cache")
    (d / "broken.ogg").write_bytes(b"OggS but not really" * 10)
    with pytest.raises(AudioError, match=r"cannot decode .*broken\.ogg"):
        UnlabeledAudio(d, segment=0.2, stride=0.2, cache_dir=tmp_path / "cache")
