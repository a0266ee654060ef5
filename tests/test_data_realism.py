"""Realism measures on constructed signals: known centroids, flatness, widths, loudness, onset counts."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from demucs_study.data import realism

SR = 44100


def _sine(freq: float, seconds: float, amp: float = 0.5, channels: int = 2) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return np.tile(amp * np.sin(2 * np.pi * freq * t), (channels, 1))


def _noise(seconds: float, seed: int = 0, channels: int = 2, amp: float = 0.1) -> np.ndarray:
    return amp * np.random.default_rng(seed).standard_normal((channels, int(seconds * SR)))


def test_sine_centroid_and_rolloff_are_its_frequency():
    spec = realism.spectral_features(_sine(1000.0, 3.0), SR)
    assert spec["centroid_hz"] == pytest.approx(1000.0, rel=0.03)
    assert abs(spec["rolloff_hz"] - 1000.0) <= 2 * SR / realism.N_FFT
    assert spec["flatness"] < 0.01


def test_white_noise_is_flat_and_bright():
    spec = realism.spectral_features(_noise(5.0), SR)
    assert spec["flatness"] > 0.9
    assert spec["centroid_hz"] == pytest.approx(SR / 4, rel=0.05)  # the mean of a flat spectrum


def test_stereo_width_of_mono_independent_and_opposite_channels():
    mono = _noise(2.0, channels=1)
    assert realism.stereo_width(np.concatenate([mono, mono])) == 0.0
    assert realism.stereo_width(mono) == 0.0
    assert realism.stereo_width(_noise(4.0)) == pytest.approx(0.5, abs=0.01)
    assert realism.stereo_width(np.concatenate([mono, -mono])) == pytest.approx(1.0)


def test_crest_factor_of_sine_and_square():
    assert realism.crest_factor_db(_sine(440.0, 1.0)) == pytest.approx(20 * np.log10(np.sqrt(2)), abs=0.01)
    square = np.sign(_sine(441.0, 1.0) + 1e-9)
    assert realism.crest_factor_db(square) == pytest.approx(0.0, abs=0.01)


def test_clicks_give_their_onset_density():
    x = np.zeros((2, 10 * SR))
    for k in range(40):  # 4 clicks per second
        x[:, int((0.1 + 0.25 * k) * SR)] = 0.9
    assert len(realism.onset_times(x, SR)) == 40
    assert realism.onset_rate(x, SR) == pytest.approx(4.0)
    noise_floor = x + _noise(10.0, amp=1e-4)
    assert realism.onset_rate(noise_floor, SR) == pytest.approx(4.0)
    assert realism.onset_rate(_sine(440, 5.0), SR) <= 0.2  # a steady tone has (almost) no onsets


def test_excerpt_starts():
    assert realism.excerpt_starts(10 * SR, SR, 30.0, 3) == [0]
    starts = realism.excerpt_starts(100 * SR, SR, 30.0, 3)
    assert len(starts) == 3 and starts == sorted(starts)
    assert all(b - a >= 30 * SR for a, b in zip(starts, starts[1:]))
    assert starts[-1] + 30 * SR <= 100 * SR


def test_feature_table_distances_and_figure(tmp_path):
    folder = tmp_path / "music"
    folder.mkdir()
    sf.write(folder / "a.wav", _sine(500.0, 4.0).T, SR, subtype="FLOAT")
    sf.write(folder / "b.flac", _noise(4.0, seed=2).T, SR, subtype="PCM_24")
    (folder / "notes.txt").write_text("not audio")
    table = realism.feature_table(folder, "real", excerpt=2.0, max_excerpts=2)
    assert list(table.columns) == ["set", "file", "excerpt", "start_s", *realism.FEATURES, "group"]
    assert len(table) == 4 and set(table["set"]) == {"real"}
    same = table.assign(set="copy")
    shifted = table.assign(set="louder", lufs=table["lufs"] + np.subtract(*np.percentile(table["lufs"], [75, 25])))
    d = realism.distances(pd.concat([table, same, shifted]), "real")
    assert list(d.index) == ["copy", "louder"]
    assert d.loc["copy", "mean W/IQR"] == 0.0
    assert d.loc["louder", "lufs shift/IQR"] == pytest.approx(1.0)
    assert d.loc["louder", "lufs W/IQR"] == pytest.approx(1.0)
    s = realism.summary(pd.concat([table, shifted]))
    assert s.loc["real", "excerpts"] == 4
    fig = realism.distribution_figure(pd.concat([table, shifted]), ["real", "louder"])
    assert len(fig.axes) == len(realism.FEATURES)


def test_mixture_files_of_a_musdb_layout(tmp_path):
    for p in ("train/A - B/mixture.wav", "train/A - B/drums.wav", "test/C - D/mixture.wav", "unlabeled/E - F.wav",
              "unlabeled_truth/E - F/drums.wav"):
        (tmp_path / p).parent.mkdir(parents=True, exist_ok=True)
        sf.write(tmp_path / p, np.zeros((SR, 2)), SR)
    names = [str(p.relative_to(tmp_path)) for p in realism.mixture_files(tmp_path)]
    assert names == ["test/C - D/mixture.wav", "train/A - B/mixture.wav", "unlabeled/E - F.wav"]


def test_stem_loudness_relative_to_the_mix():
    a, b = _noise(5.0, seed=3), _noise(5.0, seed=4)
    rel = realism.stem_loudness(np.stack([a, b]), a + b, SR, names=["a", "b"])
    assert rel["a"] == pytest.approx(-3.01, abs=0.1) and rel["b"] == pytest.approx(-3.01, abs=0.1)


def test_describe_distances_names_the_far_features():
    table = pd.DataFrame({"set": ["real"] * 4 + ["new"] * 4, "file": "x", "excerpt": 0, "start_s": 0.0,
                          **{f: [0.0, 1.0, 2.0, 3.0] * 2 for f in realism.FEATURES}})
    table.loc[table["set"] == "new", "width"] -= 3.0
    text = realism.describe_distances(realism.distances(table, "real"))
    assert text.startswith("- **new**:") and "furthest on stereo width" in text and "IQR lower" in text


def test_feature_table_cache(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    sf.write(folder / "a.wav", _sine(300.0, 2.0).T, SR, subtype="FLOAT")
    first = realism.feature_table(folder, "x", excerpt=1.0, max_excerpts=2, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("features-*.csv"))) == 1
    second = realism.feature_table(folder, "y", excerpt=1.0, max_excerpts=2, cache_dir=tmp_path / "cache")
    assert list(second["set"]) == ["y"] * len(first)
    pd.testing.assert_frame_equal(first.drop(columns="set"), second.drop(columns="set"), check_dtype=False)
    assert list(first["group"]) == [""] * len(first)  # files directly in the folder


def test_groups_are_first_folders_and_summarised(tmp_path):
    for pkg in ("pkg-a", "pkg-b"):
        (tmp_path / pkg).mkdir()
        sf.write(tmp_path / pkg / "x.wav", _sine(300.0 if pkg == "pkg-a" else 3000.0, 1.0).T, SR, subtype="FLOAT")
    table = realism.feature_table(tmp_path, "real", excerpt=1.0)
    assert list(table["group"]) == ["pkg-a", "pkg-b"]
    by = realism.summary(table, by="group")
    assert by.loc["pkg-b", "centroid_hz median"] > 5 * by.loc["pkg-a", "centroid_hz median"]


def test_stem_balance_of_a_layout_and_the_old_generator_set(tmp_path):
    a, b = _noise(3.0, seed=5), _noise(3.0, seed=6) * 0.5
    folder = tmp_path / "train" / "A - B"
    folder.mkdir(parents=True)
    for name, x in (("drums", a), ("bass", b), ("other", np.zeros_like(a)), ("vocals", np.zeros_like(a)),
                    ("mixture", a + b)):
        sf.write(folder / f"{name}.wav", x.T.astype(np.float32), SR, subtype="FLOAT")
    bal = realism.stem_balance(tmp_path)
    assert list(bal.columns) == ["track", "split", "drums", "bass", "other", "vocals"]
    assert bal.loc[0, "drums"] - bal.loc[0, "bass"] == pytest.approx(6.02, abs=0.1)
    assert bal.loc[0, "other"] == float("-inf")
    old = realism.old_generator_set(tmp_path / "old", songs=2, duration=3.0, seed=1)
    files = realism.mixture_files(old)
    assert len(files) == 2 and all(f.parent.name == "unlabeled" for f in files)
    from demucs_study.data.synth.generate import read_manifest

    m = read_manifest(old)
    assert m["production"] is False and m["soundfont"]["tag"] == "timgm6mb"
