"""Extraction on constructed songs with known silent sections; threshold calibration; the manifest;
the ground-truth measurement; bad input (empty or short folder, nothing found) with named fixes."""
import copy
import json
import math
import warnings

import numpy as np
import pytest

from demucs_study import SOURCES
from demucs_study.errors import ParamsError
from demucs_study.remix.calibrate import calibrate
from demucs_study.remix.classifier import load_classifier
from demucs_study.remix.errors import RemixError, RemixWarning
from demucs_study.remix.extract import extract, load_manifest
from demucs_study.remix import labels as L
from demucs_study.remix.truth import measure_extraction

from remix_helpers import SR, shared_data, song, unlabeled_root

SONGS = {
    "Song X": song(6.0, {"bass": [(2.0, 4.0)], "other": [(4.5, 6.0)]}, seed=9),
    "Song Y": song(3.0, seed=10),
    "Song Z": song(0.5, seed=11),          # shorter than any excerpt: listed, never scanned
}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    _, valid, result = shared_data(tmp_path_factory)
    root = tmp_path_factory.mktemp("unl")
    folder = unlabeled_root(root, SONGS)
    return {"classifier": result["classifier"], "valid": valid, "folder": folder, "root": root,
            "cache": root / "cache"}


def run(setup, name, **kwargs):
    path = setup["root"] / f"{name}.json"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RemixWarning)
        manifest = extract(setup["classifier"], setup["folder"], path, cache_dir=setup["cache"], **kwargs)
    return manifest, path, [str(w.message) for w in caught]


def test_extraction_finds_exactly_the_silent_section(setup):
    manifest, path, warned = run(setup, "m1", length=1.0)
    assert manifest["excerpts"] == [{"track": "Song X.wav", "source": "bass", "start": 2 * SR, "length": 2 * SR,
                                     "probability": manifest["excerpts"][0]["probability"], "excerpts": 5}]
    assert manifest["excerpts"][0]["probability"] >= manifest["thresholds"]["bass"]
    assert json.loads(path.read_text()) == manifest and load_manifest(path) == manifest
    assert manifest["sources"] == ["drums", "bass", "vocals"]          # D0, D1, D3 by default
    assert manifest["length"] == SR and manifest["hop"] == SR // 4 and manifest["window"] == SR // 2
    assert [t["track"] for t in manifest["tracks"]] == ["Song X.wav", "Song Y.wav", "Song Z.wav"]
    assert manifest["scanned_minutes"] == pytest.approx(9.5 / 60)
    y = manifest["yield"]["bass"]
    assert y == {"minutes": pytest.approx(2 / 60), "excerpts": 5, "excerpt_minutes": pytest.approx(5 / 60), "rows": 1}
    assert manifest["yield"]["drums"]["excerpts"] == manifest["yield"]["vocals"]["excerpts"] == 0
    assert any("no 1 s excerpt without drums" in w for w in warned)
    assert any("no 1 s excerpt without vocals" in w for w in warned)


def test_unmerged_rows_overlap_and_other_is_an_option(setup):
    manifest, _, _ = run(setup, "m2", length=1.0, merge=False, sources=["bass", "other"])
    rows = [(r["source"], r["start"] / SR, r["length"] / SR, r["excerpts"]) for r in manifest["excerpts"]]
    assert rows == [("bass", s, 1.0, 1) for s in (2.0, 2.25, 2.5, 2.75, 3.0)] + \
                   [("other", s, 1.0, 1) for s in (4.5, 4.75, 5.0)]
    assert manifest["yield"]["bass"]["minutes"] == pytest.approx(2 / 60)          # union: distinct audio
    assert manifest["yield"]["bass"]["excerpt_minutes"] == pytest.approx(5 / 60)  # with overlap, as the paper counts
    assert manifest["yield"]["other"]["minutes"] == pytest.approx(1.5 / 60)


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


def test_nothing_found_is_an_error_and_nothing_is_written(setup):
    path = setup["root"] / "kept.json"
    path.write_text('{"previous": true}')
    for kwargs in ({"length": 3.0}, {"length": 1.0, "min_mix_db": 0.0}):
        with pytest.raises(RemixError, match=r"the silence classifier found no excerpt of .* s above its thresholds "
                                             r".* no manifest written. Use shorter excerpts \(remix.excerpt\)"):
            extract(setup["classifier"], setup["folder"], path, cache_dir=setup["cache"], **kwargs)
        assert path.read_text() == '{"previous": true}'
    assert [p.name for p in setup["root"].glob(".kept*")] == []           # no temporary file left


