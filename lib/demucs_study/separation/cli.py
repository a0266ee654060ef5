"""The ``separate`` command: audio files in, one folder of stems per file out.

For each FILE: read it (any format soundfile or ffmpeg reads, any rate), reject it with one clear
error line if it has more than 2 channels, no samples, is silent or cannot be decoded; convert mono to
stereo (duplicated) and resample to the model's rate (soxr HQ); :func:`~.apply.apply_model`; resample
the stems back to the file's rate and length; a mono file gets mono stems (the mean of the two output
channels, so the mono stems still sum to the mono mixture); apply the clipping policy to the whole
track; write ``OUTDIR/<track>/<source>.wav`` (``.flac`` with ``--flac``) for every source of the model.

Atomicity: the stems are written into a hidden temporary folder ``OUTDIR/.<track>.*.partial`` that is
renamed to ``OUTDIR/<track>`` only when every stem is complete; an existing ``OUTDIR/<track>`` is
replaced (renamed aside, then deleted), so a reader never sees a half-written track folder.
A file that fails writes nothing and does not stop the others; the exit code is 1 if any failed.

Memory: a file is decoded whole, and its resampled copy and stems are whole-track arrays (about
``2 + 2 + 8 (+ 8 when resampling back)`` float32 values per sample per channel pair); only the model's
working memory is bounded by the chunk size (:mod:`.apply`).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import uuid
import warnings
from pathlib import Path

import numpy as np

from ..audio import CLIP_POLICIES, TruncatedAudioWarning
from ..errors import AudioError, StudyError

#: ``--int16``/``--int24``/``--flac`` and the default: (file suffix, libsndfile subtype).
OUTPUT_FORMATS = {"float": (".wav", "FLOAT"), "int16": (".wav", "PCM_16"), "int24": (".wav", "PCM_24"),
                  "flac": (".flac", "PCM_24")}
#: A file whose RMS level is below this is silent: nothing to separate (the threshold of
#: :func:`demucs_study.audio.is_silent`).
SILENCE_DB = -60.0


def track_name(path: str | os.PathLike) -> str:
    """The output folder name of ``path``: its file name without the suffix, and without the ``.stem``
    of MUSDB's ``song.stem.mp4`` (``a/Song.stem.mp4`` -> ``Song``, ``b/take.1.wav`` -> ``take.1``)."""
    name = Path(path).stem
    if name.lower().endswith(".stem") and len(name) > 5:
        name = name[:-5]
    return name


def _fit_length(x: np.ndarray, length: int) -> np.ndarray:
    """Trim or zero-pad the last axis of ``x`` to ``length`` (resampling back may be off by a sample)."""
    if x.shape[-1] >= length:
        return x[..., :length]
    pad = np.zeros(x.shape[:-1] + (length - x.shape[-1],), dtype=x.dtype)
    return np.concatenate([x, pad], axis=-1)


def apply_clip_policy(stems: np.ndarray, policy: str, subtype: str, label: str) -> np.ndarray:
    """Bring ``stems`` (S, C, T) within what ``subtype`` stores, by ``policy``, for the whole track.

    ``"clip"``: clip samples beyond [-1, 1] (a warning on stderr counts them); ``"normalize"``: divide
    every stem by the track's peak so it becomes 1 (a warning gives the factor; the stems still sum
    to the equally scaled mixture); ``"error"``: raise :class:`AudioError` for an integer ``subtype``,
    keep the samples for ``"FLOAT"`` (float32 stores any value). ``label`` names the file in messages.
    """
    from ..audio import peak

    top = peak(stems)
    if top <= 1.0:
        return stems
    beyond = int(np.count_nonzero(np.abs(stems) > 1.0))
    where = f"{beyond} of {stems.size} samples of the stems are beyond [-1, 1] (peak {top:.3f}, " \
            f"{20 * np.log10(top):+.1f} dBFS)"
    if policy == "normalize":
        print(f"warning: {label}: {where}; scaled all stems by {1 / top:.4f} (--clip normalize)",
              file=sys.stderr)
        return (stems / np.float32(top)).astype(np.float32)
    if policy == "clip":
        print(f"warning: {label}: {where}; clipped them (--clip clip); use --clip normalize to scale "
              "instead, or float output (no --int16/--int24/--flac) to keep them", file=sys.stderr)
        return np.clip(stems, -1.0, 1.0)
    if subtype == "FLOAT":
        return stems
    raise AudioError(f"{label}: {where} and cannot be stored as {subtype} with --clip error; nothing was "
                     "written: use --clip clip, --clip normalize, or float output (no --int16/--int24/--flac)")


