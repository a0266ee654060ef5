"""explore.app, headless: build the widget app on a small profile, set controls as a student would, and check
what the widgets then show (ipywidgets swallows callback exceptions: every assertion is on outputs)."""
import base64
import datetime
import re
import shutil

import numpy as np
import pytest
import soundfile as sf

from demucs_study.evaluation.testset import estimates_dir
from demucs_study.explore.app import LISTEN, OWN, REMIX, COMPARE, VIEWS, ExplorerApp, error_message
from demucs_study.explore.data import ExploreError, ProfileData
from explore_fixture import TEST_TRACKS

pytestmark = pytest.mark.slow       # each test builds the app on the session's small profile (a few seconds)


def audio_labels(html_text):
    return re.findall(r'data-label="([^"]+)"', html_text)


def audio_sources(html_text):
    return re.findall(r'src="(data:audio/ogg;base64,[^"]+)"', html_text)


@pytest.fixture
def app(explore_env):
    return ExplorerApp("smoke")


def test_initial_state(app):
    assert app.view_errors == {} and app.errors.layout.display == "none"
    assert app.track.value == TEST_TRACKS[0] and app.system.value == "demucs" and app.stem.value == "vocals"
    assert list(app.system.options) == ["demucs", "MIX", "IRM2"] and app.other.value == "IRM2"
    start, stop = app.range.value
    assert app.range.max == 4.0 and 0 <= start < stop <= 4.0
    assert "<b>Delta - Fourth</b> · demucs · <b>vocals</b>" in app.status.value
    assert audio_labels(app.players_html.value) == ["mixture", "reference (vocals)", "estimate (demucs)",
                                                    "residual (reference − estimate)"]
    assert app.signals_image.value[:2] == b"\xff\xd8" and len(app.signals_image.value) > 10_000
    assert "explore-frames-selection" in app.frames_html.value
    assert "SDR of the excerpt" in app.scores_html.value
    # only the visible tab was computed
    assert app.renders["remix"] == 0 and app.renders["compare"] == 0
    assert all(app.renders[name] == 1 for name, view in VIEWS.items() if view.tab in (None, LISTEN))


def test_changing_the_stem_updates_its_views_only(app):
    before = {"signals": app.signals_image.value, "players": app.players_html.value, "frames": app.frames_html.value}
    renders = dict(app.renders)
    app.stem.value = "bass"
    assert app.view_errors == {}
    assert "<b>bass</b>" in app.status.value
    assert app.signals_image.value != before["signals"] and app.frames_html.value != before["frames"]
    assert "reference (bass)" in audio_labels(app.players_html.value)
    old, new = audio_sources(before["players"]), audio_sources(app.players_html.value)
    assert old[0] == new[0] and old[1:] != new[1:]            # the mixture's player did not change
    assert all(app.renders[n] == renders[n] + 1 for n in ("players", "scores", "signals", "frames", "status"))


def test_moving_the_range(app):
    app.range.value = (1.0, 2.5)
    assert "1.0–2.5 s" in app.status.value
    assert "selection 1.0-2.5 s" in app.frames_html.value
    renders = dict(app.renders)
    app.range.value = (1.0, 2.5)                               # no change: nothing recomputed
    assert dict(app.renders) == renders


def test_a_range_longer_than_the_maximum_is_cut(explore_env, monkeypatch):
    from demucs_study.explore import views

    monkeypatch.setattr(views, "MAX_SECONDS", 2.0)
    app = ExplorerApp("smoke")
    app.range.value = (0.5, 4.0)
    assert app.range.value == (0.5, 2.5) and "0.5–2.5 s (cut to 2 s" in app.status.value
    app.range.value = (1.0, 2.0)
    assert "cut" not in app.status.value


def test_bad_first_choices_are_errors(explore_env):
    with pytest.raises(ExploreError, match="unknown stem 'piano'"):
        ExplorerApp("smoke", stem="piano")
    with pytest.raises(ExploreError, match="system 'nope' cannot be shown in profile 'smoke'; choose one of demucs"):
        ExplorerApp("smoke", system="nope")
    with pytest.raises(ExploreError, match="unknown test track 'x'"):
        ExplorerApp("smoke", track="x")


def test_the_frequency_axis_redraws_the_figure_only(app):
    renders, image = dict(app.renders), app.signals_image.value
    app.freq.value = "linear"
    assert app.signals_image.value != image
    changed = {n for n in app.renders if app.renders[n] != renders.get(n, 0)}
    assert changed == {"signals"}


