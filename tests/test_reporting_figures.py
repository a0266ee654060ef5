"""The study's figures (reporting.figures): reproducible PNG/SVG files, inline images, one colour per
system, and the plots on tiny inputs."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from demucs_study import SOURCES  # noqa: E402
from demucs_study.reporting import figures  # noqa: E402
from demucs_study.reporting.figures import (REFERENCE_COLORS, SVG_HASHSALT, comparison_signals,  # noqa: E402
                                            learning_curves, log_spectrogram, publish, save_figure,
                                            sdr_boxplot, separation_signals, stem_spectrograms, stems_dict,
                                            system_colors)

SR = 8000


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def small_figure():
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1, 2], [1, 0, 2], label="a line")
    ax.legend()
    return fig


# ---- files

def test_save_figure_writes_png_and_svg_byte_identical_on_a_second_save(tmp_path):
    fig = small_figure()
    paths = save_figure(fig, tmp_path / "figs", "curve", dpi=50)
    assert paths == [tmp_path / "figs" / "curve.png", tmp_path / "figs" / "curve.svg"]
    png, svg = (p.read_bytes() for p in paths)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and b"<svg" in svg
    assert b"<dc:date>" not in svg and b"Software" not in png  # no date, no version stamp
    save_figure(fig, tmp_path / "figs", "curve", dpi=50)
    assert paths[0].read_bytes() == png and paths[1].read_bytes() == svg
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["curve.png", "curve.svg"]  # no temporaries


def test_svg_ids_come_from_the_fixed_salt_and_the_setting_is_restored(tmp_path, monkeypatch):
    before = matplotlib.rcParams["svg.hashsalt"]
    fig = small_figure()
    svg = save_figure(fig, tmp_path / "a", "f", dpi=50)[1]
    assert matplotlib.rcParams["svg.hashsalt"] == before
    monkeypatch.setattr(figures, "SVG_HASHSALT", "another salt")
    other = save_figure(fig, tmp_path / "b", "f", dpi=50)[1]
    assert svg.read_bytes() != other.read_bytes()  # the salt is what makes the ids reproducible
    monkeypatch.setattr(figures, "SVG_HASHSALT", SVG_HASHSALT)
    again = save_figure(fig, tmp_path / "c", "f", dpi=50)[1]
    assert svg.read_bytes() == again.read_bytes()


def test_publish_saves_closes_and_returns_a_tagged_image(tmp_path):
    fig = small_figure()
    image = publish(fig, tmp_path, "learning_curves", dpi=50)
    assert not plt.fignum_exists(fig.number)
    assert image.metadata == {"figure": "learning_curves"}
    assert image.format == "png" and image.data == (tmp_path / "learning_curves.png").read_bytes()
    assert (tmp_path / "learning_curves.svg").is_file()


# ---- colours

def test_references_get_their_own_colours():
    colors = system_colors(["demucs", "MIX", "IRM2"])
    assert colors["MIX"] == REFERENCE_COLORS["MIX"] and colors["IRM2"] == REFERENCE_COLORS["IRM2"]
    assert colors["demucs"] not in REFERENCE_COLORS.values()
    assert set(system_colors(["demucs"])) == {"demucs"}  # references only when shown


def test_experiments_get_distinct_colours_and_the_same_input_the_same_colours():
    systems = [f"exp{i}" for i in range(6)]
    colors = system_colors(systems)
    assert len(set(colors.values())) == 6
    assert system_colors(list(reversed(systems))) == colors  # the order of the input does not matter
    assert system_colors(systems + ["MIX"])["exp3"] == colors["exp3"]  # nor do references


def test_a_system_keeps_its_colour_whatever_the_other_systems_are():
    alone = system_colors(["demucs", "MIX"])["demucs"]
    assert system_colors(["demucs", "zeta"])["demucs"] == alone
    assert system_colors(["alpha", "demucs", "IRM2"])["demucs"] == alone


# ---- plots on tiny inputs

def scores_frame():
    rows = []
    rng = np.random.default_rng(0)
    for system, base in (("demucs", 4.0), ("MIX", -1.0), ("IRM2", 8.0)):
        for track in ("t1", "t2", "t3"):
            for target in (*SOURCES, "accompaniment"):
                rows.append((system, track, target, "SDR", base + rng.normal()))
                rows.append((system, track, target, "SIR", base + 10))
    rows.append(("demucs", "t4", "vocals", "SDR", np.nan))  # a silent stem: left out
    return pd.DataFrame(rows, columns=["system", "track", "target", "metric", "value"])


def test_sdr_boxplot_has_one_panel_per_stem_and_systems_by_median():
    fig = sdr_boxplot(scores_frame())
    axes = fig.axes
    assert len(axes) == 4 and [ax.get_title() for ax in axes] == list(SOURCES)
    assert [t.get_text() for t in axes[0].get_yticklabels()] == ["MIX", "demucs", "IRM2"]  # by median
    assert axes[0].get_xlabel() == "SDR (dB)"


def test_sdr_boxplot_given_systems_labels_and_targets():
    fig = sdr_boxplot(scores_frame(), systems=["IRM2", "demucs"], targets=("vocals", "drums"), metric="SIR",
                      labels={"demucs": "Demucs (ours)"})
    assert [ax.get_title() for ax in fig.axes] == ["vocals", "drums"]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["IRM2", "Demucs (ours)"]
    assert fig.axes[1].get_xlabel() == "SIR (dB)"


def histories():
    def doc(offset, baseline):
        return {"history": [{"epoch": e, "train": 1.0 / e + offset, "valid": 1.1 / e + offset} for e in (1, 2, 3)],
                "baseline_valid": baseline}
    return {"demucs": doc(0.0, 0.9), "demucs glu=False": doc(0.1, None), "untrained": {"history": []}}


def test_learning_curves_one_panel_without_published_logs():
    """Several experiments: each validation loss over its own baseline (models train on different losses),
    plus the line at 1; an experiment without a baseline or a history is left out."""
    hist = histories()
    fig = learning_curves(hist)
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert ax.get_ylabel() == "validation loss / mixture/4 baseline"
    assert "mixture/4 baseline" in labels and not any("untrained" in x for x in labels)
    demucs = next(line for line in ax.get_lines() if line.get_label() == "demucs")
    expected = [e["valid"] / hist["demucs"]["baseline_valid"] for e in hist["demucs"]["history"]]
    assert list(demucs.get_ydata()) == pytest.approx(expected)
    colors = system_colors(["demucs", "demucs glu=False", "untrained"])
    assert matplotlib.colors.to_hex(demucs.get_color()) == colors["demucs"]


def test_learning_curves_of_one_experiment_show_train_valid_and_baseline():
    hist = {"demucs": histories()["demucs"]}
    (ax,) = learning_curves(hist).axes
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["demucs valid", "demucs train", "demucs: mixture/4 (valid)"]


def test_learning_curves_second_panel_for_the_released_runs():
    published = pd.DataFrame({"run": ["default"] * 3 + ["other"] * 2, "epoch": [2, 0, 1, 0, 1],
                              "train_l1": [0.3, 0.5, 0.4, 0.6, 0.5], "valid_l1": [0.35, 0.55, 0.45, 0.6, 0.5]})
    fig = learning_curves(histories(), published, published_runs=("default", "missing"))
    assert len(fig.axes) == 2
    lines = fig.axes[1].get_lines()
    assert len(lines) == 2  # valid and train of "default"; "missing" has no rows
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3])  # epochs from 1, sorted
    np.testing.assert_array_equal(lines[0].get_ydata(), [0.55, 0.45, 0.35])


def test_stem_spectrograms_one_panel_per_signal_and_a_colour_bar():
    t = np.arange(SR // 2) / SR
    tone = np.tile(0.5 * np.sin(2 * np.pi * 440 * t), (2, 1))
    signals = {"mixture": tone, "drums": tone * 0.1, "bass": np.zeros_like(tone)}
    fig = stem_spectrograms(signals, SR, title="track", fmax=2000)
    assert len(fig.axes) == 3 + 1  # three panels and the colour bar
    assert [ax.get_ylabel() for ax in fig.axes[:3]] == ["mixture\nHz", "drums\nHz", "bass\nHz"]
    assert fig.axes[0].get_ylim() == (0, 2000) and fig._suptitle.get_text() == "track"
    image = fig.axes[0].get_images()[0]
    vmin, vmax = image.get_clim()
    assert vmax - vmin == pytest.approx(80.0)  # one colour scale from the first panel's maximum


def test_log_spectrogram_peaks_at_the_tone():
    t = np.arange(SR) / SR
    spec = log_spectrogram(np.tile(np.sin(2 * np.pi * 1000 * t), (2, 1)), SR, n_fft=256, hop=128)
    assert spec.shape[0] == 129
    assert np.argmax(spec.mean(axis=1)) == 1000 * 256 // SR  # bin 32


def test_signal_dictionaries():
    mix, stems, est = np.zeros((2, 5)), np.arange(40.0).reshape(4, 2, 5), -np.arange(40.0).reshape(4, 2, 5)
    assert list(stems_dict(mix, stems)) == ["mixture", *SOURCES]
    np.testing.assert_array_equal(stems_dict(mix, stems)["bass"], stems[1])
    sep = separation_signals(mix, stems, est)
    assert list(sep)[:3] == ["mixture", "drums (true)", "drums (estimate)"] and len(sep) == 9
    np.testing.assert_array_equal(sep["vocals (estimate)"], est[3])
    np.testing.assert_array_equal(sep["bass (true)"], stems[1])
    comp = comparison_signals(mix, stems[3], {"demucs": est[3], "IRM2": stems[3]}, "vocals")
    assert list(comp) == ["mixture", "vocals (true)", "vocals (demucs)", "vocals (IRM2)"]


def test_theme_is_applied_by_the_box_plot(monkeypatch):
    calls = []
    monkeypatch.setattr(figures, "theme", lambda: calls.append(True))
    sdr_boxplot(scores_frame(), systems=["demucs"], targets=("drums",))
    assert calls == [True]


# ---- seeds and ablations

def test_seed_learning_curves_one_panel_per_experiment_one_line_pair_per_seed():
    from demucs_study.reporting.figures import seed_learning_curves

    def doc(seed, shift):
        return {"params": {"seed": seed}, "history": [{"epoch": e, "train": 1.0 / e + shift, "valid": 1.2 / e + shift}
                                                      for e in (1, 2, 3)]}

    histories = {"demucs": doc(42, 0), "demucs seed=43": doc(43, 0.1), "waveunet": doc(42, 0), "waveunet seed=43": doc(43, 0)}
    fig = seed_learning_curves(histories, {"demucs (2 seeds)": ["demucs", "demucs seed=43"],
                                           "waveunet (2 seeds)": ["waveunet", "waveunet seed=43", "waveunet seed=44"],
                                           "nothing (2 seeds)": ["x", "y"]})
    axes = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title() for ax in axes] == ["demucs (2 seeds)", "waveunet (2 seeds)"]
    assert len(axes[0].lines) == 4 and axes[0].get_legend().texts[2].get_text() == "seed 43 valid"
    assert len(axes[1].lines) == 4                   # seed 44 has no run yet
    empty = seed_learning_curves({}, {})
    assert "no experiment with several seeds" in [t.get_text() for t in empty.axes[0].texts]


def test_ablation_figure_ours_and_released_with_two_standard_error_bars():
    from demucs_study.reporting.figures import ablation_figure

    table = pd.DataFrame([
        {"change": "ReLU instead of GLU", "experiment": "demucs glu=False (3 seeds)", "delta All": -0.2,
         "delta All s.e.": 0.05, "s.e. from": "3 seeds", "published": "demucs-1911:glu=False",
         "published delta All": -0.5, "published delta All s.e.": 0.12, "published s.e. from": "1 seed: ..."},
        {"change": "depth=5", "experiment": "demucs depth=5", "delta All": 0.3, "delta All s.e.": 0.2,
         "s.e. from": "1 seed: ...", "published": "missing", "published delta All": np.nan,
         "published delta All s.e.": np.nan, "published s.e. from": np.nan}])
    fig = ablation_figure(table)
    ax = fig.axes[0]
    assert len(ax.containers) == 3                   # ours twice, released once (missing for depth=5)
    ours = ax.containers[0]
    segment = ours.lines[2][0].get_segments()[0]    # the x error bar: delta ± 2 s.e.
    assert segment[0][0] == pytest.approx(-0.3) and segment[1][0] == pytest.approx(-0.1)
    assert [t.get_text() for t in ax.texts] == [" released: missing"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["ReLU instead of GLU\n(demucs glu=False (3 seeds))",
                                                            "depth=5\n(demucs depth=5)"]
    assert ablation_figure(table.iloc[:0]).axes[0].texts[0].get_text() == "no ablation scored"
