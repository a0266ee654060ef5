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
from demucs_study.evaluation.aggregate import (COLUMNS, aggregate, aggregate_seeds, load_published, published_dir,
                                               track_scores_from_json)
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
