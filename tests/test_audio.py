"""demucs_study.audio: reading (soundfile and ffmpeg paths), resampling, channels, writing, clipping."""
from __future__ import annotations

import subprocess

import numpy as np
import soundfile as sf
import pytest

from demucs_study import audio
from demucs_study.audio import is_silent, read_audio, resample, write_audio
from demucs_study.errors import AudioError


def sine(freq: float, seconds: float, sr: int, channels: int = 2, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    x = amp * np.sin(2 * np.pi * freq * t)
    return np.repeat(x[None], channels, axis=0).astype(np.float32)


def dominant_freq(x: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(x[0] * np.hanning(x.shape[1])))
    return float(np.argmax(spec) * sr / x.shape[1])


def ffmpeg_sine(path, freq=440, seconds=1.0, sr=44100, channels=2):
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency={freq}:sample_rate={sr}:duration={seconds}", "-ac", str(channels),
                    str(path)], check=True)
    return path


@pytest.fixture
def noise():
    rng = np.random.default_rng(0)
    return rng.uniform(-0.9, 0.9, (2, 4410)).astype(np.float32)


def test_float_wav_round_trip_is_exact(tmp_path, noise):
    out = write_audio(tmp_path / "a.wav", noise, 44100)
    x, sr = read_audio(out)
    assert sr == 44100 and x.dtype == np.float32 and x.shape == (2, 4410)
    np.testing.assert_array_equal(x, noise)
    assert [p.name for p in tmp_path.iterdir()] == ["a.wav"]  # no temporary file left behind


@pytest.mark.parametrize("name,subtype,tol", [("a.wav", "PCM_16", 1 / 32768), ("a.flac", "PCM_16", 1 / 32768),
                                              ("a.flac", "PCM_24", 1 / 2**23), ("a.wav", "PCM_24", 1 / 2**23)])
def test_integer_round_trip_within_one_step(tmp_path, noise, name, subtype, tol):
    write_audio(tmp_path / name, noise, 44100, subtype=subtype)
    x, sr = read_audio(tmp_path / name)
    assert sr == 44100 and x.shape == noise.shape
    assert np.max(np.abs(x - noise)) <= tol


def test_resample_keeps_length_and_frequency(tmp_path):
    x = sine(1000.0, 1.0, 22050)
    write_audio(tmp_path / "s.wav", x, 22050)
    y, sr = read_audio(tmp_path / "s.wav", samplerate=44100)
    assert sr == 44100 and y.shape == (2, 44100) and y.dtype == np.float32
    assert abs(dominant_freq(y, 44100) - 1000.0) <= 1.0
    # high-quality resampling: the sine itself comes back (edges aside)
    ref = sine(1000.0, 1.0, 44100)
    assert np.max(np.abs(y[:, 1000:-1000] - ref[:, 1000:-1000])) < 1e-3
    assert resample(x, 22050, 22050) is x
    assert resample(x, 44100, 48000).shape == (2, round(22050 * 48000 / 44100))


def test_mono_is_duplicated_and_stereo_averaged(tmp_path):
    x = sine(440.0, 0.1, 44100, channels=1)
    write_audio(tmp_path / "m.wav", x, 44100)
    y, _ = read_audio(tmp_path / "m.wav", channels=2)
    assert y.shape == (2, x.shape[1])
    np.testing.assert_array_equal(y[0], x[0])
    np.testing.assert_array_equal(y[1], x[0])
    z, _ = read_audio(tmp_path / "m.wav")
    assert z.shape == (1, x.shape[1])
    st = np.stack([x[0], -x[0]])
    write_audio(tmp_path / "st.wav", st, 44100)
    mono, _ = read_audio(tmp_path / "st.wav", channels=1)
    assert mono.shape == (1, x.shape[1]) and np.max(np.abs(mono)) == 0


def test_six_channels_is_refused_with_downmix_advice(tmp_path):
    x = np.zeros((6, 100), np.float32)
    write_audio(tmp_path / "surround.wav", x, 44100)
    assert read_audio(tmp_path / "surround.wav")[0].shape == (6, 100)  # own channels: fine
    with pytest.raises(AudioError, match=r"surround\.wav is 5\.1 \(6 channels\).*ffmpeg -i in\.wav -ac 2"):
        read_audio(tmp_path / "surround.wav", channels=2)


