"""The study steps on a tiny MUSDB-HQ-like set: reference systems, museval scoring, resume, re-scoring."""
import json
import os

import numpy as np
import pytest

from demucs_study.evaluation import testset as study

from fakedata import make_wav_dataset


@pytest.fixture()
def params(tmp_path, monkeypatch):
    root = tmp_path / "musdb"
    make_wav_dataset(root, test=("Delta - Fourth",), seconds=2.0)
    monkeypatch.setenv("DEMUCS_STUDY_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("DEMUCS_STUDY_RESULTS", str(tmp_path / "results"))
    return {"profile": "unit", "experiment": "x", "dataset": {"root": str(root)}, "eval": {"jobs": 1}}


@pytest.mark.slow
def test_references_are_scored_once_and_rescored_when_estimates_change(params):
    study.reference_estimates(params, "IRM2")
    out = study.score_system(params, "IRM2")
    files = sorted(out.glob("*.json"))
    assert [f.stem for f in files] == ["Delta - Fourth"]
    scores = study.measured_scores("unit")
    sdr = scores[(scores["metric"] == "SDR")]
    assert (sdr["value"] > 10).all()  # the oracle on sines and noise

    before = files[0].stat()
    study.score_system(params, "IRM2")  # resumes: nothing to do
    assert files[0].stat().st_ino == before.st_ino and files[0].stat().st_mtime_ns == before.st_mtime_ns

    # new estimates (a re-run): the old score, marked here, is stale and must be written again
    files[0].write_text('{"stale": true}')
    os.utime(files[0], ns=(before.st_mtime_ns, before.st_mtime_ns))
    est = study.estimates_dir("unit", "IRM2") / "Delta - Fourth.npy"
    np.save(est, np.load(est))
    later = before.st_mtime_ns + 10**9
    os.utime(est, ns=(later, later))
    study.score_system(params, "IRM2")
    assert "targets" in json.loads(files[0].read_text())


def test_unknown_reference_is_refused(params):
    with pytest.raises(ValueError, match="unknown reference system 'IRM9'"):
        study.reference_estimates(params, "IRM9")


@pytest.mark.slow
def test_conditioning_table_flags_ill_conditioned_references(params):
    """One row per test track, a condition number above 1 and a flag consistent with the threshold; a
    dual-mono copy of the references (L == R: G exactly singular) is flagged."""
    from demucs_study.evaluation.fast import ILL_CONDITIONED

    table = study.conditioning_table(params)
    assert list(table.index) == ["Delta - Fourth"]
    cond, flag = table.loc["Delta - Fourth", "condition number"], table.loc["Delta - Fourth", "ill-conditioned"]
    assert cond > 1 and flag == (cond > ILL_CONDITIONED)
    from demucs_study.evaluation.fast import reference_conditioning

    track = study.test_cache(params).tracks("test")[0]
    dual = np.repeat(track.stems()[:, :1], 2, axis=1)
    assert reference_conditioning(dual.transpose(0, 2, 1)).ill_conditioned


@pytest.mark.slow
def test_check_system_compares_stored_scores_with_museval(params):
    study.reference_estimates(params, "MIX")
    study.score_system(params, "MIX")
    table = study.check_system(params, "MIX", count=1)
    assert list(table.index) == ["Delta - Fourth"] and set(table.columns) == {"SDR", "ISR", "SIR", "SAR"}
    assert table.loc["Delta - Fourth", "SDR"] < 1e-4   # SDR is exact (the JSON rounds to 1e-5 dB)