def test_bad_folders_and_lengths_are_named(setup, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(RemixError, match=r"holds no audio file .* remix.excerpt = 1 s and the folder is remix.unlabeled"):
        extract(setup["classifier"], tmp_path / "empty", tmp_path / "m.json", length=1.0, cache_dir=tmp_path / "c")
    with pytest.raises(RemixError, match=r"unlabeled audio folder .*missing does not exist"):
        extract(setup["classifier"], tmp_path / "missing", tmp_path / "m.json", length=1.0, cache_dir=tmp_path / "c")
    short = unlabeled_root(tmp_path / "short", {"Tiny": song(0.8, seed=1)})
    with pytest.raises(RemixError, match=r"every file in .* is shorter than segment = 1 s .*remix.excerpt = 1 s"):
        extract(setup["classifier"], short, tmp_path / "m.json", length=1.0, cache_dir=tmp_path / "c")
    with pytest.raises(ParamsError, match=r"remix.excerpt = 48510 samples is not the classifier window \(22050\) plus "
                                          r"a whole number of hops \(11025 samples"):
        extract(setup["classifier"], setup["folder"], tmp_path / "m.json", length=1.1)
    with pytest.raises(ParamsError, match="shorter than the classifier window"):
        extract(setup["classifier"], setup["folder"], tmp_path / "m.json", length=0.25)
    with pytest.raises(ParamsError, match=r"remix.sources = \['guitar'\]"):
        extract(setup["classifier"], setup["folder"], tmp_path / "m.json", sources=["guitar"])
    assert not (tmp_path / "m.json").exists()
    (tmp_path / "bad.json").write_text('{"format": 99}')
    with pytest.raises(RemixError, match="is not a remix manifest of format 1; run the extraction again"):
        load_manifest(tmp_path / "bad.json")


def test_ground_truth_precision_and_leak(setup):
    manifest, _, _ = run(setup, "m4", length=1.0)
    truth = measure_extraction(manifest)
    bass = truth["sources"]["bass"]
    assert (bass["excerpts"], bass["truly_silent"], bass["precision"], bass["recall"]) == (5, 5, 1.0, 1.0)
    assert bass["silent_excerpts"] == 5 and bass["leak_db_max"] < -150          # digital silence (floored)
    assert truth["sources"]["drums"]["excerpts"] == 0 and math.isnan(truth["sources"]["drums"]["precision"])
    # a wrong excerpt (bass plays in Song Y's first second) lowers the precision and shows its leak
    wrong = copy.deepcopy(manifest)
    wrong["excerpts"].append({"track": "Song Y.wav", "source": "bass", "start": 0, "length": SR,
                              "probability": 0.99, "excerpts": 1})
    measured = measure_extraction(wrong, with_excerpts=True)
    bass = measured["sources"]["bass"]
    stems = SONGS["Song Y"][..., :SR]
    expected = L.power_db(stems[SOURCES.index("bass")]) - L.power_db(stems.sum(0))
    assert bass["excerpts"] == 6 and bass["precision"] == pytest.approx(5 / 6)
    assert bass["leak_db_max"] == pytest.approx(expected, abs=1e-4) and -10 < expected < 0
    assert bass["leak_db_mean"] == pytest.approx(10 * np.log10(10 ** (expected / 10) / 6), abs=1e-3)
    rows = [e for e in measured["excerpts"] if e["track"] == "Song Y.wav"]
    assert rows == [{"track": "Song Y.wav", "source": "bass", "start": 0, "leak_db": pytest.approx(expected, abs=1e-4),
                     "truly_silent": False}]


def test_missing_ground_truth_is_named(setup, tmp_path):
    manifest, _, _ = run(setup, "m5", length=1.0)
    with pytest.raises(RemixError, match=r"no ground truth for the unlabeled folder .*: .*nowhere does not exist"):
        measure_extraction(manifest, truth_dir=tmp_path / "nowhere")
    (tmp_path / "partial" / "Song X").mkdir(parents=True)
    with pytest.raises(RemixError, match=r"no true drums stem for unlabeled track 'Song X.wav': .*drums.wav is missing"):
        measure_extraction(manifest, truth_dir=tmp_path / "partial")
