"""Embedded audio players for the notebooks (explore): an Ogg/Opus data URI of the requested excerpt."""
import base64
import re
import subprocess

import numpy as np
import pytest

from demucs_study.explore import audio_player_html, encode_ogg, players

SR = 44100
URI = re.compile(r'src="data:audio/ogg;base64,([A-Za-z0-9+/=]+)"')


def silence_then_tone(seconds_each=1.0, amp=0.5):
    """Stereo: silence for ``seconds_each``, then a 440 Hz sine of amplitude ``amp`` as long."""
    n = int(seconds_each * SR)
    t = np.arange(n) / SR
    x = np.zeros((2, 2 * n), np.float32)
    x[:, n:] = amp * np.sin(2 * np.pi * 440 * t)
    return x


def decode(ogg: bytes) -> np.ndarray:
    """Ogg/Opus bytes -> (2, T) float32 at SR, decoded by ffmpeg."""
    raw = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", "pipe:0", "-f", "f32le", "-ar", str(SR), "-ac", "2",
                          "pipe:1"], input=ogg, capture_output=True, check=True).stdout
    return np.frombuffer(raw, "<f4").reshape(-1, 2).T


def embedded(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in URI.findall(html)]


def rms(x):
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def test_player_embeds_an_ogg_opus_data_uri_of_the_requested_excerpt():
    x = silence_then_tone()
    html = audio_player_html(x, SR, "vocals", start=1.0, seconds=0.5)
    (ogg,) = embedded(html)
    assert ogg[:4] == b"OggS" and b"OpusHead" in ogg[:100]
    y = decode(ogg)
    assert abs(y.shape[-1] - SR // 2) <= SR // 100  # 0.5 s, to within 10 ms of codec padding
    assert rms(y) == pytest.approx(0.5 / np.sqrt(2), rel=0.05)  # the tone, from the start of the excerpt
    quiet = decode(embedded(audio_player_html(x, SR, start=0.0, seconds=0.5))[0])
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
    whole = decode(embedded(audio_player_html(x, SR, seconds=None))[0])
    assert abs(whole.shape[-1] - SR // 2) <= SR // 100
    tail = decode(embedded(audio_player_html(x, SR, start=0.4, seconds=8.0))[0])
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
