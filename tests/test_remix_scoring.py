"""From window probabilities to excerpts of length L: the minimum over the covering windows, the excerpt
levels, the runs of accepted excerpts, and the lengths that cannot be covered exactly."""
import numpy as np
import pytest

from demucs_study.errors import ParamsError
from demucs_study.remix import labels as L
from demucs_study.remix.scoring import excerpt_frames, excerpt_levels, excerpt_scores, runs


def test_an_excerpt_is_covered_by_the_window_plus_whole_hops():
    assert excerpt_frames(100, 50, 100) == 1 and excerpt_frames(100, 50, 300) == 5
    with pytest.raises(ParamsError, match=r"remix.excerpt = 320 samples is not the classifier window \(100\) plus a "
                                          r"whole number of hops \(50 samples, remix.classifier.hop\); e.g. use "
                                          r"excerpts of 300 samples"):
        excerpt_frames(100, 50, 320)
    with pytest.raises(ParamsError, match=r"remix.excerpt = 50 samples is shorter than the classifier window of 100"):
        excerpt_frames(100, 50, 50)


def test_excerpt_score_is_the_minimum_of_its_windows():
    probs = np.array([[0.9, 0.1], [0.8, 0.7], [0.2, 0.9], [0.95, 0.6]])
    # excerpts of 3 windows (window 100, hop 50, length 200): windows 0-2 and 1-3
    assert excerpt_scores(probs, 100, 50, 200).tolist() == [[0.2, 0.1], [0.2, 0.6]]
    assert np.array_equal(excerpt_scores(probs, 100, 50, 100), probs)   # L = one window
    assert excerpt_scores(probs, 100, 50, 450).shape == (0, 2)         # longer than the scored audio
    # longer excerpts are judged silent less often: every score can only fall
    assert np.all(excerpt_scores(probs, 100, 50, 200) <= excerpt_scores(probs, 100, 50, 150)[:2])


def test_excerpt_levels_are_the_mixture_power_in_dbfs():
    x = np.zeros((2, 400), np.float32)
    x[:, 200:] = 0.1
    levels = excerpt_levels(x, 200, 100)
    assert levels.shape == (3,) and levels[0] == L.FLOOR_DB
    assert levels[2] == pytest.approx(-20.0, abs=1e-4) and levels[1] == pytest.approx(-20.0 - 10 * np.log10(2), abs=1e-4)


def test_runs_of_accepted_excerpts():
    assert runs(np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 1], bool)) == [(1, 2), (4, 4), (7, 9)]
    assert runs(np.zeros(4, bool)) == [] and runs(np.ones(3, bool)) == [(0, 2)]
