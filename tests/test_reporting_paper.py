"""What the paper notebook shows (reporting.paper): rows labelled by their parameters, their order, and the
profile's tables written as CSV, Markdown and LaTeX."""
from pathlib import Path

import numpy as np
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


@pytest.mark.parametrize("name, noted", [("demucs", True), ("demucs seed=43", True), ("demucs glu=False", False),
                                         ("demucs rho=0.25 labeled_fraction=0.25", False)])
def test_only_the_papers_configuration_carries_the_1909_note(name, noted):
    """Variants (ablations, budgets, remix) are not the configuration the abstract's number is about."""
    assert (PAPER_1909_NOTE in experiment_row(experiment(name)).note) is noted


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


# ---- seeds: one row per experiment, mean ± s.e. over seeds

EXTENDED = ROOT / "params" / "extended"


def ext(name="demucs.yaml", *overrides):
    return load_params(EXTENDED / name, list(overrides))


def per_track(values: dict) -> pd.DataFrame:
    """``{system: [value of track 1, track 2, ...]}`` -> long SDR, the same value on every stem of a track."""
    return pd.DataFrame([(s, f"t{i}", stem, "SDR", float(v)) for s, vs in values.items() for i, v in enumerate(vs)
                         for stem in SOURCES], columns=COLUMNS)


def test_seeds_of_one_experiment_are_one_row_with_mean_and_standard_error(tmp_path):
    exps = [ext(), ext("demucs_seed-43.yaml"), ext("demucs_seed-44.yaml"), ext("demucs_glu-False.yaml"),
            ext("waveunet.yaml"), ext("waveunet_seed-43.yaml")]
    scores = per_track({"demucs": [1, 2, 3], "demucs seed=43": [2, 3, 4], "demucs seed=44": [5, 6, 7],
                        "demucs glu=False": [0, 1, 2], "waveunet": [0, 0, 0], "MIX": [-5, -5, -5]})
    rows = measured_rows(exps, scores)
    assert [r.display for r in rows] == ["demucs (3 seeds)", "demucs glu=False", "waveunet", "Mixture as every estimate (MIX)"]
    assert rows[0].system == ("demucs", "demucs seed=43", "demucs seed=44")
    assert rows[0].source == "measured: results/extended/evals/{demucs, demucs seed=43, demucs seed=44}"
    assert "mean ± s.e. over seeds 42, 43, 44" in rows[0].note
    assert rows[2].system == "waveunet"          # its seed 43 was not scored: a single row of its own
    table = build_tables({"profile": "extended", "dataset": SYNTH}, exps, scores, tmp_path)["synthetic"]
    row = table.set_index("system").loc["demucs (3 seeds)"]
    assert row["All"] == pytest.approx(11 / 3) and row["runs"] == 3    # medians 2, 3, 6
    assert row["All s.e."] == pytest.approx(np.std([2, 3, 6], ddof=1) / np.sqrt(3))
    assert "| demucs (3 seeds) [1] |" in (tmp_path / "synthetic.md").read_text()
    assert "3.67 ± 1.20" in (tmp_path / "synthetic.md").read_text()


def test_figures_get_one_run_or_the_pooled_seeds_of_each_experiment():
    from demucs_study.reporting.paper import pooled_scores, representative_histories, representatives, seed_systems

    exps = [ext(), ext("demucs_seed-43.yaml"), ext("demucs_glu-False.yaml")]
    scores = per_track({"demucs": [1], "demucs seed=43": [2], "demucs glu=False": [0], "MIX": [-5]})
    assert seed_systems(exps) == {"demucs (2 seeds)": ["demucs", "demucs seed=43"], "demucs glu=False": ["demucs glu=False"]}
    assert seed_systems(exps, {"demucs", "demucs glu=False"}, several=True) == {}
    assert sorted(pooled_scores(exps, scores)["system"].unique()) == ["MIX", "demucs (2 seeds)", "demucs glu=False"]
    assert representatives(exps, ["MIX", "demucs", "demucs glu=False", "demucs seed=43"]) == ["MIX", "demucs",
                                                                                              "demucs glu=False"]
    histories = {"demucs seed=43": {}, "demucs": {}, "demucs glu=False": {}}
    assert list(representative_histories(histories, exps)) == ["demucs", "demucs glu=False"]


