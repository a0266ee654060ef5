"""The synthetic MUSDB18-HQ-layout dataset: songs composed as MIDI, performed, rendered and produced.

Layout written under ``out`` (what ``musdb.DB(out, is_wav=True, setup_file="setup.yaml")`` reads)::

    train/<Artist - Title>/{mixture,drums,bass,other,vocals}.wav   training + validation tracks
    test/<Artist - Title>/{mixture,drums,bass,other,vocals}.wav
    unlabeled/<Artist - Title>.wav                                  mixtures only: what training may read
    unlabeled_truth/<Artist - Title>/{drums,bass,other,vocals}.wav  the HIDDEN true stems of unlabeled/
    setup.yaml                                                       musdb setup naming the validation tracks
    manifest.json                                                    written last: arguments, version, per-track metadata

``unlabeled_truth/`` (``manifest["hidden_truth"]``) is for evaluating what a method makes of the
unlabeled songs (e.g. how often the remix scheme's "silent source" excerpts really are silent);
training never reads it. Unlabeled songs come from the same generator as the labelled ones (same
variety, sources silent for whole sections) and ``unlabeled/<track>.wav`` equals the float32 sum of
its hidden stems.

A song (:func:`render_song`): :mod:`.plan` draws its form, :mod:`.parts` composes the notes,
:mod:`.humanize` and :mod:`.voice` perform them, :mod:`.render` plays them through a General MIDI
SoundFont (FluidR3_GM when installed, else pretty_midi's TimGM6mb: ``manifest["soundfont"]``),
:mod:`.fx` puts effect chains on the parts and a reverb on each stem, and :mod:`.mixbus` computes
the bus compressor + limiter gain curve on the mix and applies it to every stem (``production=False``
leaves out effects, reverbs and bus: the dry render, the "old generator" of the data notebook).

Audio: float32 WAV, 44.1 kHz, stereo. ``mixture = ((drums + bass) + other) + vocals`` in float32, so
the mixture file equals the float32 sum of the stem files. One gain per track keeps every file's
peak below 0.99. Each track's audio depends only on (seed, split, index): not on ``jobs`` nor on
how many tracks the other splits hold (only a rare name clash gets a " II" suffix in order).
Random streams per track: 0 composition, 1 name, 2 performance, 3 production.

The command line is in :mod:`.cli` (``python -m demucs_study generate-data``).
"""
from __future__ import annotations

import json
import numbers
import os
import re
import shutil
import struct
import sys
from pathlib import Path

import numpy as np

from ... import SAMPLERATE, SOURCES
from ...errors import DatasetError, ParamsError
from ...utils import atomic_path, write_json

#: Bump whenever the audio or the metadata for the same arguments changes: datasets are regenerated.
GENERATOR_VERSION = "2"
SPLIT_CODES = {"train": 0, "valid": 1, "test": 2, "unlabeled": 3}
DEFAULTS = {"seed": 0, "train": 8, "valid": 2, "test": 4, "unlabeled": 4, "duration": 30.0}
MANIFEST = "manifest.json"
SETUP = "setup.yaml"
#: Written at the start of a generation, removed at the end: marks ``out`` as ours to clean.
MARKER = ".synth-in-progress.json"
#: Folder of the hidden true stems of the unlabeled mixtures (never read by training).
HIDDEN_TRUTH = "unlabeled_truth"
GENERATED = ("train", "test", "unlabeled", HIDDEN_TRUTH, SETUP)
#: The mixture and every stem of a track peak at this fraction of full scale, drawn per track.
PEAK_RANGE = (0.7, 0.95)


def track_rng(seed: int, split: str, index: int, stream: int = 0) -> np.random.Generator:
    """The generator of track ``index`` of ``split``: depends on nothing else (stream 1: its name)."""
    return np.random.default_rng(np.random.SeedSequence([seed, SPLIT_CODES[split], index, stream]))


def render_song(seed: int, duration: float, *, split: str = "train", index: int = 0,
                soundfont: str | os.PathLike | None = None, samplerate: int = SAMPLERATE,
                production: bool = True):
    """Compose and render one song -> (stems (4, 2, T) float32 in SOURCES order, metadata dict).

    ``T = round(duration * samplerate)``; the song is track ``index`` of ``split`` for ``seed``
    (the same audio ``generate_dataset`` writes). The stems are scaled by one gain so that each of
    them and their float32 sum peak at a level drawn in PEAK_RANGE (below 0.99). The metadata gives
    tempo, key, sections (start/end seconds, which stems play), chords, the parts and GM programs,
    their effects and the bus settings. ``production=False``: no effects, reverbs nor bus (dry).
    """
    frames, meta = _render(seed, duration, split, index, soundfont, samplerate, production)
    return np.ascontiguousarray(frames.transpose(0, 2, 1)), meta


