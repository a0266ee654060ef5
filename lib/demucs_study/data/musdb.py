"""Listing the tracks of a MUSDB-like dataset, always through ``musdb.DB`` (musdb 0.4.3).

Two layouts are understood (:func:`detect_layout`):

* ``"wav"`` - MUSDB18-HQ: ``<root>/{train,test}/<track>/`` folders holding ``mixture.wav``,
  ``drums.wav``, ``bass.wav``, ``other.wav``, ``vocals.wav``. Our synthetic set has this layout and
  adds ``<root>/setup.yaml``, a musdb setup file whose ``validation_tracks`` name its validation split.
* ``"stem"`` - MUSDB18: ``<root>/{train,test}/<track>.stem.mp4``, five AAC streams in the order
  mixture, drums, bass, other, vocals (musdb's ``stem_ids``).

Splits: ``train`` and ``valid`` partition musdb's ``train`` subset by the setup's
``validation_tracks`` (musdb's built-in list of 14 tracks for real MUSDB18, our ``setup.yaml`` for
the synthetic set); ``test`` is the ``test`` subset. musdb resolves ``setup_file`` as
``os.path.join(root, setup_file)``, so the relative name ``"setup.yaml"`` designates the root's file.

Tracks are checked when listed (file headers: a missing stem, stems of different length or sample
rate, empty or corrupt files, non-stereo audio) and again when loaded; each problem is one
:class:`~demucs_study.errors.DatasetError` naming the track and the fix. Loading goes through
soundfile for wav (exact float32: musdb itself would round to 16 bit through ffmpeg) and through
stempeg/ffmpeg (float32 output) for ``.stem.mp4``; see :mod:`.raw` for the cache that makes this
happen once per track.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import AUDIO_CHANNELS, SOURCES
from ..errors import AudioError, DatasetError

SPLITS = ("train", "valid", "test")
#: The order of the files of a track: musdb's stem ids 0..4.
STEM_ORDER = ("mixture", *SOURCES)
WAV_FILES = tuple(f"{name}.wav" for name in STEM_ORDER)
STEM_SUFFIX = ".stem.mp4"
SETUP_FILE = "setup.yaml"
#: Keys musdb.DB reads from a setup file; a root's setup.yaml lacking some gets musdb's defaults.
SETUP_KEYS = ("sources", "targets", "mixture", "stem_ids", "validation_tracks")

LAYOUTS = (
    "MUSDB18-HQ (and our synthetic set): <root>/train/<track>/ and <root>/test/<track>/ folders each "
    "holding mixture.wav, drums.wav, bass.wav, other.wav, vocals.wav; MUSDB18: <root>/train/*.stem.mp4 "
    "and <root>/test/*.stem.mp4"
)
FIX = ("set MUSDB_ROOT (or dataset.root) to a MUSDB18 or MUSDB18-HQ folder, or leave both unset to use "
       "the synthetic set (python -m demucs_study generate-data)")


@dataclass(frozen=True)
class TrackInfo:
    """One track of a dataset, not loaded.

    ``path`` is the track folder (wav layout) or its ``.stem.mp4`` file; ``files`` the files holding
    its audio (wav: mixture, drums, bass, other, vocals; stem: the one mp4); ``subset`` musdb's
    folder (``train`` holds both the train and valid splits).
    """

    name: str
    split: str
    subset: str
    layout: str
    path: Path
    files: tuple[Path, ...]
    samplerate: int

    def load(self, samplerate: int | None = None) -> tuple[np.ndarray, np.ndarray, int]:
        """Decode the track: ``(mixture (2, T), stems (4, 2, T), samplerate)``, float32.

        Stems are in the order of :data:`demucs_study.SOURCES`. ``samplerate``: resample to it.
        """
        from ..audio import resample

        if self.layout == "wav":
            audio, sr = _load_wav(self)
        else:
            audio, sr = _load_stem(self)
        if samplerate is not None and int(samplerate) != sr:
            audio = np.stack([resample(a, sr, int(samplerate)) for a in audio])
            sr = int(samplerate)
        return np.ascontiguousarray(audio[0]), np.ascontiguousarray(audio[1:]), sr


def _where(root: Path) -> str:
    return f"dataset folder {root}"


def detect_layout(root: str | os.PathLike) -> str:
    """``"wav"`` (MUSDB18-HQ / synthetic) or ``"stem"`` (MUSDB18) for the dataset at ``root``."""
    root = Path(root)
    if not root.exists():
        raise DatasetError(f"{_where(root)} does not exist; {FIX}")
    if not root.is_dir():
        raise DatasetError(f"dataset root {root} is a file, not a folder; {FIX}")
    if not any(root.iterdir()):
        raise DatasetError(f"{_where(root)} is empty; {FIX}")
    stems = wavs = False
    for subset in ("train", "test"):
        folder = root / subset
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            if entry.is_file() and entry.name.endswith(STEM_SUFFIX):
                stems = True
            elif entry.is_dir() and any((entry / f).exists() for f in WAV_FILES):
                wavs = True
    if stems and wavs:
        raise DatasetError(f"{_where(root)} mixes .stem.mp4 files and wav track folders; keep one layout "
                           f"per root ({LAYOUTS})")
    if stems:
        return "stem"
    if wavs:
        return "wav"
    raise DatasetError(f"{_where(root)} is not a MUSDB dataset; expected one of these layouts: {LAYOUTS}. {FIX}")


def default_setup() -> dict:
    """musdb's own setup (``musdb/configs/mus.yaml``): file names, stem ids, validation tracks."""
    import importlib.util

    import yaml

    spec = importlib.util.find_spec("musdb")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetError("the musdb package is not installed; run make env")
    config = Path(list(spec.submodule_search_locations)[0]) / "configs" / "mus.yaml"
    return yaml.safe_load(config.read_text())


