"""explore.audio: Ogg/Opus players that keep the true loudness, say when they clip, and stay small."""
import base64
import re
import subprocess

import numpy as np
import pytest

from demucs_study.audio import read_audio
from demucs_study.explore.audio import (EXPLORER_BITRATE, audio_player_html, encode_all, encode_ogg, level,
                                        level_note, player_html, players)

SR = 44100


def sine(amplitude, seconds=1.0, freq=440.0, sr=SR):
    t = np.arange(int(seconds * sr)) / sr
    return np.stack([amplitude * np.sin(2 * np.pi * freq * t)] * 2).astype(np.float32)


def decode(data: bytes, tmp_path, name="x.ogg"):
    path = tmp_path / name
    path.write_bytes(data)
    return read_audio(path, samplerate=SR)[0]


def embedded(html_text):
    """The Ogg bytes of every data URI in ``html_text``."""
    return [base64.b64decode(m) for m in re.findall(r'src="data:audio/ogg;base64,([^"]+)"', html_text)]


@pytest.mark.parametrize("amplitude", [0.05, 0.5])
def test_encoding_keeps_the_level_no_normalisation(tmp_path, amplitude):
    data = encode_ogg(sine(amplitude), SR, EXPLORER_BITRATE, 5)
    assert data[:4] == b"OggS"
    y = decode(data, tmp_path)
    assert abs(y.shape[-1] - SR) < SR * 0.02
    steady = y[:, SR // 10: -SR // 10]
    assert np.max(np.abs(steady)) == pytest.approx(amplitude, rel=0.1)


def test_beyond_full_scale_is_clipped(tmp_path):
    y = decode(encode_ogg(sine(1.6), SR), tmp_path)
    assert np.max(np.abs(y)) < 1.2          # clipped to 1 before encoding (the codec overshoots a little)


def test_level_counts_clipped_samples_and_the_note_says_so():
    x = np.zeros((2, 100), np.float32)
    assert level(x) == {"peak": 0.0, "peak_db": float("-inf"), "clipped": 0}
    assert level_note(x) == "silent"
    x[0, :3] = [0.5, -1.5, 2.0]
    info = level(x)
    assert info["clipped"] == 2 and info["peak"] == 2.0 and info["peak_db"] == pytest.approx(6.02, abs=0.01)
    assert level_note(x) == "peak +6.0 dBFS: 2 samples beyond full scale, clipped in the player"
    assert level_note(x * 0.25) == "peak -6.0 dBFS"


def test_player_html_embeds_the_whole_signal_with_its_label_and_level(tmp_path):
    x = sine(0.25, seconds=2.0)
    text = player_html(x, SR, "estimate <demucs>")
    assert 'data-label="estimate &lt;demucs&gt;"' in text and "peak -12.0 dBFS" in text
    (data,) = embedded(text)
    assert decode(data, tmp_path).shape[-1] == pytest.approx(2 * SR, rel=0.02)
    loud = player_html(sine(1.5, 0.2), SR, "remix")
    assert "clipped in the player" in loud and "#b00020" in loud


def test_player_html_uses_given_bytes():
    x = sine(0.1, 0.2)
    text = player_html(x, SR, "mixture", encoded=b"OggS-given")
    assert embedded(text) == [b"OggS-given"]


def test_encode_all_keeps_the_order(tmp_path):
    signals = [sine(0.1, 0.5), sine(0.4, 1.0), sine(0.2, 1.5)]
    out = encode_all(signals, SR, workers=2)
    lengths = [decode(d, tmp_path, f"{i}.ogg").shape[-1] for i, d in enumerate(out)]
    assert [round(n / SR, 1) for n in lengths] == [0.5, 1.0, 1.5]


def test_compact_a_second_of_player_is_a_few_kilobytes():
    data = encode_ogg(sine(0.3, seconds=4.0) + 0.01 * np.random.default_rng(0).standard_normal((2, 4 * SR)).astype(
        np.float32), SR, EXPLORER_BITRATE, 5)
    assert len(data) < 4 * 9000                 # 48 kbit/s is 6 kB per second, plus Ogg framing


# ---- the notebooks' players (audio_player_html, players), moved here from tests/test_explore.py
def silence_then_tone(seconds_each=1.0, amp=0.5):
    """Stereo: silence for ``seconds_each``, then a 440 Hz sine of amplitude ``amp`` as long."""
    n = int(seconds_each * SR)
    t = np.arange(n) / SR
    x = np.zeros((2, 2 * n), np.float32)
    x[:, n:] = amp * np.sin(2 * np.pi * 440 * t)
    return x


def decode_pipe(ogg: bytes) -> np.ndarray:
    """Ogg/Opus bytes -> (2, T) float32 at SR, decoded by ffmpeg."""
    raw = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", "pipe:0", "-f", "f32le", "-ar", str(SR), "-ac", "2",
                          "pipe:1"], input=ogg, capture_output=True, check=True).stdout
    return np.frombuffer(raw, "<f4").reshape(-1, 2).T


