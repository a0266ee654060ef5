"""Embedded audio players: short Ogg/Opus excerpts as data URIs.

A player embeds only the excerpt it plays, encoded by ffmpeg as Ogg/Opus at a modest bitrate, so that
executed notebooks stay small enough to commit as HTML (a few tens of kB per player instead of MBs of WAV).

**True loudness.** Every player plays its samples as they are: no per-clip normalisation, the same fixed
gain (:data:`PLAYER_GAIN`, 1) for every clip, so a quiet stem sounds quiet next to the mixture and an
estimate that is too loud sounds too loud. Samples beyond full scale ([-1, 1]) cannot be stored in the
player: they are **clipped**, and :func:`player_html` says how many, with the peak level, next to the
player.
"""
from __future__ import annotations

import base64
import html
import subprocess
from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: The gain of every player (no per-clip normalisation).
PLAYER_GAIN = 1.0
#: Opus bitrate of the explorer's players (stereo): transparent enough to hear separation artefacts,
#: small enough for the executed notebook (6 kB per second of audio).
EXPLORER_BITRATE = "48k"
#: libopus encoder complexity (0-10, ffmpeg's ``-compression_level``): 5 costs half the time of 10 for a
#: hardly audible difference at this bitrate (benchmarks/bench_explore.py).
OPUS_COMPLEXITY = 5


def encode_ogg(x: np.ndarray, samplerate: int, bitrate: str = "64k", complexity: int = 10) -> bytes:
    """Encode a (channels, time) float signal to Ogg/Opus bytes with ffmpeg (not soundfile: its Vorbis
    writer has crashed on long files here). Samples beyond [-1, 1] are clipped."""
    x = np.ascontiguousarray(np.clip(x, -1, 1).T, dtype="<f4")
    cmd = ["ffmpeg", "-loglevel", "error", "-f", "f32le", "-ar", str(samplerate), "-ac", str(x.shape[1]),
           "-i", "pipe:0", "-c:a", "libopus", "-b:a", bitrate, "-compression_level", str(int(complexity)),
           "-f", "ogg", "pipe:1"]
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


def level(x: np.ndarray) -> dict:
    """The level of a (channels, time) signal as a player shows it: ``peak`` (absolute), ``peak_db``
    (dBFS, -inf for silence), ``clipped`` (samples beyond [-1, 1], which a player clips)."""
    x = np.asarray(x)
    top = float(np.max(np.abs(x))) if x.size else 0.0
    return {"peak": top, "peak_db": 20 * np.log10(top) if top > 0 else float("-inf"),
            "clipped": int(np.count_nonzero(np.abs(x) > 1.0))}


def level_note(x: np.ndarray) -> str:
    """``peak -6.0 dBFS``, or a warning when the signal goes beyond full scale and the player clips it."""
    info = level(x)
    if info["peak"] == 0:
        return "silent"
    text = f"peak {info['peak_db']:+.1f} dBFS"
    if info["clipped"]:
        text += f": {info['clipped']} samples beyond full scale, clipped in the player"
    return text


def player_html(x: np.ndarray, samplerate: int, label: str, encoded: bytes | None = None,
                bitrate: str = EXPLORER_BITRATE) -> str:
    """A labelled player of the whole of ``x`` (channels, time) at :data:`PLAYER_GAIN`, with its peak level
    (and how many samples it clips). ``encoded``: the Ogg bytes when already made (:func:`encode_all`).
    The ``<audio>`` element carries ``data-label`` so that a page can be searched for it."""
    encoded = encode_ogg(x, samplerate, bitrate, OPUS_COMPLEXITY) if encoded is None else encoded
    data = base64.b64encode(encoded).decode()
    info = level(x)
    style = "color:#b00020;font-weight:bold" if info["clipped"] else "color:#666"
    name = html.escape(label)
    return (f'<div class="explore-player" style="margin:2px 0;display:flex;align-items:center;gap:.5em">'
            f'<b style="display:inline-block;min-width:14em">{name}'
            f'</b> <audio controls preload="none" data-label="{name}" src="data:audio/ogg;base64,{data}"></audio> '
            f'<span style="{style};font-size:85%">{html.escape(level_note(x))}</span></div>')


def encode_all(signals: list[np.ndarray], samplerate: int, bitrate: str = EXPLORER_BITRATE,
               workers: int = 2) -> list[bytes]:
    """Ogg/Opus bytes of each (channels, time) signal, encoded by ``workers`` ffmpeg processes at once."""
    if len(signals) <= 1 or workers <= 1:
        return [encode_ogg(x, samplerate, bitrate, OPUS_COMPLEXITY) for x in signals]
    with ThreadPoolExecutor(min(workers, len(signals))) as pool:
        return list(pool.map(lambda x: encode_ogg(x, samplerate, bitrate, OPUS_COMPLEXITY), signals))
