"""The evaluation steps of the study: separate the test set with a trained experiment, compute the
reference systems, score everything with BSSEval v4, and collect the per-track scores.

Layout (every path movable, see :mod:`demucs_study.paths`)::

    data/estimates/<profile>/<system>/<track>.npy      (4, 2, T) float32 estimates (git-ignored)
    results/<profile>/evals/<system>/test/<track>.json  museval JSON, one per test track (committed)

``<system>`` is an experiment's name (``demucs``, ``demucs glu=False``) or a reference: ``MIX`` (the
mixture as every estimate, SiSEC's lower bound) and ``IRM2`` (the ideal ratio mask oracle). Every step
is resumable: a track already separated or scored is not done again. The step functions take an
optional ``cache`` (from :func:`test_cache`) so that one step lists and checks the dataset once.
"""
from __future__ import annotations

from pathlib import Path

from .. import paths
from ..training.runs import safe_name
from ..utils import save_npy

#: The reference systems computed on our own test tracks.
REFERENCES = ("MIX", "IRM2")


def test_cache(params: dict):
    """The raw cache of the experiment's dataset, with its test split decoded."""
    from ..data.raw import RawCache
    from ..data.roots import resolve_root

    cache = RawCache(resolve_root(params["dataset"], params["profile"]))
    cache.prepare(("test",))
    return cache


def estimates_dir(profile: str, system: str) -> Path:
    """``data/estimates/<profile>/<system>``: the estimates of a system, one ``<track>.npy`` each."""
    return paths.data_dir() / "estimates" / profile / safe_name(system)


def evals_dir(profile: str, system: str) -> Path:
    """``results/<profile>/evals/<system>/test``: its per-track BSSEval JSON."""
    return paths.results_dir() / profile / "evals" / safe_name(system) / "test"


def stem_estimates(profile: str, systems, track: str, stem: str) -> dict:
    """``{system: (C, T) estimate of stem}`` of ``track`` for each of ``systems`` whose estimates exist."""
    import numpy as np

    from .. import SOURCES

    out = {}
    for system in systems:
        path = estimates_dir(profile, system) / f"{track}.npy"
        if path.is_file():
            out[system] = np.load(path, mmap_mode="r")[SOURCES.index(stem)]
    return out


def separate_test_set(params: dict, progress: bool = False, cache=None) -> Path:
    """Separate every test track with the experiment's best model (``separate`` parameters: shifts,
    split, segment, overlap; seed = the experiment's seed). Tracks already separated are kept."""
    import torch

    from ..models.io import load_model
    from ..separation.apply import apply_model, options_from_params
    from ..training.runs import best_model_path

    cache = test_cache(params) if cache is None else cache
    out = estimates_dir(params["profile"], params["experiment"])
    todo = [t for t in cache.tracks("test") if not (out / f"{t.name}.npy").is_file()]
    if not todo:
        return out
    model = load_model(best_model_path(params))
    options = options_from_params(params)
    with torch.no_grad():
        for t in todo:
            save_npy(out / f"{t.name}.npy", apply_model(model, t.mixture(mmap=False), progress=progress, **options))
    return out


def reference_estimates(params: dict, system: str, cache=None) -> Path:
    """Write the estimates of a reference system (``MIX`` or ``IRM2``) for every test track."""
    from .oracles import ideal_ratio_mask, mixture_estimates

    if system not in REFERENCES:
        raise ValueError(f"unknown reference system {system!r}; known: {', '.join(REFERENCES)}")
    cache = test_cache(params) if cache is None else cache
    out = estimates_dir(params["profile"], system)
    for t in cache.tracks("test"):
        path = out / f"{t.name}.npy"
        if path.is_file():
            continue
        mix = t.mixture(mmap=False)
        est = mixture_estimates(mix) if system == "MIX" else ideal_ratio_mask(mix, t.stems(mmap=False), power=2)
        save_npy(path, est)
    return out


