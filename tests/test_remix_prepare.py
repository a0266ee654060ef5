"""The set-up of a remix experiment from its parameters: the experiments' names, the switch (rho = 0 changes
nothing, not even the training hash), the unlabeled folder of each choice (with the error naming the fix), and
the keys of the shared classifier and extraction folders (one per labeled budget and parameters they depend
on). The set-up run end to end: test_training_remix.py."""
from pathlib import Path
from types import SimpleNamespace

import pytest

from demucs_study.config import flatten, load_params, params_hash, profile_experiments
from demucs_study.errors import ParamsError
from demucs_study.models import Demucs
from demucs_study.remix import prepare as P
from demucs_study.remix.errors import RemixError
from demucs_study.training.experiment import HASH_EXCLUDED, train_hash

ROOT = Path(__file__).resolve().parents[1]


def quick(*overrides, name="demucs_remix.yaml"):
    return load_params(ROOT / "params" / "quick" / name, list(overrides))


def test_the_remix_grid_is_named_by_what_it_changes():
    names = {Path(p["params_file"]).name: p["experiment"] for p in profile_experiments("quick")}
    assert names["demucs.yaml"] == "demucs"
    assert names["demucs_labeled25.yaml"] == "demucs labeled_fraction=0.25"
    assert names["demucs_remix.yaml"] == "demucs rho=0.25"
    assert names["demucs_labeled25_remix.yaml"] == "demucs rho=0.25 labeled_fraction=0.25"
    smoke = {Path(p["params_file"]).name: p for p in profile_experiments("smoke")}
    assert smoke["demucs_labeled25_remix.yaml"]["experiment"] == "demucs rho=0.25 labeled_fraction=0.25"
    for p in (*profile_experiments("quick"), *smoke.values()):
        remixed = float(p["remix"]["rho"]) > 0
        assert P.enabled(p) == remixed
        assert ("remixed" in p["report"]["extra_data"]) == remixed      # the table row says it
    assert quick("remix.classifier.classifier_epochs=3")["experiment"] == "demucs classifier_epochs=3 rho=0.25"
    # no remix leaf repeats another leaf: names of experiments that change train.lr, channels, ... are unchanged
    for profile in ("quick", "smoke", "full"):
        leaves = [k.rsplit(".", 1)[-1] for k in flatten(profile_experiments(profile)[0]) if not k.startswith("recipes.")]
        remix = [k.rsplit(".", 1)[-1] for k in flatten(profile_experiments(profile)[0]) if k.startswith("remix.")]
        assert [leaf for leaf in remix if leaves.count(leaf) > 1] == []
    assert quick("train.lr=5e-4", "models.demucs.channels=32", name="demucs.yaml")["experiment"] == \
        "demucs channels=32 lr=0.0005"


def _old_hash(params: dict) -> str:
    """train_hash as it was before the remix keys existed."""
    kept = {k: v for k, v in flatten(params).items() if not any(k == e or k.startswith(e + ".") for e in HASH_EXCLUDED)
            and not k.startswith("remix.") and k != "train.labeled_fraction"}
    return params_hash(kept)


def test_without_remix_the_new_keys_change_nothing_not_even_the_hash():
    base = quick(name="demucs.yaml")
    assert train_hash(base) == _old_hash(base)
    assert train_hash(quick("remix.weight=0.5", "remix.excerpt=10.0", name="demucs.yaml")) == train_hash(base)
    remix = quick()
    assert train_hash(remix) != train_hash(base)
    assert train_hash(quick("remix.weight=0.5")) != train_hash(remix)
    assert train_hash(quick("train.labeled_fraction=0.25", name="demucs.yaml")) != train_hash(base)
    assert train_hash(quick("report.extra_data=x")) == train_hash(remix)


