"""Reading, converting and writing audio. Every array here is ``(channels, time)`` float32.

* :func:`read_audio` reads any audio file: libsndfile (through ``soundfile``) for the formats it
  handles exactly (wav, flac, aiff, ...), ``ffmpeg`` for the rest (mp3, ogg, opus, m4a/mp4/aac, ...)
  and for anything libsndfile fails on. It can resample (soxr) and convert mono to stereo.
* :func:`write_audio` writes wav or flac atomically, with an explicit clipping policy for the
  integer formats.

Every failure is an :class:`~demucs_study.errors.AudioError` naming the file and the fix.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

from .errors import AudioError
from .utils import atomic_path

#: Suffixes read with libsndfile first (exact, fast). ogg and mp3 go to ffmpeg: libsndfile's
#: vorbis/mpg123 paths have proved less robust here, and ffmpeg trims the mp3 encoder delay.
SOUNDFILE_SUFFIXES = frozenset(
    {".wav", ".wave", ".flac", ".aif", ".aiff", ".aifc", ".au", ".snd", ".caf", ".w64", ".rf64"}
)
#: Suffixes :func:`write_audio` accepts, with the libsndfile container used for each.
WRITE_FORMATS = {".wav": "WAV", ".flac": "FLAC"}
#: Integer subtypes and their sample width in bits.
INT_SUBTYPES = {"PCM_16": 16, "PCM_24": 24}
SUBTYPES = ("FLOAT", *INT_SUBTYPES)
CLIP_POLICIES = ("error", "clip", "normalize")


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise AudioError(f"audio file {path} does not exist; check the path (and the working directory)")
    if path.is_dir():
        raise AudioError(f"{path} is a folder, not an audio file; give the path of a file inside it")
    if path.stat().st_size == 0:
        raise AudioError(f"audio file {path} is empty (0 bytes); replace it with a complete copy")


class TruncatedAudioWarning(UserWarning):
    """An audio file holds fewer samples than its header promises (an interrupted copy or download)."""


def promised_frames(path: str | os.PathLike) -> int | None:
    """The number of frames the header of ``path`` promises, or None when it does not say.

    WAV (RIFF/RIFX/RF64 with a 32-bit size): the size of the ``data`` chunk over the frame size of the
    ``fmt `` chunk, read from the bytes themselves (libsndfile silently reports what is there instead).
    Other libsndfile formats (flac, aiff, ...): the header's frame count as libsndfile reads it.
    """
    import soundfile as sf

    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) == 12 and head[:4] in (b"RIFF", b"RIFX") and head[8:12] == b"WAVE":
            order = "little" if head[:4] == b"RIFF" else "big"
            block = None
            while True:
                chunk = f.read(8)
                if len(chunk) < 8:
                    return None
                cid, size = chunk[:4], int.from_bytes(chunk[4:], order)
                if cid == b"fmt ":
                    fmt = f.read(size)
                    block = int.from_bytes(fmt[12:14], order) or None
                    f.seek(size % 2, 1)
                elif cid == b"data":
                    return size // block if block and size not in (0, 0xFFFFFFFF) else None
                else:
                    f.seek(size + size % 2, 1)
    if path.suffix.lower() in SOUNDFILE_SUFFIXES:
        try:
            return int(sf.info(str(path)).frames)
        except Exception:
            return None
    return None


def check_finite(x: np.ndarray, path: str | os.PathLike, samplerate: int) -> None:
    """Raise :class:`AudioError` naming ``path`` if ``x`` (channels, time) holds NaN or infinite samples,
    with how many and where the first one is."""
    bad = ~np.isfinite(x)
    if bad.any():
        first = int(np.nonzero(bad.any(axis=0))[0][0])
        channel = int(np.nonzero(bad[:, first])[0][0])
        raise AudioError(f"audio file {path} holds {int(bad.sum())} NaN or infinite sample(s), the first at sample "
                         f"{first} ({first / samplerate:.3f} s) of channel {channel}; it is damaged: re-export it")


def _read_soundfile(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    data, sr = sf.read(str(path), dtype="float32", always_2d=True)  # (T, C)
    return np.ascontiguousarray(data.T), int(sr)


def _ffmpeg_tool(name: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        raise AudioError(
            f"{name} is needed to read this file but was not found on PATH; install ffmpeg "
            "(apt-get install ffmpeg, or conda install ffmpeg) or convert the file to wav/flac"
        )
    return exe


def probe(path: str | os.PathLike) -> dict:
    """ffprobe the first audio stream of ``path``: ``{"samplerate": int, "channels": int}``."""
    path = Path(path)
    cmd = [_ffmpeg_tool("ffprobe"), "-v", "error", "-select_streams", "a:0",
           "-show_entries", "stream=sample_rate,channels", "-of", "json", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        reason = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "ffprobe failed"
        raise AudioError(f"cannot decode {path}: {reason}; the file is corrupt or not audio: "
                         "replace it or re-export it as wav/flac")
    streams = json.loads(proc.stdout or "{}").get("streams", [])
    if not streams:
        raise AudioError(f"{path} has no audio stream; give an audio file (wav, flac, mp3, ogg, m4a...)")
    return {"samplerate": int(streams[0]["sample_rate"]), "channels": int(streams[0]["channels"])}


def _read_ffmpeg(path: Path) -> tuple[np.ndarray, int]:
    info = probe(path)
    channels = info["channels"]
    cmd = [_ffmpeg_tool("ffmpeg"), "-v", "error", "-nostdin", "-i", str(path), "-map", "0:a:0",
           "-f", "f32le", "-acodec", "pcm_f32le", "-ac", str(channels), "-ar", str(info["samplerate"]), "-"]
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        reason = proc.stderr.decode(errors="replace").strip().splitlines()
        reason = reason[-1] if reason else "ffmpeg failed"
        raise AudioError(f"cannot decode {path}: {reason}; the file is corrupt: replace it or re-export it")
    data = np.frombuffer(proc.stdout, dtype="<f4")
    frames = data.size // channels
    x = data[: frames * channels].reshape(frames, channels).T
    return np.ascontiguousarray(x, dtype=np.float32), info["samplerate"]


def to_channels(x: np.ndarray, channels: int, path: str | os.PathLike = "<array>") -> np.ndarray:
    """Convert ``x`` (C, T) to ``channels`` channels: mono is duplicated to stereo, stereo is
    averaged to mono; more than 2 channels is an :class:`AudioError` (no downmix is guessed)."""
    have = x.shape[0]
    if have == channels:
        return x
    if have > 2:
        layout = {6: "5.1 ", 8: "7.1 "}.get(have, "")
        raise AudioError(
            f"{path} is {layout}({have} channels) audio; only mono and stereo are supported: downmix it "
            "to stereo first, e.g. ffmpeg -i in.wav -ac 2 out.wav"
        )
    if have == 1 and channels == 2:
        return np.concatenate([x, x], axis=0)
    if have == 2 and channels == 1:
        return x.mean(axis=0, keepdims=True, dtype=np.float32)
    raise AudioError(f"cannot convert {path} from {have} to {channels} channels; ask for 1 or 2 channels")


def to_stereo(x: np.ndarray, path: str | os.PathLike = "<array>") -> np.ndarray:
    """(C, T) -> (2, T): mono duplicated, stereo unchanged, more channels an :class:`AudioError`."""
    return to_channels(x, 2, path)


def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample ``x`` (C, T) float32 from ``sr_in`` to ``sr_out`` Hz with soxr's "HQ" quality.

    Returns (C, T') with T' = T * sr_out / sr_in rounded half up (soxr's output length); unchanged if the
    rates are equal.
    """
    if int(sr_in) == int(sr_out):
        return x
    import soxr

    y = soxr.resample(np.ascontiguousarray(np.asarray(x, dtype=np.float32).T), int(sr_in), int(sr_out),
                      quality="HQ")
    return np.ascontiguousarray(y.T, dtype=np.float32)


