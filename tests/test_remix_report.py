"""What the remix notebook shows, on constructed inputs: the pairs of runs with and without remix, the gain
table (SiSEC aggregation, per-track comparison), the figures, and the outcome in words (it says "does not help"
when the numbers say so). The grid of excerpt lengths and the classifier on real data run in the smoke DAG
(test_paper_results.py)."""
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from demucs_study import SOURCES
from demucs_study.config import profile_experiments
from demucs_study.remix import report as R

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def quick():
    return profile_experiments("quick")


def scores_for(values: dict) -> pd.DataFrame:
    """Long per-track scores: ``{system: (tracks, 4) SDR}``."""
    rows = []
    for system, table in values.items():
        for t, row in enumerate(np.asarray(table, dtype=float)):
            rows += [{"system": system, "track": f"T{t}", "target": s, "metric": "SDR", "value": v}
                     for s, v in zip(SOURCES, row)]
    return pd.DataFrame(rows)


def test_each_remix_run_is_paired_with_its_twin_without_remix(quick):
    pairs = R.remix_experiments(quick).set_index("experiment")
    assert pairs.loc["demucs rho=0.25", "baseline"] == "demucs"
    assert pairs.loc["demucs rho=0.25 labeled_fraction=0.25", "baseline"] == "demucs labeled_fraction=0.25"
    assert set(pairs["labeled_fraction"]) == {0.25, 1.0} and set(pairs["rho"]) == {0.25} and set(pairs["seed"]) == {42}
    assert [p["experiment"] for p in R.budgets(quick)] == ["demucs rho=0.25 labeled_fraction=0.25", "demucs rho=0.25"]


def test_in_the_extended_grid_each_seed_and_excerpt_length_is_paired_with_its_own_baseline():
    extended = profile_experiments("extended")
    pairs = R.remix_experiments(extended).set_index("experiment")
    assert len(pairs) == 3 + 3 + 1 + 1      # 25 % and 100 % x 3 seeds, 50 %, L = 1 s (10 s finds nothing here)
    assert pairs.loc["demucs rho=0.25 seed=43 labeled_fraction=0.25", "baseline"] == "demucs seed=43 labeled_fraction=0.25"
    assert pairs.loc["demucs rho=0.25 seed=44", "baseline"] == "demucs seed=44"
    assert pairs.loc["demucs excerpt=1 rho=0.25 labeled_fraction=0.25", "baseline"] == "demucs labeled_fraction=0.25"
    assert pairs.loc["demucs rho=0.25 labeled_fraction=0.5", "baseline"] == "demucs labeled_fraction=0.5"
    assert R.main_excerpt(extended) == 3.0 and R.main_excerpt(extended[:1]) is None
    # one experiment per budget for the classifier and the length grid: the main excerpt length, the lowest seed
    assert [p["experiment"] for p in R.budgets(extended)] == [
        "demucs rho=0.25 labeled_fraction=0.25", "demucs rho=0.25 labeled_fraction=0.5", "demucs rho=0.25"]


def test_gain_table_and_tracks_improved(quick):
    base = np.array([[4.0, 3.0, 2.0, 1.0], [6.0, 5.0, 4.0, 3.0], [5.0, 4.0, 3.0, 2.0]])
    remix = base + np.array([[1.0, -1.0, 0.5, 0.0]])          # every track: drums +1, bass -1, other +0.5
    scores = scores_for({"demucs": base, "demucs rho=0.25": remix, "demucs labeled_fraction=0.25": base})
    gains = R.gain_table(quick, scores)
    assert list(gains["experiment"].unique()) == ["demucs rho=0.25"]   # the 25 % remix run was not evaluated
    by = gains.set_index("target")
    assert (by.loc["All", "seed"], by.loc["All", "excerpt"]) == (42, 3.0)
    assert by.loc["drums", "no_remix"] == 5.0 and by.loc["drums", "remix"] == 6.0 and by.loc["drums", "gain"] == 1.0
    assert by.loc["drums", "paired_gain"] == 1.0 and by.loc["All", "paired_gain"] == pytest.approx(0.125)
    assert by.loc["bass", "gain"] == -1.0 and by.loc["vocals", "gain"] == 0.0
    assert by.loc["All", "gain"] == pytest.approx(0.125) and by.loc["All", "no_remix"] == pytest.approx(3.5)
    assert (by.loc["drums", "improved"], by.loc["bass", "improved"], by.loc["vocals", "improved"]) == (3, 0, 0)
    assert by.loc["All", "improved"] == 3 and by.loc["All", "tracks"] == 3
    assert by.loc["bass", "track_gain_min"] == by.loc["bass", "track_gain_max"] == -1.0
    summary = R.gain_summary(quick, scores)
    assert summary["experiment"].unique().tolist() == ["demucs rho=0.25"] and (summary["seeds"] == 1).all()
    assert summary.set_index("target").loc["All", "gain"] == pytest.approx(0.125)
    assert summary["gain_se"].isna().all()
    fig = R.gain_figure(summary)
    assert fig.axes[0].get_xlabel().startswith("labeled budget") and len(fig.axes[0].containers) == 5
    assert "one excerpt length in this profile (3 s)" in [x.get_text() for x in fig.axes[1].texts]
    assert R.gain_table(quick, scores_for({"demucs": base})).empty and R.gain_summary(quick, scores_for({"demucs": base})).empty


