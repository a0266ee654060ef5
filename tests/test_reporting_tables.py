"""Comparison tables: the published MUSDB18 table, measured rows, and the three writers."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from demucs_study.errors import DatasetError
from demucs_study.evaluation.aggregate import COLUMNS, load_published
from demucs_study.reporting.tables import (PUBLISHED_MUSDB_ROWS, SHOWN_COLUMNS, STEM_COLUMNS, RowSpec,
                                           comparison_table, published_musdb_table, to_latex,
                                           to_markdown, write_tables)
from reference_numbers import DEMUCS_1911_MEAN, PUBLISHED_SDR

#: The published reference numbers (tests/reference_numbers.py), by the display name of their row.
EXPECTED = {row.display: DEMUCS_1911_MEAN if isinstance(row.system, tuple) else PUBLISHED_SDR[row.system]
            for row in PUBLISHED_MUSDB_ROWS}


@pytest.fixture(scope="module")
def table():
    return published_musdb_table(load_published())


def test_published_table_reproduces_the_paper_numbers(table):
    assert list(table.columns[:len(SHOWN_COLUMNS)]) == SHOWN_COLUMNS
    assert table["system"].tolist() == [r.display for r in PUBLISHED_MUSDB_ROWS]
    for _, row in table.iterrows():
        np.testing.assert_allclose(row[STEM_COLUMNS].astype(float), EXPECTED[row["system"]], atol=0.005 + 1e-9)
    demucs = table.set_index("system").loc["Demucs (Nov 2019 release)"]
    assert demucs["runs"] == 5 and 0.02 < demucs["All s.e."] < 0.06
    assert "about 4.8 dB All" in demucs["note"] and "+1.6 dB over Wave-U-Net" in demucs["note"]
    assert table.set_index("system").loc["MMDenseNet (TAK3)", "extra data"] == "804 songs"
    assert all(s.startswith("published:") for s in table["source"])


def test_writers_round_trip(table, tmp_path):
    paths = write_tables(table, tmp_path / "tables", "musdb")
    assert {p.name for p in paths.values()} == {"musdb.csv", "musdb.md", "musdb.tex"}
    back = pd.read_csv(paths["csv"])
    assert back["system"].tolist() == table["system"].tolist()
    np.testing.assert_allclose(back[STEM_COLUMNS].to_numpy(), table[STEM_COLUMNS].to_numpy(), rtol=1e-12)
    md = paths["md"].read_text()
    assert "| Demucs (Nov 2019 release) [2] | MUSDB18 train | no | 6.08 ± 0.07 |" in md
    assert "| Wave-U-Net (STL2) [1] |" in md and "| 3.23 |" in md
    assert "[1] published: results/published/sisec2018_track_scores.csv" in md
    assert "median over 1 s frames, median over tracks" in md
    tex = paths["tex"].read_text()
    assert tex.count(r"\toprule") == 1 and r"\bottomrule" in tex and r"\label{tab:musdb}" in tex
    assert r"5.58 $\pm$ 0.04" in tex and r"sisec2018\_track\_scores.csv" in tex
    assert tex.count(r" \\") == 1 + len(table)  # header + one line per row
    assert not [p for p in (tmp_path / "tables").iterdir() if p.name.startswith(".")]  # no temp files left


def test_measured_rows_and_seed_groups():
    rows = [(sys_, f"t{k}", stem, "SDR", base + k) for sys_, base in (("ours s1", 1.0), ("ours s2", 2.0))
            for k in range(3) for stem in ("drums", "bass", "other", "vocals")]
    measured = pd.DataFrame(rows, columns=COLUMNS)
    specs = [RowSpec(("ours s1", "ours s2"), "Demucs (ours)", "synthetic train", "no",
                     "measured: results/quick/evals/demucs", "2 seeds"),
             RowSpec("ours s1", "Demucs (ours, seed 1)", "synthetic train", "no",
                     "measured: results/quick/evals/demucs")]
    table = comparison_table(measured, None, specs, test_set="synthetic test set")
    assert table["All"].tolist() == [2.5, 2.0] and table["runs"].tolist() == [2, 1]
    assert table.loc[0, "All s.e."] == pytest.approx(0.5) and math.isnan(table.loc[1, "All s.e."])
    assert table.attrs["caption"].startswith("synthetic test set, SDR in dB")
    assert table.attrs["footnotes"] == ["measured by this study: results/quick/evals/demucs"]
    assert "| Demucs (ours) [1] | synthetic train | no | 2.50 ± 0.50 |" in to_markdown(table)
    assert "2.00 &" in to_latex(table)
    with pytest.raises(DatasetError, match=r"row 'X' is published but no published scores were given"):
        comparison_table(measured, None, [RowSpec("a", "X", "-", "-", "published: f.csv")])
    with pytest.raises(DatasetError, match=r"row 'Y': no scores for system\(s\) 'nope' in the measured scores"):
        comparison_table(measured, None, [RowSpec(("ours s1", "nope"), "Y", "-", "-", "measured: r")])
    with pytest.raises(DatasetError, match=r"row 'Z': source must start with 'published:' or 'measured:'"):
        comparison_table(measured, None, [RowSpec("ours s1", "Z", "-", "-", "results/x")])


# ---- the ablation table's writers (its numbers: tests/test_reporting_paper.py)

def ablation_rows() -> pd.DataFrame:
    from demucs_study.reporting.paper import ABLATION_COLUMNS

    row = {c: math.nan for c in ABLATION_COLUMNS}
    one = {**row, "change": "ReLU instead of GLU", "experiment": "demucs glu=False (3 seeds)", "seeds": 3,
           "delta drums": -0.4, "delta bass": 0.1, "delta other": -0.2, "delta vocals": -0.3, "delta All": -0.2,
           "delta All s.e.": 0.05, "s.e. from": "3 seeds", "published": "demucs-1911:glu=False", "published seeds": 1,
           "published delta All": -0.5, "published delta All s.e.": 0.12, "published s.e. from": "1 seed: sqrt(2) x",
           "sign agrees": "yes", "beyond 2 s.e.": "yes", "published beyond 2 s.e.": "yes", "note": ""}
    two = {**row, "change": "depth=5 & more", "experiment": "demucs depth=5", "seeds": 1, "delta All": 0.3,
           **{f"delta {s}": 0.3 for s in ("drums", "bass", "other", "vocals")}, "delta All s.e.": 0.2,
           "s.e. from": "1 seed: sqrt(2) x the baseline's", "published": "missing", "published seeds": 0,
           "sign agrees": "-", "beyond 2 s.e.": "no", "published beyond 2 s.e.": "-", "note": "no run"}
    table = pd.DataFrame([one, two], columns=ABLATION_COLUMNS)
    table.attrs["caption"] = "Ablations: a caption"
    return table


def test_ablation_markdown_and_latex(tmp_path):
    from demucs_study.reporting.tables import ablation_latex, ablation_markdown, write_ablation_tables

    md = ablation_markdown(ablation_rows())
    assert md.startswith("**Ablations: a caption**")
    assert ("| ReLU instead of GLU | demucs glu=False (3 seeds) | 3 | -0.20 ± 0.05 | -0.40 / +0.10 / -0.20 / -0.30 "
            "| glu=False | 1 | -0.50 ± 0.12 † | yes | yes | yes |") in md
    assert "| depth=5 & more | demucs depth=5 | 1 | +0.30 ± 0.20 † | +0.30 / +0.30 / +0.30 / +0.30 | missing | - | - | - " \
           "| no | - |" in md
    assert "† one seed" in md
    tex = ablation_latex(ablation_rows())
    assert r"depth=5 \& more" in tex and r"$^\dagger$" in tex and r"$\Delta$ All (dB)" in tex
    written = write_ablation_tables(ablation_rows(), tmp_path)
    assert sorted(p.name for p in written.values()) == ["ablations.csv", "ablations.md", "ablations.tex"]
    assert pd.read_csv(written["csv"])["delta All"].tolist() == [-0.2, 0.3]
    assert "(no ablation scored)" in ablation_markdown(ablation_rows().iloc[:0])