def rms(x):
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def test_player_embeds_an_ogg_opus_data_uri_of_the_requested_excerpt():
    x = silence_then_tone()
    html = audio_player_html(x, SR, "vocals", start=1.0, seconds=0.5)
    (ogg,) = embedded(html)
    assert ogg[:4] == b"OggS" and b"OpusHead" in ogg[:100]
    y = decode_pipe(ogg)
    assert abs(y.shape[-1] - SR // 2) <= SR // 100  # 0.5 s, to within 10 ms of codec padding
    assert rms(y) == pytest.approx(0.5 / np.sqrt(2), rel=0.05)  # the tone, from the start of the excerpt
    quiet = decode_pipe(embedded(audio_player_html(x, SR, start=0.0, seconds=0.5))[0])
    assert rms(quiet) < 1e-3  # the silent first second


def test_player_markup_and_label_escaping():
    x = silence_then_tone(0.05)
    tagged = audio_player_html(x, SR, "bass <est> & co")
    assert tagged.startswith("<div><b>bass &lt;est&gt; &amp; co</b> <audio controls preload=\"none\" src=\"data:")
    assert tagged.endswith("</audio></div>")
    bare = audio_player_html(x, SR)
    assert bare.startswith("<audio controls") and "<div>" not in bare


def test_seconds_none_plays_to_the_end_and_the_excerpt_is_cut_at_the_end():
    x = silence_then_tone(0.25)  # 0.5 s in all
    whole = decode_pipe(embedded(audio_player_html(x, SR, seconds=None))[0])
    assert abs(whole.shape[-1] - SR // 2) <= SR // 100
    tail = decode_pipe(embedded(audio_player_html(x, SR, start=0.4, seconds=8.0))[0])
    assert abs(tail.shape[-1] - SR // 10) <= SR // 100  # 0.1 s left after 0.4 s


def test_encode_ogg_clips_to_full_scale_and_keeps_mono():
    loud = np.full((1, SR // 10), 3.0, np.float32)
    ogg = encode_ogg(loud, SR)
    info = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,channels", "-of", "csv=p=0",
                           "pipe:0"], input=ogg, capture_output=True, text=False, check=True).stdout.decode()
    assert info.strip() == "opus,1"
    raw = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", "pipe:0", "-f", "f32le", "-ar", str(SR), "pipe:1"],
                         input=ogg, capture_output=True, check=True).stdout
    assert np.abs(np.frombuffer(raw, "<f4")).max() < 1.5  # clipped to 1 before encoding, not 3


def test_players_gives_one_player_per_signal_in_order():
    x = silence_then_tone(0.05)
    shown = players({"mixture": x, "drums": x * 0.5, "vocals (estimate)": x * 0.1}, SR, seconds=0.05)
    html = shown.data
    assert html.count("<audio ") == 3 and len(embedded(html)) == 3
    assert [m for m in re.findall(r"<b>(.*?)</b>", html)] == ["mixture", "drums", "vocals (estimate)"]
    assert type(shown).__name__ == "HTML"
