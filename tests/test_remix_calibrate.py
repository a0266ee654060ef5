"""Thresholds for excerpts of length L, chosen on validation excerpts scored as the extraction scores them."""
import numpy as np
import pytest

from demucs_study import SOURCES
import demucs_study.models  # noqa: F401  (imports the registry first, as the library does)
from demucs_study.remix.calibrate import calibrate, validation_excerpts
from demucs_study.remix.classifier import load_classifier

from remix_helpers import SR, extraction_setup, run_extract as run


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return extraction_setup(tmp_path_factory)


@pytest.mark.slow
def test_longer_excerpts_find_less_and_calibration_is_per_length(setup):
    model, _ = load_classifier(setup["classifier"])
    short = calibrate(model, setup["valid"], length=0.5, hop=0.25)
    assert all(short["thresholds"][s] is not None for s in SOURCES)
    assert all(short["valid"][s]["precision"] >= 0.95 for s in SOURCES)
    # the validation songs' silent sections last 1 s: 1.5 s excerpts hold none, so there is no threshold
    long = calibrate(model, setup["valid"], length=1.5, hop=0.25)
    assert all(long["thresholds"][s] is None and long["valid"][s]["positives"] == 0 for s in SOURCES)
    m, _, _ = run(setup, "m3", length=1.75, thresholds=short["thresholds"])
    assert [(r["start"] / SR, r["length"] / SR, r["excerpts"]) for r in m["excerpts"]] == [(2.0, 2.0, 2)]


def test_validation_excerpts_are_labeled_over_the_whole_excerpt_and_quiet_ones_left_out(setup):
    model, _ = load_classifier(setup["classifier"])
    probs, truth = validation_excerpts(model, setup["valid"], length=1.0, hop=0.25)
    # two 5 s songs: (5 - 1) / 0.25 + 1 = 17 excerpts each; each source silent over exactly 1 s of each song
    assert probs.shape == truth.shape == (34, 4)
    assert truth.sum(axis=0).tolist() == [2] * 4            # only the excerpt aligned with the silent second
    assert np.all((probs >= 0) & (probs <= 1))
    quiet = validation_excerpts(model, setup["valid"], length=1.0, hop=0.25, min_mix_db=0.0)
    assert quiet[0].shape == (0, 4)                          # every excerpt below 0 dBFS: none kept
    cal = calibrate(model, setup["valid"], length=1.0, hop=0.25, min_selected=3)
    assert cal["length"] == 1.0 and cal["hop"] == 0.25 and set(cal["thresholds"]) == set(SOURCES)
    assert all(cal["thresholds"][s] is None for s in SOURCES)  # 2 silent excerpts < min_selected 3
