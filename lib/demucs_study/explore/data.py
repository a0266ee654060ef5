"""What the explorer can show for a profile, and loading one choice of it.

A profile's explorable material is its **test set** (the raw cache of ``evaluation.testset.test_cache``:
each track's mixture and true stems), its **systems** and their per-track evaluations:

* every experiment of the profile (``config.profile_experiments``) whose estimates are stored under
  ``data/estimates/<profile>/<system>/`` or that has a trained model (``training.runs.best_model_path``):
  a track without stored estimates is separated on demand, through ``models.io.load_model`` and
  ``separation.apply.apply_model`` with the experiment's ``separate`` options, exactly as
  ``evaluation.testset.separate_test_set`` does (kept in memory, never written);
* the references of ``evaluation.testset.REFERENCES``: ``MIX`` (the mixture as every estimate) and
  ``IRM2`` (the ideal ratio mask oracle), read when stored, else computed from the track.

Per-frame scores come from the stored museval JSON ``results/<profile>/evals/<system>/test/<track>.json``
(``targets -> frames -> metrics``; frames where BSSEval is undefined, e.g. a silent reference, are NaN).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import SOURCES
from ..errors import StudyError

#: The kinds of system.
EXPERIMENT, REFERENCE = "experiment", "reference"


class ExploreError(StudyError, ValueError):
    """A choice the explorer cannot show (unknown track, system or stem; nothing to explore)."""


@dataclass(frozen=True)
class TrackAudio:
    """One track as the explorer uses it: ``mixture`` ``(C, T)`` and the true ``references`` ``(S, C, T)`` in
    the order of ``sources`` (``None`` for a song of your own: it has no true stems)."""

    name: str
    samplerate: int
    mixture: np.ndarray
    references: np.ndarray | None
    sources: tuple[str, ...] = SOURCES

    @property
    def duration(self) -> float:
        return self.mixture.shape[-1] / self.samplerate

    def reference(self, stem: str) -> np.ndarray | None:
        """The true ``stem`` ``(C, T)``, or None without references."""
        return None if self.references is None else self.references[stem_index(self.sources, stem)]


@dataclass(frozen=True)
class System:
    """A system the explorer can show: an experiment (``params`` and its ``model`` file, None when not
    trained) or a reference (``MIX``, ``IRM2``)."""

    name: str
    kind: str
    params: dict | None = field(default=None, compare=False, repr=False)
    model: Path | None = None

    @property
    def trained(self) -> bool:
        return self.model is not None and self.model.is_file()


@dataclass(frozen=True)
class FrameScores:
    """One metric of one stem over a track's frames: ``times`` (start, s), ``durations`` (s), ``values``
    (dB, NaN where undefined)."""

    metric: str
    times: np.ndarray
    durations: np.ndarray
    values: np.ndarray

    @property
    def median(self) -> float:
        """The track's score as SiSEC 2018 reports it: the median over the defined frames (NaN if none)."""
        finite = self.values[np.isfinite(self.values)]
        return float(np.median(finite)) if finite.size else math.nan

    def within(self, start: float, stop: float) -> np.ndarray:
        """Values of the frames overlapping ``[start, stop)``."""
        keep = (self.times < stop) & (self.times + self.durations > start)
        return self.values[keep]


def stem_index(sources, stem: str) -> int:
    """Position of ``stem`` in ``sources``; an :class:`ExploreError` naming the known stems otherwise."""
    try:
        return list(sources).index(stem)
    except ValueError:
        raise ExploreError(f"unknown stem {stem!r}; choose one of {', '.join(sources)}") from None


def read_frame_scores(path: str | Path, stem: str, metric: str = "SDR") -> FrameScores:
    """The per-frame ``metric`` of ``stem`` in the museval JSON file ``path``.

    Raises :class:`ExploreError` naming the file if it is not museval JSON or lacks the stem."""
    from ..utils import read_json

    path = Path(path)
    try:
        doc = read_json(path)
    except (OSError, ValueError) as exc:
        raise ExploreError(f"cannot read the evaluation {path} ({exc}); evaluate again with make evaluate") from None
    targets = doc.get("targets") if isinstance(doc, dict) else None
    if not isinstance(targets, list):
        raise ExploreError(f"{path} is not a museval JSON file (no 'targets' list); evaluate again with make evaluate")
    for target in targets:
        if target.get("name") == stem:
            frames = target.get("frames", [])
            values = [frame.get("metrics", {}).get(metric) for frame in frames]
            return FrameScores(
                metric=metric,
                times=np.array([float(f["time"]) for f in frames], dtype=np.float64),
                durations=np.array([float(f["duration"]) for f in frames], dtype=np.float64),
                values=np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64))
    names = [t.get("name") for t in targets]
    raise ExploreError(f"{path} has no scores of {stem!r} (it has {names}); evaluate again with make evaluate")


