"""explore.data: what a profile offers (tracks, systems, models), loading a choice, per-frame scores."""
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from demucs_study import SOURCES
from demucs_study.config import load_params
from demucs_study.evaluation.aggregate import track_scores_from_json
from demucs_study.evaluation.oracles import ideal_ratio_mask, mixture_estimates
from demucs_study.evaluation.testset import estimates_dir, evals_dir
from demucs_study.explore.data import (ExploreError, FrameScores, ProfileData, TrackAudio, read_frame_scores,
                                       reference_estimates, separate, stem_index)
from demucs_study.models.io import load_model
from demucs_study.separation.apply import apply_model, options_from_params
from demucs_study.training.runs import best_model_path, run_dir
from explore_fixture import ROOT, TEST_TRACKS

MUSEVAL_JSON = Path(__file__).parent / "data" / "evaluate_track_3s.json"


# ---- per-frame scores
def test_frame_scores_read_museval_json_with_nan_frames():
    scores = read_frame_scores(MUSEVAL_JSON, "vocals")
    assert scores.metric == "SDR" and scores.times.tolist() == [0.0, 1.0, 2.0]
    assert scores.durations.tolist() == [1.0, 1.0, 1.0]
    assert scores.values[:2].tolist() == [6.77641, 6.74312] and math.isnan(scores.values[2])
    # the track's number is the one the aggregation computes (median over the defined frames)
    table = track_scores_from_json([MUSEVAL_JSON], system="x")
    expected = table[(table.target == "vocals") & (table.metric == "SDR")].value.item()
    assert scores.median == pytest.approx(expected)
    assert read_frame_scores(MUSEVAL_JSON, "drums", "SIR").values[0] == pytest.approx(35.63363)


def test_frame_scores_within_a_range_and_all_undefined():
    scores = FrameScores("SDR", np.array([0.0, 1.0, 2.0, 3.0]), np.ones(4), np.array([1.0, np.nan, 3.0, 4.0]))
    assert scores.within(0.5, 2.5).tolist()[0] == 1.0 and len(scores.within(0.5, 2.5)) == 3
    assert scores.within(3.0, 9.0).tolist() == [4.0]
    assert scores.median == 3.0
    assert math.isnan(FrameScores("SDR", np.zeros(1), np.ones(1), np.array([np.nan])).median)


def test_frame_scores_errors_name_the_file(tmp_path):
    with pytest.raises(ExploreError, match=r"evaluate_track_3s.json has no scores of 'piano'.*'vocals'"):
        read_frame_scores(MUSEVAL_JSON, "piano")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"frames": []}))
    with pytest.raises(ExploreError, match=r"bad.json is not a museval JSON file.*make evaluate"):
        read_frame_scores(bad, "vocals")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ExploreError, match=r"cannot read the evaluation .*broken.json"):
        read_frame_scores(broken, "vocals")


def test_stem_index_names_the_stems():
    assert stem_index(SOURCES, "bass") == 1
    with pytest.raises(ExploreError, match="unknown stem 'guitar'; choose one of drums, bass, other, vocals"):
        stem_index(SOURCES, "guitar")


def test_track_audio_reference_and_duration():
    stems = np.arange(4 * 2 * 10, dtype=np.float32).reshape(4, 2, 10)
    track = TrackAudio("t", 10, stems.sum(0), stems)
    assert track.duration == 1.0 and np.array_equal(track.reference("other"), stems[2])
    assert TrackAudio("mine", 10, stems[0], None).reference("vocals") is None


# ---- a profile
def test_profile_choices(explore_env):
    data = ProfileData("smoke")
    assert data.tracks == list(TEST_TRACKS)
    assert [(s.name, s.kind, s.trained) for s in data.systems()] == [
        ("demucs", "experiment", True), ("MIX", "reference", False), ("IRM2", "reference", False)]
    assert [s.name for s in data.models()] == ["demucs"]
    assert data.stored_tracks("IRM2") == [TEST_TRACKS[0]] and data.scored_tracks("demucs") == [TEST_TRACKS[0]]
    status = data.status().set_index("system")
    assert status.loc["IRM2", "estimates"] == "1/2" and status.loc["IRM2", "shown"] == "computed when chosen"
    assert status.loc["demucs", "evaluations"] == "1/2" and status.loc["demucs", "model"] == "trained"


def test_loading_a_track_and_stored_estimates(explore_env):
    data = ProfileData("smoke")
    track = data.track(TEST_TRACKS[0])
    assert track.mixture.shape == (2, 4 * 44100) and track.references.shape == (4, 2, 4 * 44100)
    assert np.allclose(track.references.sum(0), track.mixture, atol=1e-5)
    stored = np.load(estimates_dir("smoke", "demucs") / f"{TEST_TRACKS[0]}.npy")
    assert np.array_equal(data.estimates("demucs", TEST_TRACKS[0]), stored)
    assert data.estimates("demucs", TEST_TRACKS[0]) is data.estimates("demucs", TEST_TRACKS[0])  # kept in memory


