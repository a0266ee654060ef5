"""explore.own: a song of your own, read as the separate command reads it and separated by any model."""
import subprocess

import numpy as np
import pytest
import soundfile as sf
import torch

from demucs_study import SOURCES
from demucs_study.errors import AudioError
from demucs_study.explore.data import ExploreError
from demucs_study.explore.own import read_song, save_upload, separate_song, separate_upload, song_name
from demucs_study.separation.apply import apply_model
from demucs_study.separation.cli import read_mixture
from separate_helpers import IdentityModel


class Mislabelled(IdentityModel):
    """Names 2 sources but returns 4 stems."""

    def __init__(self, samplerate):
        super().__init__(samplerate=samplerate)
        self.sources = ["a", "b"]

    def forward(self, x):
        y = super().forward(x)
        return torch.cat([y, y], dim=1)


def tone(seconds, sr, channels, amp=0.3):
    t = np.arange(int(seconds * sr)) / sr
    return np.stack([amp * np.sin(2 * np.pi * (220.0 + 110 * c) * t) for c in range(channels)]).astype(np.float32)


def test_song_name_and_upload_file_names(tmp_path):
    assert song_name("songs/x/My Song.mp3") == "your song: My Song.mp3"
    path = save_upload(b"RIFF....", "../../etc/My Song (live).WAV", tmp_path)
    assert path.parent == tmp_path and path.name == "My_Song_live_.WAV" and path.read_bytes() == b"RIFF...."
    assert save_upload(b"x", ".hidden.flac", tmp_path).name == "hidden.flac"
    with pytest.raises(ExploreError, match="the upload 'a.wav' is empty"):
        save_upload(b"", "a.wav", tmp_path)


def test_a_mono_song_at_another_rate_becomes_a_stereo_track_without_references(tmp_path):
    path = tmp_path / "mono.flac"
    sf.write(path, tone(1.0, 22050, 1)[0], 22050, subtype="PCM_24")
    song = read_song(path)
    assert song.name == "your song: mono.flac" and song.references is None and song.sources == SOURCES
    assert song.samplerate == 44100 and song.mixture.shape == (2, 44100)
    assert np.array_equal(song.mixture[0], song.mixture[1])
    _, _, mix = read_mixture(path, 44100)
    assert np.array_equal(song.mixture, mix)            # the separate command's read path


def test_separate_song_goes_through_apply_model(tmp_path):
    path = tmp_path / "song.wav"
    sf.write(path, tone(1.5, 44100, 2).T, 44100, subtype="FLOAT")
    model = IdentityModel(samplerate=44100)
    ticks = []
    song, estimates = separate_song(model, path, progress=lambda done, total: ticks.append((done, total)))
    assert estimates.shape == (4, 2, song.mixture.shape[-1])
    assert np.allclose(estimates.sum(0), song.mixture, atol=1e-5)             # the identity model's stems
    assert np.allclose(estimates, apply_model(model, song.mixture), atol=1e-6)
    assert ticks[-1][0] == ticks[-1][1]


def test_separate_upload_reads_compressed_formats(tmp_path):
    wav = tmp_path / "in.wav"
    sf.write(wav, tone(1.0, 48000, 2).T, 48000)
    mp3 = tmp_path / "in.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-b:a", "128k", str(mp3)], check=True)
    song, estimates = separate_upload(IdentityModel(samplerate=44100), mp3.read_bytes(), "take 1.mp3",
                                      params=None)
    assert song.name == "your song: take 1.mp3" and song.samplerate == 44100
    assert abs(song.mixture.shape[-1] - 44100) < 2000 and estimates.shape[:2] == (4, 2)
    assert 0.2 < np.abs(song.mixture).max() < 0.4


def test_bad_songs_are_errors_naming_the_file(tmp_path):
    silent = tmp_path / "silence.wav"
    sf.write(silent, np.zeros((4410, 2), np.float32), 44100)
    with pytest.raises(AudioError, match=r"silence.wav is silent .*nothing to separate"):
        separate_song(IdentityModel(samplerate=44100), silent)
    surround = tmp_path / "surround.wav"
    sf.write(surround, tone(0.1, 44100, 6).T, 44100)
    with pytest.raises(AudioError, match=r"surround.wav is 5.1 \(6 channels\) audio"):
        separate_upload(IdentityModel(samplerate=44100), surround.read_bytes(), "surround.wav")
    with pytest.raises(AudioError, match=r"cannot decode .*notes.txt"):
        separate_upload(IdentityModel(samplerate=44100), b"not audio at all", "notes.txt")


def test_a_model_whose_sources_do_not_match_its_output_is_an_error(tmp_path):
    path = tmp_path / "song.wav"
    sf.write(path, tone(0.5, 44100, 2).T, 44100)
    model = Mislabelled(samplerate=44100)
    with pytest.raises(ExploreError, match=r"returned 4 stems but names 2 sources \['a', 'b'\]"):
        separate_song(model, path)