def _write_track(stems: np.ndarray, names: list[str], folder: Path, samplerate: int, suffix: str,
                 subtype: str) -> Path:
    """Write each stem ``stems[i]`` (C, T) as ``folder/names[i]<suffix>``; ``folder`` appears complete or
    not at all (temporary sibling folder, then rename; a previous ``folder`` is replaced)."""
    from ..audio import write_audio

    parent = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".partial", dir=parent))
    try:
        for name, stem in zip(names, stems):
            write_audio(tmp / f"{name}{suffix}", stem, samplerate, subtype=subtype,
                        clip="error" if subtype == "FLOAT" else "clip")
        old = None
        if folder.exists():
            old = parent / f".{folder.name}.{uuid.uuid4().hex[:8]}.old"
            os.replace(folder, old)
        os.replace(tmp, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def read_mixture(path: str | os.PathLike, samplerate: int) -> tuple[np.ndarray, int, np.ndarray]:
    """Read the audio file ``path`` as :func:`separate_file` does before separating it: any format
    :func:`~demucs_study.audio.read_audio` reads, mono or stereo, not silent.

    Returns ``(x, rate, mix)``: the samples as read ``(C, T)`` at the file's ``rate``, and the stereo
    mixture ``(2, T')`` resampled to ``samplerate`` (the model's). Raises :class:`AudioError` naming
    ``path`` for more than 2 channels, no samples, silence (RMS below :data:`SILENCE_DB`) or undecodable data.
    """
    from ..audio import read_audio, resample, rms_db, to_stereo

    path = Path(path)
    x, rate = read_audio(path)                             # (C, T) at the file's own rate
    stereo = to_stereo(x, path)                            # more than 2 channels raises here
    level = rms_db(x)
    if level < SILENCE_DB:
        what = "digital silence (all samples are zero)" if level == float("-inf") else f"RMS {level:.1f} dBFS"
        raise AudioError(f"{path} is silent ({what}, below {SILENCE_DB:g} dBFS): there is nothing to "
                         "separate; check that it is the right file")
    return x, rate, resample(stereo, rate, int(samplerate))


def separate_file(model, path: str | os.PathLike, out_dir: str | os.PathLike, shifts: int = 0,
                  split: bool = True, segment: float | None = None, overlap: float = 0.25, seed: int = 0,
                  output: str = "float", clip: str | None = None, progress: bool = False) -> Path:
    """Separate the audio file ``path`` with ``model`` into ``out_dir/<track_name(path)>/``; returns it.

    ``output``: a key of :data:`OUTPUT_FORMATS`; ``clip``: a policy of :func:`apply_clip_policy`, default
    ``"clip"`` for the integer formats and no change for float. The other options go to
    :func:`~.apply.apply_model`. Raises :class:`AudioError` naming ``path`` (nothing written) for a file
    with more than 2 channels, no samples, silence (RMS below :data:`SILENCE_DB`) or undecodable data.
    """
    from .. import SAMPLERATE, SOURCES
    from ..audio import resample
    from .apply import apply_model

    if output not in OUTPUT_FORMATS:
        raise AudioError(f"unknown output format {output!r}; use one of {', '.join(OUTPUT_FORMATS)}")
    suffix, subtype = OUTPUT_FORMATS[output]
    if clip is None:
        clip = "error" if subtype == "FLOAT" else "clip"
    if clip not in CLIP_POLICIES:
        raise AudioError(f"unknown clip policy {clip!r}; use one of {', '.join(CLIP_POLICIES)}")
    path = Path(path)
    folder = Path(out_dir) / track_name(path)
    if folder.exists() and not folder.is_dir():
        raise AudioError(f"cannot write the stems of {path} to {folder}: a file has that name; move it "
                         "or choose another output folder (-o)")

    model_rate = int(getattr(model, "samplerate", None) or SAMPLERATE)
    x, samplerate, mix = read_mixture(path, model_rate)    # as read (C, T); the stereo mixture (2, T')
    stems = apply_model(model, mix, shifts=shifts, split=split, segment=segment, overlap=overlap,
                        seed=seed, progress=progress)      # (S, 2, T')
    sources, channels = stems.shape[:2]
    if model_rate != samplerate:
        stems = resample(stems.reshape(sources * channels, -1), model_rate, samplerate)
        stems = stems.reshape(sources, channels, -1)
    stems = _fit_length(stems, x.shape[-1])
    if x.shape[0] == 1:
        stems = stems.mean(axis=1, keepdims=True, dtype=np.float32)
    stems = apply_clip_policy(np.ascontiguousarray(stems, dtype=np.float32), clip, subtype, str(path))
    names = list(getattr(model, "sources", None) or SOURCES)
    if len(names) != sources:
        raise AudioError(f"the model returned {sources} stems but names {len(names)} sources {names}; "
                         "the model file is inconsistent: save it again")
    return _write_track(stems, names, folder, samplerate, suffix, subtype)


def _whole(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if value < low:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= {low}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration in seconds > 0 (e.g. 10)")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction in [0, 1) (e.g. 0.25)")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m demucs_study separate",
        description="Separate audio files into the model's stems (drums, bass, other, vocals). Reads any "
                    "format soundfile or ffmpeg reads (wav, flac, ogg, mp3, ...) at any sample rate, mono "
                    "or stereo; writes OUTDIR/<track>/<source>.wav at the file's own rate and length "
                    "(mono files get mono stems: the mean of the two separated channels). Each track "
                    "folder appears only once complete. A file that cannot be used (more than 2 "
                    "channels, empty, silent, corrupt) gets an error line and nothing is written for "
                    "it; the others still go through and the exit code is 1.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="audio files to separate")
    parser.add_argument("-m", "--model", required=True, metavar="CHECKPOINT",
                        help="model file written by demucs_study.models.io.save_model (loaded weights-only)")
    parser.add_argument("-o", "--out", required=True, metavar="OUTDIR", help="output folder")
    parser.add_argument("--shifts", type=lambda t: _whole(t, 0), default=0, metavar="N",
                        help="shift trick: average N random shifts in [0, 0.5 s) (default 0: none; the "
                             "paper uses 10, each one costs a full pass)")
    parser.add_argument("--segment", type=_seconds, default=None, metavar="S",
                        help="chunk length in seconds (default: the model's, else 10)")
    parser.add_argument("--overlap", type=_fraction, default=0.25, metavar="F",
                        help="fraction of a chunk shared with the next, linearly cross-faded (default 0.25)")
    parser.add_argument("--no-split", dest="split", action="store_false",
                        help="separate each track in one piece (memory grows with the track length)")
    parser.add_argument("--seed", type=lambda t: _whole(t, 0), default=0, metavar="N",
                        help="seed of the random shifts (default 0); same seed, same stems")
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--int16", dest="output", action="store_const", const="int16",
                     help="16-bit PCM wav instead of 32-bit float wav")
    fmt.add_argument("--int24", dest="output", action="store_const", const="int24",
                     help="24-bit PCM wav instead of 32-bit float wav")
    fmt.add_argument("--flac", dest="output", action="store_const", const="flac", help="24-bit flac")
    parser.set_defaults(output="float")
    parser.add_argument("--clip", choices=CLIP_POLICIES, default=None,
                        help="samples beyond [-1, 1]: 'error' fails the file (nothing written), 'clip' clips "
                             "them with a warning counting them, 'normalize' scales all stems of the track "
                             "by one factor so the peak is 1 (they still sum to the scaled mixture). "
                             "Default: 'clip' for --int16/--int24/--flac; float32 wav (the default "
                             "format) stores any value, so by default nothing is changed and the stems "
                             "sum to the mixture")
    parser.add_argument("-j", "--jobs", type=lambda t: _whole(t, 1), default=None, metavar="N",
                        help="CPU threads the model may use (torch.set_num_threads; default: torch's)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress and no 'wrote' lines (warnings and errors are still printed)")
    return parser