def test_hidden_tabs_update_when_opened(app):
    app.gains["drums"].value = -6.0
    assert app.renders["remix"] == 0                           # the remix tab is not visible
    app.tabs.selected_index = REMIX
    assert app.renders["remix"] == 1 and app.view_errors == {}
    assert audio_labels(app.remix_html.value) == ["remix of the estimates (demucs)", "the same remix of the true stems"]
    assert "SDR of the remix against the same remix of the true stems" in app.remix_html.value


def test_remix_presets_mute_and_solo(app):
    app.tabs.selected_index = REMIX
    app.preset.value = "karaoke (no vocals)"
    assert app.mutes["vocals"].value and not any(app.mutes[s].value for s in ("drums", "bass", "other"))
    state = app.gain_state()
    assert state[1] == ("vocals",) and state[2] == ()
    first = app.remix_html.value
    app.solos["vocals"].value = True                            # muted and soloed: silent
    assert "the remix is silent" in app.remix_html.value and app.remix_html.value != first
    app.preset.value = "a cappella (vocals only)"
    assert app.solos["vocals"].value and not app.mutes["vocals"].value
    assert "silent" not in app.remix_html.value


def test_a_loud_remix_says_it_clips(app):
    app.tabs.selected_index = REMIX
    for source in app.gains:
        app.gains[source].value = 12.0
    assert "clipped in the player" in app.remix_html.value


def test_compare_two_systems(app):
    app.tabs.selected_index = COMPARE
    assert app.view_errors == {}
    labels = audio_labels(app.compare_html.value)
    assert labels.count("estimate (demucs)") == 1 and labels.count("estimate (IRM2)") == 1
    assert app.compare_image.value[:2] == b"\xff\xd8" and "explore-frames-selection" in app.compare_frames.value
    app.other.value = "MIX"
    assert "estimate (MIX)" in audio_labels(app.compare_html.value)
    assert app.renders["signals"] == 1                          # the listen tab is left alone


def test_a_track_without_stored_scores_or_estimates(app):
    app.track.value = TEST_TRACKS[1]
    assert app.view_errors == {} and "Echo - Fifth" in app.status.value
    frames_png = re.search(r"base64,([^']+)'", app.frames_html.value).group(1)
    assert base64.b64decode(frames_png)[:4] == b"\x89PNG"
    app.system.value = "IRM2"                                   # not stored for this track: computed
    assert app.view_errors == {} and "estimate (IRM2)" in audio_labels(app.players_html.value)


def test_an_experiment_without_stored_estimates_is_separated_with_the_progress_bar(explore_env, tmp_path,
                                                                                    monkeypatch):
    from demucs_study.config import load_params
    from demucs_study.training.runs import best_model_path, run_dir
    from explore_fixture import ROOT

    monkeypatch.setenv("DEMUCS_STUDY_RUNS", str(tmp_path / "runs"))
    shutil.copytree(explore_env["DEMUCS_STUDY_RUNS"], tmp_path / "runs")
    trained = load_params(ROOT / "params" / "smoke" / "demucs.yaml")
    params = load_params(ROOT / "params" / "smoke" / "demucs.yaml", ["separate.shifts=0"])
    run_dir(params).mkdir(parents=True)
    shutil.copy(best_model_path(trained), best_model_path(params))
    app = ExplorerApp(data=ProfileData("smoke", experiments=[trained, params]))
    app.system.value = "demucs shifts=0"
    assert app.view_errors == {} and "estimate (demucs shifts=0)" in audio_labels(app.players_html.value)
    assert re.fullmatch(r"separating Delta - Fourth with demucs shifts=0: chunk (\d+)/\1, \d+ s",
                        app.progress_label.value)
    assert app.progress_box.layout.display == "none"               # hidden once done


def test_every_model_of_the_profile_is_explored_through_the_one_interface(explore_env, tmp_path, monkeypatch):
    """Demucs, Wave-U-Net and MMDense alike: each experiment of the smoke profile with a saved model is offered,
    separated on demand (load_model + apply_model) and shown; a song of your own goes through the same path."""
    import torch

    from demucs_study.config import profile_experiments
    from demucs_study.models import build_model
    from demucs_study.models.io import save_model
    from demucs_study.training.runs import best_model_path

    monkeypatch.setenv("DEMUCS_STUDY_RUNS", str(tmp_path / "runs"))
    experiments = profile_experiments("smoke")
    names = [p["experiment"] for p in experiments]
    assert {p["model"] for p in experiments} >= {"demucs", "waveunet", "mmdense"}
    for params in experiments:
        with torch.random.fork_rng():
            torch.manual_seed(0)
            save_model(build_model(params["model"], **params["models"][params["model"]]), best_model_path(params))
    app = ExplorerApp("smoke")
    assert list(app.system.options) == names + ["MIX", "IRM2"] and list(app.model.options) == names
    for name in names:
        app.system.value = name
        assert app.view_errors == {}, name
        assert f"estimate ({name})" in audio_labels(app.players_html.value)
    t = np.arange(22050) / 22050
    sf.write(tmp_path / "hum.wav", 0.3 * np.sin(2 * np.pi * 220 * t), 22050)
    app.song_path.value = str(tmp_path / "hum.wav")
    for name in names:
        app.model.value = name
        app.separate_button.click()
        assert app.view_errors == {}, name
    assert app.track.value == "your song: hum.wav" and list(app.system.options) == names + ["MIX"]


