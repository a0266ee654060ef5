"""SiSEC 2018 aggregation: the published numbers (docs/paper.md, section "Reference numbers") to 0.01 dB, frames -> track
medians from museval JSON, seeds -> mean and standard error."""
from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from demucs_study.errors import DatasetError
from demucs_study.evaluation.aggregate import (COLUMNS, aggregate, aggregate_seeds, load_published, paired_deltas,
                                               published_dir, seed_spread, track_scores_from_json)
from reference_numbers import DEMUCS_1911_MEAN, PUBLISHED_SDR

REGRESSION_JSON = Path(__file__).parent / "data" / "evaluate_track_3s.json"
DEMUCS_SEEDS = ["demucs-1911:default"] + [f"demucs-1911:seed={s}" for s in range(43, 47)]
PAPER = PUBLISHED_SDR
DEMUCS_MEAN = DEMUCS_1911_MEAN


@pytest.fixture(scope="module")
def published():
    return load_published()


def test_published_files_are_in_the_repository(published):
    assert published_dir().parts[-2:] == ("results", "published")
    assert list(published.columns) == COLUMNS
    assert published["track"].nunique() == 50


def test_published_numbers_match_the_paper_table(published):
    table = aggregate(published)
    assert list(table.columns) == ["drums", "bass", "other", "vocals", "All"]
    for system, expected in PAPER.items():
        np.testing.assert_allclose(table.loc[system].to_numpy(), expected, atol=0.005 + 1e-9, err_msg=system)
    # the Demucs baselines file repeats SiSEC's rows for Wave-U-Net (STL2) and IRM2
    np.testing.assert_allclose(table.loc["baseline:WaveUNet"], table.loc["STL2"], atol=1e-9)


def test_released_demucs_mean_over_five_seeds(published):
    agg = aggregate_seeds(published, {"demucs": DEMUCS_SEEDS})
    np.testing.assert_allclose(agg.mean.loc["demucs"].to_numpy(), DEMUCS_MEAN, atol=0.005 + 1e-9)
    assert agg.n["demucs"] == 5
    per_seed = aggregate(published).loc[DEMUCS_SEEDS, "All"]
    assert agg.sem.loc["demucs", "All"] == pytest.approx(per_seed.std(ddof=1) / math.sqrt(5))
    assert 0.02 < agg.sem.loc["demucs", "All"] < 0.06


def test_aggregate_ignores_other_targets_and_needs_every_stem():
    rows = [("s", t, stem, "SDR", v) for t, v0 in (("t1", 1.0), ("t2", 3.0), ("t3", 8.0))
            for stem, v in (("drums", v0), ("bass", v0 + 1), ("other", v0 + 2), ("vocals", v0 + 3),
                            ("accompaniment", 100.0))]
    rows += [("s", "t4", "drums", "SDR", float("nan"))]  # a NaN track is left out of the median
    rows += [("half", "t1", "drums", "SDR", 1.0)]  # no bass/other/vocals: All is NaN
    df = pd.DataFrame(rows, columns=COLUMNS)
    table = aggregate(df)
    assert table.loc["s"].tolist() == [3.0, 4.0, 5.0, 6.0, 4.5]
    assert math.isnan(table.loc["half", "All"]) and table.loc["half", "drums"] == 1.0
    with pytest.raises(DatasetError, match=r"no SAR scores for the targets drums, bass, other, vocals"):
        aggregate(df, metric="SAR")
    with pytest.raises(DatasetError, match=r"need the columns system, track, target, metric, value; missing value"):
        aggregate(df.drop(columns="value"))


def test_aggregate_seeds_mean_and_standard_error():
    df = pd.DataFrame([(f"seed{k}", "t", stem, "SDR", float(k)) for k in (1, 2, 6)
                       for stem in ("drums", "bass", "other", "vocals")], columns=COLUMNS)
    agg = aggregate_seeds(df, {"exp": ["seed1", "seed2", "seed6"], "single": ["seed2"]})
    assert agg.mean.loc["exp", "All"] == pytest.approx(3.0)
    assert agg.sem.loc["exp", "drums"] == pytest.approx(np.std([1, 2, 6], ddof=1) / math.sqrt(3))
    assert math.isnan(agg.sem.loc["single", "All"]) and agg.n.tolist() == [3, 1]
    with pytest.raises(DatasetError, match=r"seed group 'exp': no SDR scores for system\(s\) 'seed9'"):
        aggregate_seeds(df, {"exp": ["seed1", "seed9"]})


def long_scores(values: dict) -> pd.DataFrame:
    """``{system: {track: (drums, bass, other, vocals)}}`` -> long per-track SDR."""
    return pd.DataFrame([(system, track, stem, "SDR", float(v)) for system, tracks in values.items()
                         for track, row in tracks.items() for stem, v in zip(("drums", "bass", "other", "vocals"), row)],
                        columns=COLUMNS)