def _render(seed, duration, split, index, soundfont, samplerate, production=True):
    """render_song in the frames layout: stems (4, T, 2) float32 (interleaved, as WAV stores them)."""
    from . import fx, mixbus
    from .parts import build_midi
    from .plan import plan_song
    from .render import level_stems, render_stems, resolve_soundfont

    if split not in SPLIT_CODES:
        raise ParamsError(f"split {split!r} is not one of {sorted(SPLIT_CODES)}")
    _check_positive("seed", seed, allow_zero=True)
    _check_positive("index", index, allow_zero=True)
    _check_positive("duration", duration, number=True)
    sf = resolve_soundfont(soundfont)
    rng = track_rng(seed, split, index)
    plan = plan_song(rng, float(duration))
    pm = build_midi(rng, plan, track_rng(seed, split, index, stream=2))
    settings = None
    if production:
        prng = track_rng(seed, split, index, stream=3)
        settings = {"parts": [fx.draw_part_fx(prng, plan, p) for p in plan.parts],
                    "reverbs": {s: fx.draw_stem_reverb(prng, s) for s in SOURCES},
                    "bus": mixbus.draw_bus(prng)}
    n = int(round(duration * samplerate))
    stems = np.empty((len(SOURCES), n, 2), dtype=np.float32)
    render_stems(plan, pm, stems, sf, samplerate, settings)
    level_stems(plan, stems, samplerate, sf)
    bus = None
    if settings is not None:
        gain, bus = mixbus.bus_gain(_mixture(stems), samplerate, settings["bus"])
        stems *= gain[None, :, None]
    if not np.all(np.isfinite(stems)):
        raise RuntimeError(f"non-finite samples in song (seed={seed}, split={split}, index={index})")
    peak = max(_peak(_mixture(stems)), max(_peak(x) for x in stems))
    target = float(rng.uniform(*PEAK_RANGE))
    stems *= np.float32(target / peak)
    return stems, _metadata(plan, pm, target, peak, settings, bus)


def _peak(x: np.ndarray) -> float:
    return max(float(x.max()), -float(x.min()))


def _mixture(stems: np.ndarray) -> np.ndarray:
    """((drums + bass) + other) + vocals in float32: (4, ...) -> (...), any layout."""
    mix = stems[0].astype(np.float32, copy=True)
    for k in range(1, len(SOURCES)):
        mix += stems[k]
    return mix


def _metadata(plan, pm, peak_target: float, raw_peak: float, settings: dict | None = None,
              bus: dict | None = None) -> dict:
    r = lambda x: round(float(x), 4)  # noqa: E731
    return {
        "tempo": plan.tempo, "key": plan.key_name, "time_signature": "4/4", "offset": r(plan.offset),
        "drum_style": plan.drum_style, "peak": r(peak_target), "gain_db": r(20 * np.log10(peak_target / raw_peak)),
        "stem_gain_db": plan.stem_gain_db,
        "sections": [{"name": s.name, "start": r(s.start), "end": r(s.end), "bars": s.bars, "energy": s.energy,
                      "active": {k: bool(s.active[k]) for k in SOURCES}, "level_db": s.level_db}
                     for s in plan.sections],
        "chords": [{"start": r(c.start), "degree": c.degree, "root": c.root, "tones": list(c.tones)}
                   for c in plan.chords],
        "parts": [{"stem": p.stem, "role": p.role, "program": p.program, "is_drum": p.is_drum,
                   "pan": r(p.pan), "style": p.style, "sections": list(p.sections), "level_db": p.level_db,
                   "tuning": p.tuning, "notes": len(inst.notes), **({"key_pans": p.key_pans} if p.key_pans else {}),
                   **({"fx": settings["parts"][i]} if settings else {})}
                  for i, (p, inst) in enumerate(zip(plan.parts, pm.instruments))],
        "production": settings is not None,
        **({"reverbs": settings["reverbs"], "bus": {**settings["bus"], **(bus or {})}} if settings else {}),
    }


