"""The reporting commands: ``table`` and ``run-notebook`` (argument handling; the DAG test runs notebooks)."""
import pandas as pd
import pytest

from demucs_study.cli import main as cli_main
from demucs_study.reporting.cli import table


def test_table_writes_the_published_table_when_nothing_is_measured(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DEMUCS_STUDY_RESULTS", str(tmp_path))
    monkeypatch.delenv("MUSDB_ROOT", raising=False)
    assert table(["--profile", "smoke"]) == 0
    out = tmp_path / "smoke" / "tables"
    assert sorted(p.name for p in out.iterdir()) == ["published_musdb18.csv", "published_musdb18.md",
                                                     "published_musdb18.tex"]
    assert pd.read_csv(out / "published_musdb18.csv").set_index("system").loc["IRM2 oracle", "All"] == \
        pytest.approx(8.22, abs=0.005)
    assert "## published_musdb18" in capsys.readouterr().out


def test_run_notebook_names_a_missing_notebook(tmp_path, capsys):
    assert cli_main(["run-notebook", str(tmp_path / "nope.ipynb"), "params/smoke/data.yaml"]) == 1
    assert "nope.ipynb does not exist" in capsys.readouterr().err
