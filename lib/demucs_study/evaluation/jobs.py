"""Evaluate many tracks: light task descriptions, worker processes, one JSON per track, resumable.

A :class:`TrackTask` holds only a track name and file paths, so nothing big is pickled: each
worker reads its own audio. ``out_dir/<track>.json`` is written atomically; a track whose JSON
exists is never recomputed, so an interrupted evaluation continues where it stopped.

Reference layouts understood by :func:`tasks_from_folders`: ``<root>/<split>/<track>/<stem>.wav``
(MUSDB18-HQ and our synthetic set) or ``<root>/<track>/<stem>.<wav|flac|npy>``; a ``.npy`` stem is
``(channels, time)`` float at :data:`~demucs_study.SAMPLERATE`. Estimates: ``<est>/<track>/<stem>.wav``
(what the ``separate`` CLI writes). A task may also name one ``.npy`` file holding ``(4, 2, T)``.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from .. import SAMPLERATE, SOURCES
from ..errors import AudioError, DatasetError
from ..parallel import parallel_map
from ..utils import write_json
from .bsseval import SilentStemWarning, evaluate_track

#: Suffixes looked up, in this order, for a stem file ``<track>/<stem>.<suffix>``.
STEM_SUFFIXES = (".wav", ".flac", ".npy")
Stems = str | os.PathLike | Mapping[str, str | os.PathLike]


@dataclass(frozen=True)
class TrackTask:
    """What a worker needs to evaluate one track.

    ``references`` and ``estimates`` are each either a mapping ``stem -> file`` (wav, flac or
    ``.npy`` of ``(channels, time)``) or one ``.npy`` file of ``(sources, channels, time)``.
    ``sources`` names the stems in order (SiSEC 2018: the four MUSDB stems evaluated together);
    ``backend`` is the BSSEval implementation (:data:`.bsseval.BACKENDS`: ``fast`` or ``museval``).
    """
    name: str
    references: Stems
    estimates: Stems
    samplerate: int = SAMPLERATE
    win: float = 1.0
    hop: float = 1.0
    sources: tuple[str, ...] = SOURCES
    backend: str = "fast"


def json_path(out_dir: str | os.PathLike, track: str) -> Path:
    """Where the museval JSON of ``track`` goes: ``out_dir/<track>.json``."""
    if not track or "/" in track or "\\" in track or track.startswith("."):
        raise DatasetError(f"track name {track!r} cannot be a file name (empty, starts with '.', or holds a slash)")
    return Path(out_dir) / f"{track}.json"


def _read_one(path: Path, track: str, samplerate: int) -> tuple[np.ndarray, int]:
    """One stem file -> (channels, time) float64 and its sample rate."""
    if not path.is_file():
        raise DatasetError(f"track {track!r}: stem file {path} does not exist")
    if path.suffix == ".npy":
        return np.load(path, allow_pickle=False).astype(np.float64, copy=False), samplerate
    from ..audio import read_audio

    x, sr = read_audio(path)
    return x.astype(np.float64), sr


def load_stems(stems: Stems, track: str, samplerate: int = SAMPLERATE,
               sources: Sequence[str] = SOURCES) -> np.ndarray:
    """Read a task's stems as float64 ``(sources, channels, time)``.

    Raises :class:`DatasetError` for a missing file or stem, :class:`AudioError` for a sample
    rate other than ``samplerate`` or stems of different shapes, each naming the file.
    """
    if isinstance(stems, (str, os.PathLike)):
        path = Path(stems)
        x, _ = _read_one(path, track, samplerate)
        if x.ndim != 3:
            raise AudioError(f"track {track!r}: {path} must hold (sources, channels, time), got shape {x.shape}")
        return x
    missing = [s for s in sources if s not in stems]
    if missing:
        raise DatasetError(f"track {track!r}: no file given for stem(s) {', '.join(missing)}")
    arrays = []
    for stem in sources:
        path = Path(stems[stem])
        x, sr = _read_one(path, track, samplerate)
        if sr != samplerate:
            raise AudioError(f"track {track!r}: {path} is at {sr} Hz, expected {samplerate} Hz; "
                             f"resample it (or evaluate at its rate)")
        if x.ndim != 2:
            raise AudioError(f"track {track!r}: {path} must be (channels, time), got shape {x.shape}")
        if arrays and x.shape != arrays[0].shape:
            raise AudioError(f"track {track!r}: {path} has shape {x.shape} (channels, time) but "
                             f"{Path(stems[sources[0]])} has {arrays[0].shape}; every stem must match")
        arrays.append(x)
    return np.stack(arrays)


def _find_stem(folder: Path, stem: str) -> Path | None:
    for suffix in STEM_SUFFIXES:
        candidate = folder / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _track_folders(root: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(root.iterdir()) if p.is_dir() and not p.name.startswith(".")}


def tasks_from_folders(references: str | os.PathLike, estimates: str | os.PathLike, split: str = "test",
                       tracks: Iterable[str] | None = None, samplerate: int = SAMPLERATE,
                       sources: Sequence[str] = SOURCES) -> list[TrackTask]:
    """One :class:`TrackTask` per track of ``references`` (``<root>/<split>/`` if that folder exists,
    else ``<root>/`` itself), with estimates in ``<estimates>/<track>/<stem>.wav``.

    Every selected track (all reference tracks, or ``tracks``) must have every stem on both sides:
    otherwise a :class:`DatasetError` lists what is missing. Tracks are sorted by name.
    """
    ref_root, est_root = Path(references), Path(estimates)
    for what, root in (("references", ref_root), ("estimates", est_root)):
        if not root.is_dir():
            raise DatasetError(f"{what} folder {root} does not exist")
    if (ref_root / split).is_dir():
        ref_root = ref_root / split
    ref_tracks = _track_folders(ref_root)
    if not ref_tracks:
        raise DatasetError(f"references folder {ref_root} holds no track folders (<track>/<stem>.wav)")
    names = sorted(ref_tracks) if tracks is None else sorted(set(tracks))
    unknown = [n for n in names if n not in ref_tracks]
    if unknown:
        raise DatasetError(f"track(s) {', '.join(map(repr, unknown))} not found in {ref_root}")
    tasks, problems = [], []
    for name in names:
        ref_files, est_files = {}, {}
        for stem in sources:
            ref_file = _find_stem(ref_tracks[name], stem)
            est_file = est_root / name / f"{stem}.wav"
            if ref_file is None:
                problems.append(f"{ref_tracks[name] / stem}.wav")
            if not est_file.is_file():
                problems.append(str(est_file))
            ref_files[stem], est_files[stem] = str(ref_file), str(est_file)
        tasks.append(TrackTask(name, ref_files, est_files, samplerate, sources=tuple(sources)))
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise DatasetError(
            f"missing stem files: {', '.join(problems[:5])}{more}; separate every track first, or pick "
            f"tracks with --tracks")
    return tasks


def run_task(task: TrackTask, out_dir: str | os.PathLike) -> tuple[str, str, list[str]]:
    """Evaluate one task unless its JSON exists. Returns ``(track, status, warnings)`` with status
    ``"exists"``, ``"evaluated"`` or ``"silent"`` (skipped, nothing written)."""
    target = json_path(out_dir, task.name)
    if target.is_file():
        return task.name, "exists", []
    refs = load_stems(task.references, task.name, task.samplerate, task.sources)
    ests = load_stems(task.estimates, task.name, task.samplerate, task.sources)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SilentStemWarning)
        scores = evaluate_track(task.name, refs, ests, task.samplerate, task.win, task.hop, task.sources,
                                backend=task.backend)
    messages = [str(w.message) for w in caught if issubclass(w.category, SilentStemWarning)]
    if scores is None:
        return task.name, "silent", messages
    write_json(target, scores, indent=2)
    return task.name, "evaluated", messages


def _run_star(args: tuple[TrackTask, str]) -> tuple[str, str, list[str]]:
    return run_task(*args)


def evaluate_tracks(tasks: Iterable[TrackTask], out_dir: str | os.PathLike, jobs: int = 1,
                    progress: bool = False) -> dict[str, str]:
    """Evaluate every task into ``out_dir/<track>.json`` (museval JSON), ``jobs`` processes at once.

    ``jobs=1`` runs in this process; ``jobs>1`` uses spawned worker processes limited to one
    BLAS/OpenMP thread each. Tracks whose JSON exists are skipped (resume); JSONs are written
    atomically, so a killed run leaves no partial file. A track with a stem that is silent over
    the whole track is skipped with a :class:`SilentStemWarning` (re-issued in this process).

    Returns ``{track: "evaluated" | "exists" | "silent"}``. Errors in a worker (bad files,
    mismatched lengths) are raised here as the same :class:`~demucs_study.errors.StudyError`.
    """
    tasks = list(tasks)
    if not isinstance(jobs, int) or jobs < 1:
        raise DatasetError(f"jobs must be a positive integer, got {jobs!r}")
    names = [t.name for t in tasks]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DatasetError(f"track(s) {', '.join(duplicates)} appear more than once in the evaluation tasks")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for t in tasks:
        json_path(out, t.name)  # validate names before any work
    todo = [t for t in tasks if not json_path(out, t.name).is_file()]
    status = {name: "exists" for name in names}
    results = parallel_map(_run_star, [(t, str(out)) for t in todo], jobs, progress, desc="scoring",
                           unit="track", single_thread=True)
    for name, state, messages in results:
        status[name] = state
        for message in messages:
            warnings.warn(SilentStemWarning(message), stacklevel=2)
    return {name: status[name] for name in names}


def check_with_museval(tasks: Iterable[TrackTask], out_dir: str | os.PathLike, count: int) -> dict[str, dict]:
    """Score the first ``count`` tasks (by track name) that have a JSON in ``out_dir`` again with
    museval itself, and compare: ``{track: {"SDR": dB, ...}}``, the largest absolute deviation per
    metric between the stored scores and museval's (``bsseval.max_deviation``). Nothing is written."""
    import json

    from .bsseval import max_deviation

    if count < 1:
        raise DatasetError(f"--check {count}: give a number of tracks >= 1")
    stored = [t for t in sorted(tasks, key=lambda t: t.name) if json_path(out_dir, t.name).is_file()]
    if not stored:
        raise DatasetError(f"no scored track in {out_dir} to check: evaluate first")
    out = {}
    for task in stored[:count]:
        refs = load_stems(task.references, task.name, task.samplerate, task.sources)
        ests = load_stems(task.estimates, task.name, task.samplerate, task.sources)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SilentStemWarning)
            reference = evaluate_track(task.name, refs, ests, task.samplerate, task.win, task.hop, task.sources,
                                       backend="museval")
        if reference is not None:
            scores = json.loads(json_path(out_dir, task.name).read_text())
            out[task.name] = max_deviation(scores, reference, task.name)
    return out
