"""Wave-U-Net (Stoller, Ewert, Dixon, "Wave-U-Net: A Multi-Scale Neural Network for End-to-End
Audio Source Separation", ISMIR 2018, arXiv 1806.03185), the multi-instrument stereo model of its
public code (configuration ``full_multi_instrument``, SiSEC 2018 submission STL2).

Architecture, sources ``drums, bass, other, vocals`` (:data:`demucs_study.SOURCES`), stereo in and out:

* ``levels`` (L) downsampling blocks: level ``i`` (0-based) is a Conv1d of kernel ``down_kernel``
  (15) with ``filters * (i + 1)`` output channels and LeakyReLU(0.2); its output is kept for the
  skip connection, then decimated (every other sample, ``n -> (n - 1) / 2 + 1``).
* a bottleneck Conv1d (kernel ``down_kernel``, ``filters * (L + 1)`` channels, LeakyReLU);
* L upsampling blocks, deepest first: linear interpolation ``n -> 2 n - 1`` (the neighbours' mean
  between two samples), concatenation with the centre-cropped skip of the same level
  ``[skip, upsampled]``, Conv1d of kernel ``up_kernel`` (5) with ``filters * (L - i)`` channels
  (``i`` counted from the deepest), LeakyReLU;
* concatenation with the centre-cropped input mixture, then one Conv1d of kernel ``output_kernel``
  (1) per source but the last, each with ``audio_channels`` outputs; the "difference" output layer
  makes the last source (vocals) the cropped mixture minus the others, so the estimates sum to
  the mixture.

Every convolution is "valid" (no padding: the reference's ``context`` models), so the output is
centred on, and shorter than, the input: :meth:`WaveUNet.valid_length` gives the input length for a
wanted output, as Demucs does. Sizes with the paper's L = 12, F = 24: 10,263,498 parameters, the
count the public TensorFlow code prints for this configuration (see tests/test_models_waveunet.py).

Choices of ours (each a documented difference from, or a reading of, the reference code):

* ``model_rate=22050`` (the reference's native rate) converts inside: :meth:`forward` downsamples
  the 44.1 kHz mixture by 2 with soxr (:mod:`.resample`, aligned, no gradient: data only) and
  returns the estimates at 22.05 kHz, the *training domain*; :meth:`target` downsamples the stems the
  same way (soxr is linear, so the training mixture still is the sum of the training targets) and
  centre-trims them to the output, so the loss compares the network's output with the stems at its
  own rate as in the reference recipe (a loss at 44.1 kHz would need a differentiable upsampler).
  :meth:`separate` upsamples the estimates by 2 with soxr, which gives back 44.1 kHz stems whose
  high band (above 11.025 kHz) is empty, as with the reference model: they sum to the mixture
  low-passed at 11.025 kHz, not to the mixture itself. :data:`.resample.EDGE` samples at each end of
  a converted signal are dropped (128 at 22.05 kHz after downsampling; 256 at 44.1 kHz after
  upsampling) so that no estimate depends on the resampler's view of the chunk's ends, and the
  lengths are chosen so that the 44.1 kHz output is exactly centred on the 44.1 kHz input
  (:meth:`valid_length`). ``model_rate=44100`` runs the same network on the 44.1 kHz samples (the
  reference's ``full_44KHz`` option): no conversion, forward and separate are the same.
* ``output_activation="linear"`` by default (the reference's multi-instrument model uses ``tanh``,
  its code offers ``linear``): our mixtures and stems are normalised by the track's standard
  deviation (``data.datasets.normalize``), so the stems exceed +-1 and a tanh would clip them.
  No clipping at test time either (the estimates are de-normalised by ``apply_model``).
* Initialisation as TensorFlow's defaults in the reference code: Glorot-uniform weights, zero biases.
  ``zero_output_init=True`` (an option of ours, off by default) starts the output convs at zero
  instead, so that the first estimates are silence for all sources but the last, which is the
  mixture: on normalised music the reference's initialisation gives estimates 2-5 times too loud
  (on the smoke data a validation MSE of 2.4 where the mixture / 4 scores 0.20), which Adam takes
  many epochs to shrink (after 12 smoke epochs at lr 1e-3: 1.46 with the reference's, 0.21 with
  zeros). The CPU profiles use it; the full profile keeps the reference's.
* The training recipe (MSE, Adam 1e-4, batch 16, random source gains in [0.7, 1.0], i.e.
  ``augment.Scale``) is given by the parameters, not by the model.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .. import SAMPLERATE
from ..errors import ParamsError
from .base import Separator
from .demucs import source_names
from .resample import EDGE, resample
from .utils import capture_init, center_trim

#: LeakyReLU slope of the reference code (``Utils.LeakyReLU``).
LEAKY_SLOPE = 0.2
ACTIVATIONS = ("linear", "tanh")


class WaveUNet(Separator):
    """Wave-U-Net with valid convolutions and the difference output (arXiv 1806.03185, SiSEC STL2).

    Args (defaults: the paper's multi-instrument model, ``full_multi_instrument`` of its code):
        sources: the stems, a list of names or the int 4 (:data:`demucs_study.SOURCES`); the last one
            is the "difference" source (mixture minus the others).
        audio_channels: 2 for stereo.
        levels: L, number of downsampling (and upsampling) blocks.
        filters: F, level ``i`` has ``F * (i + 1)`` channels, the bottleneck ``F * (L + 1)``.
        down_kernel: kernel size of the downsampling and bottleneck convs (15).
        up_kernel: kernel size of the upsampling convs (5).
        output_kernel: kernel size of the output convs (1).
        output_activation: ``"linear"`` (default, see the module docstring) or ``"tanh"`` (the
            reference's), applied to every output conv (not to the difference source).
        model_rate: the rate the network runs at, 22050 (default: the reference's, with soxr
            conversion inside) or 44100 (no conversion). Mixtures in and stems out are always at
            ``samplerate`` = 44100.
        zero_output_init: start the output convs at zero (ours, see the module docstring); False:
            Glorot-uniform like every other conv (the reference's).
    """

    @capture_init
    def __init__(self, sources: int | Sequence[str] = 4, audio_channels: int = 2, levels: int = 12,
                 filters: int = 24, down_kernel: int = 15, up_kernel: int = 5, output_kernel: int = 1,
                 output_activation: str = "linear", model_rate: int = SAMPLERATE // 2,
                 zero_output_init: bool = False):
        super().__init__()
        self.sources = source_names(sources)
        if len(self.sources) < 2:
            raise ParamsError(f"sources={self.sources!r}: the difference output needs at least two sources")
        if model_rate not in (SAMPLERATE // 2, SAMPLERATE):
            raise ParamsError(f"model_rate={model_rate!r}: Wave-U-Net runs at {SAMPLERATE // 2} Hz (the reference's, "
                              f"with resampling inside) or {SAMPLERATE} Hz; set models.waveunet.model_rate to "
                              "one of them")
        if output_activation not in ACTIVATIONS:
            raise ParamsError(f"output_activation={output_activation!r}: use one of {list(ACTIVATIONS)} "
                              "(models.waveunet.output_activation)")
        for name, value in (("levels", levels), ("filters", filters), ("down_kernel", down_kernel),
                            ("up_kernel", up_kernel), ("output_kernel", output_kernel)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ParamsError(f"{name}={value!r}: give a whole number >= 1 (models.waveunet.{name})")
        for name, value in (("down_kernel", down_kernel), ("up_kernel", up_kernel), ("output_kernel", output_kernel)):
            if value % 2 == 0:
                raise ParamsError(f"{name}={value}: give an odd kernel size so the output stays centred "
                                  f"on the input (models.waveunet.{name})")
        self.audio_channels = audio_channels
        self.samplerate = SAMPLERATE
        self.model_rate = int(model_rate)
        self.levels, self.filters = levels, filters
        self.down_kernel, self.up_kernel, self.output_kernel = down_kernel, up_kernel, output_kernel
        self.output_activation = output_activation

        self.down = nn.ModuleList()
        in_channels = audio_channels
        for i in range(levels):
            self.down.append(nn.Conv1d(in_channels, filters * (i + 1), down_kernel))
            in_channels = filters * (i + 1)
        self.bottleneck = nn.Conv1d(in_channels, filters * (levels + 1), down_kernel)
        self.up = nn.ModuleList()
        in_channels = filters * (levels + 1)
        for i in range(levels):
            out_channels = filters * (levels - i)
            self.up.append(nn.Conv1d(in_channels + out_channels, out_channels, up_kernel))
            in_channels = out_channels
        self.output = nn.ModuleList(nn.Conv1d(in_channels + audio_channels, audio_channels, output_kernel)
                                    for _ in self.sources[:-1])
        for module in self.modules():
            if isinstance(module, nn.Conv1d):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)
        if zero_output_init:
            for conv in self.output:
                nn.init.zeros_(conv.weight)

    # ---- lengths -------------------------------------------------------------------------------
    @property
    def _factor(self) -> int:
        """Samples at 44.1 kHz per sample at the model's rate (2 or 1)."""
        return self.samplerate // self.model_rate

    @property
    def _crop_in(self) -> int:
        """Samples dropped at each end of the downsampled input (model rate), before the network."""
        return EDGE // 2 if self._factor > 1 else 0

    @property
    def _crop_out(self) -> int:
        """Samples dropped at each end of the upsampled output (44.1 kHz), after the network."""
        return EDGE if self._factor > 1 else 0

    def _net_lengths(self, bottom: int) -> tuple[int, int] | None:
        """(input, output) lengths of the network (model rate) whose bottleneck outputs ``bottom``
        samples, or None if some upsampling conv would get no sample."""
        inp, out = bottom + self.down_kernel - 1, bottom
        for _ in range(self.levels):
            inp = 2 * inp - 1 + self.down_kernel - 1
            out = 2 * out - 1 - (self.up_kernel - 1)
            if out < 1:
                return None
        out -= self.output_kernel - 1
        return (inp, out) if out >= 1 else None

    def _bottom_for(self, output: int) -> int:
        """Smallest bottleneck length whose network output has at least ``output`` samples."""
        rem = output + self.output_kernel - 1
        for _ in range(self.levels):
            rem = (rem + self.up_kernel - 1 + 1) / 2
        bottom = max(1, math.ceil(rem))
        while self._net_lengths(bottom) is None or self._net_lengths(bottom)[1] < output:
            bottom += 1
        while bottom > 1 and self._net_lengths(bottom - 1) is not None and self._net_lengths(bottom - 1)[1] >= output:
            bottom -= 1
        return bottom

    def _outer(self, net_input: int) -> int:
        """Input length at 44.1 kHz for a network input of ``net_input`` samples at the model rate."""
        return self._factor * (net_input + 2 * self._crop_in)

    def valid_length(self, length: int) -> int:
        """Smallest input length (44.1 kHz) >= ``length`` whose :meth:`separate` output has at least
        ``length`` samples, all centred on the input.

        At 22.05 kHz: an even length ``2 (N + 256)``, N a valid network input whose output M satisfies
        ``2 M - 512 >= length`` (the resampler's edges dropped on both sides); at 44.1 kHz: the network's
        own valid input. Valid network inputs are those of the reference code's ``get_padding``.
        """
        length = max(1, int(length))
        wanted = math.ceil(length / self._factor) + (self._crop_out if self._factor > 1 else 0)
        inp, _ = self._net_lengths(self._bottom_for(wanted))
        return self._outer(inp)

    def _net_input(self, length: int) -> int:
        """The network input (model rate) of a valid 44.1 kHz input of ``length`` samples; raises otherwise."""
        if length % self._factor == 0:
            net = length // self._factor - 2 * self._crop_in
            if net > 0:
                rem = net + 1 - self.down_kernel
                for _ in range(self.levels):
                    if rem % 2 == 0:
                        break
                    rem = (rem + 1) // 2 + 1 - self.down_kernel
                else:   # rem is now the bottleneck's output length
                    lengths = self._net_lengths(rem) if rem >= 1 else None
                    if lengths is not None and lengths[0] == net:
                        return net
        raise ValueError(f"WaveUNet got an input of {length} samples, not a valid length; pad it to "
                         f"model.valid_length(n) (e.g. valid_length({length}) = {self.valid_length(length)})")

    # ---- network -------------------------------------------------------------------------------
    def _network(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, N)`` at the model rate, N a valid network input -> ``(B, S, C, M)`` centred."""
        skips = []
        for conv in self.down:
            x = F.leaky_relu(conv(x), LEAKY_SLOPE)
            skips.append(x)
            x = x[..., ::2]
        x = F.leaky_relu(self.bottleneck(x), LEAKY_SLOPE)
        for conv in self.up:
            x = F.interpolate(x, size=2 * x.shape[-1] - 1, mode="linear", align_corners=True)
            skip = skips.pop()
            x = F.leaky_relu(conv(torch.cat([center_trim(skip, x), x], dim=1)), LEAKY_SLOPE)
        return x

    def _outputs(self, features: torch.Tensor, mix: torch.Tensor) -> torch.Tensor:
        features = torch.cat([center_trim(mix, features), features], dim=1)
        outs = []
        for conv in self.output:
            out = conv(features)
            outs.append(torch.tanh(out) if self.output_activation == "tanh" else out)
        outs.append(center_trim(mix, outs[0]) - sum(outs))   # the difference output
        return torch.stack(outs, dim=1)

    def _to_model_rate(self, wav: torch.Tensor) -> torch.Tensor:
        """44.1 kHz ``(..., T)`` -> model rate, the resampler's edges cropped: ``(..., N)``."""
        if self._factor == 1:
            return wav
        down = resample(wav, self.samplerate, self.model_rate)
        return down[..., self._crop_in:down.shape[-1] - self._crop_in]

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        """``mix`` ``(B, C, T)`` normalised at 44.1 kHz, ``T = valid_length(n)`` -> the estimates in the
        training domain: ``(B, S, C, M)`` at the model rate, centred on the (downsampled) input.

        At 22.05 kHz output sample ``j`` is at input sample ``(T - 2 M) / 2 + 2 j`` (44.1 kHz).
        """
        if mix.dim() != 3 or mix.shape[1] != self.audio_channels:
            raise ValueError(f"WaveUNet expects (batch, {self.audio_channels}, time), got {tuple(mix.shape)}")
        self._net_input(mix.shape[-1])
        x = self._to_model_rate(mix)
        return self._outputs(self._network(x), x)

    def target(self, stems: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        """The stems ``(B, S, C, T)`` at the model rate (same conversion and crop as the mixture in
        :meth:`forward`), centre-trimmed to ``output``: ``(B, S, C, M)``."""
        return center_trim(self._to_model_rate(stems), output)

    def separate(self, mix: torch.Tensor) -> torch.Tensor:
        """``mix`` ``(B, C, T)`` normalised at 44.1 kHz, T valid -> waveform stems ``(B, S, C, T')`` at
        44.1 kHz centred on the input (``T' = 2 M - 512`` at 22.05 kHz, ``M`` at 44.1 kHz)."""
        out = self(mix)
        if self._factor == 1:
            return out
        up = resample(out, self.model_rate, self.samplerate)
        return up[..., self._crop_out:up.shape[-1] - self._crop_out]