# ------------------------------------------------------------------ writing
def write_wav(path: Path, x: np.ndarray, samplerate: int = SAMPLERATE) -> None:
    """Write (channels, time) float32 as a WAVE_FORMAT_IEEE_FLOAT file, atomically.

    The same bytes as soundfile's subtype FLOAT minus libsndfile's PEAK chunk, which holds a
    timestamp: leaving it out makes files byte-identical across runs.
    """
    _write_frames(Path(path), np.asarray(x).T, samplerate)


def _write_frames(path: Path, frames: np.ndarray, samplerate: int = SAMPLERATE) -> None:
    """write_wav for (time, channels) frames (already interleaved: no copy when C-contiguous)."""
    x = np.ascontiguousarray(frames, dtype="<f4")
    frames_n, channels = x.shape
    data = memoryview(x).cast("B")
    fmt = struct.pack("<HHIIHH", 3, channels, samplerate, samplerate * channels * 4, channels * 4, 32)
    header = (b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 12 + 8 + len(data)) + b"WAVE"
              + b"fmt " + struct.pack("<I", len(fmt)) + fmt
              + b"fact" + struct.pack("<II", 4, frames_n)
              + b"data" + struct.pack("<I", len(data)))
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(header)
            f.write(data)


def _make_track(task: dict) -> dict:
    """Render one track and write its files; returns its metadata (runs in worker processes)."""
    stems, meta = _render(task["seed"], task["duration"], task["split"], task["index"], task["soundfont"],
                          SAMPLERATE, task.get("production", True))
    out = Path(task["out"])
    if task["split"] == "unlabeled":
        truth = out / task["truth"]
        truth.mkdir(parents=True, exist_ok=True)
        for k, name in enumerate(SOURCES):
            _write_frames(truth / f"{name}.wav", stems[k])
        _write_frames(out / task["path"], _mixture(stems))
    else:
        folder = out / task["path"]
        folder.mkdir(parents=True, exist_ok=True)
        for k, name in enumerate(SOURCES):
            _write_frames(folder / f"{name}.wav", stems[k])
        _write_frames(folder / "mixture.wav", _mixture(stems))
    extra = {"truth": task["truth"]} if task["split"] == "unlabeled" else {}
    return {"name": task["name"], "split": task["split"], "index": task["index"], "path": task["path"],
            **extra, "duration": task["duration"], **meta}


def _setup_yaml(valid_names: list[str]) -> str:
    """musdb 0.4.3's setup file (its configs/mus.yaml) with our validation tracks.

    ``musdb.DB(root, setup_file="setup.yaml")`` opens ``os.path.join(root, setup_file)``, then with
    ``split="train"``/``"valid"`` keeps the train/ folders not in / in ``validation_tracks``.
    """
    import yaml

    setup = {
        "sample_rate": float(SAMPLERATE),
        "sources": {s: f"{s}.wav" for s in ("vocals", "drums", "bass", "other")},
        "mixture": "mixture.wav",
        "stem_ids": {"mixture": 0, "drums": 1, "bass": 2, "other": 3, "vocals": 4},
        "targets": {"vocals": {"vocals": 1}, "drums": {"drums": 1}, "bass": {"bass": 1}, "other": {"other": 1},
                    "accompaniment": {"bass": 1, "drums": 1, "other": 1},
                    "linear_mixture": {"vocals": 1, "bass": 1, "drums": 1, "other": 1}},
        "validation_tracks": list(valid_names),
    }
    return "# musdb setup file written by demucs_study.data.synth\n" + yaml.safe_dump(setup, sort_keys=False)


def _check_positive(name: str, value, number: bool = False, allow_zero: bool = False) -> None:
    ok_type = isinstance(value, numbers.Real) if number else isinstance(value, numbers.Integral)
    if isinstance(value, bool) or not ok_type or not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        kind = "a positive number" if number else ("an integer >= 0" if allow_zero else "a positive integer")
        raise ParamsError(f"{name}={value!r} must be {kind}")