def test_references_are_computed_when_not_stored(explore_env):
    data = ProfileData("smoke")
    track = data.track(TEST_TRACKS[1])
    irm = data.estimates("IRM2", TEST_TRACKS[1])
    assert np.allclose(irm, ideal_ratio_mask(np.asarray(track.mixture), np.asarray(track.references), power=2))
    assert not (estimates_dir("smoke", "IRM2") / f"{TEST_TRACKS[1]}.npy").exists()   # never written
    assert np.array_equal(reference_estimates("MIX", track), mixture_estimates(np.asarray(track.mixture)))
    with pytest.raises(ExploreError, match="IRM2 needs the true stems"):
        reference_estimates("IRM2", TrackAudio("mine", 44100, track.mixture, None))
    with pytest.raises(ExploreError, match="'demucs' is not a reference system"):
        reference_estimates("demucs", track)


def test_an_experiment_without_estimates_is_separated_on_demand(explore_env, tmp_path, monkeypatch):
    monkeypatch.setenv("DEMUCS_STUDY_RUNS", str(tmp_path / "runs"))
    shutil.copytree(explore_env["DEMUCS_STUDY_RUNS"], tmp_path / "runs")
    params = load_params(ROOT / "params" / "smoke" / "demucs.yaml", ["separate.shifts=0"])
    assert params["experiment"] == "demucs shifts=0"
    run_dir(params).mkdir(parents=True)
    shutil.copy(best_model_path(load_params(ROOT / "params" / "smoke" / "demucs.yaml")), best_model_path(params))
    data = ProfileData("smoke", experiments=[params])
    assert data.status().set_index("system").loc["demucs shifts=0", "shown"].startswith("separated when chosen")
    ticks = []
    est = data.estimates("demucs shifts=0", TEST_TRACKS[1], progress=lambda done, total: ticks.append((done, total)))
    expected = apply_model(load_model(best_model_path(params)), np.array(data.track(TEST_TRACKS[1]).mixture),
                           **options_from_params(params))
    assert np.allclose(est, expected, atol=1e-6)
    assert len(ticks) >= 2 and ticks[0] == (0, 1) and ticks[-1][0] == ticks[-1][1]
    assert not estimates_dir("smoke", "demucs shifts=0").exists()


def test_separate_uses_the_experiments_options(explore_env):
    params = load_params(ROOT / "params" / "smoke" / "demucs.yaml")
    model = load_model(best_model_path(params))
    mix = np.array(ProfileData("smoke").track(TEST_TRACKS[0]).mixture)
    assert np.array_equal(separate(model, mix, params), apply_model(model, mix, **options_from_params(params)))


def test_untrained_experiments_are_not_offered_and_unknown_choices_are_errors(explore_env):
    params = load_params(ROOT / "params" / "smoke" / "demucs.yaml", ["train.lr=0.5"])
    data = ProfileData("smoke", experiments=[params])
    assert [s.name for s in data.systems()] == ["MIX", "IRM2"] and data.models() == []
    assert data.status().set_index("system").loc[params["experiment"], "shown"] == \
        "not trained yet: make train PROFILE=smoke"
    with pytest.raises(ExploreError, match=r"no estimates of 'Delta - Fourth' by 'demucs lr=0.5' .*make evaluate"):
        data.estimates(params["experiment"], TEST_TRACKS[0])
    with pytest.raises(ExploreError, match=r"has no trained model .*make train PROFILE=smoke"):
        data.model(data.system(params["experiment"]))
    with pytest.raises(ExploreError, match=r"unknown system 'wave-u-net' for profile 'smoke'; choose one of"):
        data.system("wave-u-net")
    with pytest.raises(ExploreError, match=r"unknown test track 'Nope' in profile 'smoke'; choose one of Delta"):
        data.track("Nope")


def test_frame_scores_of_a_profile(explore_env):
    data = ProfileData("smoke")
    scores = data.frame_scores("demucs", TEST_TRACKS[0], "vocals")
    assert math.isnan(scores.values[0]) and np.isfinite(scores.values[1:]).all()   # silent for 1.5 s
    assert data.frame_scores("demucs", TEST_TRACKS[1], "vocals") is None              # not evaluated
    assert (evals_dir("smoke", "demucs") / f"{TEST_TRACKS[0]}.json").is_file()


def test_estimates_of_the_wrong_shape_are_an_error(explore_env, tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    shutil.copytree(explore_env["DEMUCS_STUDY_DATA"], data_dir)
    monkeypatch.setenv("DEMUCS_STUDY_DATA", str(data_dir))
    np.save(estimates_dir("smoke", "MIX") / f"{TEST_TRACKS[0]}.npy", np.zeros((4, 2, 10), np.float32))
    with pytest.raises(ExploreError, match=r"shaped \(4, 2, 10\), the track \(4, 2, 176400\); delete .*MIX"):
        ProfileData("smoke").estimates("MIX", TEST_TRACKS[0])
