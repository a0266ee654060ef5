"""``python -m demucs_study evaluate`` (evaluation.cli): options, the printed summary, resume, errors.

The per-track JSONs are written beforehand (or ``evaluate_track`` is replaced), so museval never runs here.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from demucs_study.cli import main as cli_main
from demucs_study.evaluation import jobs as jobs_module
from demucs_study.evaluation.cli import evaluate as evaluate_cli
from eval_helpers import REGRESSION_JSON, tiny_pair, write_track


def two_tracks(tmp_path, names=("a", "b")):
    """References (``ref/test/<name>``) and estimates (``est/<name>``) of four mono 50 ms stems each."""
    refs, est = tiny_pair(seconds=0.05, sr=44100)  # the command evaluates at 44.1 kHz
    for name in names:
        write_track(tmp_path / "ref" / "test", name, np.concatenate([refs, refs]), 44100)
        write_track(tmp_path / "est", name, np.concatenate([est, est]), 44100)


# ---------------------------------------------------------------- moved from test_evaluation_bsseval.py
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

    assert cli_main(["evaluate", "--references", str(tmp_path / "nope"), "--estimates", "x", "--out", "y"]) == 1
    assert "error: references folder" in capsys.readouterr().err


# ---------------------------------------------------------------- options
def test_name_and_tracks_options(tmp_path, capsys, monkeypatch):
    two_tracks(tmp_path)
    stored = json.loads(REGRESSION_JSON.read_text())
    calls = []
    monkeypatch.setattr(jobs_module, "evaluate_track", lambda name, *a, **k: calls.append(name) or stored)
    argv = ["--references", str(tmp_path / "ref"), "--estimates", str(tmp_path / "est"),
            "--out", str(tmp_path / "evals"), "--tracks", "b", "--name", "my system"]
    assert evaluate_cli(argv) == 0
    assert calls == ["b"]
    assert sorted(p.name for p in (tmp_path / "evals").iterdir()) == ["b.json"]
    out = capsys.readouterr().out
    assert "1 tracks: 1 evaluated, 0 already done, 0 skipped (silent stem)" in out
    assert "my system" in out and "evals" not in out  # --name replaces the folder name in the summary


def test_quiet_prints_nothing_and_silent_tracks_are_counted(tmp_path, capsys):
    two_tracks(tmp_path)
    silent = np.zeros((1, 2205), np.float32)
    sf.write(tmp_path / "est" / "a" / "vocals.wav", silent.T, 44100, subtype="FLOAT")
    argv = ["--references", str(tmp_path / "ref"), "--estimates", str(tmp_path / "est"),
            "--out", str(tmp_path / "evals"), "--tracks", "a"]
    with pytest.warns(UserWarning, match=r"track 'a': the estimate of 'vocals' is silent"):
        assert evaluate_cli(argv + ["--quiet"]) == 0
    assert capsys.readouterr().out == ""
    with pytest.warns(UserWarning, match=r"track 'a': the estimate of 'vocals' is silent"):
        assert evaluate_cli(argv) == 0
    out = capsys.readouterr().out
    assert out == "1 tracks: 0 evaluated, 0 already done, 1 skipped (silent stem)\n"  # no table: nothing scored
    assert not any((tmp_path / "evals").iterdir())


def test_split_option_picks_the_sub_folder(tmp_path, capsys):
    two_tracks(tmp_path)
    (tmp_path / "evals").mkdir()
    (tmp_path / "evals" / "a.json").write_text(REGRESSION_JSON.read_text())
    (tmp_path / "ref" / "train" / "zzz").mkdir(parents=True)
    argv = ["--references", str(tmp_path / "ref"), "--estimates", str(tmp_path / "est"),
            "--out", str(tmp_path / "evals"), "--quiet"]
    assert cli_main(["evaluate", *argv, "--split", "train"]) == 1
    assert "error: missing stem files: " in capsys.readouterr().err  # zzz: neither references nor estimates
    assert cli_main(["evaluate", *argv, "--tracks", "a"]) == 0


def test_required_options_are_usage_errors(capsys):
    with pytest.raises(SystemExit) as exit_:
        evaluate_cli(["--references", "r", "--estimates", "e"])
    assert exit_.value.code == 2
    assert "the following arguments are required: --out" in capsys.readouterr().err