def read_setup(root: Path) -> dict | None:
    """The root's ``setup.yaml`` as given (``None`` if there is none)."""
    import yaml

    path = root / SETUP_FILE
    if not path.is_file():
        return None
    try:
        setup = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise DatasetError(f"{path} is not valid YAML ({exc}); fix it, or delete the dataset and re-run "
                           "generate-data") from None
    if not isinstance(setup, dict):
        raise DatasetError(f"{path} must be a musdb setup mapping (validation_tracks: [...]), not "
                           f"{type(setup).__name__}")
    return setup


def _import_musdb():
    try:
        import musdb
    except RuntimeError as exc:  # stempeg refuses to import without ffmpeg/ffprobe
        raise DatasetError(f"musdb cannot start: {exc}; install ffmpeg (apt-get install ffmpeg)") from None
    return musdb


def _file_problem(track: Path, file: Path, exc: Exception | str) -> DatasetError:
    """A wav of a track folder that cannot be used."""
    return DatasetError(f"track {track}: {file.name} cannot be read ({exc}); replace the file (re-download the "
                        "track, or re-run generate-data for the synthetic set) or remove the track folder")


def _stem_problem(path: Path, exc: Exception | str) -> DatasetError:
    """A .stem.mp4 that cannot be used."""
    return DatasetError(f"stem file {path} cannot be read ({exc}); replace it with a complete copy (re-download "
                        "the track) or remove it")


def _check_consistent(track: Path, entries: list[tuple[str, int, int, int | None]]) -> None:
    """``entries``: (file name, samplerate, channels, frames or None) of each file of one track."""
    for name, _, channels, _ in entries:
        if channels != AUDIO_CHANNELS:
            raise DatasetError(f"track {track}: {name} has {channels} channel(s) but MUSDB tracks are stereo; "
                               f"convert it, e.g. ffmpeg -i {name} -ac 2 stereo.wav")
    rates = {name: sr for name, sr, _, _ in entries}
    if len(set(rates.values())) > 1:
        listing = ", ".join(f"{n} {sr} Hz" for n, sr in rates.items())
        raise DatasetError(f"track {track}: the files have different sample rates ({listing}); resample them "
                           "to one rate (44100 Hz)")
    lengths = {name: n for name, _, _, n in entries if n is not None}
    if len(set(lengths.values())) > 1:
        listing = ", ".join(f"{n} {frames} samples" for n, frames in lengths.items())
        raise DatasetError(f"track {track}: the mixture and stems differ in length ({listing}); re-export "
                           "them with the same length")


def _check_wav_track(folder: Path) -> None:
    from ..audio import audio_info

    missing = [f for f in WAV_FILES if not (folder / f).is_file()]
    if missing:
        found = ", ".join(sorted(p.name for p in folder.iterdir())) or "nothing"
        raise DatasetError(
            f"track {folder} has no {', '.join(missing)} (found: {found}); a MUSDB18-HQ track folder holds "
            f"{', '.join(WAV_FILES)}: add the missing file(s) or remove the folder"
        )
    entries = []
    for f in WAV_FILES:
        try:
            info = audio_info(folder / f)
        except AudioError as exc:
            raise _file_problem(folder, folder / f, exc) from None
        if info["frames"] == 0:
            raise _file_problem(folder, folder / f, "it holds no samples")
        entries.append((f, info["samplerate"], info["channels"], info["frames"]))
    _check_consistent(folder, entries)


def _check_stem_track(path: Path, info) -> None:
    n = info.nb_audio_streams
    if n != len(STEM_ORDER):
        raise DatasetError(f"{path} holds {n} audio stream(s); a MUSDB18 .stem.mp4 holds {len(STEM_ORDER)} "
                           f"({', '.join(STEM_ORDER)}): replace the file")
    _check_consistent(path, [(f"stream {i} ({name})", info.sample_rate(i), info.channels(i), None)
                             for i, name in enumerate(STEM_ORDER)])


