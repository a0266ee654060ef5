from pathlib import Path

import pytest

from demucs_study.config import experiment_name, load_params, parse_override
from demucs_study.errors import ParamsError

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("profile", ["smoke", "quick", "full"])
def test_every_profile_loads_and_default_experiment_is_named_by_its_base(profile):
    p = load_params(ROOT / "params" / profile / "demucs.yaml")
    assert p["experiment"] == "demucs"
    assert p["profile"] == profile
    assert p["dataset"]["samplerate"] == 44100
    assert p["models"]["demucs"]["depth"] == 6


def test_name_lists_non_default_leaves_sorted():
    p = load_params(ROOT / "params/quick/demucs.yaml", ["models.demucs.glu=false", "train.lr=5e-4"])
    assert p["experiment"] == "demucs glu=False lr=0.0005"
    assert p["train"]["lr"] == pytest.approx(5e-4)
    assert p["models"]["demucs"]["glu"] is False


def test_unknown_key_is_an_error_naming_it():
    with pytest.raises(ParamsError, match=r"unknown parameter train\.lrr"):
        load_params(ROOT / "params/quick/demucs.yaml", ["train.lrr=1"])


def test_override_needs_equals():
    with pytest.raises(ParamsError, match="must look like key.sub=value"):
        parse_override("train.lr")


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ParamsError, match="nope.yaml does not exist"):
        load_params(tmp_path / "nope.yaml")


def test_data_yaml_loads_alone():
    p = load_params(ROOT / "params/smoke/data.yaml")
    assert set(p) >= {"dataset", "profile", "experiment"} and "train" not in p


def test_ambiguous_leaf_uses_dotted_path():
    base = {"name": "x", "a": {"k": 1}, "b": {"k": 2}}
    assert experiment_name({"name": "x", "a": {"k": 3}, "b": {"k": 2}}, base) == "x a.k=3"


def test_a_models_recipe_is_its_default_and_the_name_says_only_what_differs_from_it():
    wave = load_params(ROOT / "params/smoke/waveunet.yaml")
    assert wave["experiment"] == "waveunet" and wave["model"] == "waveunet"
    assert (wave["train"]["loss"], wave["train"]["lr"], wave["train"]["scale"], wave["train"]["flip"]) == \
        ("mse", 1e-4, [0.7, 1.0], False)
    assert wave["train"]["batch_size"] == 4   # the smoke profile's override of the recipe's 16
    assert load_params(ROOT / "params/smoke/waveunet.yaml", ["train.lr=1e-3"])["experiment"] == "waveunet lr=0.001"
    demucs = load_params(ROOT / "params/smoke/demucs.yaml")
    assert demucs["train"]["loss"] == "l1" and demucs["train"]["scale"] is None   # no recipe leaks into demucs
    # another model on a file named after a different one must not pass for it
    assert load_params(ROOT / "params/smoke/demucs.yaml", ["model=waveunet"])["experiment"] == "demucs model=waveunet"
    assert load_params(ROOT / "params/full/demucs.yaml")["train"]["batch_size"] == 64


def test_a_profile_may_extend_a_recipe_and_its_keys_are_checked_when_applied(tmp_path):
    (tmp_path / "defaults.yaml").write_text("name: x\nmodel: a\ntrain: {lr: 1, epochs: 2}\nrecipes: {b: {train: {lr: 2}}}\n")
    prof = tmp_path / "p"
    prof.mkdir()
    (prof / "defaults.yaml").write_text("recipes: {b: {train: {epochs: 5}}, c: {train: {lrr: 3}}}\n")
    (prof / "b.yaml").write_text("name: b\nmodel: b\n")
    (prof / "c.yaml").write_text("name: c\nmodel: c\n")
    b = load_params(prof / "b.yaml")
    assert (b["experiment"], b["train"]["lr"], b["train"]["epochs"]) == ("b", 2, 5)
    with pytest.raises(ParamsError, match=r"unknown parameter recipes\.c: train\.lrr"):
        load_params(prof / "c.yaml")


# ---- seeds of one experiment

def test_without_seed_and_the_label_of_a_seed_group():
    from demucs_study.config import seeds_label, without_seed

    assert without_seed("demucs glu=False seed=43") == "demucs glu=False"
    assert without_seed("demucs rho=0.25 seed=44 labeled_fraction=0.25") == "demucs rho=0.25 labeled_fraction=0.25"
    assert without_seed("demucs dataset.synth.seed=3") == "demucs dataset.synth.seed=3"   # not the run's seed
    assert seeds_label("demucs", 3) == "demucs (3 seeds)" and seeds_label("demucs", 1) == "demucs"


def test_seed_groups_gather_the_experiments_that_differ_only_by_seed():
    from demucs_study.config import seed_groups

    quick = ROOT / "params" / "quick"
    exps = [load_params(quick / "demucs.yaml", ["seed=44"]), load_params(quick / "waveunet.yaml"),
            load_params(quick / "demucs.yaml"), load_params(quick / "demucs.yaml", ["models.demucs.glu=false"]),
            load_params(quick / "demucs.yaml", ["seed=43"]),
            load_params(quick / "demucs.yaml", ["models.demucs.glu=false", "seed=43"])]
    groups = seed_groups(exps)
    assert list(groups) == ["demucs", "waveunet", "demucs glu=False"]      # in the order of their first experiment
    assert [p["experiment"] for p in groups["demucs"]] == ["demucs", "demucs seed=43", "demucs seed=44"]
    assert [p["seed"] for p in groups["demucs glu=False"]] == [42, 43]
    assert [len(g) for g in seed_groups([exps[1], exps[2]]).values()] == [1, 1]   # one seed each: one group each


def test_seed_groups_refuse_two_experiments_that_the_names_cannot_tell_apart():
    from demucs_study.config import seed_groups

    a = load_params(ROOT / "params" / "quick" / "demucs.yaml")
    b = {**a, "train": {**a["train"], "workers": 3}, "seed": 43, "experiment": "demucs seed=43"}  # workers: not in names
    with pytest.raises(ParamsError, match="'demucs' and 'demucs seed=43' differ in more than their seed"):
        seed_groups([a, b])


def test_the_full_profile_trains_the_three_systems_at_the_papers_size():
    """params/full: the paper-size Demucs, Wave-U-Net (STL2) and MMDenseLSTM (TAK1) with their own recipes."""
    by = {p["experiment"]: p for p in (load_params(f) for f in sorted((ROOT / "params/full").glob("*.yaml"))
                                        if f.stem not in ("defaults", "data"))}
    assert sorted(by) == ["demucs", "mmdenselstm", "waveunet"]
    assert by["waveunet"]["models"]["waveunet"]["levels"] == 12 and by["waveunet"]["models"]["waveunet"]["filters"] == 24
    assert by["waveunet"]["train"]["loss"] == "mse" and by["waveunet"]["train"]["lr"] == pytest.approx(1e-4)
    assert by["waveunet"]["train"]["batch_size"] == 16
    assert by["mmdenselstm"]["model"] == "mmdense" and by["mmdenselstm"]["models"]["mmdense"]["per_source"] is True
    assert by["mmdenselstm"]["models"]["mmdense"]["n_fft"] == 4096 and by["mmdenselstm"]["train"]["loss"] == "mse"
    assert by["demucs"]["models"]["demucs"]["channels"] == 100
