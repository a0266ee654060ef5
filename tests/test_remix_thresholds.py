"""Precision and recall of silence decisions, and the threshold rule for a target precision."""
import math

import numpy as np
import pytest

from demucs_study.remix.thresholds import choose_threshold, choose_thresholds, precision_recall, report


def test_precision_recall_counts():
    probs = np.array([0.9, 0.8, 0.7, 0.2])
    labels = np.array([True, False, True, True])
    r = precision_recall(probs, labels, 0.75)
    assert (r["selected"], r["true_positives"], r["positives"]) == (2, 1, 3)
    assert r["precision"] == 0.5 and r["recall"] == pytest.approx(1 / 3)
    none = precision_recall(probs, labels, None)
    assert none["selected"] == 0 and math.isnan(none["precision"]) and none["recall"] == 0.0


def test_threshold_is_the_lowest_whose_precision_holds_at_every_higher_threshold():
    # descending: 1 1 1 1 1 0 1 1 1 1 0 0 ; precision at each prefix: 1,1,1,1,1,5/6,6/7,7/8,8/9,9/10,9/11,9/12
    probs = np.linspace(1.0, 0.45, 12)
    labels = np.array([1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 0], bool)
    assert choose_threshold(probs, labels, 0.8, min_selected=1) == pytest.approx(probs[10])   # 9/11 >= 0.8 > 9/12
    assert choose_threshold(probs, labels, 0.9, min_selected=1) == pytest.approx(probs[4])    # 5/6 < 0.9 stops it
    assert choose_threshold(probs, labels, 0.9, min_selected=6) is None                       # too few at >= 0.9
    # a lucky high-threshold tail does not open a low threshold: a false positive on top
    probs2 = np.array([0.99, 0.9, 0.8, 0.7])
    labels2 = np.array([False, True, True, True])
    assert choose_threshold(probs2, labels2, 0.7, min_selected=1) is None
    # ties are selected together
    assert choose_threshold(np.array([0.9, 0.9, 0.5]), np.array([True, False, True]), 0.6, 1) is None
    # per source
    both = choose_thresholds(np.stack([probs, probs], 1), np.stack([labels, ~labels], 1), ["a", "b"], 0.8, 1)
    assert both["a"] == pytest.approx(probs[10]) and both["b"] is None


def test_report_gives_precision_recall_at_the_thresholds_and_at_one_half():
    probs = np.array([[0.9, 0.1], [0.6, 0.2], [0.4, 0.8]])
    labels = np.array([[True, False], [False, False], [True, True]])
    r = report(probs, labels, {"a": 0.5, "b": None}, ["a", "b"])
    assert (r["a"]["selected"], r["a"]["precision"], r["a"]["recall"]) == (2, 0.5, 0.5)
    assert r["a"]["precision@0.5"] == 0.5 and r["b"]["selected"] == 0 and math.isnan(r["b"]["precision"])
    assert r["b"]["precision@0.5"] == 1.0 and r["b"]["recall@0.5"] == 1.0
    with pytest.raises(ValueError, match=r"target precision 1.5 must be in \(0, 1\]"):
        choose_threshold(probs[:, 0], labels[:, 0], 1.5)