def test_aggregate_seeds_over_tracks_gives_mean_and_standard_error_exactly():
    """Three seeds of one experiment on three tracks: per seed, the median over tracks per stem and All = mean of
    stems (1, 2 and 6 dB); over seeds, mean 3 and standard error sqrt(7 / 3) (sample std sqrt(7))."""
    def seed(level):   # per track: level - 1, level, level + 5 (median: level) on every stem, stems offset by 0..3
        return {t: tuple(level + d + k for k in (0, 1, 2, 3)) for t, d in (("a", -1.0), ("b", 0.0), ("c", 5.0))}

    df = long_scores({"x": seed(-0.5), "x seed=43": seed(0.5), "x seed=44": seed(4.5)})
    agg = aggregate_seeds(df, {"x (3 seeds)": ["x", "x seed=43", "x seed=44"]})
    assert agg.mean.loc["x (3 seeds)", "All"] == pytest.approx(3.0, abs=1e-12)
    assert agg.mean.loc["x (3 seeds)", "drums"] == pytest.approx(1.5, abs=1e-12)
    assert agg.sem.loc["x (3 seeds)", "All"] == pytest.approx(math.sqrt(7 / 3), abs=1e-12)
    assert agg.sem.loc["x (3 seeds)", "vocals"] == pytest.approx(math.sqrt(7 / 3), abs=1e-12)
    assert agg.n["x (3 seeds)"] == 3
    assert seed_spread(df, ["x", "x seed=43", "x seed=44"])["All"] == pytest.approx(math.sqrt(7), abs=1e-12)
    assert math.isnan(seed_spread(df, ["x"])["All"])


def test_paired_deltas_are_medians_of_per_track_differences_then_mean_and_se_over_seeds():
    base = {"a": (1.0, 1.0, 1.0, 1.0), "b": (2.0, 2.0, 2.0, 2.0), "c": (9.0, 9.0, 9.0, float("nan"))}
    # seed 42: drums +1 on every track, bass -2/0/+4 (median 0), other +0.5, vocals +1 (track c NaN: left out)
    v42 = {"a": (2.0, -1.0, 1.5, 2.0), "b": (3.0, 2.0, 2.5, 3.0), "c": (10.0, 13.0, 9.5, 4.0)}
    # seed 43: every stem +3 on every track
    v43 = {t: tuple(x + 3 for x in row) for t, row in base.items()}
    df = long_scores({"b42": base, "v42": v42, "b43": base, "v43": v43})
    d = paired_deltas(df, {42: ("b42", "v42"), 43: ("b43", "v43")})
    assert d.per_seed.loc[42].tolist() == pytest.approx([1.0, 0.0, 0.5, 1.0, 0.625])
    assert d.per_seed.loc[43, "All"] == pytest.approx(3.0)
    assert d.mean["All"] == pytest.approx((0.625 + 3.0) / 2)
    assert d.sem["All"] == pytest.approx(np.std([0.625, 3.0], ddof=1) / math.sqrt(2))
    assert d.n == 2 and d.tracks["vocals"] == 2 and d.tracks["drums"] == 3
    # the median of the differences is not the difference of the medians
    cross = long_scores({"b": {"a": (0.0,) * 4, "b": (10.0,) * 4, "c": (20.0,) * 4},
                         "v": {"a": (1.0,) * 4, "b": (30.0,) * 4, "c": (12.0,) * 4}})
    assert paired_deltas(cross, {1: ("b", "v")}).mean["All"] == pytest.approx(1.0)     # diffs 1, 20, -8
    assert float(aggregate(cross).loc["v", "All"] - aggregate(cross).loc["b", "All"]) == pytest.approx(2.0)
    one = paired_deltas(df, {42: ("b42", "v42")})
    assert one.n == 1 and math.isnan(one.sem["All"])
    with pytest.raises(DatasetError, match=r"seed 7: no SDR scores for system\(s\) 'nope'"):
        paired_deltas(df, {7: ("b42", "nope")})
    with pytest.raises(DatasetError, match="no \\(baseline, variant\\) pair"):
        paired_deltas(df, {})


def test_track_scores_from_museval_json(tmp_path):
    folder = tmp_path / "demucs glu=False"
    folder.mkdir()
    (folder / "song A.json").write_text(REGRESSION_JSON.read_text())
    data = json.loads(REGRESSION_JSON.read_text())
    data["targets"][0]["frames"][0]["metrics"]["SDR"] = None  # null counts as NaN
    data["targets"][0]["frames"][1]["metrics"]["SDR"] = float("inf")  # inf too (museval writes NaN)
    with gzip.open(folder / "song B.json.gz", "wt") as f:
        json.dump(data, f)
    (folder / ".song C.tmp.json").write_text("{partial")  # hidden temporary files are ignored
    df = track_scores_from_json(folder)
    assert list(df.columns) == COLUMNS and set(df["system"]) == {"demucs glu=False"}
    assert len(df) == 2 * 4 * 4
    a = df.set_index(["track", "target", "metric"])["value"]
    assert a["song A", "drums", "SDR"] == pytest.approx((20.03286 + 20.00217) / 2)  # NaN frame ignored
    assert a["song A", "vocals", "SIR"] == pytest.approx((23.2565 + 23.18783) / 2)
    assert math.isnan(a["song B", "drums", "SDR"]) and a["song B", "bass", "SDR"] == a["song A", "bass", "SDR"]
    files = track_scores_from_json([folder / "song A.json"], system="mine")
    assert set(files["system"]) == {"mine"} and set(files["track"]) == {"song A"}


def test_track_scores_errors(tmp_path):
    with pytest.raises(DatasetError, match=r"evaluation folder .*nope does not exist"):
        track_scores_from_json(tmp_path / "nope")
    with pytest.raises(DatasetError, match=r"no museval JSON files in .*; run `python -m demucs_study evaluate`"):
        track_scores_from_json(tmp_path)
    (tmp_path / "bad.json").write_text('{"tracks": []}')
    with pytest.raises(DatasetError, match=r"bad.json is not a museval JSON file \(no 'targets' list\)"):
        track_scores_from_json(tmp_path)
    with pytest.raises(DatasetError, match=r"published scores file .*missing.csv does not exist"):
        load_published(["missing.csv"])
