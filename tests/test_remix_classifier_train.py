"""Training the silence classifier: it learns a trivially separable case, checkpoints every epoch with every
random state, resumes bit for bit, returns at once when finished, transforms items by (seed, epoch, index) only,
and refuses a labeled set lacking a stem or a bad configuration."""
import json
import warnings

import numpy as np
import pytest
import torch

from demucs_study import SOURCES
from demucs_study.errors import ParamsError
import demucs_study.models  # noqa: F401  (imports the registry first, as the library does)
from demucs_study.remix import classifier_train as CT
from demucs_study.remix import labels as L
from demucs_study.remix.classifier import load_classifier, score_mixture
from demucs_study.remix.classifier_train import train_classifier
from demucs_study.remix.errors import RemixError, RemixWarning
from demucs_study.training import checkpoint as C

from remix_helpers import SR, TINY_CLASSIFIER, cached_tracks, labeled_songs, shared_data, song, valid_songs


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return shared_data(tmp_path_factory)


def states_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_classifier_learns_a_trivially_separable_case(shared):
    _, valid, result = shared
    assert result["done"] and result["epochs_done"] == TINY_CLASSIFIER["epochs"]
    # every source has a threshold at the target precision, and it finds every silent window
    for s in SOURCES:
        m = result["valid"][s]
        assert result["thresholds"][s] is not None, s
        assert m["positives"] >= 4 and m["precision"] >= 0.95 and m["recall"] == 1.0, (s, m)
    # the validation loss fell well below the prior's
    history = result["history"]
    assert history[-1]["best"] < 0.5 * json.loads((result["classifier"].parent / "history.json").read_text())["baseline_valid"]
    # the probabilities separate: inside each silent section high, elsewhere low
    model, _ = load_classifier(result["classifier"])
    stems = song(3.0, {"drums": [(1.0, 2.0)]}, seed=11)
    p = score_mixture(model, stems.sum(0), SR // 4)                    # windows of 0.5 s every 0.25 s
    inside = [4, 5, 6]                                                  # windows starting at 1.0, 1.25, 1.5 s
    assert p[inside, 0].min() > 0.8 and np.delete(p[:, 0], inside + [3, 7]).max() < 0.2
    assert p[:, 1:].max() < 0.2


def test_checkpoint_has_every_key_and_the_rng_state(shared):
    _, _, result = shared
    ck = torch.load(result["checkpoint"], weights_only=True)
    assert set(ck) == set(C.KEYS) and ck["epoch"] == TINY_CLASSIFIER["epochs"]
    (state,) = ck["rng"]
    assert state["torch"].dtype == torch.uint8 and state["numpy"]["keys"].shape == (624,)
    assert ck["best_epoch"] == min(ck["history"], key=lambda e: e["valid"])["epoch"]


def test_finished_classifier_returns_at_once_and_rechooses_thresholds_without_training(shared, tmp_path_factory):
    train, valid, result = shared
    mtime = result["checkpoint"].stat().st_mtime_ns
    again = train_classifier(train, valid, result["classifier"].parent, config=TINY_CLASSIFIER, seed=0)
    assert again["thresholds"] == result["thresholds"] and again["history"] == result["history"]
    assert result["checkpoint"].stat().st_mtime_ns == mtime
    # another target precision: same weights (not retrained), thresholds chosen again
    before = torch.load(result["classifier"], weights_only=True)["state"]
    lower = train_classifier(train, valid, result["classifier"].parent, seed=0,
                             config={**TINY_CLASSIFIER, "target_precision": 0.5})
    assert lower["history"] == result["history"]
    assert all(lower["thresholds"][s] <= result["thresholds"][s] for s in SOURCES)
    assert states_equal(before, torch.load(result["classifier"], weights_only=True)["state"])
    train_classifier(train, valid, result["classifier"].parent, config=TINY_CLASSIFIER, seed=0)  # restore


@pytest.mark.slow
def test_training_resumes_bit_for_bit(tmp_path):
    train = cached_tracks(tmp_path, labeled_songs(), "train")
    valid = cached_tracks(tmp_path, valid_songs(), "valid")
    config = {**TINY_CLASSIFIER, "epochs": 3}
    quiet = dict(log=lambda m: None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RemixWarning)   # 3 epochs may not reach the precision target
        straight = train_classifier(train, valid, tmp_path / "a", config=config, seed=5, **quiet)
        first = train_classifier(train, valid, tmp_path / "b", config=config, seed=5, stop_after_epochs=1, **quiet)
        assert not first["done"] and first["classifier"] is None and first["epochs_done"] == 1
        assert not (tmp_path / "b" / "classifier.th").exists()
        after_one = C.load_checkpoint(first["checkpoint"])["model"]
        resumed = train_classifier(train, valid, tmp_path / "b", config=config, seed=5, **quiet)
    assert resumed["done"]
    a, b = C.load_checkpoint(straight["checkpoint"]), C.load_checkpoint(resumed["checkpoint"])
    assert states_equal(a["model"], b["model"]) and states_equal(a["best_state"], b["best_state"])
    assert a["optimizer"]["state"][0]["exp_avg"].equal(b["optimizer"]["state"][0]["exp_avg"])
    strip = lambda h: [{k: v for k, v in e.items() if k != "seconds"} for e in h]  # noqa: E731
    assert strip(a["history"]) == strip(b["history"])
    assert states_equal(torch.load(straight["classifier"], weights_only=True)["state"],
                        torch.load(resumed["classifier"], weights_only=True)["state"])
    assert straight["thresholds"] == resumed["thresholds"]
    # another seed gives other weights (the comparison above could not pass by accident)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RemixWarning)
        other = train_classifier(train, valid, tmp_path / "c", config=config, seed=6, stop_after_epochs=1, **quiet)
    assert not states_equal(C.load_checkpoint(other["checkpoint"])["model"], after_one)


def test_item_transforms_depend_on_seed_epoch_and_index_only(tmp_path):
    train = cached_tracks(tmp_path, labeled_songs(), "train")
    w = CT.ClassifierWindows(train, SR // 2, SR // 4, seed=1, augment=True)
    mix, silent = w.batch([3, 7, 20], epoch=2)
    again = [w.item(i, 2) for i in (20, 3)]
    assert np.array_equal(again[1][0], mix[0].numpy()) and np.array_equal(again[0][0], mix[2].numpy())
    assert not np.array_equal(w.item(3, 3)[0], mix[0].numpy())
    # the fast labels of an item are the silence rule on its transformed stems
    for epoch in range(3):
        for i in range(len(w)):
            stems = CT.transform_stems(w.stems(i), CT.item_rng(1, epoch, i), 0.5, 6.0, True)
            mix, silent = w.item(i, epoch)
            assert np.array_equal(mix, stems.sum(axis=0)) and np.array_equal(silent, L.silence_labels(stems))
    # dropped stems are labeled silent; never all four dropped; drops are frequent for every source
    labels = np.stack([w.item(i, e)[1] for e in range(6) for i in range(len(w))])
    rate = labels.mean(axis=0)
    assert np.all(rate > 0.4) and np.all(rate < 0.9), rate
    rng = np.random.default_rng(0)
    stems = np.ones((4, 2, 10), np.float32)
    for _ in range(200):
        out = CT.transform_stems(stems, rng, drop=0.9, gain_db=0.0, flip=False)
        assert (np.abs(out).sum(axis=(1, 2)) > 0).any()


def test_a_labeled_set_lacking_a_stem_is_an_error_naming_it(tmp_path):
    no_vocals = {name: s.copy() for name, s in labeled_songs().items()}
    for s in no_vocals.values():
        s[SOURCES.index("vocals")] = 0.0
    train = cached_tracks(tmp_path, no_vocals, "train")
    valid = cached_tracks(tmp_path, valid_songs(), "valid")
    with pytest.raises(RemixError, match=r"the labeled training set has no vocals stem: vocals is silent in all 45 "
                                         r"windows of its 3 track\(s\).*; use a labeled set with vocals stems, or "
                                         r"remove vocals from remix.sources"):
        train_classifier(train, valid, tmp_path / "x", config=TINY_CLASSIFIER, seed=0)
    assert not (tmp_path / "x").exists()          # nothing written
    # not required: a warning, and training goes on
    with pytest.warns(RemixWarning) as caught:
        train_classifier(train, valid, tmp_path / "y", config={**TINY_CLASSIFIER, "epochs": 1}, seed=0,
                         required=("drums", "bass"), log=lambda m: None)
    assert any("vocals is not in remix.sources, so the scheme goes on" in str(w.message) for w in caught)
    assert (tmp_path / "y" / "classifier.th").is_file()


def test_bad_configuration_is_named():
    with pytest.raises(ParamsError, match=r"unknown silence-classifier parameter\(s\) \['dropout'\]"):
        CT.resolve_config({"dropout": 0.1})
    with pytest.raises(ParamsError, match=r"remix.classifier.drop=1.0 must be in \[0, 1\)"):
        CT.resolve_config({"drop": 1.0})
    with pytest.raises(ParamsError, match=r"remix.classifier.classifier_lr=0.0 must be > 0"):
        CT.resolve_config({"lr": 0.0})
    with pytest.raises(ParamsError, match=r"remix.classifier.classifier_batch=0 and classifier_epochs=10 must be >= 1"):
        CT.resolve_config({"batch_size": 0})
    with pytest.raises(RemixError, match="needs validation tracks"):
        train_classifier([], [], "unused")
