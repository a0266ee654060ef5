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




def test_missing_folders_are_one_error_naming_them(capsys):
    assert cli_main(["evaluate", "--references", "r", "--estimates", "e"]) == 1
    assert "error: give --out (or --params params/<profile>/<experiment>.yaml)" in capsys.readouterr().err


@pytest.mark.slow
def test_backends_agree_and_check_reports_the_deviation_from_museval(tmp_path, capsys):
    """--backend fast (the default) and museval give the same numbers; --check N re-scores N tracks with
    museval and prints the largest deviation per metric (rounding)."""
    from demucs_study.evaluation.bsseval import max_deviation

    two_tracks(tmp_path)
    common = ["--references", str(tmp_path / "ref"), "--estimates", str(tmp_path / "est"), "--quiet"]
    assert evaluate_cli(common + ["--out", str(tmp_path / "fast"), "--check", "1"]) == 0
    out = capsys.readouterr().out
    assert "check a: SDR " in out and "check b" not in out
    worst = out.strip().splitlines()[-1]
    assert worst.startswith("largest deviation from museval over 1 track(s): SDR ")
    values = [float(v.split()[1]) for v in worst.split(": ", 1)[1].split(", ")]
    assert max(values) < 1e-4   # the stored JSON is rounded to 1e-5 dB
    assert evaluate_cli(common + ["--out", str(tmp_path / "mus"), "--backend", "museval"]) == 0
    fast, mus = (json.loads((tmp_path / d / "a.json").read_text()) for d in ("fast", "mus"))
    assert max(max_deviation(fast, mus, "a").values()) < 1e-4


def test_params_scores_a_system_of_the_study(tmp_path, monkeypatch):
    """--params finds the references and estimates where the study keeps them; --system picks MIX."""
    from demucs_study.evaluation import testset
    from fakedata import make_wav_dataset

    root = tmp_path / "musdb"
    make_wav_dataset(root, test=("Delta - Fourth",), seconds=1.5)
    monkeypatch.setenv("DEMUCS_STUDY_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("DEMUCS_STUDY_RESULTS", str(tmp_path / "results"))
    params_file = tmp_path / "params" / "unit" / "x.yaml"
    params_file.parent.mkdir(parents=True)
    params_file.write_text(f"name: x\ndataset: {{root: {root}}}\neval: {{jobs: 1, backend: fast}}\n")
    params = {"profile": "unit", "experiment": "x", "dataset": {"root": str(root)}, "eval": {"jobs": 1}}
    testset.reference_estimates(params, "MIX")
    assert evaluate_cli(["--params", str(params_file), "--system", "MIX", "--quiet"]) == 0
    assert (tmp_path / "results" / "unit" / "evals" / "MIX" / "test" / "Delta - Fourth.json").is_file()
