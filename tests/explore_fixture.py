"""A small explorable profile for the explorer's tests (not collected: no test_ prefix).

:func:`make_explore_profile` builds, under one folder, everything ``explore`` reads for the ``smoke`` profile,
through the study's own steps where they are fast:

* a MUSDB18-HQ-layout dataset (``MUSDB_ROOT``) with two short test tracks of tones and noise; the vocals of
  the first are silent for its first 1.5 s (frames where SDR is undefined);
* its raw cache (``evaluation.testset.test_cache``);
* a seeded, untrained smoke-size model saved as the ``demucs`` experiment's best model
  (``training.runs.best_model_path``);
* the estimates of ``demucs`` (``evaluation.testset.separate_test_set``), ``MIX`` and ``IRM2``
  (``reference_estimates``), except IRM2's of the second track (computed on demand by the explorer);
* per-track evaluations of the first track only, in museval's JSON layout (``targets -> frames -> metrics``,
  1 s frames, NaN where the reference is silent) with frame values computed as the new SDR of each frame:
  museval itself costs ~10 s per track, too slow for a fixture; the explorer reads only the layout.

Returns the environment variables that point the library at it.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from fakedata import fake_stems, write_wav_track

ROOT = Path(__file__).resolve().parents[1]
TEST_TRACKS = ("Delta - Fourth", "Echo - Fifth")
SECONDS = 4.0
SR = 44100
PROFILE = "smoke"


def _frames_json(references: np.ndarray, estimates: np.ndarray, sources) -> dict:
    """museval's per-track JSON layout with the new SDR of each 1 s frame (NaN where the reference is silent)."""
    from demucs_study.evaluation.bsseval import new_sdr

    frames = references.shape[-1] // SR
    targets = []
    for i, name in enumerate(sources):
        items = []
        for k in range(frames):
            ref, est = references[i, :, k * SR:(k + 1) * SR], estimates[i, :, k * SR:(k + 1) * SR]
            value = float(new_sdr(ref[None], est[None])[0]) if np.any(ref) else float("nan")
            items.append({"time": float(k), "duration": 1.0, "metrics": {"SDR": round(value, 5), "SIR": value,
                                                                         "SAR": value, "ISR": value}})
        targets.append({"name": name, "frames": items})
    return {"targets": targets, "museval_version": "layout of museval 0.4.1"}


def environment(root: Path) -> dict[str, str]:
    """The environment variables that point the library at the profile built under ``root``."""
    return {"MUSDB_ROOT": str(root / "musdb"), "DEMUCS_STUDY_DATA": str(root / "data"),
            "DEMUCS_STUDY_RUNS": str(root / "runs"), "DEMUCS_STUDY_RESULTS": str(root / "results")}


def make_explore_profile(root: Path) -> dict[str, str]:
    """Build the profile under ``root`` (see the module docstring); returns :func:`environment`."""
    import torch
    import yaml

    from demucs_study import SOURCES
    from demucs_study.config import load_params
    from demucs_study.evaluation.testset import (estimates_dir, evals_dir, reference_estimates,
                                                 separate_test_set, test_cache)
    from demucs_study.models import build_model
    from demucs_study.models.io import save_model
    from demucs_study.training.runs import best_model_path
    from demucs_study.utils import write_json

    env = environment(root)
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        samples = int(SECONDS * SR)
        for seed, name in enumerate(TEST_TRACKS):
            stems = fake_stems(50 + seed, samples, SR)
            if seed == 0:
                stems[SOURCES.index("vocals"), :, : int(1.5 * SR)] = 0.0
            write_wav_track(root / "musdb" / "test" / name, stems, SR)
        write_wav_track(root / "musdb" / "train" / "Alpha - First", fake_stems(9, SR, SR), SR)
        (root / "musdb" / "setup.yaml").write_text(yaml.safe_dump({"validation_tracks": []}))

        params = load_params(ROOT / "params" / PROFILE / "demucs.yaml")
        cache = test_cache(params)
        with torch.random.fork_rng():
            torch.manual_seed(0)
            model = build_model(params["model"], **params["models"][params["model"]])
        save_model(model, best_model_path(params))
        separate_test_set(params, cache=cache)
        for system in ("MIX", "IRM2"):
            reference_estimates(params, system, cache=cache)
        (estimates_dir(PROFILE, "IRM2") / f"{TEST_TRACKS[1]}.npy").unlink()
        first = cache.tracks("test")[0]
        for system in (params["experiment"], "MIX", "IRM2"):
            est = np.load(estimates_dir(PROFILE, system) / f"{first.name}.npy")
            write_json(evals_dir(PROFILE, system) / f"{first.name}.json",
                       _frames_json(first.stems(mmap=False), est, SOURCES))
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return env