def _args(seed, train, valid, test, unlabeled, duration, soundfont, production=True) -> dict:
    for k, v in (("seed", seed), ("train", train), ("valid", valid), ("test", test), ("unlabeled", unlabeled)):
        _check_positive(k, v, allow_zero=True)
    _check_positive("duration", duration, number=True)
    if duration < 1.0:
        raise ParamsError(f"duration={duration!r} is too short: give at least 1 second per track")
    if train + valid + test + unlabeled == 0:
        raise ParamsError("train, valid, test and unlabeled are all 0: ask for at least one track")
    if not isinstance(production, bool):
        raise ParamsError(f"production={production!r} must be true or false")
    sf = None if soundfont is None else str(Path(soundfont).expanduser().resolve())
    return {"seed": int(seed), "train": int(train), "valid": int(valid), "test": int(test),
            "unlabeled": int(unlabeled), "duration": float(duration), "soundfont": sf, "production": production}


def _clean(out: Path) -> None:
    """Remove what an earlier generation left in ``out`` (only if it was ours)."""
    present = [g for g in GENERATED if (out / g).exists()]
    ours = (out / MARKER).exists() or read_manifest(out) is not None
    if present and not ours:
        raise DatasetError(f"{out} already holds {', '.join(present)} that this generator did not write "
                           "(no manifest.json); choose an empty or new --out folder")
    (out / MANIFEST).unlink(missing_ok=True)
    for g in GENERATED:
        p = out / g
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()