class ProfileData:
    """The test set and systems of ``profile``, loaded lazily and kept in memory once loaded.

    ``cache``: the raw cache of the test set (default: ``evaluation.testset.test_cache`` of the profile's
    defaults, which needs the data step to have run); ``experiments``: parameters of the experiments
    (default ``config.profile_experiments(profile)``).
    """

    def __init__(self, profile: str, cache=None, experiments: list[dict] | None = None):
        from ..config import load_params, profile_experiments
        from ..paths import params_dir

        self.profile = profile
        params = load_params(params_dir() / profile / "defaults.yaml")
        if cache is None:
            from ..evaluation.testset import test_cache

            cache = test_cache(params)
        self.cache = cache
        self._tracks = {t.name: t for t in cache.tracks("test")}
        if not self._tracks:
            raise ExploreError(f"the test set of profile {profile!r} has no track; make it with make data "
                               f"PROFILE={profile}")
        self.experiments = profile_experiments(profile) if experiments is None else experiments
        self._estimates: dict[tuple[str, str], np.ndarray] = {}
        self._models: dict[str, object] = {}

    # ---- what can be chosen
    @property
    def tracks(self) -> list[str]:
        """Test track names, in dataset order."""
        return list(self._tracks)

    def all_systems(self) -> list[System]:
        """Every experiment of the profile, then the references, available or not."""
        from ..evaluation.testset import REFERENCES
        from ..training.runs import best_model_path

        out = [System(p["experiment"], EXPERIMENT, p, best_model_path(p)) for p in self.experiments]
        return out + [System(name, REFERENCE) for name in REFERENCES]

    def stored_tracks(self, system: str) -> list[str]:
        """The test tracks whose estimates by ``system`` are stored."""
        from ..evaluation.testset import estimates_dir

        folder = estimates_dir(self.profile, system)
        return [t for t in self._tracks if (folder / f"{t}.npy").is_file()]

    def scored_tracks(self, system: str) -> list[str]:
        """The test tracks with a stored evaluation of ``system``."""
        from ..evaluation.testset import evals_dir

        folder = evals_dir(self.profile, system)
        return [t for t in self._tracks if (folder / f"{t}.json").is_file()]

    def available(self, system: System) -> bool:
        """Whether the explorer can show ``system``: a reference always (computed from the track when not
        stored), an experiment when it has stored estimates or a trained model."""
        return system.kind == REFERENCE or system.trained or bool(self.stored_tracks(system.name))

    def systems(self) -> list[System]:
        """The systems that can be shown (:meth:`available`): experiments in profile order, then references."""
        return [s for s in self.all_systems() if self.available(s)]

    def models(self) -> list[System]:
        """The trained experiments (those that can separate a song of your own)."""
        return [s for s in self.all_systems() if s.kind == EXPERIMENT and s.trained]

    def system(self, name: str) -> System:
        """The system called ``name``; an :class:`ExploreError` naming the choices otherwise."""
        for s in self.all_systems():
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.all_systems())
        raise ExploreError(f"unknown system {name!r} for profile {self.profile!r}; choose one of {known}")

    def status(self):
        """A table of every system: kind, stored estimates and evaluations (tracks out of the test set),
        trained model, and whether the explorer can show it (what to run otherwise)."""
        import pandas as pd

        rows, n = [], len(self._tracks)
        for s in self.all_systems():
            stored, scored = len(self.stored_tracks(s.name)), len(self.scored_tracks(s.name))
            if self.available(s):
                note = "stored" if stored == n else ("computed when chosen" if s.kind == REFERENCE else
                                                     "separated when chosen (a few seconds per track)")
            else:
                note = f"not trained yet: make train PROFILE={self.profile}"
            rows.append({"system": s.name, "kind": s.kind, "estimates": f"{stored}/{n}", "evaluations": f"{scored}/{n}",
                         "model": "trained" if s.trained else ("-" if s.kind == REFERENCE else "none"), "shown": note})
        return pd.DataFrame(rows)

    # ---- loading a choice
    def track(self, name: str) -> TrackAudio:
        """The test track ``name`` (memory-mapped arrays)."""
        if name not in self._tracks:
            raise ExploreError(f"unknown test track {name!r} in profile {self.profile!r}; choose one of "
                               f"{', '.join(self._tracks)}")
        t = self._tracks[name]
        return TrackAudio(name=t.name, samplerate=t.samplerate, mixture=t.mixture(), references=t.stems())

    def model(self, system: System):
        """The trained model of ``system`` (loaded once)."""
        from ..models.io import load_model

        if system.kind != EXPERIMENT or not system.trained:
            raise ExploreError(f"{system.name!r} has no trained model ({system.model}); train it with make train "
                               f"PROFILE={self.profile}")
        if system.name not in self._models:
            self._models[system.name] = load_model(system.model)
        return self._models[system.name]

    def estimates(self, system: str, track: str, progress=None) -> np.ndarray:
        """``(S, C, T)`` estimates of ``track`` by ``system``: stored ones, else computed (a reference) or
        separated by the trained model (``progress(done, total)`` after each chunk), kept in memory."""
        from ..evaluation.testset import estimates_dir

        key = (system, track)
        if key in self._estimates:
            return self._estimates[key]
        info = self.system(system)
        audio = self.track(track)
        path = estimates_dir(self.profile, system) / f"{track}.npy"
        if path.is_file():
            est = np.load(path, mmap_mode="r")
        elif info.kind == REFERENCE:
            est = reference_estimates(system, audio)
        elif info.trained:
            if progress is not None:
                progress(0, 1)              # show that work started before the first chunk is done
            est = separate(self.model(info), audio.mixture, info.params, progress)
        else:
            raise ExploreError(f"no estimates of {track!r} by {system!r} ({path}) and no trained model; run make "
                               f"evaluate PROFILE={self.profile}")
        if est.shape != audio.references.shape:
            raise ExploreError(f"the estimates of {track!r} by {system!r} are shaped {tuple(est.shape)}, the track "
                               f"{tuple(audio.references.shape)}; delete {path} and run make evaluate again")
        self._estimates[key] = est
        return est

    def frame_scores(self, system: str, track: str, stem: str, metric: str = "SDR") -> FrameScores | None:
        """The stored per-frame ``metric`` of ``stem`` of ``track`` by ``system``; None when not evaluated."""
        from ..evaluation.testset import evals_dir

        path = evals_dir(self.profile, system) / f"{track}.json"
        return read_frame_scores(path, stem, metric) if path.is_file() else None


