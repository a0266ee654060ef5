"""What the paper notebook shows (reporting.paper): rows labelled by their parameters, their order, and the
profile's tables written as CSV, Markdown and LaTeX."""
from pathlib import Path

import pandas as pd
import pytest

from demucs_study import SOURCES
from demucs_study.config import load_params
from demucs_study.evaluation.aggregate import COLUMNS
from demucs_study.reporting.paper import (REFERENCE_ROWS, build_tables, dataset_description, experiment_row,
                                          measured_rows, reference_row)
from demucs_study.reporting.tables import PAPER_1909_NOTE, PUBLISHED_MUSDB_ROWS

ROOT = Path(__file__).resolve().parents[1]
SYNTH = {"root": None, "synth": {"seed": 7, "train": 40, "valid": 2, "test": 10, "duration": 30.0}}


@pytest.fixture(autouse=True)
def no_musdb(monkeypatch):
    monkeypatch.delenv("MUSDB_ROOT", raising=False)


def experiment(name, profile="quick", model="demucs", dataset=SYNTH, **extra):
    return {"experiment": name, "profile": profile, "model": model, "dataset": dataset, **extra}


def measured(systems, tracks=("t1", "t2", "t3")):
    """Per-track SDR of every stem: system -> constant value (so every aggregate equals it)."""
    rows = [(s, t, target, "SDR", float(v)) for s, v in systems.items() for t in tracks for target in SOURCES]
    return pd.DataFrame(rows, columns=COLUMNS)


# ---- labels

def test_dataset_description():
    assert dataset_description({"dataset": SYNTH}) == ("synthetic train (40 songs of 30 s)", False)
    assert dataset_description({"dataset": {"root": "/data/musdb18", "synth": {}}}) == ("MUSDB18 train", True)


def test_musdb_root_environment_makes_it_musdb(monkeypatch, tmp_path):
    monkeypatch.setenv("MUSDB_ROOT", str(tmp_path))
    assert dataset_description({"dataset": SYNTH}) == ("MUSDB18 train", True)


def test_experiment_row_takes_extra_data_from_report_extra_data():
    row = experiment_row(experiment("demucs", report={"extra_data": "150 unlabeled songs (remix)"}))
    assert row.extra_data == "150 unlabeled songs (remix)"
    assert (row.system, row.display) == ("demucs", "demucs")
    assert row.training_data == "synthetic train (40 songs of 30 s)"
    assert row.source == "measured: results/quick/evals/demucs"
    assert row.note == "this study; trained here; for comparison, " + PAPER_1909_NOTE


@pytest.mark.parametrize("name", ["demucs remix unlabeled", "demucs remix=True", "remix extra data 804 songs"])
def test_the_name_never_decides_the_extra_data(name):
    """The old bug: rows whose name said "remix" were labelled as trained with extra data."""
    assert experiment_row(experiment(name)).extra_data == "no"
    assert experiment_row(experiment(name, report={})).extra_data == "no"
    assert experiment_row(experiment(name, report={"extra_data": "no"})).extra_data == "no"


def test_a_real_experiment_of_the_quick_profile():
    params = load_params(ROOT / "params" / "quick" / "demucs.yaml")
    row = experiment_row(params)
    assert row.extra_data == "no" and row.system == params["experiment"]
    assert row.source == f"measured: results/quick/evals/{params['experiment']}"


def test_other_models_get_no_demucs_paper_note():
    assert experiment_row(experiment("waveunet", model="waveunet")).note == "this study; trained here"


def test_reference_rows():
    mix = reference_row("smoke", "MIX")
    assert mix.display == "Mixture as every estimate (MIX)" and mix.source == "measured: results/smoke/evals/MIX"
    assert mix.kind == "measured" and mix.note == REFERENCE_ROWS["MIX"].note
    assert reference_row("smoke", "IRM2").training_data == "oracle (true stems)"


# ---- order

def test_measured_rows_are_the_experiments_in_order_then_mix_then_irm2():
    exps = [experiment("b first"), experiment("a second"), experiment("never evaluated")]
    scores = measured({"IRM2": 8, "stranger": 0, "a second": 4, "MIX": -1, "b first": 5})
    rows = measured_rows(exps, scores)
    assert [r.system for r in rows] == ["b first", "a second", "MIX", "IRM2"]
    assert [r.source for r in rows][2:] == ["measured: results/quick/evals/MIX", "measured: results/quick/evals/IRM2"]


def test_measured_rows_without_scores():
    empty = pd.DataFrame(columns=COLUMNS)
    assert measured_rows([experiment("demucs")], empty) == []
    assert [r.system for r in measured_rows([experiment("demucs")], measured({"MIX": 1}))] == ["MIX"]


# ---- build_tables

def test_build_tables_on_the_synthetic_set(tmp_path):
    exps = [experiment("demucs", report={"extra_data": "no"}),
            experiment("demucs remix", report={"extra_data": "20 unlabeled songs"})]
    scores = measured({"demucs remix": 5.5, "demucs": 5.0, "MIX": -1.0, "IRM2": 8.0}, tracks=("t1", "t2"))
    tables = build_tables({"profile": "quick", "dataset": SYNTH}, exps, scores, tmp_path / "tables")
    assert list(tables) == ["published_musdb18", "synthetic"]
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == [
        "published_musdb18.csv", "published_musdb18.md", "published_musdb18.tex",
        "synthetic.csv", "synthetic.md", "synthetic.tex"]
    synth = pd.read_csv(tmp_path / "tables" / "synthetic.csv")
    assert synth["system"].tolist() == ["demucs", "demucs remix", "Mixture as every estimate (MIX)",
                                        "Ideal ratio mask oracle (IRM2)"]
    assert synth["All"].tolist() == [5.0, 5.5, -1.0, 8.0]
    assert synth["extra data"].tolist() == ["no", "20 unlabeled songs", "-", "-"]
    assert tables["synthetic"].attrs["caption"].startswith("synthetic test set (2 tracks, profile quick), SDR")
    md = (tmp_path / "tables" / "synthetic.md").read_text()
    assert "| demucs remix [2] | synthetic train (40 songs of 30 s) | 20 unlabeled songs | 5.50 |" in md
    assert r"\label{tab:synthetic}" in (tmp_path / "tables" / "synthetic.tex").read_text()
    published = pd.read_csv(tmp_path / "tables" / "published_musdb18.csv")
    assert published["system"].tolist() == [r.display for r in PUBLISHED_MUSDB_ROWS]


