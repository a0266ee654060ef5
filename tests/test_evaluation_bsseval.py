"""museval per track (regression against a stored JSON, museval's own layout), new SDR, the
parallel resumable runner, silent stems and error messages.

museval costs ~10 s of fixed work per 4-stem stereo track (a 4096 x 4096 solve per stem), so only
one test runs it on four stereo stems; the others use two mono stems (a 1024 x 1024 solve).
"""
from __future__ import annotations

import json
import math
import os
from collections import OrderedDict
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from demucs_study import SOURCES
from demucs_study.errors import AudioError, DatasetError
from demucs_study import parallel
from demucs_study.evaluation import jobs as jobs_module
from demucs_study.evaluation.bsseval import SilentStemWarning, evaluate_track, new_sdr
from demucs_study.evaluation.cli import evaluate as evaluate_cli
from demucs_study.evaluation.jobs import TrackTask, evaluate_tracks, json_path, load_stems, tasks_from_folders

DATA = Path(__file__).parent / "data"
REGRESSION_JSON = DATA / "evaluate_track_3s.json"
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


# ---------------------------------------------------------------- new SDR
def test_new_sdr_matches_known_snr_and_keeps_leading_dims():
    refs, est = synthetic_track(seconds=0.5)
    # vocals are not silent in the first 0.5 s; the noise was scaled on the 0.5 s stems
    np.testing.assert_allclose(new_sdr(refs, est), SNR_DB, atol=0.01)
    batch = new_sdr(np.stack([refs, refs]), np.stack([est, refs]))
    assert batch.shape == (2, 4)
    assert np.all(batch[1] > 60)  # perfect estimate: only eps limits it


def test_new_sdr_silence_is_zero_db_and_shape_errors():
    zeros = np.zeros((4, 2, 100))
    np.testing.assert_array_equal(new_sdr(zeros, zeros), np.zeros(4))
    with pytest.raises(AudioError, match=r"same shape .*\(4, 2, 100\) and \(4, 2, 99\)"):
        new_sdr(zeros, zeros[..., :99])


# ---------------------------------------------------------------- evaluate_track
def test_evaluate_track_regression_and_sanity():
    refs, est = synthetic_track()
    scores = evaluate_track("synthetic", refs, est)
    stored = json.loads(REGRESSION_JSON.read_text())
    assert_same_scores(scores, stored, atol=1e-3)
    assert scores["museval_version"] == "0.4.1"
    assert [t["name"] for t in scores["targets"]] == list(SOURCES)
    for target, snr in zip(scores["targets"], SNR_DB):
        frames = target["frames"]
        assert [f["time"] for f in frames] == [0.0, 1.0, 2.0] and frames[0]["duration"] == 1.0
        assert all(math.isnan(v) for v in frames[2]["metrics"].values())  # vocals silent in frame 3
        # white noise added at `snr` over the whole stem; vocals only sound in 2 of 3 seconds
        expected = snr + (10 * np.log10(1.5) if target["name"] == "vocals" else 0.0)
        for f in frames[:2]:
            m = f["metrics"]
            assert abs(m["SDR"] - expected) < 0.2
            assert abs(m["SAR"] - m["SDR"]) < 0.5  # the noise is an artifact ...
            assert m["SIR"] > m["SDR"] + 10  # ... not interference


def test_evaluate_track_layout_is_museval_own(tmp_path):
    """Same dict as museval.eval_mus_track on a musdb-like track (incl. NaN frames)."""
    import museval

    refs, est = tiny_pair(seconds=3.0)
    refs[1, :, 8000:16000] = 0  # a silent second: NaN frame
    names = ("drums", "bass")
    track = SimpleNamespace(name="t", rate=8000, subset="test",
                            targets=OrderedDict((n, SimpleNamespace(audio=r.T)) for n, r in zip(names, refs)))
    theirs = museval.eval_mus_track(track, {n: e.T for n, e in zip(names, est)}, output_dir=str(tmp_path))
    ours = evaluate_track("t", refs, est, samplerate=8000, sources=names)
    assert_same_scores(ours, json.loads(theirs.json), atol=0)
    assert ours.keys() == json.loads(theirs.json).keys()
    assert math.isnan(ours["targets"][0]["frames"][1]["metrics"]["SDR"])


@pytest.mark.parametrize("which", ["references", "estimates"])
def test_silent_stem_warns_and_returns_none(which):
    refs, est = tiny_pair()
    (refs if which == "references" else est)[1] = 0
    kind = "reference" if which == "references" else "estimate"
    with pytest.warns(SilentStemWarning, match=rf"track 'song': the {kind} of 'bass' is silent over the whole track"):
        assert evaluate_track("song", refs, est, samplerate=8000, sources=("drums", "bass")) is None


