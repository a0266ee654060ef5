"""One step of the study's DAG (reporting.runner): its hash, stale temporaries, skipping an up-to-date step,
and one real papermill run of a tiny notebook (slow: a kernel start costs seconds)."""
import json
import os
import sys
import types
from pathlib import Path

import nbformat
import pytest

from demucs_study import paths
from demucs_study.config import load_params
from demucs_study.reporting import provenance, runner
from demucs_study.reporting.runner import run_notebook, stale_temporaries, step_hash

OLD = 1_000_000_000  # an mtime long ago (2001), set with os.utime to see whether a file is rewritten

LOAD_CELL = ("from demucs_study.config import load_params\n"
             "params = load_params(params_file, overrides)\n"
             "print('loaded', params['experiment'], 'at', params['dataset']['samplerate'], 'Hz')")


def write_notebook(path: Path, second_cell: str = LOAD_CELL) -> Path:
    """Two cells: the ``parameters`` cell (params_file, overrides) and one that loads them."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.cells = [nbformat.v4.new_code_cell("params_file = 'nothing.yaml'\noverrides = []",
                                          metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(second_cell)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A fake checkout in tmp_path/repo (notebooks/, params/tiny/data.yaml), results in tmp_path/repo/results.

    ``paths.repo_root`` points at it (repo-relative names in provenance) and so does provenance's own
    reference (its git check then runs outside any repository, never in the real checkout)."""
    root = tmp_path / "repo"
    write_notebook(root / "notebooks" / "tiny.ipynb")
    (root / "params" / "tiny").mkdir(parents=True)
    (root / "params" / "tiny" / "data.yaml").write_text("dataset:\n  samplerate: 44100\n  synth:\n    seed: 1\n")
    monkeypatch.setattr(paths, "repo_root", lambda: root)
    monkeypatch.setattr(provenance, "repo_root", lambda: root)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.setenv("DEMUCS_STUDY_RESULTS", str(root / "results"))
    return root


# ---- step_hash

def test_step_hash_changes_with_the_notebook_the_params_and_an_upstream_stamp(tmp_path):
    nb = write_notebook(tmp_path / "a.ipynb")
    params = {"profile": "quick", "experiment": "demucs", "train": {"lr": 1e-3}, "params_file": "params/x.yaml"}
    stamp = tmp_path / ".done" / "01_data"
    stamp.parent.mkdir()
    stamp.write_text(json.dumps({"hash": "aaaa"}))
    base = step_hash(nb, params, [stamp])
    assert len(base) == 16 and int(base, 16) >= 0
    assert step_hash(nb, dict(params), [stamp]) == base  # deterministic
    assert step_hash(nb, {**params, "params_file": "elsewhere/x.yaml"}, [stamp]) == base  # not the file's place
    assert step_hash(nb, {**params, "train": {"lr": 5e-4}}, [stamp]) != base
    assert step_hash(write_notebook(tmp_path / "b.ipynb", "print(1)"), params, [stamp]) != base
    assert step_hash(nb, params, []) != base
    stamp.write_text(json.dumps({"hash": "bbbb", "wall_seconds": 3}))  # the upstream step ran again
    assert step_hash(nb, params, [stamp]) != base


def test_step_hash_of_stamps_ignores_their_order_and_notes_missing_ones(tmp_path):
    nb = write_notebook(tmp_path / "a.ipynb")
    one, two = tmp_path / "one", tmp_path / "two"
    one.write_text('{"hash": "1"}')
    two.write_text('{"hash": "2"}')
    params = {"profile": "quick"}
    assert step_hash(nb, params, [one, two]) == step_hash(nb, params, [two, one])
    missing = step_hash(nb, params, [one, tmp_path / "never"])
    (tmp_path / "never").write_text('{"hash": "3"}')
    assert step_hash(nb, params, [one, tmp_path / "never"]) != missing


# ---- stale_temporaries

def test_stale_temporaries_are_this_steps_hidden_copies_only(tmp_path):
    for name in (".02_train-demucs.k3j_x9zq.tmp.ipynb", ".02_train-demucs.a1b2c3d4.tmp.ipynb",  # this step's
                 ".02_train-demucs_remix.a1b2c3d4.tmp.ipynb",  # another step whose name starts the same
                 ".03_evaluate-demucs.a1b2c3d4.tmp.ipynb", "02_train-demucs.ipynb", "02_train-demucs.html",
                 ".02_train-demucs.a1b2c3d4.tmp.html"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in stale_temporaries(tmp_path, "02_train-demucs")] == [
        ".02_train-demucs.a1b2c3d4.tmp.ipynb", ".02_train-demucs.k3j_x9zq.tmp.ipynb"]
    assert stale_temporaries(tmp_path / "missing", "02_train-demucs") == []


def test_the_names_match_what_atomic_path_creates(tmp_path):
    from demucs_study.utils import atomic_path

    with atomic_path(tmp_path / "05_paper.ipynb") as tmp:
        assert stale_temporaries(tmp_path, "05_paper") == [tmp]


def test_a_step_whose_name_continues_with_a_dot_is_another_step(tmp_path):
    other = tmp_path / ".02_train-demucs_lr=1.5.a1b2c3d4.tmp.ipynb"
    other.write_text("{}")
    assert stale_temporaries(tmp_path, "02_train-demucs_lr=1") == []