def test_the_unlabeled_folder_of_each_choice(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMUCS_STUDY_DATA", str(tmp_path / "data"))
    root = tmp_path / "synth"
    with pytest.raises(RemixError, match=r"remix.unlabeled_data = synthetic, but the dataset .*synth has no "
                                         r"unlabeled/ folder .* set remix.unlabeled_data to real \(make real-music\) "
                                         r"or to a folder of mixtures in params/quick/demucs_remix.yaml"):
        P.unlabeled_folder(quick(), root)
    (root / "unlabeled").mkdir(parents=True)
    assert P.unlabeled_folder(quick(), root) == root / "unlabeled"
    with pytest.raises(RemixError, match=r"remix.unlabeled_data = real, but .*data/real-unlabeled does not exist: "
                                         r"install the freely licensed real music with make real-music"):
        P.unlabeled_folder(quick("remix.unlabeled_data=real"), root)
    (tmp_path / "data" / "real-unlabeled").mkdir(parents=True)
    assert P.unlabeled_folder(quick("remix.unlabeled_data=real"), root) == tmp_path / "data" / "real-unlabeled"
    assert P.unlabeled_folder(quick(f"remix.unlabeled_data={root / 'unlabeled'}"), tmp_path) == root / "unlabeled"
    with pytest.raises(RemixError, match=r"remix.unlabeled_data = '.*nowhere' is neither synthetic, real nor an "
                                         r"existing folder of mixtures"):
        P.unlabeled_folder(quick(f"remix.unlabeled_data={tmp_path / 'nowhere'}"), root)


def test_classifier_configuration_and_sources():
    cfg = P.classifier_config(quick("remix.labels.relative_db=-25.0", "remix.classifier.classifier_lr=0.01"))
    assert cfg["relative_db"] == -25.0 and cfg["absolute_db"] == -60.0 and cfg["window"] == 1.0
    assert cfg["lr"] == 0.01 and cfg["epochs"] == 10 and cfg["channels"] == [16, 32, 64] and cfg["flip"] is True
    from demucs_study.remix.classifier_train import resolve_config

    assert resolve_config(cfg)["epochs"] == 10                   # every key is one train_classifier knows
    assert P.sources(quick("remix.sources=[vocals, drums]")) == ["drums", "vocals"]
    with pytest.raises(ParamsError, match=r"remix.sources = \['guitar'\] in params/quick/demucs_remix.yaml: choose "
                                          r"among \['drums', 'bass', 'other', 'vocals'\]"):
        P.sources(quick("remix.sources=[guitar]"))


def _tracks(*names):
    return [SimpleNamespace(name=n) for n in names]


def test_one_classifier_per_budget_and_what_it_depends_on(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMUCS_STUDY_RUNS", str(tmp_path / "runs"))
    root, valid = tmp_path / "synth", _tracks("V1", "V2")
    full, quarter = _tracks("A", "B", "C", "D"), _tracks("B")
    a = P.classifier_dir(quick(), root, full, valid)
    assert a.parent == tmp_path / "runs" / "quick" / "_remix" and a.name.startswith("classifier-")
    # what the classifier does not depend on: rho, the loss, the excerpt length, the extraction
    same = quick("remix.rho=0.5", "remix.weight=0.1", "remix.excerpt=10.0", "remix.extract.merge=false")
    assert P.classifier_dir(same, root, full, valid) == a
    assert P.classifier_dir(quick(), root, _tracks("D", "C", "B", "A"), valid) == a     # order free
    # what it depends on
    for other in (P.classifier_dir(quick(), root, quarter, valid), P.classifier_dir(quick("seed=1"), root, full, valid),
                  P.classifier_dir(quick("remix.classifier.classifier_epochs=2"), root, full, valid),
                  P.classifier_dir(quick("remix.labels.relative_db=-20.0"), root, full, valid),
                  P.classifier_dir(quick(), tmp_path / "other", full, valid)):
        assert other != a


def test_one_extraction_per_length_options_and_folder_content(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMUCS_STUDY_RUNS", str(tmp_path / "runs"))
    folder = tmp_path / "unlabeled"
    folder.mkdir()
    (folder / "a.wav").write_bytes(b"x" * 10)
    clf = tmp_path / "runs" / "quick" / "_remix" / "classifier-1"
    e = P.extraction_dir(quick(), clf, folder)
    assert e.name.startswith("extract-") and e == P.extraction_dir(quick("remix.rho=0.5"), clf, folder)
    assert P.extraction_dir(quick(), clf, folder, length=3.0) == e              # the params' L is 3 s
    assert P.extraction_dir(quick(), clf, folder, length=1.0) != e
    assert P.extraction_dir(quick("remix.sources=[bass]"), clf, folder) != e
    assert P.extraction_dir(quick("remix.extract.min_mix_db=-40.0"), clf, folder) != e
    assert P.extraction_dir(quick(), clf.with_name("classifier-2"), folder) != e
    (folder / "b.wav").write_bytes(b"y")
    assert P.extraction_dir(quick(), clf, folder) != e                          # the folder changed


def test_remixed_items_are_the_longest_valid_input_within_l():
    model = Demucs(channels=4)
    segment = 5 * 44100 - 4096
    assert P.remix_length(model, 10.0, segment, 44100) == segment              # L >= segment: one forward pass
    from demucs_study.training.batches import input_length

    short = P.remix_length(model, 3.0, segment, 44100)               # L < segment: the longest valid input in L
    assert short == input_length(model, 3 * 44100) and 3 * 44100 - 4096 * 4 < short <= 3 * 44100
    assert P.remix_length(model, 3.0, 3 * 44100, 44100) == 3 * 44100          # exactly the segment


def test_remix_warnings_become_log_lines_and_others_pass_through():
    import warnings

    from demucs_study.remix.errors import RemixWarning

    lines = []
    with pytest.warns(UserWarning, match="not a remix one") as caught:
        with P.logged_warnings(lines.append):
            warnings.warn(RemixWarning("no 3 s excerpt without drums in data/synth-quick/unlabeled"))
            warnings.warn(UserWarning("not a remix one"))
    assert lines == ["remix warning: no 3 s excerpt without drums in data/synth-quick/unlabeled"]
    assert not any(issubclass(w.category, RemixWarning) for w in caught)
