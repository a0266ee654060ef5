"""Figures of the study. Each function returns a matplotlib Figure; :func:`publish` writes it as PNG and
SVG (byte-identical on a re-run) and returns what a notebook displays inline.

Statistical plots (the SiSEC-style box plots) use seaborn with one theme and one colour per system
(:func:`system_colors`): the same system has the same colour in every figure. Signal plots
(spectrograms, learning curves) are plain matplotlib.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .. import SOURCES
from ..utils import atomic_path

#: Fixed so that SVG element ids (random by default) are the same on every run.
SVG_HASHSALT = "demucs-study"
#: Colours of the reference systems; experiments take the seaborn "colorblind" palette in order.
REFERENCE_COLORS = {"MIX": "#8c8c8c", "IRM2": "#303030"}


def theme() -> None:
    """The study's seaborn theme (white grid, small fonts), applied before drawing a statistical plot."""
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="paper", font_scale=1.1)


def system_colors(systems) -> dict[str, str]:
    """A colour per system that does not depend on which other systems a figure shows: references get
    :data:`REFERENCE_COLORS`; any other system the slot of a 20-colour palette given by a stable hash of its
    name (when two systems of one call share a slot, the later one in sorted order takes the next free
    slot)."""
    import hashlib

    import seaborn as sns

    palette = sns.color_palette("tab20", 20).as_hex()
    taken: set[int] = set()
    colors = {}
    for s in sorted(set(systems)):
        if s in REFERENCE_COLORS:
            colors[s] = REFERENCE_COLORS[s]
            continue
        slot = int(hashlib.sha1(s.encode()).hexdigest(), 16) % len(palette)
        while slot in taken and len(taken) < len(palette):
            slot = (slot + 1) % len(palette)
        taken.add(slot)
        colors[s] = palette[slot]
    return colors


def save_figure(fig, out_dir: str | Path, name: str, dpi: int = 110) -> list[Path]:
    """Write ``fig`` as ``out_dir/name.png`` and ``out_dir/name.svg`` (atomically, reproducibly:
    no date, fixed SVG ids). Returns the paths."""
    import matplotlib

    out = []
    with matplotlib.rc_context({"svg.hashsalt": SVG_HASHSALT}):
        for ext in ("png", "svg"):
            path = Path(out_dir) / f"{name}.{ext}"
            metadata = {"Date": None} if ext == "svg" else {"Software": None}
            with atomic_path(path) as tmp:
                fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=ext, metadata=metadata)
            out.append(path)
    return out


def publish(fig, out_dir: str | Path, name: str, dpi: int = 110):
    """Save ``fig`` (:func:`save_figure`), close it, and return an ``IPython.display.Image`` of it
    tagged ``{"figure": name}``: the last line of a notebook cell shows the figure where the text
    discusses it, and tests can match shown figures with saved ones."""
    import matplotlib.pyplot as plt
    from IPython.display import Image

    png, _ = save_figure(fig, out_dir, name, dpi)
    plt.close(fig)
    return Image(data=png.read_bytes(), format="png", metadata={"figure": name})


def log_spectrogram(x: np.ndarray, samplerate: int, n_fft: int = 2048, hop: int = 512) -> np.ndarray:
    """Magnitude spectrogram in dB of a (channels, time) signal, channels averaged -> (freqs, frames)."""
    from scipy.signal import stft

    _, _, z = stft(x.mean(axis=0), fs=samplerate, nperseg=n_fft, noverlap=n_fft - hop, boundary=None)
    return 20 * np.log10(np.abs(z) + 1e-6)


def stem_spectrograms(signals: dict[str, np.ndarray], samplerate: int, title: str = "",
                      fmax: float = 8000.0, vmin: float = -80.0):
    """One spectrogram panel per named (channels, time) signal, stacked, sharing axes and colour scale."""
    import matplotlib.pyplot as plt

    names = list(signals)
    fig, axes = plt.subplots(len(names), 1, figsize=(10, 1.7 * len(names)), sharex=True, sharey=True,
                             squeeze=False)
    vmax = None
    for ax, name in zip(axes[:, 0], names):
        x = signals[name]
        spec = log_spectrogram(x, samplerate)
        vmax = spec.max() if vmax is None else vmax
        dur = x.shape[-1] / samplerate
        im = ax.imshow(spec, origin="lower", aspect="auto", cmap="magma", vmin=vmin + vmax, vmax=vmax,
                       extent=(0, dur, 0, samplerate / 2))
        ax.set_ylim(0, fmax)
        ax.set_ylabel(f"{name}\nHz", fontsize=9)
    axes[-1, 0].set_xlabel("time (s)")
    fig.colorbar(im, ax=axes[:, 0], label="dB", shrink=0.8)
    if title:
        fig.suptitle(title)
    return fig