def test_evaluate_track_errors_name_the_track():
    refs = np.zeros((4, 2, 100), np.float32) + 0.1
    with pytest.raises(AudioError, match=r"track 'x': estimates hold 3 stems, expected 4 .*missing"):
        evaluate_track("x", refs, refs[:3])
    with pytest.raises(AudioError, match=r"track 'x': references are 100 samples long, estimates 90"):
        evaluate_track("x", refs, refs[..., :90])
    with pytest.raises(AudioError, match=r"track 'x': references have 2 channels, estimates 1"):
        evaluate_track("x", refs, refs[:, :1])
    with pytest.raises(AudioError, match=r"track 'x': references must be \(sources, channels, time\)"):
        evaluate_track("x", refs[0], refs)
    bad = refs.copy()
    bad[2, 0, 5] = np.nan
    with pytest.raises(AudioError, match=r"track 'x': the estimate of 'other' holds NaN"):
        evaluate_track("x", refs, bad)
    with pytest.raises(AudioError, match=r"samplerate must be a positive integer"):
        evaluate_track("x", refs, refs, samplerate=0)


# ---------------------------------------------------------------- files, tasks, runner
def write_track(root: Path, name: str, stems: np.ndarray, sr: int, names=SOURCES, suffix=".wav") -> None:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    for stem, x in zip(names, stems):
        if suffix == ".npy":
            np.save(folder / f"{stem}.npy", x)
        else:
            sf.write(folder / f"{stem}{suffix}", x.T, sr, subtype="FLOAT")


def test_tasks_from_folders_and_load_stems(tmp_path):
    refs, est = tiny_pair(seconds=0.5)
    four_r, four_e = np.concatenate([refs, refs]), np.concatenate([est, est])
    write_track(tmp_path / "ref" / "test", "b", four_r, 8000)
    write_track(tmp_path / "ref" / "test", "a", four_r, 8000, suffix=".npy")
    write_track(tmp_path / "est", "a", four_e, 8000)
    write_track(tmp_path / "est", "b", four_e, 8000)
    tasks = tasks_from_folders(tmp_path / "ref", tmp_path / "est", samplerate=8000)
    assert [t.name for t in tasks] == ["a", "b"]
    assert tasks[0].references["vocals"].endswith("a/vocals.npy")
    for task in tasks:
        np.testing.assert_array_equal(load_stems(task.references, task.name, 8000), four_r)
        np.testing.assert_array_equal(load_stems(task.estimates, task.name, 8000), four_e)
    # one (sources, channels, time) .npy file is a valid task too
    np.save(tmp_path / "stack.npy", four_r)
    np.testing.assert_array_equal(load_stems(str(tmp_path / "stack.npy"), "a"), four_r)
    with pytest.raises(AudioError, match=r"track 'b': .*drums.wav is at 8000 Hz, expected 44100 Hz"):
        load_stems(tasks[1].references, "b", 44100)
    (tmp_path / "est" / "b" / "bass.wav").unlink()
    with pytest.raises(DatasetError, match=r"missing stem files: .*est/b/bass.wav; separate every track first"):
        tasks_from_folders(tmp_path / "ref", tmp_path / "est", samplerate=8000)
    assert [t.name for t in tasks_from_folders(tmp_path / "ref", tmp_path / "est", tracks=["a"])] == ["a"]
    with pytest.raises(DatasetError, match=r"track\(s\) 'zzz' not found in .*ref/test"):
        tasks_from_folders(tmp_path / "ref", tmp_path / "est", tracks=["zzz"])
    with pytest.raises(DatasetError, match=r"estimates folder .*nowhere does not exist"):
        tasks_from_folders(tmp_path / "ref", tmp_path / "nowhere")


def make_tasks(root: Path, names, silent=None) -> list[TrackTask]:
    tasks = []
    for i, name in enumerate(names):
        refs, est = tiny_pair(seed=i, silent=silent if name == names[-1] else None)
        for side, x in (("ref", refs), ("est", est)):
            write_track(root / side, name, x, 8000, names=("drums", "bass"))
        files = {side: {s: str(root / side / name / f"{s}.wav") for s in ("drums", "bass")} for side in ("ref", "est")}
        tasks.append(TrackTask(name, files["ref"], files["est"], samplerate=8000, sources=("drums", "bass")))
    return tasks


