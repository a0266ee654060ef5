"""A song of your own in the explorer: an audio file (uploaded or on the machine) separated by a trained model.

The file goes through the code path of the ``separate`` command (``separation.cli``): read by
:func:`~demucs_study.separation.cli.read_mixture` (any format ``read_audio`` reads: wav, flac, mp3, ogg, opus,
m4a...; mono or stereo at any rate; more than 2 channels, silence and damaged files are errors naming the
file), resampled to the model's rate, then separated by ``separation.apply.apply_model`` with the
experiment's ``separate`` options. Only the model's interface is used (``load_model`` + ``apply_model``),
so any model of the study works. The result is a :class:`~.data.TrackAudio` without references (your song
has no true stems) and its estimates.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

import numpy as np

from .. import SAMPLERATE, SOURCES
from .data import ExploreError, TrackAudio, separate

#: Suffixes the upload widget offers (``read_audio`` reads more through ffmpeg).
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".mp4", ".aac", ".aif", ".aiff", ".webm")
#: Prefix of a song's name among the test tracks.
OWN_PREFIX = "your song: "


def song_name(filename: str) -> str:
    """The name a song goes by in the explorer: :data:`OWN_PREFIX` and the file name without its folder."""
    return OWN_PREFIX + Path(str(filename)).name


def save_upload(content: bytes, filename: str, folder: str | Path) -> Path:
    """Write uploaded bytes to ``folder`` under a safe version of ``filename`` (its suffix kept: it tells
    ``read_audio`` which decoder to use). Raises :class:`ExploreError` for an empty upload."""
    if not content:
        raise ExploreError(f"the upload {filename!r} is empty (0 bytes); choose the file again")
    name = Path(str(filename)).name
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).lstrip(".") or "upload"
    path = Path(folder) / safe
    path.write_bytes(bytes(content))
    return path


def read_song(path: str | Path, samplerate: int = SAMPLERATE, name: str | None = None,
              sources=SOURCES) -> TrackAudio:
    """The song at ``path`` as a track without references: its stereo mixture at ``samplerate``."""
    from ..separation.cli import read_mixture

    _, _, mix = read_mixture(path, samplerate)
    return TrackAudio(name=name or song_name(Path(path).name), samplerate=int(samplerate),
                      mixture=np.ascontiguousarray(mix, dtype=np.float32), references=None, sources=tuple(sources))


def separate_song(model, path: str | Path, params: dict | None = None, progress=None,
                  name: str | None = None) -> tuple[TrackAudio, np.ndarray]:
    """Read ``path`` (:func:`read_song`, at the model's rate) and separate it with ``model`` and the
    ``separate`` options of ``params``; ``progress(done, total)`` after each chunk.

    Returns the song and its estimates ``(S, 2, T)`` in the order of ``model.sources``."""
    rate = int(getattr(model, "samplerate", None) or SAMPLERATE)
    sources = tuple(getattr(model, "sources", None) or SOURCES)
    song = read_song(path, rate, name, sources)
    estimates = separate(model, song.mixture, params, progress)
    if estimates.shape[0] != len(sources):
        raise ExploreError(f"the model returned {estimates.shape[0]} stems but names {len(sources)} sources "
                           f"{list(sources)}; the model file is inconsistent: save it again")
    return song, estimates


def separate_upload(model, content: bytes, filename: str, params: dict | None = None,
                    progress=None) -> tuple[TrackAudio, np.ndarray]:
    """:func:`separate_song` of uploaded bytes (written to a temporary folder, removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="explore-upload-") as tmp:
        path = save_upload(content, filename, tmp)
        return separate_song(model, path, params, progress, name=song_name(filename))
