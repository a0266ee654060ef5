"""explore.views: ranges, excerpts, scores, remixes and figures of a selection (pure functions)."""
import math
import re

import numpy as np
import pytest

from demucs_study import SOURCES
from demucs_study.evaluation.bsseval import new_sdr
from demucs_study.explore import views
from demucs_study.explore.data import ExploreError, FrameScores, TrackAudio

SR = 1000


def track(seconds=10, sr=SR, references=True, seed=0):
    rng = np.random.default_rng(seed)
    stems = (0.1 * rng.standard_normal((4, 2, seconds * sr))).astype(np.float32)
    stems[3, :, : 2 * sr] = 0.0                                         # vocals start at 2 s
    return TrackAudio("t", sr, stems.sum(0), stems if references else None)


# ---- ranges and excerpts
@pytest.mark.parametrize("start, stop, expected", [
    (2.0, 5.0, (2.0, 5.0)),
    (-3.0, 5.0, (0.0, 5.0)),
    (8.0, 99.0, (8.0, 10.0)),
    (4.0, 4.0, (4.0, 4.5)),          # at least MIN_SECONDS
    (10.0, 10.0, (9.5, 10.0)),
    (0.0, 60.0, (0.0, 10.0)),
])
def test_clamp_range_inside_the_track(start, stop, expected):
    assert views.clamp_range(start, stop, 10.0) == pytest.approx(expected)


def test_clamp_range_cuts_long_ranges_to_the_maximum():
    assert views.clamp_range(10.0, 100.0, 240.0) == (10.0, 10.0 + views.MAX_SECONDS)
    assert views.clamp_range(0.0, 0.0, 0.2) == (0.0, 0.2)               # a track shorter than MIN_SECONDS


def test_excerpt_is_a_float32_copy_of_the_range():
    x = np.arange(2 * 100, dtype=np.float64).reshape(2, 100)
    out = views.excerpt(x, 10, 2.0, 3.5)
    assert out.dtype == np.float32 and np.array_equal(out, x[:, 20:35])
    out[:] = -1
    assert x[0, 20] == 20
    assert views.excerpt(x, 10, 9.0, 20.0).shape == (2, 10)


def test_loudest_window_finds_the_loud_part():
    x = np.full((2, 30 * SR), 0.01, np.float32)
    x[:, 17 * SR: 23 * SR] = 0.5
    start, stop = views.loudest_window(x, SR, seconds=8.0)
    assert stop - start == 8.0 and start <= 17.0 and stop >= 23.0
    assert views.loudest_window(x[:, : 5 * SR], SR, seconds=8.0) == (0.0, 5.0)


def test_listen_signals_with_and_without_references():
    t = track()
    estimates = t.references * 0.5
    out = views.listen_signals(t, estimates, "bass", 1.0, 3.0)
    assert list(out) == ["mixture", "reference", "estimate", "residual"]
    assert np.allclose(out["residual"], t.references[1, :, SR:3 * SR] * 0.5)
    assert np.array_equal(out["mixture"], t.mixture[:, SR:3 * SR])
    own = views.listen_signals(track(references=False), estimates, "bass", 1.0, 3.0)
    assert list(own) == ["mixture", "estimate"]
    with pytest.raises(ExploreError, match="unknown stem 'piano'"):
        views.listen_signals(t, estimates, "piano", 0, 1)


# ---- scores
def test_sdr_is_the_new_sdr_and_undefined_for_a_silent_reference():
    rng = np.random.default_rng(1)
    ref = rng.standard_normal((2, 500)).astype(np.float32)
    est = ref + 0.1 * rng.standard_normal((2, 500)).astype(np.float32)
    assert views.sdr(ref, est) == pytest.approx(float(new_sdr(ref[None], est[None])[0]))
    assert views.sdr(ref, est) == pytest.approx(20.0, abs=1.0)
    assert math.isnan(views.sdr(np.zeros((2, 10)), est[:, :10]))
    assert views.fmt_db(3.14159) == "3.1 dB" and views.fmt_db(math.nan) == "–" and views.fmt_db(None) == "–"


def test_selection_scores_excerpt_and_stored_frames():
    t = track()
    est = t.references.copy()
    est[3] += 0.05
    frames = FrameScores("SDR", np.arange(10.0), np.ones(10), np.array([np.nan, np.nan] + [5.0, 6.0] * 4))
    table = views.selection_scores(t, {"sys": est, "none": est}, "vocals", 2.0, 4.0, {"sys": frames})
    expected = views.sdr(t.references[3, :, 2 * SR:4 * SR], est[3, :, 2 * SR:4 * SR])
    assert table.loc["sys", "SDR of the excerpt"] == pytest.approx(expected)
    assert table.loc["sys", "median frame SDR, excerpt"] == 5.5 and table.loc["sys", "median frame SDR, track"] == 5.5
    assert math.isnan(table.loc["none", "median frame SDR, track"])
    silent = views.selection_scores(t, {"sys": est}, "vocals", 0.0, 1.5, {"sys": frames})
    assert math.isnan(silent.loc["sys", "SDR of the excerpt"])
    assert math.isnan(silent.loc["sys", "median frame SDR, excerpt"])
    text = views.scores_html(silent)
    assert "<b>sys</b>" in text and "–" in text and "5.5 dB" in text


# ---- remix
def test_stem_gains_mute_and_solo():
    assert views.stem_gains(SOURCES).tolist() == [1, 1, 1, 1]
    gains = views.stem_gains(SOURCES, {"drums": -6.0206, "bass": 6.0206}, mute=["vocals"])
    assert gains == pytest.approx([0.5, 2.0, 1.0, 0.0], abs=1e-4)
    assert views.stem_gains(SOURCES, solo=["vocals", "bass"]).tolist() == [0, 1, 0, 1]
    assert views.stem_gains(SOURCES, mute=["vocals"], solo=["vocals"]).tolist() == [0, 0, 0, 0]   # mute wins
    with pytest.raises(ExploreError, match="unknown stem 'piano'"):
        views.stem_gains(SOURCES, {"piano": 3})


