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
#: museval's JSON of :func:`synthetic_track` (3 s, 4 stereo stems).
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


#: Whole-track SNR of each estimate (est = ref + white noise), drums, bass, other, vocals.
SNR_DB = np.array([20.0, 10.0, 15.0, 5.0])


def synthetic_track(seconds: float = 3.0, sr: int = 44100, seed: int = 1909):
    """Deterministic 4-stem stereo references and noisy estimates, float32 (4, 2, T).

    Broadband stems (band-passed noise, harmonics, a -40 dB white-noise floor) keep museval's
    correlation matrices well conditioned; pure sines alone make its SIR/SAR meaningless.
    Vocals are silent from 2 s on, so museval's third frame is NaN for every stem.
    Estimates: reference + white noise at SNR_DB of the whole stem's power.
    """
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr

    def band(lo, hi):
        sos = butter(4, [lo, hi], btype="bandpass", fs=sr, output="sos")
        return sosfilt(sos, rng.standard_normal((2, t.size)), axis=-1)

    def norm(x, rms):
        return x * rms / np.sqrt(np.mean(x ** 2))

    drums = norm(band(60, 12000) * np.exp(-((t * 4) % 1) * 8), 0.2)
    bass = norm(np.sin(2 * np.pi * 55 * t) + 0.5 * np.sin(2 * np.pi * 110 * t + 1) + 0.3 * band(40, 300), 0.2)
    other = norm(sum(np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0)) + band(300, 5000), 0.1)
    vocals = norm(sum(np.sin(2 * np.pi * k * 220 * t + 2 * k * np.sin(2 * np.pi * 5 * t)) / k
                      for k in range(1, 6)) + 0.3 * band(1000, 8000), 0.1)
    refs = np.stack([drums, bass, other, vocals])
    refs += 0.01 * rng.standard_normal(refs.shape)
    refs[3][:, t >= 2.0] = 0.0
    noise = rng.standard_normal(refs.shape)
    gain = np.sqrt((refs ** 2).mean(axis=(1, 2)) / (noise ** 2).mean(axis=(1, 2)) / 10 ** (SNR_DB / 10))
    est = refs + noise * gain[:, None, None]
    return refs.astype(np.float32), est.astype(np.float32)


# ---------------------------------------------------------------- new SDR
def test_new_sdr_matches_known_snr_and_keeps_leading_dims():
    refs, est = synthetic_track(seconds=0.5)
    # vocals are not silent in the first 0.5 s; the noise was scaled on the 0.5 s stems
    np.testing.assert_allclose(new_sdr(refs, est), SNR_DB, atol=0.01)
    batch = new_sdr(np.stack([refs, refs]), np.stack([est, refs]))
    assert batch.shape == (2, 4)
    assert np.all(batch[1] > 60)  # perfect estimate: only eps limits it