def separate(argv: list[str]) -> int:
    """``python -m demucs_study separate ...``; returns 0 if every file was written, else 1.

    An unusable model file raises :class:`~demucs_study.models.io.ModelError` (the CLI prints it, exit 1).
    """
    args = build_parser().parse_args(argv)
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise AudioError(f"output folder {out_dir} is a file; give a folder path with -o")

    import torch

    from ..models.io import load_model

    if args.jobs:
        torch.set_num_threads(args.jobs)
    model = load_model(args.model)
    written: dict[str, Path] = {}
    failed = 0
    for file in args.files:
        try:
            name = track_name(file)
            if name in written:
                raise AudioError(f"{file}: its track name {name!r} is that of {written[name]}, already "
                                 f"written to {out_dir / name}; rename one of the files")
            if not args.quiet:
                print(f"separating {file}", file=sys.stderr, flush=True)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", TruncatedAudioWarning)
                folder = separate_file(model, file, out_dir, shifts=args.shifts, split=args.split,
                                       segment=args.segment, overlap=args.overlap, seed=args.seed,
                                       output=args.output, clip=args.clip, progress=not args.quiet)
            for w in caught:
                print(f"warning: {w.message}", file=sys.stderr, flush=True)
            written[name] = Path(file)
            if not args.quiet:
                print(f"wrote {folder}", flush=True)
        except StudyError as exc:
            failed += 1
            print(f"error: {exc}", file=sys.stderr, flush=True)
    if failed:
        print(f"error: {failed} of {len(args.files)} file(s) failed (see above); the others were written",
              file=sys.stderr)
        return 1
    return 0
