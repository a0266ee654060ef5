"""The committed results are rebuilt by the committed code: each profile's tables (comparison and ablations)
from its per-track JSON, with the command the README gives (``python -m demucs_study table``)."""
from pathlib import Path

import pytest

from demucs_study.reporting.cli import table

ROOT = Path(__file__).resolve().parents[1]
PROFILES = sorted(p.name for p in (ROOT / "results").iterdir() if (p / "tables").is_dir() and (p / "evals").is_dir())


@pytest.mark.parametrize("profile", PROFILES)
def test_tables_are_rebuilt_identically_from_the_committed_per_track_json(profile, tmp_path, monkeypatch):
    monkeypatch.delenv("DEMUCS_STUDY_RESULTS", raising=False)
    monkeypatch.delenv("MUSDB_ROOT", raising=False)
    assert table(["--profile", profile, "--out", str(tmp_path)]) == 0
    committed = sorted((ROOT / "results" / profile / "tables").glob("*.csv"))
    assert committed and sorted(p.name for p in tmp_path.glob("*.csv")) == [p.name for p in committed]
    for path in committed:
        assert (tmp_path / path.name).read_text() == path.read_text(), path.name


@pytest.mark.parametrize("profile", ["quick", "extended"])
def test_the_profiles_results_are_committed(profile):
    assert profile in PROFILES


def test_the_extended_results_have_the_ablation_table_and_the_figures_of_seeds_and_ablations():
    base = ROOT / "results" / "extended"
    assert (base / "tables" / "ablations.csv").is_file()
    for figure in ("ablation_deltas", "remix_gain", "seed_learning_curves"):
        assert (base / "figures" / f"{figure}.png").is_file(), figure
