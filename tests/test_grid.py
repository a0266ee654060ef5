"""The generated profiles (lib/demucs_study/grid.py): params/extended/ is exactly what its grid says, its
experiments have the expected names (non-default parameters and seeds) and every one resolves, its seed-42
runs are the quick profile's (same training hash: reused), and the README's time is the estimate's."""
import shutil
from pathlib import Path

import pytest

from demucs_study import grid as G
from demucs_study.cli import main
from demucs_study.config import flatten, load_params, profile_experiments, seed_groups
from demucs_study.errors import ParamsError
from demucs_study.training.experiment import train_hash

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ("", " seed=43", " seed=44")
MAIN = [f"{m}{s}" for m in ("demucs", "waveunet", "mmdenselstm") for s in SEEDS]
REMIX = [f"demucs{x}" for x in (*[f"{s} labeled_fraction=0.25" for s in SEEDS],
                                *[f" rho=0.25{s} labeled_fraction=0.25" for s in SEEDS],
                                *[f" rho=0.25{s}" for s in SEEDS],
                                " labeled_fraction=0.5", " rho=0.25 labeled_fraction=0.5",
                                " excerpt=1 rho=0.25 labeled_fraction=0.25")]
ABLATIONS = ["demucs glu=False", "demucs lstm_layers=0", "demucs rewrite=False", "demucs rescale=0.0",
             "demucs context=1", "demucs loss=mse", "demucs channels=10"]
EXTENDED = sorted(MAIN + REMIX + ABLATIONS)


@pytest.fixture(scope="module")
def extended():
    return profile_experiments("extended")


@pytest.mark.parametrize("profile", sorted(G.GRIDS))
def test_the_folder_is_what_the_grid_says(profile):
    assert G.check_grid(profile) == [], f"run: python -m demucs_study grid {profile}"


def test_the_extended_experiments_are_named_by_their_non_default_parameters_and_seeds(extended):
    names = [p["experiment"] for p in extended]
    assert sorted(names) == EXTENDED and len(names) == 28
    for p in extended:   # every file resolves on its own, and its file is named after the experiment
        path = ROOT / p["params_file"]
        assert load_params(path)["experiment"] == p["experiment"]
        assert path.name == p["experiment"].replace(" ", "_").replace("=", "-") + ".yaml"
    by = {p["experiment"]: p for p in extended}
    assert by["demucs rho=0.25 seed=43 labeled_fraction=0.25"]["seed"] == 43
    assert by["demucs excerpt=1 rho=0.25 labeled_fraction=0.25"]["remix"]["excerpt"] == 1.0
    assert by["demucs loss=mse"]["train"]["loss"] == "mse" and by["demucs channels=10"]["models"]["demucs"]["channels"] == 10
    assert by["waveunet seed=44"]["model"] == "waveunet" and by["mmdenselstm seed=43"]["model"] == "mmdense"
    assert by["demucs rho=0.25"]["report"]["extra_data"] == "unlabeled (150 songs), remixed"
    assert by["demucs glu=False"]["report"]["extra_data"] == "no"


def test_seeds_per_part(extended):
    groups = {base: [p["seed"] for p in members] for base, members in seed_groups(extended).items()}
    for base in ("demucs", "waveunet", "mmdenselstm", "demucs labeled_fraction=0.25",
                 "demucs rho=0.25 labeled_fraction=0.25", "demucs rho=0.25"):
        assert groups[base] == [42, 43, 44], base
    for base in ABLATIONS + ["demucs labeled_fraction=0.5", "demucs rho=0.25 labeled_fraction=0.5",
                             "demucs excerpt=1 rho=0.25 labeled_fraction=0.25"]:
        assert groups[base] == [42], base


def test_the_extended_data_and_budget_are_the_quick_profiles():
    ext, quick = load_params(ROOT / "params/extended/demucs.yaml"), load_params(ROOT / "params/quick/demucs.yaml")
    a, b = flatten(ext), flatten(quick)
    differ = {k for k in set(a) | set(b) if a.get(k) != b.get(k)}
    assert differ == {"profile", "params_file", "runs_from", "eval.museval_check", "dataset.synth_folder"}
    assert (ext["runs_from"], ext["dataset"]["synth_folder"], ext["eval"]["museval_check"]) == ("quick", "quick", 0)
    data = load_params(ROOT / "params/extended/data.yaml")
    assert {**data["dataset"], "synth_folder": None} == {**load_params(ROOT / "params/quick/data.yaml")["dataset"],
                                                         "synth_folder": None}