def system_tasks(params: dict, system: str, cache=None) -> list:
    """One :class:`~.jobs.TrackTask` per test track of ``system``: the cached true stems against its
    estimates, scored with the ``eval.backend`` of ``params``."""
    from .jobs import TrackTask

    cache = test_cache(params) if cache is None else cache
    est = estimates_dir(params["profile"], system)
    backend = str(params.get("eval", {}).get("backend", "fast"))
    return [TrackTask(name=t.name, references=str(t.dir / "stems.npy"), estimates=str(est / f"{t.name}.npy"),
                      backend=backend) for t in cache.tracks("test")]


def score_system(params: dict, system: str, jobs: int | None = None, progress: bool = False, cache=None) -> Path:
    """BSSEval v4 of every test track of ``system`` (whose estimates exist) into ``evals_dir`` with the
    ``eval.backend`` of ``params`` (``fast``: :mod:`.fast`, museval's numbers; ``museval``); resumable.

    A track's JSON is kept only if it is newer than its estimates: an interrupted evaluation resumes,
    while a fresh separation (a re-run of the committed study on a new machine) is scored again."""
    from .jobs import evaluate_tracks

    tasks = system_tasks(params, system, cache)
    out = evals_dir(params["profile"], system)
    for task in tasks:  # a score older than its estimates is stale (e.g. committed results, re-run here)
        score, estimate = out / f"{task.name}.json", Path(task.estimates)
        if score.is_file() and estimate.is_file() and score.stat().st_mtime < estimate.stat().st_mtime:
            score.unlink()
    evaluate_tracks(tasks, out, jobs=int(jobs or params.get("eval", {}).get("jobs", 1)), progress=progress)
    return out


def check_system(params: dict, system: str, count: int = 1):
    """The stored scores of ``count`` test tracks of ``system`` against museval itself run now: a
    DataFrame with a row per track and the largest absolute deviation (dB) per metric."""
    import pandas as pd

    from .jobs import check_with_museval

    deviations = check_with_museval(system_tasks(params, system), evals_dir(params["profile"], system), count)
    return pd.DataFrame(deviations).T.rename_axis("track")


def conditioning_table(params: dict, cache=None):
    """Per test track: the condition number of the references' correlation matrix (BSSEval v4's G)
    and whether it is ill-conditioned (``evaluation.fast.reference_conditioning``): where it is, museval's
    ISR/SIR/SAR are numerically undetermined (SDR is not affected)."""
    import pandas as pd

    from .fast import reference_conditioning

    cache = test_cache(params) if cache is None else cache
    rows = []
    for t in cache.tracks("test"):
        c = reference_conditioning(t.stems().transpose(0, 2, 1))
        rows.append({"track": t.name, "condition number": float(c.cond), "ill-conditioned": bool(c.ill_conditioned)})
    return pd.DataFrame(rows).set_index("track")


def evaluate_experiment(params: dict, jobs: int | None = None, progress: bool = False) -> Path:
    """Separate the test set with the trained experiment and score it. Returns its evals folder."""
    cache = test_cache(params)
    separate_test_set(params, progress=progress, cache=cache)
    return score_system(params, params["experiment"], jobs, progress, cache=cache)


def evaluate_references(params: dict, jobs: int | None = None, progress: bool = False) -> dict[str, Path]:
    """Compute and score the reference systems (MIX, IRM2) on the test set."""
    cache, out = test_cache(params), {}
    for system in REFERENCES:
        reference_estimates(params, system, cache=cache)
        out[system] = score_system(params, system, jobs, progress, cache=cache)
    return out


def measured_scores(profile: str, systems: list[str] | None = None):
    """Per-track scores (long format: system, track, target, metric, value) of every system evaluated
    under ``results/<profile>/evals`` (or only ``systems``)."""
    import pandas as pd

    from .aggregate import track_scores_from_json

    root = paths.results_dir() / profile / "evals"
    frames = []
    for folder in sorted(p for p in root.glob("*/test") if p.is_dir()):
        system = folder.parent.name
        if systems is not None and system not in systems:
            continue
        if any(folder.glob("*.json")):
            frames.append(track_scores_from_json(folder, system=system))
    if not frames:
        return pd.DataFrame(columns=["system", "track", "target", "metric", "value"])
    return pd.concat(frames, ignore_index=True)