# ---- run_notebook without a kernel

def test_an_up_to_date_step_is_skipped_without_running_anything(checkout, monkeypatch, capsys):
    fake = types.ModuleType("papermill")

    def execute_notebook(*args, **kwargs):
        raise AssertionError("an up-to-date step must not execute its notebook")

    fake.execute_notebook = execute_notebook
    monkeypatch.setitem(sys.modules, "papermill", fake)
    nb, params_file = checkout / "notebooks" / "tiny.ipynb", checkout / "params" / "tiny" / "data.yaml"
    digest = step_hash(nb, load_params(params_file))
    stamp = checkout / "results" / "tiny" / ".done" / "tiny"  # name: the notebook's, for data.yaml alone
    stamp.parent.mkdir(parents=True)
    stamp.write_text(json.dumps({"hash": digest}))
    os.utime(stamp, (OLD, OLD))
    assert run_notebook(nb, params_file) == {"skipped": True, "hash": digest}
    assert stamp.stat().st_mtime > OLD  # touched, so make sees it newer than its inputs
    assert capsys.readouterr().out == "tiny: up to date (parameters unchanged), nothing to do\n"
    with pytest.raises(AssertionError, match="must not execute"):  # a changed parameter runs it
        run_notebook(nb, params_file, ["dataset.samplerate=22050"], output="tiny")


# ---- one real run

def string_values(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from string_values(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from string_values(value)


@pytest.mark.slow
def test_run_notebook_end_to_end(checkout, tmp_path, capsys):
    nb, params_file = checkout / "notebooks" / "tiny.ipynb", checkout / "params" / "tiny" / "data.yaml"
    overrides = ["dataset.samplerate=16000"]
    name = "tiny-data_samplerate=16000"  # notebook, then the experiment's name with "_" for spaces
    out_dir = checkout / "results" / "tiny" / "notebooks"
    out_dir.mkdir(parents=True)
    own = out_dir / f".{name}.x1y2z3w4.tmp.ipynb"     # left by a killed run of this step
    theirs = out_dir / ".tiny.x1y2z3w4.tmp.ipynb"      # another step's, maybe running right now
    own.write_text("{}")
    theirs.write_text("{}")

    info = run_notebook(nb, params_file, overrides)

    assert not own.exists() and theirs.exists()
    digest = step_hash(nb, load_params(params_file, overrides))
    assert info["hash"] == digest and info["wall_seconds"] >= 0
    assert (info["notebook"], info["params_file"]) == ("notebooks/tiny.ipynb", "params/tiny/data.yaml")
    assert info["overrides"] == overrides and info["experiment"] == "data samplerate=16000"
    stamp = checkout / "results" / "tiny" / ".done" / name
    assert json.loads(stamp.read_text()) == {"hash": digest, "wall_seconds": info["wall_seconds"]}

    executed = nbformat.read(str(out_dir / f"{name}.ipynb"), as_version=4)
    assert "loaded data samplerate=16000 at 16000 Hz" in executed.cells[-1].outputs[0]["text"]
    meta = executed.metadata["papermill"]
    assert meta["input_path"] == "notebooks/tiny.ipynb"
    assert meta["output_path"] == f"results/tiny/notebooks/{name}.ipynb"
    assert meta["parameters"] == {"params_file": "../params/tiny/data.yaml", "overrides": overrides}
    assert [s for s in string_values(dict(meta)) if s.startswith("/") or str(tmp_path) in s] == []
    assert str(tmp_path) not in (out_dir / f"{name}.ipynb").read_text()  # nor in the injected cell

    html = (out_dir / f"{name}.html").read_text()
    assert "loaded data samplerate=16000 at 16000 Hz" in html
    prov = json.loads((checkout / "results" / "tiny" / "provenance.json").read_text())
    step = prov["steps"][name]
    assert (step["notebook"], step["params_file"]) == ("notebooks/tiny.ipynb", "params/tiny/data.yaml")
    assert step["params"]["params_file"] == "params/tiny/data.yaml" and str(tmp_path) not in json.dumps(prov)
    assert prov["git"] == {"commit": None, "dirty": None}  # the fake checkout is no repository
    index = (checkout / "results" / "tiny" / "index.html").read_text()
    assert f"href='notebooks/{name}.html'" in index and "href='provenance.json'" in index
    assert f"{name}: done in" in capsys.readouterr().out

    # the second call is skipped: nothing is rewritten
    for path in (out_dir / f"{name}.ipynb", out_dir / f"{name}.html", checkout / "results" / "tiny" / "index.html"):
        os.utime(path, (OLD, OLD))
    assert run_notebook(nb, params_file, overrides) == {"skipped": True, "hash": digest}
    assert (out_dir / f"{name}.ipynb").stat().st_mtime == OLD and (out_dir / f"{name}.html").stat().st_mtime == OLD
    assert (checkout / "results" / "tiny" / "index.html").stat().st_mtime == OLD
    assert sorted(p.name for p in out_dir.iterdir()) == [".tiny.x1y2z3w4.tmp.ipynb", f"{name}.html",
                                                         f"{name}.ipynb"]


def test_missing_notebook_is_a_study_error(checkout):
    with pytest.raises(runner.StudyError, match=r"notebook .*nope.ipynb does not exist"):
        run_notebook(checkout / "nope.ipynb", checkout / "params" / "tiny" / "data.yaml")