def test_build_tables_with_nothing_measured_writes_the_published_table_only(tmp_path):
    tables = build_tables({"profile": "smoke", "dataset": SYNTH}, [experiment("demucs", profile="smoke")],
                          pd.DataFrame(columns=COLUMNS), tmp_path)
    assert list(tables) == ["published_musdb18"]
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".csv", ".md", ".tex"]


def test_build_tables_on_musdb_puts_our_rows_under_the_published_ones(tmp_path):
    musdb = {"root": "/data/musdb18", "synth": {}}
    exps = [experiment("demucs", profile="full", dataset=musdb)]
    scores = measured({"demucs": 6.0, "MIX": -1.0})
    tables = build_tables({"profile": "full", "dataset": musdb}, exps, scores, tmp_path)
    assert list(tables) == ["musdb18"]
    systems = tables["musdb18"]["system"].tolist()
    assert systems == [r.display for r in PUBLISHED_MUSDB_ROWS] + ["demucs", "Mixture as every estimate (MIX)"]
    assert tables["musdb18"].set_index("system").loc["demucs", "training data"] == "MUSDB18 train"
    assert (tmp_path / "musdb18.tex").is_file()


def test_default_output_folder_is_the_profiles_tables(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMUCS_STUDY_RESULTS", str(tmp_path))
    build_tables({"profile": "smoke", "dataset": SYNTH}, [], pd.DataFrame(columns=COLUMNS))
    assert (tmp_path / "smoke" / "tables" / "published_musdb18.md").is_file()


def _two_systems():
    """Per-track SDR of 'demucs' and 'waveunet' on three tracks: demucs is 2 dB better everywhere but
    on one vocals track."""
    rows = []
    for t, track in enumerate(("a", "b", "c")):
        for s, stem in enumerate(("drums", "bass", "other", "vocals")):
            base = 1.0 + t + 0.5 * s
            rows.append(("waveunet", track, stem, "SDR", base))
            rows.append(("demucs", track, stem, "SDR", base + (2.0 if not (stem == "vocals" and track == "c") else -1.0)))
    import pandas as pd

    return pd.DataFrame(rows, columns=["system", "track", "target", "metric", "value"])


def test_claim_check_gives_our_difference_the_published_one_and_the_paired_view():
    from demucs_study.reporting.paper import claim_check

    experiments = [{"experiment": "demucs", "model": "demucs"}, {"experiment": "waveunet", "model": "waveunet"}]
    table, sentence = claim_check(_two_systems(), experiments)
    assert table.loc["drums", "difference (ours)"] == pytest.approx(2.0)
    # vocals: medians 4.5 (demucs: 4.5, 5.5, 2.5) and 3.5 (waveunet): the difference of the medians
    assert table.loc["vocals", "difference (ours)"] == pytest.approx(1.0)
    assert table.loc["vocals", "median per-track difference"] == pytest.approx(2.0)
    assert table.loc["vocals", "tracks where Demucs is better"] == "2/3"
    assert table.loc["drums", "tracks where Demucs is better"] == "3/3"
    assert table.loc["All", "difference (ours)"] == pytest.approx(1.75)
    # published: Demucs 1911 (5 seeds) minus STL2, All 5.58 - 3.23
    assert table.loc["All", "difference, published MUSDB18 (Demucs 1911 - STL2)"] == pytest.approx(2.35, abs=0.01)
    assert table.loc["All", "1909 abstract"] == 1.6
    assert "+1.75 dB SDR (All), against +1.6 dB" in sentence and "the same sign, about the claimed size" in sentence


def test_claim_check_says_when_there_is_no_pair():
    from demucs_study.reporting.paper import claim_check

    table, sentence = claim_check(_two_systems(), [{"experiment": "demucs", "model": "demucs"}])
    assert table is None and "no scored Demucs and Wave-U-Net pair" in sentence


def test_training_budget_sums_steps_and_seconds():
    from demucs_study.reporting.paper import training_budget

    histories = {"demucs": {"params": {"model": "demucs"},
                            "history": [{"steps": 10, "seconds": 20.0}, {"steps": 10, "seconds": 22.0}]}}
    row = training_budget(histories).loc["demucs"]
    assert (row["epochs"], row["steps"], row["seconds"], row["seconds per step"]) == (2, 20, 42.0, 2.1)


def test_a_labeled_budget_is_said_in_the_training_data_column():
    from demucs_study.reporting.paper import dataset_description

    params = {"dataset": {"root": None, "synth": {"train": 30, "duration": 30.0}}, "train": {"labeled_fraction": 0.25}}
    assert dataset_description(params) == ("synthetic train (8 of 30 songs of 30 s)", False)
    params["train"]["labeled_fraction"] = 1.0
    assert dataset_description(params) == ("synthetic train (30 songs of 30 s)", False)
