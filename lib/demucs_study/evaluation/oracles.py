"""Reference "systems" computed on our own test tracks: SiSEC 2018's lower bound and oracle.

* :func:`mixture_estimates` — SiSEC's ``MIX``: the mixture given as the estimate of every stem
  (published MUSDB18 All SDR 1.07 dB).
* :func:`ideal_ratio_mask` — SiSEC's ``IRM2`` oracle: each stem's power ``|S_j|^2`` divided by the
  sum of all stems' powers, applied to the mixture's STFT (published MUSDB18 All SDR 8.22 dB).
  It needs the true stems, so it bounds what a mask-based (spectrogram) model could reach.

Arrays: one signal ``(channels, time)``, stems ``(sources, channels, time)``, float32 out.
"""
from __future__ import annotations

import numpy as np

from ..errors import AudioError

#: SiSEC 2018's IRM oracles use a 4096-point STFT with a 1024 hop at 44.1 kHz (sigsep-mus-oracle).
N_FFT = 4096
HOP = 1024


def _transform(n_fft: int, hop: int):
    from scipy.signal import ShortTimeFFT
    from scipy.signal.windows import hann

    if not (isinstance(n_fft, int) and isinstance(hop, int) and 0 < hop <= n_fft // 2):
        raise AudioError(f"STFT needs integers 0 < hop <= n_fft / 2, got n_fft={n_fft}, hop={hop}")
    # A periodic Hann window with hop <= n_fft / 2 has a well-defined canonical dual window, so
    # istft(stft(x)) == x up to rounding.
    return ShortTimeFFT(hann(n_fft, sym=False), hop=hop, fs=1.0)


def stft(x: np.ndarray, n_fft: int = N_FFT, hop: int = HOP) -> np.ndarray:
    """Short-time Fourier transform along the last axis.

    ``x`` ``(..., time)`` real -> ``(..., n_fft // 2 + 1, frames)`` complex (complex64 for float32
    input). Periodic Hann window; the signal is zero-padded at both ends so every sample is
    covered by full windows (frames = about time / hop + n_fft / hop); signals shorter than
    ``n_fft / 2`` are zero-padded to that length first.
    """
    x = np.asarray(x)
    if x.shape[-1] == 0:
        raise AudioError("stft of an empty signal (0 samples)")
    transform = _transform(n_fft, hop)
    short = -(-n_fft // 2) - x.shape[-1]
    if short > 0:  # scipy needs at least half a window: pad with zeros (istft trims them)
        x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, short)])
    return transform.stft(x, axis=-1)


def istft(spec: np.ndarray, length: int, n_fft: int = N_FFT, hop: int = HOP) -> np.ndarray:
    """Inverse of :func:`stft`: ``(..., n_fft // 2 + 1, frames)`` -> real ``(..., length)``."""
    full = max(length, -(-n_fft // 2))  # scipy needs at least half a window (see :func:`stft`)
    return _transform(n_fft, hop).istft(spec, k1=full, f_axis=-2, t_axis=-1)[..., :length]


def _check_signal(mix: np.ndarray, what: str = "mixture") -> np.ndarray:
    mix = np.asarray(mix)
    if mix.ndim != 2 or mix.shape[-1] == 0:
        raise AudioError(f"the {what} must be a non-empty (channels, time) array, got shape {mix.shape}")
    return mix


def mixture_estimates(mix: np.ndarray, sources: int = 4) -> np.ndarray:
    """SiSEC's ``MIX`` lower bound: ``mix`` ``(channels, time)`` -> ``(sources, channels, time)``
    float32, every stem's estimate being the mixture itself."""
    mix = _check_signal(mix)
    return np.repeat(mix[None].astype(np.float32), sources, axis=0)


def ideal_ratio_mask(mix: np.ndarray, stems: np.ndarray, power: float = 2.0, n_fft: int = N_FFT,
                     hop: int = HOP) -> np.ndarray:
    """SiSEC's IRM oracle (``IRM2`` for ``power=2``, ``IRM1`` for ``power=1``).

    ``estimate_j = istft(STFT(mix) * |S_j|^p / sum_k |S_k|^p)`` per channel, ``S_j`` the STFT of
    the true stem ``j``; where every stem is silent the mixture is split equally, so the
    estimates always sum back to the mixture (up to STFT rounding).

    Args:
        mix: ``(channels, time)``; the masks are applied to it (MUSDB's mixture is not exactly
            the sum of its stems).
        stems: ``(sources, channels, time)``, the true stems.
        power: exponent ``p`` of the magnitudes.
        n_fft, hop: STFT size and hop in samples (SiSEC 2018: 4096 and 1024).

    Returns:
        ``(sources, channels, time)`` float32. Computed in float32, one channel and one stem's
        STFT at a time: peak memory about ``(4 * sources + 16) * 2 * time`` bytes for
        ``hop = n_fft / 4`` (0.7 GB for a 4 minute track).
    """
    mix = _check_signal(mix)
    stems = np.asarray(stems)
    if stems.ndim != 3 or stems.shape[1:] != mix.shape:
        raise AudioError(f"stems must be (sources, channels, time) matching the mixture {mix.shape}, "
                         f"got shape {stems.shape}")
    if not power > 0:
        raise AudioError(f"the mask power must be positive, got {power}")
    n_src, n_chan, length = stems.shape
    out = np.empty(stems.shape, dtype=np.float32)
    for c in range(n_chan):
        mix_spec = stft(mix[c].astype(np.float32), n_fft, hop)
        mags = np.empty((n_src,) + mix_spec.shape, dtype=np.float32)  # (S, F, N)
        for j in range(n_src):
            mags[j] = np.abs(stft(stems[j, c].astype(np.float32), n_fft, hop)) ** power
        total = mags.sum(axis=0)
        silent = total <= 0
        for j in range(n_src):
            mask = np.divide(mags[j], total, out=np.full_like(total, 1.0 / n_src), where=~silent)
            out[j, c] = istft(mask * mix_spec, length, n_fft, hop).astype(np.float32)
    return out