def test_seed_42_of_extended_has_the_training_hash_of_the_quick_run_it_reuses(extended):
    quick = {p["experiment"]: train_hash(p) for p in profile_experiments("quick")}
    ext = {p["experiment"]: train_hash(p) for p in extended}
    assert len(quick) == 6 and all(ext[name] == h for name, h in quick.items())
    assert len(set(ext.values())) == len(ext)   # no two extended experiments train the same thing
    rows = G.estimate(extended, profile_experiments("quick"))
    assert sorted(r["experiment"] for r in rows if r["reused"]) == sorted(quick)


def test_the_expected_time_fits_in_three_hours_and_the_readme_says_it(extended):
    rows = G.estimate(extended, profile_experiments("quick"))
    total = G.total_minutes(rows)
    assert 150 < total < 180
    readme = (ROOT / "params/extended/README.md").read_text()
    assert f"**{total:.0f} minutes**" in readme and "22 trained here and 6 reused" in readme


@pytest.mark.slow
def test_the_plans_numbers_are_the_estimates(tmp_path):
    """EXTENDED_PLAN quotes the whole grid (about 5.3 hours) and the cost of each cut: computed here."""
    quick = profile_experiments("quick")

    def minutes(**seeds):
        grid = G.Grid(profile="extended", base="quick", title="t", extra_defaults=G.MUSEVAL_OFF,
                      entries=G.extended_entries(**seeds))
        return G.total_minutes(G.estimate(G.render(grid).experiments, quick))

    now = minutes()
    full = minutes(middle_seeds=G.SEEDS, excerpt_seeds=G.SEEDS, ablation_seeds=G.SEEDS)
    plan = " ".join(G.EXTENDED_PLAN.split())
    assert f"about {full / 60:.1f} hours" in plan
    assert f"(7 x 2 runs, {minutes(ablation_seeds=G.SEEDS) - now:.0f} min)" in plan
    assert f"(2 runs, {minutes(excerpt_seeds=G.SEEDS) - now:.0f} min) and of the 50 % budget (4 runs, " \
           f"{minutes(middle_seeds=G.SEEDS) - now:.0f} min)" in plan


def copy_params(tmp_path) -> Path:
    root = tmp_path / "params"
    for name in ("quick", "smoke", "extended", "extended-smoke"):
        shutil.copytree(ROOT / "params" / name, root / name)
    shutil.copy(ROOT / "params" / "defaults.yaml", root / "defaults.yaml")
    return root


@pytest.mark.slow
def test_a_hand_edit_is_found_and_writing_the_grid_restores_the_folder(tmp_path):
    root = copy_params(tmp_path)
    (root / "extended" / "demucs_glu-False.yaml").write_text("name: demucs\n")
    (root / "extended" / "demucs_depth-5.yaml").write_text("name: demucs\nmodels: {demucs: {depth: 5}}\n")
    (root / "extended" / "demucs_seed-44.yaml").unlink()
    (root / "extended" / "notes.txt").write_text("kept")
    assert G.check_grid("extended", root) == ["differs: demucs_glu-False.yaml", "extra: demucs_depth-5.yaml",
                                              "missing: demucs_seed-44.yaml"]
    G.write_grid("extended", root)
    assert G.check_grid("extended", root) == [] and (root / "extended" / "notes.txt").is_file()


def test_a_change_of_the_quick_profile_is_a_difference_until_the_grid_is_written_again(tmp_path):
    root = copy_params(tmp_path)
    text = (root / "quick" / "defaults.yaml").read_text().replace("  epochs: 6 ", "  epochs: 7 ")
    (root / "quick" / "defaults.yaml").write_text(text)
    assert G.check_grid("extended", root) == ["differs: defaults.yaml"]


def test_grid_errors_name_the_fix(tmp_path):
    with pytest.raises(ParamsError, match="not safe in a make target"):
        G.slug("demucs unlabeled_data=/data/x")
    with pytest.raises(ParamsError, match="no grid named 'nope': the generated profiles are extended, extended-smoke"):
        G.check_grid("nope")
    clash = G.Grid(profile="x", base="quick", title="t", extra_defaults="train:\n  epochs: 2\n", entries=())
    with pytest.raises(ParamsError, match="params/quick/defaults.yaml sets train, which the grid x sets too"):
        G.render(clash)
    twice = G.Grid(profile="x", base="quick", title="t", extra_defaults="", entries=(
        G.Entry("main", "demucs", {}, (42,), "a"), G.Entry("remix", "demucs", {"train": {"labeled_fraction": 1.0}},
                                                             (42,), "b")))
    with pytest.raises(ParamsError, match="holds the experiment 'demucs' twice"):
        G.render(twice)


def test_the_grid_command_checks_the_folder(capsys):
    assert main(["grid", "extended", "--check"]) == 0
    assert "params/extended/ is what its grid says" in capsys.readouterr().out