def _load_wav(track: TrackInfo) -> tuple[np.ndarray, int]:
    """(5, 2, T) mixture then stems, read exactly with soundfile."""
    from ..audio import read_audio

    arrays, entries = [], []
    for f in track.files:
        try:
            x, sr = read_audio(f)
        except AudioError as exc:
            raise _file_problem(track.path, f, exc) from None
        arrays.append(x)
        entries.append((f.name, sr, x.shape[0], x.shape[1]))
    _check_consistent(track.path, entries)
    return np.stack(arrays), entries[0][1]


def _load_stem(track: TrackInfo) -> tuple[np.ndarray, int]:
    """(5, 2, T) decoded from the .stem.mp4 by stempeg (ffmpeg, float32 output)."""
    _import_musdb()
    import stempeg

    try:
        info = stempeg.Info(str(track.path))
        _check_stem_track(track.path, info)
        audio, sr = stempeg.read_stems(str(track.path), dtype=np.float32, ffmpeg_format="f32le",
                                       always_3d=True, info=info)
    except DatasetError:
        raise
    except Exception as exc:  # ffprobe failure, streams of different lengths (stempeg crashes on those)
        raise _stem_problem(track.path, exc) from None
    audio = np.asarray(audio, dtype=np.float32).transpose(0, 2, 1)  # (5, T, C) -> (5, C, T)
    if audio.shape[-1] == 0:
        raise _stem_problem(track.path, "ffmpeg decoded no samples")
    return np.ascontiguousarray(audio), int(sr)


def _check_stem_files(folder: Path) -> None:
    """Find the .stem.mp4 that musdb could not open (called only after it failed)."""
    import stempeg

    for f in sorted(folder.glob(f"*{STEM_SUFFIX}")):
        if f.stat().st_size == 0:
            raise _stem_problem(f, "the file is empty (0 bytes)")
        try:
            stempeg.Info(str(f))
        except Exception as exc:
            reason = getattr(exc, "stderr", b"") or b""
            reason = reason.decode(errors="replace").strip().splitlines()[-1:] or [str(exc)]
            raise _stem_problem(f, reason[0]) from None


def _open_db(root: Path, layout: str, subset: str, split: str | None):
    musdb = _import_musdb()
    setup = read_setup(root)
    with tempfile.TemporaryDirectory(prefix="musdb-setup-") as tmp:
        setup_file = None
        if setup is not None:
            if all(setup.get(k) is not None for k in SETUP_KEYS):
                setup_file = SETUP_FILE  # musdb reads os.path.join(root, "setup.yaml")
            else:  # complete it with musdb's defaults (an absolute path survives os.path.join)
                import yaml

                merged = {**default_setup(), **{k: v for k, v in setup.items() if v is not None}}
                merged.setdefault("validation_tracks", [])
                setup_file = str(Path(tmp) / SETUP_FILE)
                Path(setup_file).write_text(yaml.safe_dump(merged))
        try:
            return musdb.DB(root=str(root), setup_file=setup_file, is_wav=(layout == "wav"), subsets=[subset],
                            split=split)
        except DatasetError:
            raise
        except Exception as exc:
            if layout == "stem":
                _check_stem_files(root / subset)
            raise DatasetError(f"musdb cannot read {root / subset}: {exc}; check the files of this folder") from None


def list_tracks(root: str | os.PathLike, split: str, check: bool = True) -> list[TrackInfo]:
    """The tracks of ``split`` ("train", "valid" or "test") of the dataset at ``root``, sorted by name.

    ``check``: verify each track's files (headers only; cheap) and raise a :class:`DatasetError`
    naming the first bad track.
    """
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    root = Path(root)
    layout = detect_layout(root)
    subset = "test" if split == "test" else "train"
    folder = root / subset
    if not folder.is_dir():
        raise DatasetError(f"{_where(root)} has no {subset}/ folder; expected {LAYOUTS}")
    if check and layout == "wav":
        for track_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
            _check_wav_track(track_dir)
    db = _open_db(root, layout, subset, None if split == "test" else split)
    tracks = []
    for t in db.tracks:
        if layout == "wav":
            path = Path(t.path).parent
            files = (Path(t.path), *(Path(t.sources[s].path) if s in t.sources else path / f"{s}.wav"
                                     for s in SOURCES))
        else:
            path = Path(t.path)
            files = (path,)
            if check:
                _check_stem_track(path, t.info)
        tracks.append(TrackInfo(name=t.name, split=split, subset=subset, layout=layout, path=path, files=files,
                                samplerate=int(t.rate or 0)))
    if not tracks:
        if split == "valid":
            where = root / SETUP_FILE if (root / SETUP_FILE).is_file() else "musdb's built-in list"
            raise DatasetError(f"no validation track in {folder}: none of the validation_tracks of {where} is "
                               "there; use the full MUSDB18 train set, or list your validation tracks in "
                               f"{root / SETUP_FILE}")
        raise DatasetError(f"no {split} track in {folder}; expected {LAYOUTS}")
    return tracks