def stems_dict(mixture: np.ndarray, stems: np.ndarray) -> dict[str, np.ndarray]:
    """``{"mixture": ..., "drums": ..., ...}`` from a mixture (C, T) and stems (4, C, T)."""
    return {"mixture": mixture, **{s: stems[i] for i, s in enumerate(SOURCES)}}


def learning_curves(histories: dict[str, dict], published=None, published_runs=("default",)):
    """Validation loss per epoch of our experiments, next to the released Demucs runs
    (``evaluation.aggregate.load_published_logs``: 8 x V100, MUSDB18).

    ``histories``: experiment name -> the ``history.json`` of its run (``history`` entries with epoch,
    train, valid; ``baseline_valid`` = the loss of predicting mixture/4 for every stem). With one
    experiment, its training (dashed) and validation (solid) losses are drawn with the baseline dotted.
    With several, each validation loss is divided by its own baseline (models train on different losses:
    L1, MSE, magnitude MSE), so 1 is the mixture/4 baseline and lower is better for all.
    ``published``: the training-log DataFrame (run, epoch, train_l1, valid_l1, ...) or None.
    The two panels have their own scales: the datasets differ, only the shapes compare.
    """
    import matplotlib.pyplot as plt

    colors = system_colors(histories)
    panels = 2 if published is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 3.8), squeeze=False)
    ax = axes[0, 0]
    relative = len(histories) > 1
    for name, doc in histories.items():
        hist = doc.get("history", [])
        base = doc.get("baseline_valid")
        if not hist or (relative and not base):
            continue
        color = colors[name]
        epochs = [e["epoch"] for e in hist]
        if relative:
            ax.plot(epochs, [e["valid"] / base for e in hist], color=color, marker=".", label=name)
            continue
        ax.plot(epochs, [e["valid"] for e in hist], color=color, label=f"{name} valid")
        ax.plot(epochs, [e["train"] for e in hist], color=color, ls="--", alpha=0.7, label=f"{name} train")
        if base is not None:
            ax.axhline(base, color=color, ls=":", lw=1, label=f"{name}: mixture/4 (valid)")
    if relative:
        ax.axhline(1.0, color="0.5", ls=":", lw=1, label="mixture/4 baseline")
        ax.set_ylabel("validation loss / mixture/4 baseline")
    else:
        ax.set_ylabel("training loss (normalised)")
    ax.set_xlabel("epoch")
    ax.set_title("this study")
    ax.legend(fontsize=7)
    if published is not None:
        ax = axes[0, 1]
        for i, run in enumerate(published_runs):
            rows = published[published["run"] == run].sort_values("epoch")
            if rows.empty:
                continue
            ax.plot(rows["epoch"] + 1, rows["valid_l1"], color=f"C{i}", label=f"released '{run}' valid")
            ax.plot(rows["epoch"] + 1, rows["train_l1"], color=f"C{i}", ls="--", alpha=0.7,
                    label=f"released '{run}' train")
        ax.set_xlabel("epoch")
        ax.set_title("released Demucs (arXiv 1911.13254), MUSDB18")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def sdr_boxplot(scores, systems: list[str] | None = None, targets=SOURCES, metric: str = "SDR",
                labels: dict[str, str] | None = None):
    """SiSEC-style box plots (seaborn): per-track ``metric`` (median over frames), one panel per stem,
    one box per system in its colour (:func:`system_colors`).

    ``scores``: long DataFrame (system, track, target, metric, value). Systems ordered as given, else by
    their median over stems. NaN values (tracks where a stem is silent throughout) are left out.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    theme()
    df = scores[(scores["metric"] == metric) & scores["target"].isin(targets)].dropna(subset=["value"])
    if systems is None:
        systems = list(df.groupby("system")["value"].median().sort_values().index)
    labels = labels or {}
    df = df[df["system"].isin(systems)].assign(label=lambda d: d["system"].map(lambda s: labels.get(s, s)))
    order = [labels.get(s, s) for s in systems]
    palette = {labels.get(s, s): c for s, c in system_colors(systems).items()}
    fig, axes = plt.subplots(1, len(targets), figsize=(3.2 * len(targets), 0.45 * len(systems) + 1.6),
                             sharey=True, squeeze=False)
    for ax, target in zip(axes[0], targets):
        sns.boxplot(data=df[df["target"] == target], x="value", y="label", hue="label", order=order,
                    hue_order=order, palette=palette, legend=False, ax=ax, width=0.6, fliersize=2, linewidth=1)
        ax.set_title(target)
        ax.set_xlabel(f"{metric} (dB)")
        ax.set_ylabel("")
    fig.tight_layout()
    return fig


def separation_signals(mixture: np.ndarray, stems: np.ndarray, estimates: np.ndarray,
                       sources=SOURCES) -> dict[str, np.ndarray]:
    """``{"mixture", "<source> (true)", "<source> (estimate)", ...}`` from a mixture (C, T), the true stems
    and a system's estimates (S, C, T): what a separation figure and its players show."""
    out = {"mixture": mixture}
    for i, name in enumerate(sources):
        out[f"{name} (true)"] = stems[i]
        out[f"{name} (estimate)"] = estimates[i]
    return out


