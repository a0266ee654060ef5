"""Figures of the study (matplotlib). Each function returns a Figure; ``save_figure`` writes PNG and SVG."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import SOURCES
from ..utils import atomic_path


def save_figure(fig, out_dir: str | Path, name: str, dpi: int = 110) -> list[Path]:
    """Write ``fig`` as ``out_dir/name.png`` and ``out_dir/name.svg`` (atomically). Returns the paths."""
    out = []
    for ext in ("png", "svg"):
        path = Path(out_dir) / f"{name}.{ext}"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=ext, metadata={"Date": None} if ext == "svg" else None)
        out.append(path)
    return out


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
    """Validation (solid) and training (dashed) L1 per epoch of our experiments, next to the released
    Demucs runs (``results/published/demucs1911_training_logs.csv``, 8 x V100, MUSDB18).

    ``histories``: experiment name -> the ``history.json`` of its run (``history`` entries with epoch,
    train, valid; ``baseline_valid`` = the loss of predicting mixture/4 for every stem, drawn dotted).
    ``published``: the training-log DataFrame (run, epoch, train_l1, valid_l1, ...) or None.
    The two panels have their own scales: the datasets differ, only the shapes compare.
    """
    import matplotlib.pyplot as plt

    panels = 2 if published is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 3.8), squeeze=False)
    ax = axes[0, 0]
    for i, (name, doc) in enumerate(histories.items()):
        hist = doc.get("history", [])
        if not hist:
            continue
        color = f"C{i % 10}"
        epochs = [e["epoch"] for e in hist]
        ax.plot(epochs, [e["valid"] for e in hist], color=color, label=f"{name} valid")
        ax.plot(epochs, [e["train"] for e in hist], color=color, ls="--", alpha=0.7, label=f"{name} train")
        if doc.get("baseline_valid") is not None:
            ax.axhline(doc["baseline_valid"], color=color, ls=":", lw=1, label=f"{name}: mixture/4 (valid)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("L1 loss (normalised waveform)")
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
    """SiSEC-style box plots: per-track ``metric`` (median over frames) per stem, one box per system.

    ``scores``: long DataFrame (system, track, target, metric, value). Systems ordered as given, else by
    their median over stems. NaN values (tracks where a stem is silent throughout) are left out.
    """
    import matplotlib.pyplot as plt

    df = scores[(scores["metric"] == metric) & scores["target"].isin(targets)].dropna(subset=["value"])
    if systems is None:
        systems = list(df.groupby("system")["value"].median().sort_values().index)
    labels = labels or {}
    fig, axes = plt.subplots(1, len(targets), figsize=(3.2 * len(targets), 0.45 * len(systems) + 1.6),
                             sharey=True, squeeze=False)
    for ax, target in zip(axes[0], targets):
        data = [df[(df["system"] == s) & (df["target"] == target)]["value"].to_numpy() for s in systems]
        ax.boxplot(data, vert=False, showfliers=True, widths=0.6, medianprops={"color": "C3"},
                   flierprops={"markersize": 3})
        ax.set_title(target)
        ax.set_xlabel(f"{metric} (dB)")
        ax.grid(axis="x", alpha=0.3)
    axes[0, 0].set_yticks(range(1, len(systems) + 1), [labels.get(s, s) for s in systems])
    fig.tight_layout()
    return fig
