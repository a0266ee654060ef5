"""The committed results are rebuilt by the committed code: each profile's tables from its per-track JSON."""
from pathlib import Path

import pytest

from demucs_study.config import load_params, profile_experiments
from demucs_study.evaluation.testset import measured_scores
from demucs_study.reporting.paper import build_tables

ROOT = Path(__file__).resolve().parents[1]
PROFILES = sorted(p.name for p in (ROOT / "results").iterdir() if (p / "tables").is_dir() and (p / "evals").is_dir())


@pytest.mark.parametrize("profile", PROFILES)
def test_tables_are_rebuilt_identically_from_the_committed_per_track_json(profile, tmp_path, monkeypatch):
    monkeypatch.delenv("DEMUCS_STUDY_RESULTS", raising=False)
    monkeypatch.delenv("MUSDB_ROOT", raising=False)
    params = load_params(ROOT / "params" / profile / "defaults.yaml")
    build_tables(params, profile_experiments(profile), measured_scores(profile), tmp_path)
    committed = sorted((ROOT / "results" / profile / "tables").glob("*.csv"))
    assert committed and sorted(p.name for p in tmp_path.glob("*.csv")) == [p.name for p in committed]
    for path in committed:
        assert (tmp_path / path.name).read_text() == path.read_text(), path.name


def test_quick_results_are_committed():
    assert "quick" in PROFILES