def comparison_signals(mixture: np.ndarray, reference: np.ndarray, estimates: dict[str, np.ndarray],
                       stem: str) -> dict[str, np.ndarray]:
    """The signals of a comparison figure: ``{"mixture", "<stem> (true)", "<stem> (<system>)"...}`` from a
    mixture (C, T), the true stem (C, T) and each system's estimate of it (C, T)."""
    return {"mixture": mixture, f"{stem} (true)": reference, **{f"{stem} ({s})": e for s, e in estimates.items()}}



def seed_learning_curves(histories: dict[str, dict], groups: dict[str, list[str]], columns: int = 3):
    """Per-seed learning curves: one panel per experiment with several seeds (``groups``: label -> the
    experiment names of its seeds, e.g. ``{"demucs (3 seeds)": ["demucs", "demucs seed=43", ...]}``), one
    colour per seed: validation loss solid, training loss dashed (the seeds of one experiment train on the same
    loss, so the values compare within a panel; panels have their own scales). Runs without a history are
    skipped."""
    import matplotlib.pyplot as plt

    theme()
    labels = [g for g, members in groups.items() if any(m in histories for m in members)]
    cols = max(1, min(columns, len(labels)))
    rows = max(1, math.ceil(len(labels) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for ax in axes.flat[len(labels):]:
        ax.axis("off")
    for ax, label in zip(axes.flat, labels):
        for i, name in enumerate(m for m in groups[label] if m in histories):
            doc = histories[name]
            hist = doc.get("history", [])
            seed = (doc.get("params") or {}).get("seed", name)
            epochs = [e["epoch"] for e in hist]
            ax.plot(epochs, [e["valid"] for e in hist], color=f"C{i}", marker=".", label=f"seed {seed} valid")
            ax.plot(epochs, [e["train"] for e in hist], color=f"C{i}", ls="--", alpha=0.6, lw=1,
                    label=f"seed {seed} train")
        ax.set_title(label, fontsize=9)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.legend(fontsize=6)
    if not labels:
        axes[0, 0].text(0.5, 0.5, "no experiment with several seeds", ha="center", transform=axes[0, 0].transAxes)
    fig.tight_layout()
    return fig


def ablation_figure(table, target: str = "All"):
    """Ablation deltas (dB) with error bars of ±2 standard errors, ours (synthetic test set) against the released
    Demucs' (MUSDB18) for the same change, one row per change (``reporting.paper.ablation_table``). A hollow
    marker: one seed, whose bar is sqrt(2) x the baseline's seed spread; "released: missing" when the release
    has no such run."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    theme()
    ours_color, released_color = sns.color_palette("colorblind", 2).as_hex()
    n = len(table)
    fig, ax = plt.subplots(figsize=(8.0, 0.6 * max(n, 1) + 1.6))
    if not n:
        ax.text(0.5, 0.5, "no ablation scored", ha="center", transform=ax.transAxes)
        return fig
    y = np.arange(n)
    for i, (_, r) in enumerate(table.iterrows()):
        one = str(r["s.e. from"]).startswith("1 seed")
        se = float(r[f"delta {target} s.e."]) if f"delta {target} s.e." in r else float("nan")
        ax.errorbar(r[f"delta {target}"], i - 0.14, xerr=None if se != se else 2 * se, fmt="o", color=ours_color,
                    mfc="white" if one else ours_color, capsize=3, label="ours" if i == 0 else None)
        if r["published"] == "missing":
            ax.text(0.0, i + 0.18, " released: missing", fontsize=7, color=released_color, va="center")
            continue
        pse = float(r["published delta All s.e."]) if target == "All" else float("nan")
        pone = str(r["published s.e. from"]).startswith("1 seed")
        ax.errorbar(r[f"published delta {target}"], i + 0.14, xerr=None if pse != pse else 2 * pse, fmt="s",
                    color=released_color, mfc="white" if pone else released_color, capsize=3,
                    label="released Demucs (MUSDB18)" if "released Demucs (MUSDB18)" not in
                    ax.get_legend_handles_labels()[1] else None)
    ax.axvline(0.0, color="0.4", lw=1, ls=":")
    ax.set_yticks(y)
    ax.set_yticklabels([f"{r['change']}\n({r['experiment']})" for _, r in table.iterrows()], fontsize=7)
    ax.set_ylim(n - 0.5, -0.5)          # the first change on top
    ax.set_xlabel(f"SDR delta to the baseline, {target} (dB); bars ±2 s.e.; hollow: one seed")
    ax.set_title("ablations: ours (synthetic test set) and the released Demucs (MUSDB18)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig
