"""Loudness as ITU-R BS.1770-4 defines it: the K-weighting filter and the gated integrated loudness
(LUFS, through pyloudnorm). Used by the generator to balance its stems and by :mod:`.realism` to
measure mixtures."""
from __future__ import annotations

import numpy as np


def as_2d(x: np.ndarray) -> np.ndarray:
    """``x`` as float64 ``(channels, time)`` (a 1-D signal becomes one channel)."""
    x = np.asarray(x, dtype=np.float64)
    return x[None] if x.ndim == 1 else x


def _biquad(kind: str, fc: float, gain_db: float, q: float, samplerate: int) -> tuple[np.ndarray, np.ndarray]:
    """RBJ "Audio EQ Cookbook" biquad coefficients (b, a), a normalised to a[0] = 1."""
    amp = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * fc / samplerate
    cw, alpha = np.cos(w0), np.sin(w0) / (2 * q)
    if kind == "high_shelf":
        s = 2 * np.sqrt(amp) * alpha
        b = [amp * ((amp + 1) + (amp - 1) * cw + s), -2 * amp * ((amp - 1) + (amp + 1) * cw),
             amp * ((amp + 1) + (amp - 1) * cw - s)]
        a = [(amp + 1) - (amp - 1) * cw + s, 2 * ((amp - 1) - (amp + 1) * cw), (amp + 1) - (amp - 1) * cw - s]
    elif kind == "high_pass":
        b = [(1 + cw) / 2, -(1 + cw), (1 + cw) / 2]
        a = [1 + alpha, -2 * cw, 1 - alpha]
    else:
        raise ValueError(kind)
    b, a = np.array(b), np.array(a)
    return b / a[0], a / a[0]


def k_weight(x: np.ndarray, samplerate: int, dtype=np.float64) -> np.ndarray:
    """The K-weighting of BS.1770 (a +4 dB high shelf above ~1.5 kHz, then a 38 Hz high-pass), with the
    same filter parameters as pyloudnorm's default meter: ``(channels, time)`` -> same shape, computed
    in ``dtype`` (float32 is faster and good to a few hundredths of a dB for levelling)."""
    from scipy.signal import sosfilt

    sos = [np.concatenate(_biquad(kind, fc, g, q, samplerate))
           for kind, fc, g, q in (("high_shelf", 1500.0, 4.0, 1 / np.sqrt(2)), ("high_pass", 38.0, 0.0, 0.5))]
    x = np.asarray(x, dtype=dtype)
    return sosfilt(np.array(sos, dtype=dtype), x[None] if x.ndim == 1 else x, axis=-1)


def loudness(x: np.ndarray, samplerate: int) -> float:
    """Integrated loudness (LUFS) of ``x`` (channels, time) with pyloudnorm (BS.1770-4 gating);
    -inf for silence. Needs at least 0.4 s of audio."""
    import pyloudnorm

    y = as_2d(x)
    with np.errstate(divide="ignore"):
        value = pyloudnorm.Meter(samplerate).integrated_loudness(np.ascontiguousarray(y.T))
    return float(value)