def test_claim_check_with_seeds_has_the_standard_error_of_the_difference():
    from demucs_study.reporting.paper import claim_check

    exps = [ext(), ext("demucs_seed-43.yaml"), ext("waveunet.yaml"), ext("waveunet_seed-43.yaml")]
    scores = per_track({"demucs": [3, 4, 5], "demucs seed=43": [5, 6, 7], "waveunet": [1, 1, 1],
                        "waveunet seed=43": [2, 2, 2]})
    table, sentence = claim_check(scores, exps)
    assert table.loc["All", "difference (ours)"] == pytest.approx(5.0 - 1.5)
    se = np.hypot(np.std([4, 6], ddof=1) / np.sqrt(2), np.std([1, 2], ddof=1) / np.sqrt(2))
    assert table.loc["All", "difference s.e."] == pytest.approx(se)
    assert "demucs (2 seeds) (ours)" in table.columns and table.loc["drums", "tracks where Demucs is better"] == "3/3"
    assert f"+3.50 dB SDR (All) ± {se:.2f} (standard error; 2 and 2 seeds: the difference is beyond" in sentence
    # paired seed by seed, track by track: seed 42 differences 2, 3, 4 (median 3), seed 43 3, 4, 5 (median 4)
    assert table.loc["All", "paired difference"] == pytest.approx(3.5)
    assert table.loc["All", "paired difference s.e."] == pytest.approx(np.std([3, 4], ddof=1) / np.sqrt(2))
    assert "it is +3.50 ± 0.50 over 2 seed pairs (beyond twice its standard error)" in sentence


def test_claim_check_pairs_the_seeds_the_two_models_share():
    from demucs_study.reporting.paper import claim_check

    exps = [ext(), ext("demucs_seed-43.yaml"), ext("waveunet.yaml")]
    scores = per_track({"demucs": [3, 4, 5], "demucs seed=43": [5, 6, 7], "waveunet": [1, 1, 1]})
    table, sentence = claim_check(scores, exps)
    assert table.loc["All", "paired difference"] == pytest.approx(3.0)   # seed 42 only: no paired spread
    assert "paired difference s.e." not in table.columns and "seed pairs" not in sentence


def test_training_budget_says_which_runs_were_reused():
    from demucs_study.reporting.paper import training_budget

    histories = {"demucs": {"params": {"model": "demucs"}, "history": [{"steps": 1, "seconds": 2.0}],
                            "reused_from": {"profile": "quick", "experiment": "demucs"}},
                 "demucs seed=43": {"params": {"model": "demucs"}, "history": [{"steps": 1, "seconds": 2.0}]}}
    assert training_budget(histories)["reused from"].tolist() == ["quick", "-"]


# ---- the ablation table

def published_fake() -> pd.DataFrame:
    """The released runs on 3 tracks: baseline seeds with All 6.0, 6.2, 5.8, 6.0, 6.0 (std sqrt(0.02)); glu=False
    0.5 below its seed 42; channels=64 of seeds 42, 43, 44 at +0.1, -0.3, -0.2 of their seeds."""
    base = {42: 6.0, 43: 6.2, 44: 5.8, 45: 6.0, 46: 6.0}
    name = {42: "demucs-1911:default", **{s: f"demucs-1911:seed={s}" for s in range(43, 47)}}
    values = {name[s]: [v - 1, v, v + 1] for s, v in base.items()}
    values["demucs-1911:glu=False"] = [v - 0.5 for v in values[name[42]]]
    for s, d in ((42, 0.1), (43, -0.3), (44, -0.2)):
        values["demucs-1911:channels=64" if s == 42 else f"demucs-1911:seed={s} channels=64"] = \
            [v + d for v in values[name[s]]]
    return per_track(values)


def ablation_case():
    exps = [ext(), ext("demucs_seed-43.yaml"), ext("demucs_seed-44.yaml"), ext("demucs_glu-False.yaml"),
            ext("demucs_glu-False.yaml", "seed=43"), ext("demucs_channels-10.yaml"),
            ext("demucs.yaml", "models.demucs.depth=5"), ext("demucs_labeled_fraction-0.25.yaml"), ext("waveunet.yaml")]
    base = {"demucs": [1.0, 2.0, 3.0], "demucs seed=43": [1.5, 2.5, 3.5], "demucs seed=44": [0.5, 1.5, 2.5]}
    scores = per_track({**base, "demucs glu=False": [0.0, 1.0, 2.0], "demucs glu=False seed=43": [-0.5, 0.5, 1.5],
                        "demucs channels=10": [1.2, 2.4, 3.9], "demucs depth=5": [4.0, 5.0, 6.0],
                        "demucs labeled_fraction=0.25": [0.0, 0.0, 0.0], "waveunet": [0.0, 0.0, 0.0]})
    return exps, scores