def test_errors_are_shown_as_messages_not_raised(explore_env, tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    shutil.copytree(explore_env["DEMUCS_STUDY_DATA"], data_dir)
    monkeypatch.setenv("DEMUCS_STUDY_DATA", str(data_dir))
    np.save(estimates_dir("smoke", "MIX") / f"{TEST_TRACKS[0]}.npy", np.zeros((4, 2, 10), np.float32))
    app = ExplorerApp("smoke")
    status = app.status.value
    app.system.value = "MIX"                                    # its estimates are damaged
    assert app.errors.layout.display is None
    assert "shaped (4, 2, 10)" in app.errors.value and "Traceback" not in app.errors.value
    assert "players" in app.view_errors and "signals" in app.view_errors
    assert app.status.value != status and "MIX" in app.status.value       # the rest still updates
    app.system.value = "demucs"                                 # back to a good choice: the message goes
    assert app.view_errors == {} and app.errors.layout.display == "none"


def test_error_message_flags_unexpected_errors():
    assert error_message(ExploreError("no such track")) == "no such track"
    assert error_message(KeyError("x")).startswith("unexpected KeyError: 'x' (a bug of the explorer")


def test_your_own_song(app, tmp_path):
    t = np.arange(2 * 22050) / 22050
    path = tmp_path / "hum.flac"
    sf.write(path, 0.3 * np.sin(2 * np.pi * 220 * t), 22050)
    app.tabs.selected_index = OWN
    app.upload.value = ({"name": "hum.flac", "type": "audio/flac", "size": path.stat().st_size,
                         "content": memoryview(path.read_bytes()),
                         "last_modified": datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)},)
    app.separate_button.click()
    assert app.view_errors == {}
    assert app.track.value == "your song: hum.flac" and app.tabs.selected_index == LISTEN
    assert list(app.system.options) == ["demucs", "MIX"] and app.system.value == "demucs"
    assert app.range.max == 2.0 and "Separated <b>your song: hum.flac</b>" in app.own_html.value
    assert audio_labels(app.players_html.value) == ["mixture", "estimate (demucs)"]
    assert "no true stems" in app.scores_html.value
    app.tabs.selected_index = REMIX
    assert audio_labels(app.remix_html.value) == ["remix of the estimates (demucs)"] and app.view_errors == {}
    app.track.value = TEST_TRACKS[0]                            # back to the test set
    assert list(app.system.options) == ["demucs", "MIX", "IRM2"] and app.view_errors == {}


def test_own_song_errors_are_messages(app, tmp_path):
    app.separate_button.click()                                 # nothing chosen
    assert "choose a file with 'upload a song'" in app.errors.value
    bad = tmp_path / "notes.txt"
    bad.write_text("not audio")
    app.song_path.value = str(bad)
    app.separate_button.click()
    assert "cannot decode" in app.errors.value and "notes.txt" in app.errors.value
    assert app.progress_box.layout.display == "none" and app.track.value == TEST_TRACKS[0]


def test_snapshot_and_display_bundle(app):
    bundle = app._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    html_text = bundle["text/html"]
    assert app.renders["remix"] == 1 and app.renders["compare"] == 1      # the snapshot shows every tab
    assert "Delta - Fourth" in html_text and "data:image/jpeg;base64," in html_text
    assert len(audio_labels(html_text)) == 4 + 2 + 2        # listen, remix, the second system of compare
    assert len(html_text) < 1_000_000


def test_a_profile_with_nothing_to_explore_is_an_error(explore_env):
    from demucs_study.config import load_params
    from explore_fixture import ROOT

    data = ProfileData("smoke", experiments=[load_params(ROOT / "params" / "smoke" / "demucs.yaml", ["seed=3"])])
    data.all_systems = lambda: []
    with pytest.raises(ExploreError, match="nothing to explore.*make paper-results PROFILE=smoke"):
        ExplorerApp(data=data)
