"""Demucs, the waveform model released with "Music Source Separation in the Waveform Domain"
(Defossez et al., arXiv 1911.13254, Nov 2019), the reference model of this study.

Architecture (docs/paper.md, section "Model"): a U-Net on waveforms with no
normalisation and no padding. ``depth`` encoder blocks (strided conv + ReLU, then a 1x1 "rewrite"
conv + GLU), a bidirectional LSTM over time at the bottleneck, ``depth`` decoder blocks (add the
centre-trimmed skip, a ``context`` conv + GLU, a transposed strided conv + ReLU, no activation in
the last block). Callers pad the input to :meth:`Demucs.valid_length` and centre-trim the output.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

from .. import SAMPLERATE, SOURCES
from ..errors import ParamsError
from .base import Separator
from .utils import capture_init, center_trim


class _BLSTM(nn.Module):
    """Bidirectional LSTM over time then Linear(2C -> C): ``(B, C, T) -> (B, C, T)``."""

    def __init__(self, channels: int, layers: int):
        super().__init__()
        self.lstm = nn.LSTM(channels, channels, num_layers=layers, bidirectional=True)
        self.linear = nn.Linear(2 * channels, channels)

    def forward(self, x):
        x = x.permute(2, 0, 1)          # (T, B, C): the LSTM's default (time-first) layout
        x = self.linear(self.lstm(x)[0])
        return x.permute(1, 2, 0)


def _rewrite(in_channels: int, channels: int, kernel_size: int, glu: bool) -> list[nn.Module]:
    """A conv keeping ``channels`` channels after its activation (GLU halves 2C -> C)."""
    if glu:
        return [nn.Conv1d(in_channels, 2 * channels, kernel_size), nn.GLU(dim=1)]
    return [nn.Conv1d(in_channels, channels, kernel_size), nn.ReLU()]


def rescale_(module: nn.Module, reference: float) -> None:
    """The "rescale" initialisation (docs/paper.md, section "Model"; reference a = 0.1 in the released runs).

    For every Conv1d and ConvTranspose1d, with ``s = weight.std()``, divide weight and bias by
    ``sqrt(s / a)``: the weight std becomes ``sqrt(s * a)``. In place, no gradient.
    """
    with torch.no_grad():
        for sub in module.modules():
            if isinstance(sub, (nn.Conv1d, nn.ConvTranspose1d)):
                scale = (sub.weight.std() / reference).sqrt()
                sub.weight.div_(scale)
                if sub.bias is not None:
                    sub.bias.div_(scale)


def source_names(sources: int | Sequence[str]) -> list[str]:
    """``sources`` as a list of names: an int must be ``len(SOURCES)`` (the MUSDB stems in order)."""
    if isinstance(sources, int):
        if sources != len(SOURCES):
            raise ParamsError(
                f"sources={sources}: an int is only a shorthand for the {len(SOURCES)} MUSDB stems "
                f"{list(SOURCES)}; pass the list of source names instead")
        return list(SOURCES)
    names = [str(name) for name in sources]
    if not names or len(set(names)) != len(names):
        raise ParamsError(f"sources={names!r}: give a non-empty list of distinct source names")
    return names


class Demucs(Separator):
    """The Demucs waveform separator (arXiv 1911.13254), with the ablation switches of the paper.

    Args (defaults: the class defaults of the Nov 2019 release; its training runs used channels=100):
        sources: the stems to output, as a list of names, or the int 4 meaning
            ``demucs_study.SOURCES``. The attribute ``sources`` is always the list of names; the
            recorded constructor argument (``_init_args``) keeps what was given, so it round trips.
        audio_channels: 2 for stereo.
        channels: C_1, output channels of the first encoder block; C_i = int(growth * C_{i-1}).
        depth: number of encoder (and decoder) blocks.
        kernel_size, stride: of the strided encoder convs and transposed decoder convs.
        context: kernel size of the decoder's rewrite conv (1: no temporal context).
        lstm_layers: layers of the BiLSTM bottleneck (hidden size C_depth); 0 disables it.
        glu: GLU after the rewrite convs (False: ReLU, the convs output C_i instead of 2 C_i).
        rewrite: add the 1x1 encoder / ``context`` decoder convs.
        rescale: reference std a of the rescale initialisation (0 disables it).
        samplerate: sample rate the model works at (metadata for ``separate``; not used inside).

    Sizes (docs/paper.md, section "Model"): channels=64 -> 265.7 M parameters, channels=100 -> 648.5 M.
    """

    @capture_init
    def __init__(self, sources: int | Sequence[str] = 4, audio_channels: int = 2, channels: int = 64,
                 depth: int = 6, growth: float = 2.0, kernel_size: int = 8, stride: int = 4,
                 context: int = 3, lstm_layers: int = 2, glu: bool = True, rewrite: bool = True,
                 rescale: float = 0.1, samplerate: int = SAMPLERATE):
        super().__init__()
        self.sources = source_names(sources)
        self.audio_channels = audio_channels
        self.depth = depth
        self.kernel_size = kernel_size
        self.stride = stride
        self.context = context
        self.samplerate = samplerate

        self.encoder = nn.ModuleList()
        self.decoder = nn.ModuleList()   # deepest block first, the order forward applies them
        in_channels = audio_channels
        for index in range(depth):
            encode: list[nn.Module] = [nn.Conv1d(in_channels, channels, kernel_size, stride), nn.ReLU()]
            decode: list[nn.Module] = []
            if rewrite:
                encode += _rewrite(channels, channels, 1, glu)
                decode += _rewrite(channels, channels, context, glu)
            out_channels = len(self.sources) * audio_channels if index == 0 else in_channels
            decode.append(nn.ConvTranspose1d(channels, out_channels, kernel_size, stride))
            if index > 0:
                decode.append(nn.ReLU())
            self.encoder.append(nn.Sequential(*encode))
            self.decoder.insert(0, nn.Sequential(*decode))
            in_channels = channels
            channels = int(growth * channels)

        self.lstm = _BLSTM(in_channels, lstm_layers) if lstm_layers else None
        if rescale:
            rescale_(self, rescale)

    def valid_length(self, length: int) -> int:
        """Smallest input length >= ``length`` for which every strided conv sees full windows
        (no sample dropped) and the output has at least ``length`` samples.

        E.g. 441,000 (10 s) -> 451,924, whose output has 441,004 samples (docs/paper.md, section "Model").
        Each decoder level (from the output up) needs ``D >= context + ceil((target - k) / s)``
        input samples to produce ``target``; the input length is then rebuilt from the deepest one.
        """
        k, s = self.kernel_size, self.stride
        target = length
        for _ in range(self.depth):
            target = self.context + max(0, math.ceil((target - k) / s))
        for _ in range(self.depth):
            target = (target - 1) * s + k
        return target

    def forward(self, mix):
        """Separate a batch of mixtures.

        ``mix``: ``(batch, audio_channels, T)`` float, with T a valid length (:meth:`valid_length`).
        Returns ``(batch, len(sources), audio_channels, T')``, T' <= T, centred on the input:
        ``center_trim(mix, T')`` is aligned with the output (T = 451,924 gives T' = 441,004).
        """
        if mix.dim() != 3 or mix.shape[1] != self.audio_channels:
            raise ValueError(f"Demucs expects (batch, {self.audio_channels}, time), got {tuple(mix.shape)}")
        x = mix
        skips = []
        for encode in self.encoder:
            x = encode(x)
            skips.append(x)
        if self.lstm is not None:
            x = self.lstm(x)
        for decode in self.decoder:
            x = decode(x + center_trim(skips.pop(), x))
        return x.view(x.shape[0], len(self.sources), self.audio_channels, x.shape[-1])
