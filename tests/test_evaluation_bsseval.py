"""museval per track (regression against a stored JSON, museval's own layout), new SDR, silent stems
and error messages. The runner over many tracks is in test_evaluation_jobs.py, the command in
test_evaluation_cli.py.

museval costs ~10 s of fixed work per 4-stem stereo track (a 4096 x 4096 solve per stem), so only
one test runs it on four stereo stems; the others use two mono stems (a 1024 x 1024 solve).
"""
from __future__ import annotations

import json
import math
from collections import OrderedDict
from types import SimpleNamespace

import numpy as np
import pytest

from demucs_study import SOURCES
from demucs_study.errors import AudioError
from demucs_study.evaluation.bsseval import SilentStemWarning, evaluate_track, new_sdr
from eval_helpers import REGRESSION_JSON, SNR_DB, assert_same_scores, synthetic_track, tiny_pair
def test_new_sdr_silence_is_zero_db_and_shape_errors():
    zeros = np.zeros((4, 2, 100))
    np.testing.assert_array_equal(new_sdr(zeros, zeros), np.zeros(4))
    with pytest.raises(AudioError, match=r"same shape .*\(4, 2, 100\) and \(4, 2, 99\)"):
        new_sdr(zeros, zeros[..., :99])


# ---------------------------------------------------------------- evaluate_track
def test_evaluate_track_regression_and_sanity():
    refs, est = synthetic_track()
    scores = evaluate_track("synthetic", refs, est)
    stored = json.loads(REGRESSION_JSON.read_text())
    assert_same_scores(scores, stored, atol=1e-3)
    assert scores["museval_version"] == "0.4.1"
    assert [t["name"] for t in scores["targets"]] == list(SOURCES)
    for target, snr in zip(scores["targets"], SNR_DB):
        frames = target["frames"]
        assert [f["time"] for f in frames] == [0.0, 1.0, 2.0] and frames[0]["duration"] == 1.0
        assert all(math.isnan(v) for v in frames[2]["metrics"].values())  # vocals silent in frame 3
        # white noise added at `snr` over the whole stem; vocals only sound in 2 of 3 seconds
        expected = snr + (10 * np.log10(1.5) if target["name"] == "vocals" else 0.0)
        for f in frames[:2]:
            m = f["metrics"]
            assert abs(m["SDR"] - expected) < 0.2
            assert abs(m["SAR"] - m["SDR"]) < 0.5  # the noise is an artifact ...
            assert m["SIR"] > m["SDR"] + 10  # ... not interference


def test_evaluate_track_layout_is_museval_own(tmp_path):
    """Same dict as museval.eval_mus_track on a musdb-like track (incl. NaN frames)."""
    import museval

    refs, est = tiny_pair(seconds=3.0)
    refs[1, :, 8000:16000] = 0  # a silent second: NaN frame
    names = ("drums", "bass")
    track = SimpleNamespace(name="t", rate=8000, subset="test",
                            targets=OrderedDict((n, SimpleNamespace(audio=r.T)) for n, r in zip(names, refs)))
    theirs = museval.eval_mus_track(track, {n: e.T for n, e in zip(names, est)}, output_dir=str(tmp_path))
    ours = evaluate_track("t", refs, est, samplerate=8000, sources=names)
    assert_same_scores(ours, json.loads(theirs.json), atol=0)
    assert ours.keys() == json.loads(theirs.json).keys()
    assert math.isnan(ours["targets"][0]["frames"][1]["metrics"]["SDR"])


@pytest.mark.parametrize("which", ["references", "estimates"])
def test_silent_stem_warns_and_returns_none(which):
    refs, est = tiny_pair()
    (refs if which == "references" else est)[1] = 0
    kind = "reference" if which == "references" else "estimate"
    with pytest.warns(SilentStemWarning, match=rf"track 'song': the {kind} of 'bass' is silent over the whole track"):
        assert evaluate_track("song", refs, est, samplerate=8000, sources=("drums", "bass")) is None


def test_evaluate_track_errors_name_the_track():
    refs = np.zeros((4, 2, 100), np.float32) + 0.1
    with pytest.raises(AudioError, match=r"track 'x': estimates hold 3 stems, expected 4 .*missing"):
        evaluate_track("x", refs, refs[:3])
    with pytest.raises(AudioError, match=r"track 'x': references are 100 samples long, estimates 90"):
        evaluate_track("x", refs, refs[..., :90])
    with pytest.raises(AudioError, match=r"track 'x': references have 2 channels, estimates 1"):
        evaluate_track("x", refs, refs[:, :1])
    with pytest.raises(AudioError, match=r"track 'x': references must be \(sources, channels, time\)"):
        evaluate_track("x", refs[0], refs)
    bad = refs.copy()
    bad[2, 0, 5] = np.nan
    with pytest.raises(AudioError, match=r"track 'x': the estimate of 'other' holds NaN"):
        evaluate_track("x", refs, bad)
    with pytest.raises(AudioError, match=r"samplerate must be a positive integer"):
        evaluate_track("x", refs, refs, samplerate=0)
