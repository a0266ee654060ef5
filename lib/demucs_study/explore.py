"""Pure helpers for exploring tracks in a notebook: small embedded audio players.

Players embed a short Ogg/Opus excerpt (encoded by ffmpeg) as a data URI, so executed notebooks stay
small enough to commit as HTML (a few tens of kB per player instead of MBs of WAV).
"""
from __future__ import annotations

import base64
import html
import subprocess

import numpy as np


def encode_ogg(x: np.ndarray, samplerate: int, bitrate: str = "64k") -> bytes:
    """Encode a (channels, time) float signal to Ogg/Opus bytes with ffmpeg (not soundfile: its Vorbis
    writer has crashed on long files here)."""
    x = np.ascontiguousarray(np.clip(x, -1, 1).T, dtype="<f4")
    cmd = ["ffmpeg", "-loglevel", "error", "-f", "f32le", "-ar", str(samplerate), "-ac", str(x.shape[1]),
           "-i", "pipe:0", "-c:a", "libopus", "-b:a", bitrate, "-f", "ogg", "pipe:1"]
    return subprocess.run(cmd, input=x.tobytes(), capture_output=True, check=True).stdout


def audio_player_html(x: np.ndarray, samplerate: int, label: str = "", start: float = 0.0,
                      seconds: float | None = 8.0) -> str:
    """An HTML ``<audio>`` element playing ``seconds`` of ``x`` (channels, time) from ``start``."""
    a = int(start * samplerate)
    b = x.shape[-1] if seconds is None else min(x.shape[-1], a + int(seconds * samplerate))
    data = base64.b64encode(encode_ogg(x[..., a:b], samplerate)).decode()
    tag = f'<audio controls preload="none" src="data:audio/ogg;base64,{data}"></audio>'
    return f"<div><b>{html.escape(label)}</b> {tag}</div>" if label else tag


def players(signals: dict[str, np.ndarray], samplerate: int, start: float = 0.0, seconds: float = 8.0):
    """An IPython HTML object with one player per named signal."""
    from IPython.display import HTML

    return HTML("".join(audio_player_html(x, samplerate, name, start, seconds) for name, x in signals.items()))