@pytest.mark.parametrize("preset, playing", [
    ("all stems", SOURCES), ("karaoke (no vocals)", ("drums", "bass", "other")),
    ("drumless practice", ("bass", "other", "vocals")), ("a cappella (vocals only)", ("vocals",)),
    ("rhythm section", ("drums", "bass")),
])
def test_presets(preset, playing):
    spec = views.PRESETS[preset]
    gains = views.stem_gains(SOURCES, mute=spec.get("mute", ()), solo=spec.get("solo", ()))
    assert [s for s, g in zip(SOURCES, gains) if g > 0] == list(playing)


def test_remix_is_the_weighted_sum_and_the_true_remix_uses_the_references():
    t = track()
    est = t.references * 0.9
    gains = np.array([1.0, 0.5, 0.0, 2.0], np.float32)
    out = views.remix_signals(t, est, gains, 1.0, 2.0)
    expected = sum(g * est[i, :, SR:2 * SR] for i, g in enumerate(gains))
    assert np.allclose(out["remix"], expected, atol=1e-6)
    assert np.allclose(out["true remix"], out["remix"] / 0.9, atol=1e-5)
    assert list(views.remix_signals(track(references=False), est, gains, 1.0, 2.0)) == ["remix"]
    with pytest.raises(ValueError, match="one gain per stem"):
        views.remix(est, np.ones(3))


# ---- figures
def test_spectrogram_is_calibrated_in_dbfs():
    sr = 44100
    t = np.arange(sr) / sr
    x = np.stack([0.5 * np.sin(2 * np.pi * 1000 * t)] * 2).astype(np.float32)
    times, freqs, db = views.spectrogram(x, sr)
    row = int(np.argmax(db.mean(axis=1)))
    assert freqs[row] == pytest.approx(1000, abs=freqs[1])
    assert db[row].mean() == pytest.approx(-6.0, abs=1.5)        # half of full scale, Hann scalloping < 1.5 dB
    assert db.shape == (freqs.size, times.size) and times.size <= views.MAX_FRAMES
    long = np.zeros((2, 60 * sr), np.float32)
    assert views.spectrogram(long, sr)[0].size <= views.MAX_FRAMES


def test_signals_figure_one_band_per_signal_on_fixed_scales():
    t = track(seconds=3)
    signals = views.listen_signals(t, t.references * 0.5, "drums", 0.5, 2.5)
    fig = views.signals_figure(signals, SR, 0.5, "t · x · drums", freq_scale="log")
    wave, spec, cbar = fig.axes
    assert [x.get_text() for x in wave.texts] == list(signals)
    assert spec.get_xlim() == pytest.approx((0.5, 2.5)) and wave.get_xlim() == pytest.approx((0.5, 2.5))
    (image,) = spec.get_images()
    assert image.get_clim() == views.SPEC_DB
    assert "t · x · drums" in spec.get_title() and "log frequency" in spec.get_title()
    peak = max(float(np.abs(x).max()) for x in signals.values())
    assert f"±{peak:.2f}" in wave.get_title()
    linear = views.signals_figure(signals, SR, 0.5, freq_scale="linear", peak=1.0)
    assert "±1.00" in linear.axes[0].get_title() and "linear" in linear.axes[1].get_title()
    with pytest.raises(ValueError, match="freq_scale 'mel'"):
        views.signals_figure(signals, SR, freq_scale="mel")


def test_frames_figure_marks_undefined_frames_and_names_missing_evaluations():
    frames = {"a": FrameScores("SDR", np.arange(6.0), np.ones(6), np.array([np.nan, 1, 2, np.nan, 4, 5.0])),
              "b": None}
    fig = views.frames_figure(frames, "vocals", 6.0)
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["a (track median 3.0 dB)", "undefined (2 frames: silent reference or estimate)",
                      "b: not evaluated"]
    assert sum(1 for p in ax.patches if p.get_hatch() == "//") == 2
    assert ax.get_xlim() == (0.0, 6.0) and tuple(ax.get_position().bounds) == pytest.approx(views.FRAMES_AXES)
    empty = views.frames_figure({"b": None}, "vocals", 6.0)
    assert "no stored frame score" in empty.axes[0].texts[0].get_text()


def test_frames_html_shades_the_selection_over_the_axes():
    text = views.frames_html(b"\x89PNG...", 3.0, 6.0, 12.0)
    left, width, height = (float(v) for v in re.search(r"left:([\d.]+)%;width:([\d.]+)%;top:[\d.]+%;height:([\d.]+)%",
                                                       text).groups())
    x0, _, w, h = views.FRAMES_AXES
    assert left == pytest.approx(100 * (x0 + w * 0.25), abs=1e-3)
    assert width == pytest.approx(100 * w * 0.25, abs=1e-3) and height == pytest.approx(100 * h, abs=1e-3)
    assert "selection 3.0-6.0 s" in text and "data:image/png;base64," in text


def test_figure_bytes_formats():
    import matplotlib.pyplot as plt

    assert views.figure_bytes(plt.figure(figsize=(2, 1)), fmt="png")[:4] == b"\x89PNG"
    assert views.figure_bytes(plt.figure(figsize=(2, 1)), fmt="jpeg")[:2] == b"\xff\xd8"
    fig = plt.figure()
    with pytest.raises(ValueError, match="image format 'gif'"):
        views.figure_bytes(fig, fmt="gif")
    plt.close(fig)