def extended_scores(gains: dict, base=None) -> pd.DataFrame:
    """Scores of the extended remix grid: every baseline at ``base``; each remix run ``base`` + its gain (on every
    track and stem) for the runs named in ``gains``."""
    base = np.array([[4.0, 3.0, 2.0, 1.0], [6.0, 5.0, 4.0, 3.0], [5.0, 4.0, 3.0, 2.0]]) if base is None else base
    pairs = R.remix_experiments(profile_experiments("extended"))
    values = {b: base for b in pairs["baseline"]}
    values.update({e: base + g for e, g in gains.items()})
    return scores_for(values)


def test_gain_summary_over_seeds_and_excerpt_lengths_with_its_standard_error():
    extended = profile_experiments("extended")
    scores = extended_scores({"demucs rho=0.25 labeled_fraction=0.25": 0.2, "demucs rho=0.25 seed=43 labeled_fraction=0.25": 0.4,
                              "demucs rho=0.25 seed=44 labeled_fraction=0.25": 0.9, "demucs rho=0.25": -0.1,
                              "demucs rho=0.25 seed=43": -0.4, "demucs excerpt=1 rho=0.25 labeled_fraction=0.25": 0.05})
    summary = R.gain_summary(extended, scores)
    rows = summary[summary["target"] == "All"].set_index("experiment")
    assert rows.index.tolist() == ["demucs excerpt=1 rho=0.25 labeled_fraction=0.25",
                                   "demucs rho=0.25 labeled_fraction=0.25 (3 seeds)", "demucs rho=0.25 (2 seeds)"]
    three = rows.loc["demucs rho=0.25 labeled_fraction=0.25 (3 seeds)"]
    assert three["gain"] == pytest.approx(0.5) and three["seeds"] == 3
    assert three["gain_se"] == pytest.approx(np.std([0.2, 0.4, 0.9], ddof=1) / np.sqrt(3))
    assert three["baseline"] == "demucs labeled_fraction=0.25 (3 seeds)" and three["tracks"] == 9
    assert three["improved"] == 9 and three["no_remix"] == pytest.approx(3.5)
    assert rows.loc["demucs rho=0.25 (2 seeds)", "gain"] == pytest.approx(-0.25)
    assert np.isnan(rows.loc["demucs excerpt=1 rho=0.25 labeled_fraction=0.25", "gain_se"])
    fig = R.gain_figure(summary)
    assert fig.axes[1].get_xlabel() == "excerpt length L (s)" and "labeled budget 25 %" in fig.axes[1].get_title()
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[1].get_xticklabels(minor=False) + fig.axes[1].get_xticklabels(minor=True)]
    assert [t for t in labels if t] == ["1", "3"]    # the excerpt lengths only, no log-axis minor labels
    left_all = fig.axes[0].containers[-1]            # All against the budget: 25 % and 100 % (the 50 % pair: not scored)
    assert list(left_all.lines[0].get_xdata()) == [25.0, 100.0]
    text = R.outcome(summary, pd.DataFrame(), pd.DataFrame(), extended)
    assert "paired gain All **+0.50 ± 0.21 dB** over 3 seeds" in text
    assert "remixing helps here (beyond twice its standard error)" in text
    assert "paired gain All **-0.25 ± 0.15 dB** over 2 seeds" in text and "hurts here" not in text
    assert "does not help here beyond twice its standard error" in text
    assert "- **Excerpt length** (labeled budget 25 %): paired gain All 1 s +0.05 dB (1 seed), 3 s +0.50 ± 0.21 dB " \
           "(3 seeds)." in text
    assert text.startswith("**Remixing helped at some labeled budgets only.**")