def test_evaluate_tracks_resumes_and_writes_atomically(tmp_path, monkeypatch):
    tasks = make_tasks(tmp_path, ["one", "two"])
    out = tmp_path / "out"
    assert evaluate_tracks(tasks[:1], out) == {"one": "evaluated"}
    first = json_path(out, "one")
    stat = first.stat()
    calls = []
    real = jobs_module.evaluate_track
    monkeypatch.setattr(jobs_module, "evaluate_track", lambda name, *a, **k: calls.append(name) or real(name, *a, **k))
    assert evaluate_tracks(tasks, out) == {"one": "exists", "two": "evaluated"}
    assert calls == ["two"]
    assert first.stat().st_mtime_ns == stat.st_mtime_ns
    assert json.loads(json_path(out, "two").read_text())["targets"][1]["name"] == "bass"

    # a failure while writing leaves neither the JSON nor a temporary file behind
    def broken(path, obj, indent=1):
        from demucs_study.utils import atomic_path
        with atomic_path(path) as tmp:
            tmp.write_text("{partial")
            raise OSError("disk full")
    monkeypatch.setattr(jobs_module, "write_json", broken)
    extra = make_tasks(tmp_path, ["three"])
    with pytest.raises(OSError, match="disk full"):
        evaluate_tracks(extra, out)
    assert sorted(p.name for p in out.iterdir()) == ["one.json", "two.json"]


def test_evaluate_tracks_in_parallel_workers_with_a_silent_track(tmp_path):
    """Two spawned workers (each pays ~5 s CPU importing museval, so only one track runs it)."""
    tasks = make_tasks(tmp_path, ["p1", "p2"], silent=1)
    out = tmp_path / "out"
    with pytest.warns(SilentStemWarning, match=r"track 'p2': the reference of 'bass' is silent"):
        status = evaluate_tracks(tasks, out, jobs=2)
    assert status == {"p1": "evaluated", "p2": "silent"}
    assert sorted(p.name for p in out.iterdir()) == ["p1.json"]
    serial = evaluate_track("p1", load_stems(tasks[0].references, "p1", 8000, ("drums", "bass")),
                            load_stems(tasks[0].estimates, "p1", 8000, ("drums", "bass")), 8000,
                            sources=("drums", "bass"))
    assert_same_scores(json.loads(json_path(out, "p1").read_text()), serial, atol=1e-4)


def test_workers_are_spawned_with_one_blas_thread(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "8")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    with parallel.single_thread_env():
        assert all(os.environ[v] == "1" for v in parallel.THREAD_VARS)
    assert os.environ["OMP_NUM_THREADS"] == "8" and "OPENBLAS_NUM_THREADS" not in os.environ


def test_evaluate_tracks_errors(tmp_path):
    tasks = make_tasks(tmp_path, ["one"])
    with pytest.raises(DatasetError, match=r"jobs must be a positive integer, got 0"):
        evaluate_tracks(tasks, tmp_path / "out", jobs=0)
    with pytest.raises(DatasetError, match=r"track\(s\) one appear more than once"):
        evaluate_tracks(tasks + tasks, tmp_path / "out")
    with pytest.raises(DatasetError, match=r"track name 'a/b' cannot be a file name"):
        evaluate_tracks([TrackTask("a/b", {}, {})], tmp_path / "out")
    with pytest.raises(DatasetError, match=r"track 'one': stem file .*nope.wav does not exist"):
        evaluate_tracks([TrackTask("one", {"drums": "nope.wav", "bass": "nope.wav"}, {},
                                   sources=("drums", "bass"))], tmp_path / "out")


def test_cli_summarises_existing_results(tmp_path, capsys):
    """The CLI end to end; the JSONs exist already, so museval is not run (resume path)."""
    refs, est = tiny_pair(seconds=0.5)
    for name in ("a", "b"):
        write_track(tmp_path / "ref" / "test", name, np.concatenate([refs, refs]), 8000)
        write_track(tmp_path / "est", name, np.concatenate([est, est]), 8000)
    stored = REGRESSION_JSON.read_text()
    (tmp_path / "evals").mkdir()
    for name in ("a", "b"):
        (tmp_path / "evals" / f"{name}.json").write_text(stored)
    argv = ["--references", str(tmp_path / "ref"), "--estimates", str(tmp_path / "est"),
            "--out", str(tmp_path / "evals"), "--jobs", "2"]
    assert evaluate_cli(argv) == 0
    out = capsys.readouterr().out
    assert "2 tracks: 0 evaluated, 2 already done, 0 skipped" in out
    assert "evals" in out and "20.02" in out  # drums: median of the two non-NaN frames

    from demucs_study.cli import main as cli_main
    assert cli_main(["evaluate", "--references", str(tmp_path / "nope"), "--estimates", "x", "--out", "y"]) == 1
    assert "error: references folder" in capsys.readouterr().err
