"""STFT, inverse STFT and the multichannel Wiener filter of the spectrogram models (MMDense).

* :func:`stft` / :func:`istft`: a periodic Hann window, frames centred on multiples of the hop
  (the signal is zero-padded by ``n_fft // 2`` at both ends, so any length works), scaled by
  ``1 / sqrt(n_fft)`` (``normalized=True``: magnitudes of a normalised waveform are of order one).
  With ``hop_length <= n_fft / 2`` the pair is an exact inverse: ``istft(stft(x), length=T) == x``
  up to float rounding.
* :func:`wiener`: the magnitude estimates of every source and the complex STFT of the mixture ->
  complex STFTs of the sources, by ``norbert.wiener`` (sigsep's Wiener filtering library, used by the
  SiSEC 2018 reference Open-Unmix in the same way), in float64. With ``iterations >= 1`` the
  estimates are refined by that many expectation-maximisation steps of the multichannel Wiener filter
  (spatial covariance per source and bin), starting from the estimated magnitudes with the mixture's
  phase (norbert's ``use_softmask=False``, as Open-Unmix); with ``iterations = 0`` it is a ratio mask
  of the magnitudes. The EM steps share a bin of the mixture among the sources only approximately
  (norbert regularises the mixture covariance, and a bin where every estimate is tiny has a spatial
  model that need not contain the mixture), so what they leave unassigned, ``x - sum_j y_j``, is
  shared by the ratio mask of the magnitudes (a "mixture consistency" step of ours: it changes the
  estimates by ~1e-5 of the mixture where they are meaningful): the estimates sum to the mixture.
"""
from __future__ import annotations

import numpy as np
import torch

#: Added to every magnitude estimate, in units of the chunk's largest mixture magnitude, so that the
#: ratio mask is defined where every estimate is zero (a ReLU output): such a bin is shared equally.
WIENER_FLOOR = 1e-9
#: norbert scales a mixture whose peak magnitude exceeds 10 down to 10 (and regularises its covariance
#: with ``sqrt(eps)``): every chunk is scaled to that peak, so the result does not depend on its level.
_PEAK = 10.0


def _window(n_fft: int, device) -> torch.Tensor:
    return torch.hann_window(n_fft, periodic=True, device=device)


def stft(wav: torch.Tensor, n_fft: int, hop_length: int) -> torch.Tensor:
    """``(..., T)`` real -> ``(..., n_fft // 2 + 1, T // hop_length + 1)`` complex."""
    lead, length = wav.shape[:-1], wav.shape[-1]
    spec = torch.stft(wav.reshape(-1, length), n_fft, hop_length, window=_window(n_fft, wav.device),
                      center=True, pad_mode="constant", normalized=True, return_complex=True)
    return spec.reshape(*lead, *spec.shape[-2:])


def istft(spec: torch.Tensor, n_fft: int, hop_length: int, length: int) -> torch.Tensor:
    """``(..., F, N)`` complex -> ``(..., length)`` real, the inverse of :func:`stft`."""
    lead = spec.shape[:-2]
    wav = torch.istft(spec.reshape(-1, *spec.shape[-2:]), n_fft, hop_length, window=_window(n_fft, spec.device),
                      center=True, normalized=True, length=length)
    return wav.reshape(*lead, length)


def wiener(magnitudes: torch.Tensor, mix_spec: torch.Tensor, iterations: int = 1) -> torch.Tensor:
    """Complex source STFTs from magnitude estimates, by norbert's multichannel Wiener filter.

    ``magnitudes``: ``(B, S, C, F, N)`` non-negative; ``mix_spec``: ``(B, C, F, N)`` complex (the
    mixture's :func:`stft`). Returns ``(B, S, C, F, N)`` complex64 on ``mix_spec``'s device, whose sum
    over sources is ``mix_spec`` up to float rounding. No gradient. ``iterations``: EM steps (0: ratio mask).
    """
    import norbert

    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
        raise ValueError(f"wiener: iterations={iterations!r} must be a whole number >= 0")
    if magnitudes.dim() != 5 or mix_spec.dim() != 4 or magnitudes.shape[:1] + magnitudes.shape[2:] != mix_spec.shape:
        raise ValueError(f"wiener: magnitudes {tuple(magnitudes.shape)} must be (B, S, C, F, N) for a mixture "
                         f"STFT (B, C, F, N), got the mixture {tuple(mix_spec.shape)}")
    mags = magnitudes.detach().to("cpu", torch.float64).numpy()
    specs = mix_spec.detach().to("cpu", torch.complex128).numpy()
    out = np.zeros(mags.shape, dtype=np.complex128)
    for b in range(mags.shape[0]):
        x = specs[b].transpose(2, 1, 0)                    # (N, F, C): norbert's layout
        scale = float(np.abs(x).max()) / _PEAK
        if scale == 0:
            continue                                        # silent chunk: silent estimates
        x = np.ascontiguousarray(x / scale)
        v = mags[b].transpose(3, 2, 1, 0) / scale + WIENER_FLOOR * _PEAK    # (N, F, C, S)
        y = norbert.wiener(v, x.copy(), iterations=iterations, use_softmask=iterations == 0)
        y += v / v.sum(axis=-1, keepdims=True) * (x - y.sum(axis=-1))[..., None]   # mixture consistency
        out[b] = (y * scale).transpose(3, 2, 1, 0)          # (S, C, F, N)
    return torch.from_numpy(out).to(device=mix_spec.device, dtype=torch.complex64)