def read_audio(path: str | os.PathLike, samplerate: int | None = None,
               channels: int | None = None) -> tuple[np.ndarray, int]:
    """Read ``path`` as float32 ``(channels, time)`` and its sample rate.

    ``samplerate``: resample to this rate (soxr HQ) if given. ``channels``: 1 or 2; mono is
    duplicated to stereo, stereo averaged to mono; more than 2 channels raises (downmix first).
    Missing, empty (no bytes or 0 samples), undecodable and damaged (NaN or infinite samples) files
    raise :class:`AudioError`; a file holding fewer samples than its header promises is read with a
    :class:`TruncatedAudioWarning` saying both numbers.
    """
    path = Path(path)
    _check_readable(path)
    x = sr = None
    if path.suffix.lower() in SOUNDFILE_SUFFIXES:
        try:
            x, sr = _read_soundfile(path)
        except Exception:  # libsndfile cannot read it (odd codec, damaged header): try ffmpeg
            x = None
    if x is None:
        x, sr = _read_ffmpeg(path)
    if x.shape[1] == 0:
        raise AudioError(f"audio file {path} holds no samples (0 frames); replace it with a complete copy")
    check_finite(x, path, sr)
    promised = promised_frames(path)
    if promised is not None and x.shape[1] < promised:
        import warnings

        warnings.warn(TruncatedAudioWarning(
            f"audio file {path} is truncated: its header promises {promised} samples ({promised / sr:.2f} s) but "
            f"it holds {x.shape[1]} ({x.shape[1] / sr:.3f} s); only those are used: replace it with a complete copy"),
            stacklevel=2)
    if channels is not None:
        x = to_channels(x, channels, path)
    if samplerate is not None and int(samplerate) != sr:
        x, sr = resample(x, sr, int(samplerate)), int(samplerate)
    return x, sr


