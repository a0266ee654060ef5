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
