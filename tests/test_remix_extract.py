"""Extraction on constructed songs with known silent sections: the manifest, its rows and yield; bad input
(empty or short folder, nothing found) with named fixes. (Calibration: test_remix_calibrate.py; the
ground truth: test_remix_truth.py.)"""
import json

import pytest

import demucs_study.models  # noqa: F401  (imports the registry first, as the library does)
from demucs_study.errors import ParamsError
from demucs_study.remix.errors import RemixError
from demucs_study.remix.extract import extract, load_manifest, manifest_sources

from remix_helpers import SR, extraction_setup, run_extract as run, song, unlabeled_root


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return extraction_setup(tmp_path_factory)


def test_extraction_finds_exactly_the_silent_section(setup):
    manifest, path, warned = run(setup, "m1", length=1.0)
    assert manifest["excerpts"] == [{"track": "Song X.wav", "source": "bass", "start": 2 * SR, "length": 2 * SR,
                                     "probability": manifest["excerpts"][0]["probability"], "excerpts": 5}]
    assert manifest["excerpts"][0]["probability"] >= manifest["thresholds"]["bass"]
    assert json.loads(path.read_text()) == manifest and load_manifest(path) == manifest
    assert manifest["sources"] == ["drums", "bass", "vocals"]          # D0, D1, D3 by default
    assert manifest_sources(manifest) == ["bass"]
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