def reference_estimates(system: str, track: TrackAudio) -> np.ndarray:
    """The estimates of a reference system (``MIX`` or ``IRM2``) of ``track``, as
    ``evaluation.testset.reference_estimates`` computes them."""
    from ..evaluation.oracles import ideal_ratio_mask, mixture_estimates

    mix = np.asarray(track.mixture, dtype=np.float32)
    if system == "MIX":
        return mixture_estimates(mix, len(track.sources))
    if system == "IRM2":
        if track.references is None:
            raise ExploreError(f"IRM2 needs the true stems, which {track.name!r} does not have; choose another system")
        return ideal_ratio_mask(mix, np.asarray(track.references), power=2)
    raise ExploreError(f"{system!r} is not a reference system; the references are MIX and IRM2")


def separate(model, mixture: np.ndarray, params: dict | None, progress=None) -> np.ndarray:
    """Separate ``mixture`` ``(2, T)`` with ``model`` and the ``separate`` options of the experiment's
    ``params`` (the defaults of ``apply_model`` without them), as the evaluation does."""
    import torch

    from ..separation.apply import apply_model, options_from_params

    options = options_from_params(params) if params is not None else {}
    with torch.no_grad():
        return apply_model(model, np.array(mixture, dtype=np.float32), progress=progress or False, **options)
