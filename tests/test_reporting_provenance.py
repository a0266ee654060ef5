"""Provenance of a profile's results (reporting.provenance): the git state, versions, machine, and the
steps recorded in provenance.json (added or replaced under a lock, written atomically, wall times summed).

Every git command here runs in a temporary repository or a folder outside any repository: never in the
checkout (``git status`` may rewrite its index)."""
import json
import os
import subprocess
import threading

import pytest

from demucs_study.reporting import provenance
from demucs_study.reporting.provenance import PACKAGES, git_commit, machine, package_versions, record_step


@pytest.fixture
def isolated_git(monkeypatch, tmp_path):
    """No user or system git configuration, and no repository above tmp_path."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(var, raising=False)


def git(repo, *args):
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false",
                           *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path, isolated_git):
    root = tmp_path / "checkout"
    (root / "lib").mkdir(parents=True)
    (root / "results" / "quick").mkdir(parents=True)
    (root / "lib" / "code.py").write_text("x = 1\n")
    (root / "results" / "quick" / "table.md").write_text("old\n")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    return root


@pytest.fixture
def outside_git(monkeypatch, tmp_path, isolated_git):
    """record_step looks up the checkout through provenance.repo_root: point it at a folder outside git."""
    folder = tmp_path / "not-a-repo"
    folder.mkdir()
    monkeypatch.setattr(provenance, "repo_root", lambda: folder)
    return folder


# ---- git_commit

def test_clean_checkout_reports_its_commit(repo):
    assert git_commit(repo) == {"commit": git(repo, "rev-parse", "HEAD"), "dirty": False}


def test_changes_under_results_do_not_make_it_dirty(repo):
    (repo / "results" / "quick" / "table.md").write_text("new numbers\n")     # a tracked output changed
    (repo / "results" / "quick" / "figure.png").write_text("new file\n")      # an untracked output
    (repo / "lib" / "untracked.py").write_text("# not added\n")               # untracked files never count
    assert git_commit(repo)["dirty"] is False


def test_changed_code_makes_it_dirty(repo):
    (repo / "lib" / "code.py").write_text("x = 2\n")
    assert git_commit(repo)["dirty"] is True
    git(repo, "add", "lib/code.py")  # staged counts too
    assert git_commit(repo)["dirty"] is True


def test_outside_a_repository_everything_is_none(outside_git):
    assert git_commit(outside_git) == {"commit": None, "dirty": None}
    assert git_commit() == {"commit": None, "dirty": None}  # the default root is provenance.repo_root()


def test_missing_git_executable_is_none(repo, monkeypatch):
    monkeypatch.setenv("PATH", str(repo / "no-bin-here"))
    assert git_commit(repo) == {"commit": None, "dirty": None}


# ---- versions and machine

def test_package_versions_and_machine():
    versions = package_versions()
    assert list(versions) == ["python", *PACKAGES]
    assert versions["torch"] and versions["numpy"] and versions["papermill"]
    m = machine()
    assert {"platform", "processor", "cpus", "torch_threads", "gpus"} <= set(m)
    assert m["cpus"] == os.cpu_count() and m["torch_threads"] >= 1 and isinstance(m["gpus"], list)


# ---- record_step

def test_record_step_adds_and_replaces_steps_and_sums_wall_time(tmp_path, outside_git):
    results = tmp_path / "results" / "quick"
    record_step(results, "02_train-demucs", {"wall_seconds": 100.25, "hash": "a"})
    data = record_step(results, "01_data", {"wall_seconds": 20.0, "hash": "b"})
    assert list(data["steps"]) == ["01_data", "02_train-demucs"]  # sorted by step
    assert data["total_wall_seconds"] == 120.2  # rounded to 0.1 s
    data = record_step(results, "02_train-demucs", {"wall_seconds": 5.0, "hash": "c"})
    assert data["steps"]["02_train-demucs"] == {"wall_seconds": 5.0, "hash": "c"}
    assert data["total_wall_seconds"] == 25.0
    on_disk = json.loads((results / "provenance.json").read_text())
    assert on_disk == data
    assert on_disk["git"] == {"commit": None, "dirty": None}
    assert {"git", "packages", "machine", "updated", "steps", "total_wall_seconds"} <= set(on_disk)
    # only the file and its lock: no temporary left behind
    assert sorted(p.name for p in results.iterdir()) == [".provenance.json.lock", "provenance.json"]


def test_a_step_without_wall_time_counts_zero(tmp_path, outside_git):
    data = record_step(tmp_path, "skipped", {"skipped": True})
    assert data["total_wall_seconds"] == 0.0


def test_an_existing_file_keeps_its_other_keys_and_steps(tmp_path, outside_git):
    (tmp_path / "provenance.json").write_text(json.dumps({"note": "kept", "steps": {"00_old": {"wall_seconds": 1}}}))
    data = record_step(tmp_path, "01_data", {"wall_seconds": 2})
    assert data["note"] == "kept" and list(data["steps"]) == ["00_old", "01_data"] and data["total_wall_seconds"] == 3


def test_concurrent_steps_do_not_lose_each_other(tmp_path, outside_git):
    """``make -j``: steps finishing together. The file lock serialises the read-modify-write."""
    errors = []

    def step(i):
        try:
            record_step(tmp_path, f"step{i:02d}", {"wall_seconds": 1.0})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=step, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    data = json.loads((tmp_path / "provenance.json").read_text())
    assert list(data["steps"]) == [f"step{i:02d}" for i in range(8)] and data["total_wall_seconds"] == 8.0


def test_a_failed_write_keeps_the_previous_file(tmp_path, outside_git):
    results = tmp_path / "results"
    record_step(results, "01_data", {"wall_seconds": 2})
    before = (results / "provenance.json").read_text()
    with pytest.raises(TypeError):
        record_step(results, "02_bad", {"wall_seconds": 1, "not json": object()})
    assert (results / "provenance.json").read_text() == before
    assert sorted(p.name for p in results.iterdir()) == [".provenance.json.lock", "provenance.json"]