def test_outcome_says_no_gain_with_its_numbers_and_reasons(quick):
    base = np.full((4, 4), 3.0)
    worse = scores_for({"demucs": base, "demucs rho=0.25": base - 0.3, "demucs labeled_fraction=0.25": base - 1,
                        "demucs rho=0.25 labeled_fraction=0.25": base - 0.8})
    gains = R.gain_summary(quick, worse)
    classifier = pd.DataFrame([{"labeled_fraction": f, "source": s, "precision": 0.9, "recall": 0.4}
                               for f in (0.25, 1.0) for s in SOURCES])
    grid = pd.DataFrame([{"labeled_fraction": f, "length": 3.0, "source": s, "minutes": 2.5, "excerpts": 40,
                          "precision": 0.8, "leak_db_mean": -22.0} for f in (0.25, 1.0) for s in ("drums", "bass", "vocals")])
    text = R.outcome(gains, classifier, grid, quick)
    assert text.startswith("**Remixing helped at some labeled budgets only.**")
    assert "All **-0.30 dB**" in text and "All **+0.20 dB**" in text        # 25 %: 2.2 vs 2.0 is a gain...
    assert "spread between tracks." in text                                  # one seed: no word on seeds
    assert "better on 4 of 4 test tracks (per-track gains from +0.20 to +0.20 dB): remixing helps here" in text
    assert "does not help here" in text and "90 % / 40 %" in text
    assert "truly silent 80 %, mean leak -22 dB" in text and "rho = 0.25" in text
    better = R.gain_summary(quick, scores_for({"demucs": base, "demucs rho=0.25": base + 0.5,
                                             "demucs labeled_fraction=0.25": base,
                                             "demucs rho=0.25 labeled_fraction=0.25": base + 0.1}))
    assert R.outcome(better, classifier, grid, quick).startswith("**Remixing helped at every labeled budget.**")
    assert "nothing to conclude" in R.outcome(better.iloc[:0], classifier, grid, quick)


def test_figures_of_the_classifier_the_yield_and_the_truth():
    energies = pd.DataFrame({**{f"{s}_rel_db": [-5.0, -12.0, -200.0, -45.0] for s in SOURCES},
                             **{f"{s}_db": [-20.0, -27.0, -200.0, -70.0] for s in SOURCES}})
    fig = R.energy_figure(energies, -30.0, -60.0)
    assert len(fig.axes) == 4 and "25 % digital silence" in fig.axes[0].get_title()
    classifier = pd.DataFrame([{"labeled_fraction": 1.0, "source": s, "precision": 0.9, "recall": 0.5} for s in SOURCES])
    calibration = pd.DataFrame([{"labeled_fraction": 1.0, "length": 3.0, "source": s, "precision": 0.95,
                                 "recall": 0.3} for s in SOURCES])
    assert len(R.classifier_figure(classifier, calibration).axes) == 1
    grid = pd.DataFrame([{"labeled_fraction": f, "length": L, "source": s, "minutes": 1.0 / L, "precision": 0.9,
                          "excerpts": 0 if L == 10.0 else 5,
                          "scanned_minutes": 75.0} for f in (0.25, 1.0) for L in (1.0, 3.0, 10.0)
                         for s in ("drums", "bass", "vocals")])
    fig = R.yield_figure(grid)
    assert len(fig.axes) == 2 and "75 min scanned" in fig.axes[0].get_title()
    excerpts = pd.DataFrame({"source": ["bass", "bass", "drums"], "leak_db": [-200.0, -35.0, -20.0]})
    fig = R.truth_figure(grid, excerpts)
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 4      # the 10 s extraction found nothing


def test_run_yields_and_real_yield_without_the_folder(quick, tmp_path, monkeypatch):
    from demucs_study.training.runs import HISTORY, run_dir
    from demucs_study.utils import write_json

    monkeypatch.setenv("DEMUCS_STUDY_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("DEMUCS_STUDY_DATA", str(tmp_path / "data"))
    remix = next(p for p in quick if p["experiment"] == "demucs rho=0.25")
    write_json(run_dir(remix) / HISTORY, {"remix": {"items": 120, "length": 44100 * 2, "yield": {
        "drums": {"minutes": 1.5}, "bass": {"minutes": 2.0}, "vocals": {"minutes": 0.5}}}})
    table = R.run_yields(quick)
    assert table["experiment"].tolist() == ["demucs rho=0.25"]
    row = table.iloc[0]
    assert row["total (min)"] == 4.0 and row["example length (s)"] == 2.0 and "remixed" in row["extra data"]
    assert R.real_yield(remix) is None
