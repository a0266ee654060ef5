"""Sample-rate conversion of batches of waveforms inside a model (soxr, no gradient).

Used by Wave-U-Net, which works at 22.05 kHz inside while its callers give and get 44.1 kHz
(:mod:`demucs_study.models.waveunet`). soxr's ``resample`` compensates its filter delay, so the
conversion is aligned: converting by a factor 1/2, output sample ``j`` is the input at sample ``2 j``;
by a factor 2, output sample ``k`` is the input at sample ``k / 2``. A signal of ``T`` samples
becomes ``ceil(T / 2)`` or ``2 T`` samples. Only the first and last :data:`EDGE` samples of the
output feel the ends of the input (the filter sees zeros beyond them): callers drop them.

The data never needs a gradient here (the mixture and the stems are inputs, the upsampled
estimates are only used at inference), so the conversion runs on numpy and returns a new tensor
(detached) on the input's device and dtype.
"""
from __future__ import annotations

import numpy as np
import torch

#: soxr quality preset: "HQ" (20-bit, its default), aligned to 1e-6 of a full-scale sine.
QUALITY = "HQ"
#: Samples at each end of a converted signal (at its output rate) that may differ by more than
#: 1e-5 of the peak from converting a longer signal (measured: <= 75 at 22.05 kHz after /2,
#: <= 155 at 44.1 kHz after x2, white noise); rounded up with margin.
EDGE = 256


def resample(wav: torch.Tensor, in_rate: int, out_rate: int) -> torch.Tensor:
    """Convert ``wav`` ``(..., T)`` from ``in_rate`` to ``out_rate`` along its last dimension.

    Returns a tensor ``(..., T')`` (``T' = round(T * out_rate / in_rate)``, see soxr) with ``wav``'s
    dtype and device, computed in float32 on the CPU without gradient. ``in_rate == out_rate``
    returns ``wav`` itself.
    """
    if in_rate == out_rate:
        return wav
    import soxr

    lead, length = wav.shape[:-1], wav.shape[-1]
    flat = wav.detach().reshape(-1, length).to("cpu", torch.float32).numpy()
    # soxr wants (frames, channels), contiguous: every row of the batch is one channel
    converted = soxr.resample(np.ascontiguousarray(flat.T), in_rate, out_rate, quality=QUALITY)
    out = torch.from_numpy(np.ascontiguousarray(converted.T))
    return out.reshape(*lead, out.shape[-1]).to(device=wav.device, dtype=wav.dtype)
