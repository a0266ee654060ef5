"""Evaluating many tracks (evaluation.jobs): tasks from folders, reading stems, the resumable runner
(one JSON per track, atomic), parallel workers, silent tracks and error messages.

museval itself runs in two tests only (it costs seconds per track); the others replace
``evaluate_track`` or take paths where it is not called (existing JSON, silent stem)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from demucs_study.errors import AudioError, DatasetError
from demucs_study.evaluation import jobs as jobs_module
from demucs_study.evaluation.bsseval import SilentStemWarning, evaluate_track
from demucs_study.evaluation.jobs import (TrackTask, evaluate_tracks, json_path, load_stems, run_task,
                                          tasks_from_folders)
from eval_helpers import assert_same_scores, make_tasks, tiny_pair, write_track


# ---------------------------------------------------------------- moved from test_evaluation_bsseval.py
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


@pytest.mark.slow
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


# ---------------------------------------------------------------- fast checks of the runner (no museval)
FAKE_SCORES = {"targets": [{"name": "drums", "frames": []}, {"name": "bass", "frames": []}]}


@pytest.mark.parametrize("name", ["", ".hidden", "a/b", "a\\b"])
def test_json_path_refuses_names_that_are_not_file_names(tmp_path, name):
    with pytest.raises(DatasetError, match=r"cannot be a file name \(empty, starts with '\.', or holds a slash\)"):
        json_path(tmp_path, name)


def test_json_path_is_the_track_name_in_the_folder(tmp_path):
    assert json_path(tmp_path, "Artist - Song (live)") == tmp_path / "Artist - Song (live).json"


def test_load_stems_errors_name_the_track_and_file(tmp_path):
    refs, _ = tiny_pair(seconds=0.1)
    write_track(tmp_path, "t", np.concatenate([refs, refs]), 8000)
    files = {s: str(tmp_path / "t" / f"{s}.wav") for s in ("drums", "bass", "other", "vocals")}
    with pytest.raises(DatasetError, match=r"track 't': no file given for stem\(s\) other, vocals"):
        load_stems({"drums": files["drums"], "bass": files["bass"]}, "t", 8000)
    np.save(tmp_path / "short.npy", refs[0][:, :10])  # (channels, time) of another length
    with pytest.raises(AudioError, match=r"track 't': .*short.npy has shape \(1, 10\) \(channels, time\) but "
                                         r".*drums.wav has \(1, 800\); every stem must match"):
        load_stems({**files, "other": str(tmp_path / "short.npy")}, "t", 8000)
    np.save(tmp_path / "flat.npy", np.zeros(10))
    with pytest.raises(AudioError, match=r"track 't': .*flat.npy must be \(channels, time\), got shape \(10,\)"):
        load_stems({**files, "vocals": str(tmp_path / "flat.npy")}, "t", 8000)
    with pytest.raises(AudioError, match=r"track 't': .*flat.npy must hold \(sources, channels, time\), got "
                                         r"shape \(10,\)"):
        load_stems(str(tmp_path / "flat.npy"), "t")


def test_tasks_from_a_folder_of_track_folders_without_split(tmp_path):
    refs, est = tiny_pair(seconds=0.1)
    for name in ("b", "a", ".hidden"):
        write_track(tmp_path / "ref", name, np.concatenate([refs, refs]), 8000, suffix=".npy")
        write_track(tmp_path / "est", name, np.concatenate([est, est]), 8000)
    tasks = tasks_from_folders(tmp_path / "ref", tmp_path / "est", samplerate=8000)
    assert [t.name for t in tasks] == ["a", "b"]  # sorted, hidden folders left out
    assert tasks[0].references["bass"] == str(tmp_path / "ref" / "a" / "bass.npy")
    assert tasks[0].estimates["bass"] == str(tmp_path / "est" / "a" / "bass.wav")
    assert tasks[0].samplerate == 8000 and tasks[0].sources == ("drums", "bass", "other", "vocals")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"references folder .*empty holds no track folders"):
        tasks_from_folders(tmp_path / "empty", tmp_path / "est")


def test_missing_files_are_listed_five_at_most(tmp_path):
    for name in ("a", "b"):
        (tmp_path / "ref" / name).mkdir(parents=True)
    (tmp_path / "est").mkdir()
    # 2 tracks x 4 stems x (reference + estimate) = 16 missing files
    with pytest.raises(DatasetError, match=r"missing stem files: (\S+ ?, ){4}\S+ \(and 11 more\); separate"):
        tasks_from_folders(tmp_path / "ref", tmp_path / "est")


def test_run_task_statuses_without_museval(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (silent,) = make_tasks(tmp_path, ["quiet"], silent=0)
    name, status, messages = run_task(silent, out)
    assert (name, status) == ("quiet", "silent") and not (out / "quiet.json").exists()
    assert messages == ["track 'quiet': the reference of 'drums' is silent over the whole track; BSSEval is "
                        "undefined there, the track is skipped"]
    (loud,) = make_tasks(tmp_path, ["loud"])
    monkeypatch.setattr(jobs_module, "evaluate_track", lambda *a, **k: FAKE_SCORES)
    assert run_task(loud, out) == ("loud", "evaluated", [])
    assert json.loads((out / "loud.json").read_text()) == FAKE_SCORES
    monkeypatch.setattr(jobs_module, "evaluate_track", lambda *a, **k: pytest.fail("recomputed an existing JSON"))
    assert run_task(loud, out) == ("loud", "exists", [])


def test_evaluate_tracks_reissues_silent_warnings_and_keeps_the_task_order(tmp_path, monkeypatch):
    tasks = make_tasks(tmp_path, ["b", "a", "c"], silent=1)  # "c" (the last) has a silent bass
    real = jobs_module.evaluate_track  # warns and returns None for "c" before museval is needed
    monkeypatch.setattr(jobs_module, "evaluate_track",
                        lambda name, *a, **k: real(name, *a, **k) if name == "c" else FAKE_SCORES)
    with pytest.warns(SilentStemWarning, match=r"track 'c': the reference of 'bass' is silent") as caught:
        status = evaluate_tracks(tasks, tmp_path / "out")
    assert len([w for w in caught if w.category is SilentStemWarning]) == 1
    assert list(status) == ["b", "a", "c"]
    assert status == {"b": "evaluated", "a": "evaluated", "c": "silent"}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.json", "b.json"]
    with pytest.warns(SilentStemWarning, match=r"track 'c': the reference of 'bass' is silent"):
        assert evaluate_tracks(tasks, tmp_path / "out") == {"b": "exists", "a": "exists", "c": "silent"}


def test_parallel_run_with_every_json_present_spawns_nothing(tmp_path, monkeypatch):
    tasks = make_tasks(tmp_path, ["x", "y"])
    out = tmp_path / "out"
    out.mkdir()
    for t in tasks:
        json_path(out, t.name).write_text("{}")
    seen = []
    monkeypatch.setattr(jobs_module, "parallel_map", lambda fn, items, *a, **k: seen.append(list(items)) or [])
    assert evaluate_tracks(tasks, out, jobs=2) == {"x": "exists", "y": "exists"}
    assert seen == [[]]
