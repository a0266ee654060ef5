"""Small evaluation inputs shared by tests/test_evaluation_{bsseval,jobs,cli}.py (not collected: no test_
prefix): cheap mono stem pairs for museval, stem files on disk, museval JSON comparison."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import soundfile as sf

from demucs_study import SOURCES
from demucs_study.evaluation.jobs import TrackTask

DATA = Path(__file__).parent / "data"
#: museval's JSON of ``test_evaluation_bsseval.synthetic_track()`` (3 s, 4 stereo stems).
REGRESSION_JSON = DATA / "evaluate_track_3s.json"


def tiny_pair(seconds=1.0, sr=8000, seed=0, silent=None):
    """Two mono stems (2, 1, T) and estimates at 20 dB: cheap for museval."""
    rng = np.random.default_rng(seed)
    refs = rng.standard_normal((2, 1, int(seconds * sr))).astype(np.float32) * 0.1
    if silent is not None:
        refs[silent] = 0
    est = refs + 0.1 * rng.standard_normal(refs.shape).astype(np.float32) * 0.1
    return refs, est


def assert_same_scores(a: dict, b: dict, atol: float) -> None:
    assert [t["name"] for t in a["targets"]] == [t["name"] for t in b["targets"]]
    for ta, tb in zip(a["targets"], b["targets"]):
        assert len(ta["frames"]) == len(tb["frames"])
        for fa, fb in zip(ta["frames"], tb["frames"]):
            assert (fa["time"], fa["duration"]) == (fb["time"], fb["duration"])
            assert fa["metrics"].keys() == fb["metrics"].keys()
            for key, va in fa["metrics"].items():
                vb = fb["metrics"][key]
                assert (math.isnan(va) and math.isnan(vb)) or abs(va - vb) <= atol, (ta["name"], key, va, vb)


def write_track(root: Path, name: str, stems: np.ndarray, sr: int, names=SOURCES, suffix=".wav") -> None:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    for stem, x in zip(names, stems):
        if suffix == ".npy":
            np.save(folder / f"{stem}.npy", x)
        else:
            sf.write(folder / f"{stem}{suffix}", x.T, sr, subtype="FLOAT")


def make_tasks(root: Path, names, silent=None) -> list[TrackTask]:
    tasks = []
    for i, name in enumerate(names):
        refs, est = tiny_pair(seed=i, silent=silent if name == names[-1] else None)
        for side, x in (("ref", refs), ("est", est)):
            write_track(root / side, name, x, 8000, names=("drums", "bass"))
        files = {side: {s: str(root / side / name / f"{s}.wav") for s in ("drums", "bass")} for side in ("ref", "est")}
        tasks.append(TrackTask(name, files["ref"], files["est"], samplerate=8000, sources=("drums", "bass")))
    return tasks
