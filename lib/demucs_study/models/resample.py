"""Sample-rate conversion of batches of waveforms inside a model (soxr "HQ", no gradient).

Used by Wave-U-Net, which works at 22.05 kHz inside while its callers give and get 44.1 kHz
(:mod:`demucs_study.models.waveunet`). soxr's ``resample`` compensates its filter delay, so the
conversion is aligned: converting by a factor 1/2, output sample ``j`` is the input at sample ``2 j``;
by a factor 2, output sample ``k`` is the input at sample ``k / 2``. A signal of ``T`` samples
becomes ``ceil(T / 2)`` or ``2 T`` samples. Only the samples near the ends of the output feel the
ends of the input (the filter sees zeros beyond them): callers drop ``EDGE // 2`` samples at each end
of a signal downsampled by 2 and :data:`EDGE` at each end of one upsampled by 2.

The data never needs a gradient here (the mixture and the stems are inputs, the upsampled
estimates are only used at inference), so the conversion runs on numpy (:func:`demucs_study.audio.resample`,
the conversion the data layer uses) and returns a new tensor (detached) on the input's device and dtype.
"""
from __future__ import annotations

import torch

from ..audio import resample as resample_array

#: Samples to drop at each end of a signal upsampled by 2 (half as many after downsampling by 2): those
#: that may differ by more than 1e-5 of the peak from the conversion of a longer signal are at most 155
#: after x2 (44.1 kHz) and 75 after /2 (22.05 kHz) (measured on white noise), rounded up with margin.
EDGE = 256


def resample(wav: torch.Tensor, in_rate: int, out_rate: int) -> torch.Tensor:
    """Convert ``wav`` ``(..., T)`` from ``in_rate`` to ``out_rate`` along its last dimension.

    Returns a tensor ``(..., T')`` (``T' = round(T * out_rate / in_rate)``, see soxr) with ``wav``'s
    dtype and device, computed in float32 on the CPU without gradient. ``in_rate == out_rate``
    returns ``wav`` itself.
    """
    if in_rate == out_rate:
        return wav
    lead, length = wav.shape[:-1], wav.shape[-1]
    flat = wav.detach().reshape(-1, length).to("cpu", torch.float32).numpy()   # every row is one channel
    out = torch.from_numpy(resample_array(flat, in_rate, out_rate))
    return out.reshape(*lead, out.shape[-1]).to(device=wav.device, dtype=wav.dtype)