def audio_info(path: str | os.PathLike) -> dict:
    """Header of ``path`` without decoding: ``{"samplerate", "channels", "frames"}`` (frames is
    ``None`` when only ffprobe knows the file and it does not give an exact count)."""
    path = Path(path)
    _check_readable(path)
    if path.suffix.lower() in SOUNDFILE_SUFFIXES:
        import soundfile as sf

        try:
            info = sf.info(str(path))
            return {"samplerate": int(info.samplerate), "channels": int(info.channels), "frames": int(info.frames)}
        except Exception:
            pass
    info = probe(path)
    return {**info, "frames": None}


def peak(x: np.ndarray) -> float:
    """Largest absolute sample value of ``x`` (0 for an empty array)."""
    return float(np.max(np.abs(x))) if x.size else 0.0


def rms_db(x: np.ndarray) -> float:
    """RMS level of ``x`` in dBFS (-inf for digital silence)."""
    power = float(np.mean(np.square(x, dtype=np.float64))) if x.size else 0.0
    return 10 * np.log10(power) if power > 0 else float("-inf")


def is_silent(x: np.ndarray, threshold_db: float = -60.0) -> bool:
    """Whether the RMS level of ``x`` is below ``threshold_db`` dBFS (-60 dB: well under the noise
    floor of 16-bit-mastered music, yet above the rounding noise of float32)."""
    return rms_db(x) < threshold_db


def write_audio(path: str | os.PathLike, x: np.ndarray, samplerate: int, subtype: str = "FLOAT",
                clip: str = "error") -> Path:
    """Write ``x`` (C, T) to ``path`` (``.wav`` or ``.flac``) atomically; returns the path.

    ``subtype``: ``"FLOAT"`` (32-bit float, wav only, stores any value), ``"PCM_16"`` or ``"PCM_24"``.
    ``clip`` decides what happens to samples an integer format cannot hold (beyond [-1, 1]; exactly
    1.0 is stored as the largest integer, one step below it):

    * ``"error"``: raise :class:`AudioError` saying how many samples and the peak;
    * ``"clip"``: clip them to [-1, 1];
    * ``"normalize"``: scale the whole signal down so that its peak is 1.

    With ``"FLOAT"`` the data is written as is under ``"error"``; ``"clip"`` and ``"normalize"``
    still apply when asked. NaN or infinite samples always raise.
    """
    import soundfile as sf

    path = Path(path)
    fmt = WRITE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise AudioError(f"cannot write {path}: use a .wav or .flac file name")
    if subtype not in SUBTYPES:
        raise AudioError(f"cannot write {path} with subtype {subtype!r}; use one of {', '.join(SUBTYPES)}")
    if fmt == "FLAC" and subtype == "FLOAT":
        raise AudioError(f"cannot write {path} as FLOAT: flac stores integers; use subtype='PCM_16' or "
                         "'PCM_24', or a .wav name")
    if clip not in CLIP_POLICIES:
        raise AudioError(f"unknown clip policy {clip!r} for {path}; use one of {', '.join(CLIP_POLICIES)}")
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or (x.shape[0] > 8 and x.shape[0] > x.shape[1]):
        raise AudioError(f"cannot write {path}: expected an array shaped (channels, time), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise AudioError(f"cannot write {path}: the signal holds NaN or infinite samples; check the model output")
    top = peak(x)
    if top > 1.0:
        if clip == "clip":
            x = np.clip(x, -1.0, 1.0)
        elif clip == "normalize":
            x = x / np.float32(top)
        elif subtype in INT_SUBTYPES:
            n = int(np.count_nonzero(np.abs(x) > 1.0))
            raise AudioError(
                f"cannot write {path} as {subtype}: {n} of {x.size} samples are beyond [-1, 1] (peak "
                f"{top:.3f}, {20 * np.log10(top):+.1f} dBFS); pass clip='clip' to clip them, clip='normalize' "
                "to scale the whole signal down, or subtype='FLOAT' with a .wav name to keep them"
            )
    with atomic_path(path) as tmp:
        sf.write(str(tmp), np.ascontiguousarray(x.T), int(samplerate), subtype=subtype, format=fmt)
    return path