def test_missing_empty_and_corrupt_files(tmp_path):
    with pytest.raises(AudioError, match=r"nothere\.wav does not exist"):
        read_audio(tmp_path / "nothere.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioError, match=r"empty\.wav is empty \(0 bytes\); replace it"):
        read_audio(tmp_path / "empty.wav")
    (tmp_path / "junk.flac").write_bytes(b"this is not audio at all" * 10)
    with pytest.raises(AudioError, match=r"cannot decode .*junk\.flac.*corrupt"):
        read_audio(tmp_path / "junk.flac")
    write_audio(tmp_path / "zero.wav", np.zeros((2, 0), np.float32), 44100)
    with pytest.raises(AudioError, match=r"zero\.wav holds no samples"):
        read_audio(tmp_path / "zero.wav")
    with pytest.raises(AudioError, match="is a folder"):
        read_audio(tmp_path)


@pytest.mark.parametrize("suffix", [".mp3", ".ogg", ".m4a"])
def test_compressed_formats_go_through_ffmpeg(tmp_path, monkeypatch, suffix):
    path = ffmpeg_sine(tmp_path / f"s{suffix}", freq=440, seconds=1.0, sr=48000, channels=1)
    calls = []
    real = audio._read_ffmpeg
    monkeypatch.setattr(audio, "_read_ffmpeg", lambda p: calls.append(p) or real(p))
    x, sr = read_audio(path, samplerate=44100, channels=2)
    assert calls == [path]
    assert sr == 44100 and x.shape[0] == 2 and x.dtype == np.float32
    assert abs(x.shape[1] - 44100) < 0.05 * 44100  # codec padding aside, one second
    assert abs(dominant_freq(x, 44100) - 440) < 3
    np.testing.assert_array_equal(x[0], x[1])


def test_wav_that_libsndfile_rejects_falls_back_to_ffmpeg(tmp_path, monkeypatch):
    path = ffmpeg_sine(tmp_path / "s.wav", seconds=0.2, sr=16000, channels=2)

    def broken(p):
        raise RuntimeError("libsndfile says no")

    monkeypatch.setattr(audio, "_read_soundfile", broken)
    x, sr = read_audio(path)
    assert sr == 16000 and x.shape == (2, 3200)


def test_clipping_policy(tmp_path):
    x = np.array([[0.5, 1.5, -2.0, 1.0, -1.0]], np.float32)
    with pytest.raises(AudioError, match=r"loud\.wav as PCM_16: 2 of 5 samples are beyond \[-1, 1\] \(peak 2\.000, "
                                         r"\+6\.0 dBFS\); pass clip='clip'.*clip='normalize'"):
        write_audio(tmp_path / "loud.wav", x, 8000, subtype="PCM_16")
    assert not (tmp_path / "loud.wav").exists()
    write_audio(tmp_path / "c.wav", x, 8000, subtype="PCM_16", clip="clip")
    y, _ = read_audio(tmp_path / "c.wav")
    np.testing.assert_allclose(y[0], [0.5, 32767 / 32768, -1.0, 32767 / 32768, -1.0], atol=1 / 32768)
    write_audio(tmp_path / "n.flac", x, 8000, subtype="PCM_24", clip="normalize")
    y, _ = read_audio(tmp_path / "n.flac")
    np.testing.assert_allclose(y[0], x[0] / 2, atol=2 / 2**23)
    # float wav keeps values beyond full scale unless asked otherwise
    write_audio(tmp_path / "f.wav", x, 8000)
    np.testing.assert_array_equal(read_audio(tmp_path / "f.wav")[0], x)
    write_audio(tmp_path / "fc.wav", x, 8000, clip="clip")
    assert read_audio(tmp_path / "fc.wav")[0].max() == 1.0


def test_write_refuses_bad_requests(tmp_path):
    x = np.zeros((2, 10), np.float32)
    with pytest.raises(AudioError, match=r"a\.mp3: use a \.wav or \.flac"):
        write_audio(tmp_path / "a.mp3", x, 44100)
    with pytest.raises(AudioError, match="flac stores integers"):
        write_audio(tmp_path / "a.flac", x, 44100)
    with pytest.raises(AudioError, match=r"shaped \(channels, time\), got \(100, 2\)"):
        write_audio(tmp_path / "a.wav", np.zeros((100, 2)), 44100)
    with pytest.raises(AudioError, match="NaN or infinite"):
        write_audio(tmp_path / "a.wav", np.full((2, 4), np.nan), 44100)
    with pytest.raises(AudioError, match="unknown clip policy 'wrap'"):
        write_audio(tmp_path / "a.wav", x, 44100, clip="wrap")


def test_is_silent():
    assert is_silent(np.zeros((2, 100), np.float32))
    assert is_silent(np.full((2, 100), 1e-4, np.float32))  # -80 dBFS
    assert not is_silent(sine(100, 0.1, 8000))


def test_nan_samples_are_named_with_where_the_first_is(tmp_path):
    x = np.full((2, 44100), 0.1, dtype=np.float32)
    x[1, 22050:22060] = np.nan
    x[0, 30000] = np.inf
    path = tmp_path / "nan.wav"
    sf.write(path, x.T, 44100, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"nan\.wav holds 11 NaN or infinite sample\(s\), the first at sample 22050 "
                                         r"\(0\.500 s\) of channel 1; it is damaged"):
        read_audio(path)


def test_truncated_wav_warns_with_what_was_promised_and_what_was_read(tmp_path):
    from demucs_study.audio import TruncatedAudioWarning, promised_frames

    full = tmp_path / "full.wav"
    sf.write(full, np.zeros((3 * 44100, 2), dtype=np.float32) + 0.1, 44100, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(full.read_bytes()[:44 + 39 * 4])  # the 44-byte header, then 39 stereo 16-bit frames
    assert promised_frames(full) == promised_frames(cut) == 3 * 44100
    with pytest.warns(TruncatedAudioWarning, match=r"cut\.wav is truncated: its header promises 132300 samples "
                                                   r"\(3\.00 s\) but it holds 39 \(0\.001 s\)"):
        x, _ = read_audio(cut)
    assert x.shape == (2, 39)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", TruncatedAudioWarning)
        assert read_audio(full)[0].shape == (2, 3 * 44100)   # a complete file: no warning