def read_manifest(out: str | os.PathLike) -> dict | None:
    """The manifest of a finished synthetic dataset in ``out``, or None (none, unreadable, not ours)."""
    try:
        m = json.loads((Path(out) / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return m if isinstance(m, dict) and m.get("generator") == __name__ else None


def _tasks(out: Path, args: dict, sf: Path) -> list[dict]:
    from .names import track_name, unique_names

    plan = [(split, i) for split in ("train", "valid", "test", "unlabeled") for i in range(args[split])]
    names = unique_names([track_name(track_rng(args["seed"], s, i, stream=1)) for s, i in plan])
    tasks = []
    for (split, i), name in zip(plan, names):
        folder = {"train": "train", "valid": "train", "test": "test", "unlabeled": "unlabeled"}[split]
        path = f"{folder}/{name}.wav" if split == "unlabeled" else f"{folder}/{name}"
        tasks.append({"seed": args["seed"], "split": split, "index": i, "name": name, "path": path,
                      "truth": f"{HIDDEN_TRUTH}/{name}" if split == "unlabeled" else None,
                      "duration": args["duration"], "soundfont": str(sf), "out": str(out),
                      "production": args["production"]})
    return tasks


def generate_dataset(out: str | os.PathLike, seed: int = DEFAULTS["seed"], train: int = DEFAULTS["train"],
                     valid: int = DEFAULTS["valid"], test: int = DEFAULTS["test"],
                     unlabeled: int = DEFAULTS["unlabeled"], duration: float = DEFAULTS["duration"],
                     soundfont: str | os.PathLike | None = None, jobs: int = 1, progress: bool = False,
                     production: bool = True) -> dict:
    """Generate the whole dataset in ``out`` (removing an earlier generation there) -> the manifest.

    ``jobs`` > 1 renders tracks in that many processes; the output is the same for any ``jobs``.
    ``soundfont`` None: FluidR3_GM if installed, else pretty_midi's TimGM6mb (recorded in the
    manifest). ``production=False``: dry renders (no effects, reverbs nor bus processing).
    """
    from .render import check_soundfont, resolve_soundfont, soundfont_sha256, soundfont_tag

    args = _args(seed, train, valid, test, unlabeled, duration, soundfont, production)
    _check_positive("jobs", jobs)
    sf = resolve_soundfont(args["soundfont"])
    check_soundfont(sf, load=jobs == 1)  # workers load it themselves: no need to parse FluidR3 here too
    sha = soundfont_sha256(sf)
    out = Path(out).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    _clean(out)
    write_json(out / MARKER, {"generator": __name__, "version": GENERATOR_VERSION, "args": args})
    tasks = _tasks(out, args, sf)
    for folder in ("train", "test", "unlabeled", HIDDEN_TRUTH):
        if any(t["path"].startswith(folder + "/") or (t["truth"] or "").startswith(folder + "/") for t in tasks):
            (out / folder).mkdir(exist_ok=True)
    tracks = _run(tasks, jobs, progress)
    valid_names = [t["name"] for t in tasks if t["split"] == "valid"]
    with atomic_path(out / SETUP) as tmp:
        tmp.write_text(_setup_yaml(valid_names))
    manifest = {
        "generator": __name__, "version": GENERATOR_VERSION, "args": args,
        "soundfont": {"tag": soundfont_tag(sf), "path": str(sf), "file": sf.name, "sha256": sha,
                      "default": args["soundfont"] is None},
        "soundfont_sha256": sha, "production": args["production"], "hidden_truth": HIDDEN_TRUTH,
        "samplerate": SAMPLERATE, "channels": 2, "sources": list(SOURCES), "setup_file": SETUP,
        "splits": {s: [t["name"] for t in tasks if t["split"] == s] for s in SPLIT_CODES},
        "tracks": tracks,
    }
    write_json(out / MANIFEST, manifest)
    (out / MARKER).unlink(missing_ok=True)
    return manifest


def _run(tasks: list[dict], jobs: int, progress: bool) -> list[dict]:
    from ...parallel import parallel_map

    return parallel_map(_make_track, tasks, jobs, progress, desc="synth tracks", unit="track")


def dataset_status(out: str | os.PathLike, seed: int = DEFAULTS["seed"], train: int = DEFAULTS["train"],
                   valid: int = DEFAULTS["valid"], test: int = DEFAULTS["test"],
                   unlabeled: int = DEFAULTS["unlabeled"], duration: float = DEFAULTS["duration"],
                   soundfont: str | os.PathLike | None = None,
                   production: bool = True) -> tuple[dict | None, str]:
    """``(manifest, "")`` if ``out`` holds the dataset of these arguments (same generator version,
    arguments, SoundFont content, and every track and hidden-stem folder on disk), else
    ``(None, reason)``. Reads only."""
    from .render import resolve_soundfont, soundfont_sha256

    args = _args(seed, train, valid, test, unlabeled, duration, soundfont, production)
    root = Path(out).expanduser()
    m = read_manifest(root)
    if m is None:
        return None, f"{root} holds no synthetic dataset (no {MANIFEST})"
    if m.get("version") != GENERATOR_VERSION:
        return None, f"{root} was made by generator version {m.get('version')}, this is {GENERATOR_VERSION}"
    if m.get("args") != args:
        return None, f"{root} was made with other parameters ({m.get('args')}, wanted {args})"
    missing = [t["path"] for t in m.get("tracks", [])
               if not (root / t["path"]).exists() or (t.get("truth") and not (root / t["truth"]).is_dir())]
    if missing:
        return None, f"{root} lacks {len(missing)} track(s), e.g. {missing[0]}"
    if m.get("soundfont_sha256") != soundfont_sha256(resolve_soundfont(args["soundfont"])):
        return None, f"{root} was rendered with another SoundFont"
    return m, ""


def ensure_dataset(out: str | os.PathLike, seed: int = DEFAULTS["seed"], train: int = DEFAULTS["train"],
                   valid: int = DEFAULTS["valid"], test: int = DEFAULTS["test"],
                   unlabeled: int = DEFAULTS["unlabeled"], duration: float = DEFAULTS["duration"],
                   soundfont: str | os.PathLike | None = None, jobs: int = 1, progress: bool = False,
                   production: bool = True) -> dict:
    """The manifest of the dataset in ``out``: returned at once if it is current
    (:func:`dataset_status`), else the dataset is (re)generated (the old generated folders removed
    first). ``jobs`` does not change the data."""
    args = _args(seed, train, valid, test, unlabeled, duration, soundfont, production)
    m, _ = dataset_status(out, **args)
    if m is not None:
        return m
    return generate_dataset(out, jobs=jobs, progress=progress, **args)


def dataset_dir(profile: str, synth: dict) -> Path:
    """The folder of a profile's synthetic dataset: ``<data dir>/synth-<profile>-<SoundFont tag>``, plus
    ``-dry`` for ``production: false``. The tag (``fluidr3``, ``timgm6mb`` or ``<name>-<sha256[:8]>``,
    see :func:`.render.soundfont_tag`) keeps datasets rendered with different SoundFonts apart, so a
    machine with FluidR3 and one without never share a folder. ``synth`` is ``dataset.synth``."""
    from ...paths import data_dir
    from .render import soundfont_tag

    if not re.fullmatch(r"[A-Za-z0-9_.-]+", str(profile)):
        raise ParamsError(f"profile {profile!r} must be letters, digits, '_', '.' or '-'")
    synth = synth or {}
    tag = soundfont_tag(synth.get("soundfont"))
    dry = "" if synth.get("production", True) else "-dry"
    return data_dir() / f"synth-{profile}-{tag}{dry}"