def test_ablations_are_the_demucs_experiments_that_change_only_model_or_loss_parameters():
    from demucs_study.reporting.paper import ablation_groups

    exps, _ = ablation_case()
    groups = {a["label"]: a for a in ablation_groups(exps)}
    assert list(groups) == ["demucs glu=False", "demucs channels=10", "demucs depth=5"]   # not the labeled budget
    assert groups["demucs glu=False"]["change"] == {"models.demucs.glu": False}
    assert groups["demucs glu=False"]["pairs"] == {42: ("demucs", "demucs glu=False"),
                                                  43: ("demucs seed=43", "demucs glu=False seed=43")}
    assert [a["change"] for a in ablation_groups([ext(), ext("demucs_loss-mse.yaml")])] == [{"train.loss": "mse"}]


def test_published_change_maps_ours_to_the_released_run_or_says_it_is_missing():
    from demucs_study.reporting.paper import published_change

    assert published_change({"models.demucs.rescale": 0.0}) == ("no initial weight rescaling", "rescale=0.0")
    assert published_change({"models.demucs.context": 1}) == ("decoder context 1 instead of 3", "context=1")
    assert published_change({"train.loss": "mse"}) == ("MSE instead of L1", "mse=True")
    what, flag = published_change({"models.demucs.channels": 10}, 16)
    assert flag == "channels=64" and what == "fewer channels: 16 -> 10 (x0.62; released: 100 -> 64, x0.64)"
    assert published_change({"models.demucs.channels": 32}, 16) == ("channels=32", None)   # more: no released run
    assert published_change({"models.demucs.rescale": 0.05}) == ("rescale=0.05", None)
    assert published_change({"models.demucs.depth": 5}) == ("depth=5", None)


def test_ablation_table_pairs_per_seed_and_compares_with_the_release(tmp_path):
    from demucs_study.reporting.paper import build_ablation_table

    exps, scores = ablation_case()
    table = build_ablation_table(exps, scores, tmp_path, published=published_fake()).set_index("experiment")
    glu = table.loc["demucs glu=False (2 seeds)"]
    assert glu["change"] == "ReLU instead of GLU" and glu["seeds"] == 2 and glu["s.e. from"] == "2 seeds"
    assert glu["delta All"] == pytest.approx(-1.5) and glu["delta All s.e."] == pytest.approx(0.5)
    assert glu["published"] == "demucs-1911:glu=False" and glu["published seeds"] == 1
    assert glu["published delta All"] == pytest.approx(-0.5)
    assert glu["published delta All s.e."] == pytest.approx(np.sqrt(2) * np.sqrt(0.02))     # 0.2: 5 released seeds
    assert glu["published s.e. from"].startswith("1 seed: sqrt(2) x the baseline's seed spread (5 seeds)")
    assert (glu["sign agrees"], glu["beyond 2 s.e."], glu["published beyond 2 s.e."]) == ("yes", "yes", "yes")
    fewer = table.loc["demucs channels=10"]
    assert fewer["delta All"] == pytest.approx(0.4) and fewer["seeds"] == 1
    assert fewer["delta All s.e."] == pytest.approx(np.sqrt(2) * 0.5)       # baseline All 2, 2.5, 1.5: std 0.5
    assert fewer["s.e. from"] == "1 seed: sqrt(2) x the baseline's seed spread (3 seeds)"
    assert fewer["published seeds"] == 3 and fewer["published delta All"] == pytest.approx(-0.4 / 3)
    assert fewer["published delta All s.e."] == pytest.approx(np.std([0.1, -0.3, -0.2], ddof=1) / np.sqrt(3))
    assert (fewer["sign agrees"], fewer["beyond 2 s.e."], fewer["published beyond 2 s.e."]) == ("no", "no", "no")
    depth = table.loc["demucs depth=5"]
    assert depth["published"] == "missing" and depth["sign agrees"] == "-" and "no run with this change" in depth["note"]
    assert depth["delta All"] == pytest.approx(3.0) and depth["beyond 2 s.e."] == "yes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ablations.csv", "ablations.md", "ablations.tex"]
    md = (tmp_path / "ablations.md").read_text()
    assert "| ReLU instead of GLU | demucs glu=False (2 seeds) | 2 | -1.50 ± 0.50 |" in md
    assert "| glu=False | 1 | -0.50 ± 0.20 † | yes | yes | yes |" in md
    assert "| missing | - | - | - | yes | - |" in md


def test_no_ablation_no_table(tmp_path):
    from demucs_study.reporting.paper import build_ablation_table

    exps, scores = ablation_case()
    table = build_ablation_table(exps[:3], scores, tmp_path, published=published_fake())
    assert table.empty and list(tmp_path.iterdir()) == []
