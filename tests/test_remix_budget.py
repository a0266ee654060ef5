"""The labeled budget: seeded, nested subsets of the training tracks."""
import pytest

from demucs_study.errors import ParamsError
from demucs_study.remix.budget import labeled_subset


def test_labeled_subset_is_seeded_nested_and_order_free():
    class T:
        def __init__(self, name):
            self.name = name
    tracks = [T(f"t{i:02d}") for i in range(30)]
    quarter = labeled_subset(tracks, 0.25, seed=42)
    half = labeled_subset(tracks, 0.5, seed=42)
    assert len(quarter) == 8 and len(half) == 15 and len(labeled_subset(tracks, 1.0, 42)) == 30
    assert {t.name for t in quarter} <= {t.name for t in half}
    assert [t.name for t in labeled_subset(tracks[::-1], 0.25, 42)] == [t.name for t in quarter][::-1]
    assert {t.name for t in labeled_subset(tracks, 0.25, 43)} != {t.name for t in quarter}
    assert len(labeled_subset(tracks[:2], 0.01, 0)) == 1
    with pytest.raises(ParamsError, match=r"train.labeled_fraction = 0.0 must be in \(0, 1\]"):
        labeled_subset(tracks, 0.0, 0)


def test_a_fraction_outside_0_1_or_no_track_is_named():
    with pytest.raises(ParamsError, match=r"train.labeled_fraction = 1.5 must be in \(0, 1\]"):
        labeled_subset([], 1.5, 0)
    with pytest.raises(ParamsError, match="there are no labeled training tracks to choose from"):
        labeled_subset([], 0.5, 0)
