"""MMDenseNet (Takahashi & Mitsufuji, "Multi-scale multi-band DenseNets for audio source
separation", WASPAA 2017, arXiv 1706.09588) and MMDenseLSTM (Takahashi, Goswami, Mitsufuji,
"MMDenseLSTM: An efficient combination of convolutional and recurrent neural networks for audio
source separation", IWAENC 2018, arXiv 1805.02410; SiSEC 2018 submissions TAK1-3).

Sources ``drums, bass, other, vocals`` (:data:`demucs_study.SOURCES`), stereo. The model works on
magnitude spectrograms:

1. STFT of the stereo mixture (:func:`.spectral.stft`: Hann window ``n_fft``, hop ``hop_length``;
   4096 / 1024 at 44.1 kHz for MUSDB18 as in SiSEC), magnitude ``(B, C, F, N)``, the two channels
   being the input channels of the networks.
2. For each source (``per_source=True``, the paper's: one network per source) a multi-scale
   multi-band DenseNet estimates the source's stereo magnitude:

   * the frequency axis is split at ``band_edges`` (Hz) into bands (low, middle, high with the
     defaults: bins [0, 380), [380, 1024), [1024, 2049) at 4096 points), each processed by its own
     multi-scale DenseNet (an "MDenseNet"), and the full band by another one;
   * an MDenseNet is a U-Net of dense blocks: a 3x3 conv to ``features`` channels, then dense blocks
     at ``D`` decreasing scales (2x2 average pooling between them), a bottleneck dense block, and
     ``D`` dense blocks at increasing scales, each after a 2x2 stride-2 transposed conv and the
     concatenation of the encoder block of the same scale (skip connection). ``layers`` lists the
     number of composite layers of the ``2 D + 1`` blocks (encoder, bottleneck, decoder);
   * a dense block of ``L`` layers with growth rate ``k``: layer ``l`` is BatchNorm-ReLU-Conv3x3
     with ``k`` outputs, fed the concatenation of the block's input and every earlier layer's output;
     the block outputs the concatenation of its ``L`` layers' outputs (``L k`` channels; a block of
     0 layers passes its input through);
   * MMDenseLSTM (``lstm=True``) adds, after the dense blocks whose ``lstm`` entry is ``u > 0``, an
     LSTM block: BatchNorm-ReLU-Conv1x1 to one channel, a bidirectional LSTM along time whose input
     is that channel's frequency bins (``u / 2`` cells per direction), a linear layer back to the
     bins, concatenated to the block's output as one more channel;
   * the band outputs (each projected by a 1x1 conv to the widest band's channel count when they
     differ) are concatenated along frequency, then with the full-band output along channels, and a
     final dense block (``final_growth``, ``final_layers``) and BatchNorm-ReLU-Conv1x1-ReLU give the
     non-negative stereo magnitude.

3. Training domain (:meth:`MMDense.forward`): the magnitudes ``(B, S, C, F, N)``;
   :meth:`MMDense.target` is the magnitude STFT of the stems, so the loop's MSE is the paper's
   magnitude MSE.
4. Waveforms (:meth:`MMDense.separate`): the magnitude estimates and the mixture's complex STFT
   go through the multichannel Wiener filter of ``norbert`` (:func:`.spectral.wiener`,
   ``wiener_iterations`` EM steps), then the inverse STFT; the estimates sum to the mixture.

Default sizes: those of the MMDenseLSTM paper's MUSDB18 network (its Table 1: growth rates 14 / 4 / 2
for the low / middle / high bands and 7 for the full band, 3x3 kernels, final block k = 12, L = 3,
BiLSTMs of 128 / 32 / 8 / 128 units), as transcribed in a public re-implementation's MUSDB18
configuration.

Choices of ours:

* One network per source (``per_source=True``) as in the papers and the SiSEC submissions (four
  separately trained models there; here four networks in one model trained on the mean of their
  losses: they share no parameter and Adam scales each parameter's step by its own gradients, so
  this is separate training on the same batches, up to Adam's epsilon). ``per_source=False``
  builds one network with ``S x C`` output channels instead (one trunk, 1/S of the cost): an option
  for small CPU budgets, not the paper's model.
* Readings of details the papers leave open: a dense block outputs its layers' new features only
  (as the up-path blocks of FC-DenseNet, Jegou et al. 2017, which keeps the channel count bounded);
  down-sampling is 2x2 average pooling alone (no transition conv); the LSTM block's 1x1 conv is
  preceded by BatchNorm-ReLU like every composite layer; 1x1 convs equalise the bands' channel
  counts before their concatenation; a ReLU makes the output magnitude non-negative.
* Band edges are given in Hz (converted to bins with ``round(hz * n_fft / 44100)``) so that the
  smaller STFTs of the CPU profiles keep the same bands. Bins and frames are zero-padded inside each
  MDenseNet to a multiple of ``2^D`` and cropped back, so any length works.
* ``valid_length(n) = n + 2 n_fft``: :meth:`separate` drops ``n_fft`` samples at each end of its
  output, so that every kept sample is computed with at least ``n_fft`` samples of real audio on both
  sides (the STFT frames and the networks see past a chunk's ends); :meth:`forward` keeps everything
  (training windows need no margin).
* After norbert's EM steps, what they leave unassigned is shared among the sources by the ratio mask
  of the magnitude estimates (:func:`.spectral.wiener`), so the estimates sum to the mixture exactly,
  even in bins that every network set to zero.
* Initialisation: PyTorch's defaults. The networks run in the channels-last memory layout (faster
  on the CPU; the same computation).
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
from .spectral import istft, stft, wiener
from .utils import capture_init, center_trim

#: The MMDenseLSTM paper's MUSDB18 network (see the module docstring), per band: low, middle, high.
PAPER_BANDS = dict(
    band_edges=[4092, 11025],
    band_features=[32, 32, 32],
    band_growth=[14, 4, 2],
    band_layers=[[5, 5, 5, 5, 5, 5, 5], [4, 4, 4, 4, 4, 4, 4], [1, 1, 0, 1, 1]],
    band_lstm=[[0, 0, 0, 128, 0, 128, 0], [0, 0, 0, 32, 0, 0, 0], [0, 0, 8, 0, 0]],
    full_features=8, full_growth=7, full_layers=[3, 3, 4, 5, 5, 5, 4, 3, 3],
    full_lstm=[0, 0, 0, 0, 128, 0, 0, 128, 0], final_growth=12, final_layers=3,
)


class _DenseBlock(nn.Module):
    """``layers`` BatchNorm-ReLU-Conv3x3 layers of ``growth`` outputs, densely connected.

    ``(B, c, F, N) -> (B, layers * growth, F, N)`` (the new features only), or the input itself when
    ``layers == 0``.
    """

    def __init__(self, in_channels: int, growth: int, layers: int):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Sequential(nn.BatchNorm2d(in_channels + i * growth), nn.ReLU(),
                          nn.Conv2d(in_channels + i * growth, growth, 3, padding=1))
            for i in range(layers))
        self.out_channels = layers * growth if layers else in_channels

    def forward(self, x):
        if not len(self.layers):
            return x
        features, new = [x], []
        for layer in self.layers:
            out = layer(torch.cat(features, dim=1))
            features.append(out)
            new.append(out)
        return torch.cat(new, dim=1)


class _LSTMBlock(nn.Module):
    """MMDenseLSTM's recurrent block: ``(B, c, F, N) -> (B, 1, F, N)`` (concatenated by the caller).

    BatchNorm-ReLU-Conv1x1 to one channel, a BiLSTM over the N frames whose input is the F bins
    (``units // 2`` cells per direction), a linear layer from ``units`` back to F bins.
    """

    def __init__(self, in_channels: int, bins: int, units: int):
        super().__init__()
        self.reduce = nn.Sequential(nn.BatchNorm2d(in_channels), nn.ReLU(), nn.Conv2d(in_channels, 1, 1))
        self.lstm = nn.LSTM(bins, units // 2, bidirectional=True, batch_first=True)
        self.linear = nn.Linear(2 * (units // 2), bins)

    def forward(self, x):
        z = self.reduce(x)[:, 0].transpose(1, 2)             # (B, N, F)
        z = self.linear(self.lstm(z)[0])                      # (B, N, F)
        # channels-last like the dense features it is concatenated with (a mixed concatenation would
        # fall back to the default layout, where the convolutions are ~3x slower)
        return z.transpose(1, 2)[:, None].contiguous(memory_format=torch.channels_last)


class _Block(nn.Module):
    """A dense block, followed by an LSTM block whose output is concatenated when ``units > 0``."""

    def __init__(self, in_channels: int, growth: int, layers: int, bins: int, units: int):
        super().__init__()
        self.dense = _DenseBlock(in_channels, growth, layers)
        self.lstm = _LSTMBlock(self.dense.out_channels, bins, units) if units else None
        self.out_channels = self.dense.out_channels + (1 if units else 0)

    def forward(self, x):
        x = self.dense(x)
        return torch.cat([x, self.lstm(x)], dim=1) if self.lstm is not None else x


class _MDenseNet(nn.Module):
    """Multi-scale DenseNet on ``bins`` frequency bins: ``(B, C, bins, N) -> (B, out_channels, bins, N)``,
    N a multiple of ``2 ** scales`` (bins are padded inside)."""

    def __init__(self, in_channels: int, bins: int, features: int, growth: int, layers: Sequence[int],
                 lstm: Sequence[int]):
        super().__init__()
        self.scales = len(layers) // 2
        step = 2 ** self.scales
        self.bins = bins
        padded = math.ceil(bins / step) * step
        self.pad = padded - bins
        self.conv_in = nn.Conv2d(in_channels, features, 3, padding=1)
        channels = features
        self.encoder, self.ups, self.decoder = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        skips = []
        for j in range(self.scales):
            block = _Block(channels, growth, layers[j], padded // 2 ** j, lstm[j])
            self.encoder.append(block)
            channels = block.out_channels
            skips.append(channels)
        self.bottleneck = _Block(channels, growth, layers[self.scales], padded // step, lstm[self.scales])
        channels = self.bottleneck.out_channels
        for j in range(self.scales):
            level = self.scales - 1 - j
            self.ups.append(nn.ConvTranspose2d(channels, channels, 2, stride=2))
            block = _Block(channels + skips[level], growth, layers[self.scales + 1 + j], padded // 2 ** level,
                           lstm[self.scales + 1 + j])
            self.decoder.append(block)
            channels = block.out_channels
        self.out_channels = channels

    def forward(self, x):
        x = self.conv_in(F.pad(x, (0, 0, 0, self.pad)))
        skips = []
        for block in self.encoder:
            x = block(x)
            skips.append(x)
            x = F.avg_pool2d(x, 2)
        x = self.bottleneck(x)
        for up, block in zip(self.ups, self.decoder):
            x = block(torch.cat([up(x), skips.pop()], dim=1))
        return x[:, :, :self.bins]


class _MMDenseNet(nn.Module):
    """Band MDenseNets + full-band MDenseNet + final dense block: magnitude ``(B, C, F, N)`` ->
    ``(B, out_channels, F, N)`` non-negative (N a multiple of :attr:`frame_multiple`)."""

    def __init__(self, in_channels: int, out_channels: int, splits: list[int], spec: dict):
        super().__init__()
        self.splits = splits                                  # bin boundaries [0, e1, ..., F]
        self.bands = nn.ModuleList(
            _MDenseNet(in_channels, hi - lo, spec["band_features"][i], spec["band_growth"][i],
                       spec["band_layers"][i], spec["band_lstm"][i])
            for i, (lo, hi) in enumerate(zip(splits[:-1], splits[1:])))
        self.full = _MDenseNet(in_channels, splits[-1], spec["full_features"], spec["full_growth"],
                               spec["full_layers"], spec["full_lstm"])
        width = max(band.out_channels for band in self.bands)
        self.project = nn.ModuleList(nn.Identity() if band.out_channels == width else
                                     nn.Conv2d(band.out_channels, width, 1) for band in self.bands)
        self.final = _DenseBlock(width + self.full.out_channels, spec["final_growth"], spec["final_layers"])
        self.head = nn.Sequential(nn.BatchNorm2d(self.final.out_channels), nn.ReLU(),
                                  nn.Conv2d(self.final.out_channels, out_channels, 1), nn.ReLU())
        self.frame_multiple = 2 ** max(net.scales for net in [*self.bands, self.full])

    def forward(self, mag):
        bands = [project(net(mag[:, :, lo:hi])) for net, project, lo, hi
                 in zip(self.bands, self.project, self.splits[:-1], self.splits[1:])]
        x = torch.cat([torch.cat(bands, dim=2), self.full(mag)], dim=1)
        return self.head(self.final(x))


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ParamsError(f"{name}={value!r}: give a whole number >= {minimum} (models.mmdense.{name})")
    return value


def _check_net(prefix: str, layers, lstm, use_lstm: bool) -> tuple[list[int], list[int]]:
    """Validate one MDenseNet's ``layers`` / ``lstm`` lists (odd length 2D + 1, same length)."""
    if not isinstance(layers, (list, tuple)) or len(layers) % 2 == 0 or len(layers) < 1:
        raise ParamsError(f"{prefix}_layers={layers!r}: give an odd-length list (2 D + 1 blocks: D encoder "
                          "blocks, the bottleneck, D decoder blocks) of layer counts, e.g. [3, 3, 4, 3, 3]")
    layers = [_check_int(f"{prefix}_layers[{i}]", v, 0) for i, v in enumerate(layers)]
    if lstm is None:
        lstm = [0] * len(layers)
    if not isinstance(lstm, (list, tuple)) or len(lstm) != len(layers):
        raise ParamsError(f"{prefix}_lstm={lstm!r}: give one BiLSTM width per block ({len(layers)} values, "
                          f"0 for none), like {prefix}_layers={layers}")
    lstm = [_check_int(f"{prefix}_lstm[{i}]", v, 0) for i, v in enumerate(lstm)]
    if any(u % 2 for u in lstm):
        raise ParamsError(f"{prefix}_lstm={lstm}: BiLSTM widths must be even (u / 2 cells per direction)")
    for i, (n, u) in enumerate(zip(layers, lstm)):
        if n == 0 and not (use_lstm and u) and i != len(layers) // 2:
            raise ParamsError(f"{prefix}_layers[{i}]=0: only the bottleneck may have no layer (with an LSTM); "
                              f"give it at least one layer")
    return layers, (lstm if use_lstm else [0] * len(layers))


class MMDense(Separator):
    """MMDenseNet / MMDenseLSTM (arXiv 1706.09588, 1805.02410) with a multichannel Wiener filter.

    Args (defaults: the MMDenseLSTM MUSDB18 network, see :data:`PAPER_BANDS`):
        sources: list of names or the int 4 (:data:`demucs_study.SOURCES`).
        audio_channels: 2 for stereo.
        n_fft, hop_length: STFT size and hop at 44.1 kHz (4096 / 1024 in SiSEC); ``hop_length`` at
            most ``n_fft / 2`` (exact inverse STFT).
        band_edges: frequencies (Hz, increasing, below 22050) splitting the spectrum into
            ``len(band_edges) + 1`` bands, low to high.
        band_features, band_growth: per band, channels of the first 3x3 conv and the growth rate k.
        band_layers, band_lstm: per band, the layer count and the BiLSTM width (0: none) of each of
            the ``2 D + 1`` dense blocks of its MDenseNet (D scales).
        full_features, full_growth, full_layers, full_lstm: the same for the full-band MDenseNet.
        final_growth, final_layers: the final dense block.
        lstm: True: MMDenseLSTM (the LSTM blocks of ``*_lstm``); False: MMDenseNet (they are ignored).
        per_source: True: one network per source (the paper's); False: one network for all.
        wiener_iterations: EM iterations of the multichannel Wiener filter (0: ratio mask).
    """

    @capture_init
    def __init__(self, sources: int | Sequence[str] = 4, audio_channels: int = 2, n_fft: int = 4096,
                 hop_length: int = 1024, band_edges: Sequence[float] = tuple(PAPER_BANDS["band_edges"]),
                 band_features: Sequence[int] = tuple(PAPER_BANDS["band_features"]),
                 band_growth: Sequence[int] = tuple(PAPER_BANDS["band_growth"]),
                 band_layers: Sequence[Sequence[int]] = tuple(map(tuple, PAPER_BANDS["band_layers"])),
                 band_lstm: Sequence[Sequence[int]] | None = tuple(map(tuple, PAPER_BANDS["band_lstm"])),
                 full_features: int = PAPER_BANDS["full_features"], full_growth: int = PAPER_BANDS["full_growth"],
                 full_layers: Sequence[int] = tuple(PAPER_BANDS["full_layers"]),
                 full_lstm: Sequence[int] | None = tuple(PAPER_BANDS["full_lstm"]),
                 final_growth: int = PAPER_BANDS["final_growth"], final_layers: int = PAPER_BANDS["final_layers"],
                 lstm: bool = True, per_source: bool = True, wiener_iterations: int = 1):
        super().__init__()
        self.sources = source_names(sources)
        self.audio_channels = audio_channels
        self.samplerate = SAMPLERATE
        self.n_fft = _check_int("n_fft", n_fft, 16)
        self.hop_length = _check_int("hop_length", hop_length, 1)
        if hop_length > n_fft // 2:
            raise ParamsError(f"hop_length={hop_length} > n_fft / 2 = {n_fft // 2}: the inverse STFT would not be "
                              "exact; lower models.mmdense.hop_length (SiSEC: n_fft 4096, hop 1024)")
        self.wiener_iterations = _check_int("wiener_iterations", wiener_iterations, 0)
        bins = n_fft // 2 + 1
        edges = list(band_edges)
        splits = [0] + [int(round(float(hz) * n_fft / SAMPLERATE)) for hz in edges] + [bins]
        if any(b <= a for a, b in zip(splits[:-1], splits[1:])):
            raise ParamsError(f"band_edges={edges} Hz give the bin boundaries {splits} at n_fft={n_fft}: give "
                              f"increasing frequencies below {SAMPLERATE // 2} Hz, at least one bin apart")
        count = len(splits) - 1
        per_band = dict(band_features=band_features, band_growth=band_growth, band_layers=band_layers,
                        band_lstm=band_lstm if band_lstm is not None else [None] * count)
        for name, value in per_band.items():
            if not isinstance(value, (list, tuple)) or len(value) != count:
                raise ParamsError(f"{name}={value!r}: give one entry per band ({count} bands from band_edges={edges})")
        spec: dict = {"band_layers": [], "band_lstm": []}
        for i in range(count):
            layers, units = _check_net(f"band[{i}]", band_layers[i], per_band["band_lstm"][i], bool(lstm))
            spec["band_layers"].append(layers)
            spec["band_lstm"].append(units)
        spec["band_features"] = [_check_int(f"band_features[{i}]", v, 1) for i, v in enumerate(band_features)]
        spec["band_growth"] = [_check_int(f"band_growth[{i}]", v, 1) for i, v in enumerate(band_growth)]
        spec["full_layers"], spec["full_lstm"] = _check_net("full", full_layers, full_lstm, bool(lstm))
        spec["full_features"] = _check_int("full_features", full_features, 1)
        spec["full_growth"] = _check_int("full_growth", full_growth, 1)
        spec["final_growth"] = _check_int("final_growth", final_growth, 1)
        spec["final_layers"] = _check_int("final_layers", final_layers, 1)
        self.splits = splits
        self.per_source = bool(per_source)
        self.lstm = bool(lstm)
        if self.per_source:
            self.nets = nn.ModuleList(_MMDenseNet(audio_channels, audio_channels, splits, spec) for _ in self.sources)
        else:
            self.nets = nn.ModuleList([_MMDenseNet(audio_channels, len(self.sources) * audio_channels, splits, spec)])
        self.frame_multiple = self.nets[0].frame_multiple

    def valid_length(self, length: int) -> int:
        """``length + 2 n_fft``: :meth:`separate` drops ``n_fft`` samples at each end (real context)."""
        return int(length) + 2 * self.n_fft

    def _spectrogram(self, wav: torch.Tensor) -> torch.Tensor:
        return stft(wav, self.n_fft, self.hop_length)

    def _estimate(self, mag: torch.Tensor) -> torch.Tensor:
        """Mixture magnitude ``(B, C, F, N)`` -> source magnitudes ``(B, S, C, F, N)``."""
        frames = mag.shape[-1]
        # channels-last: oneDNN's 2-D convolutions with few channels run ~3x faster on the CPU in this layout
        padded = F.pad(mag, (0, -frames % self.frame_multiple)).contiguous(memory_format=torch.channels_last)
        if self.per_source:
            out = torch.stack([net(padded) for net in self.nets], dim=1)
        else:
            out = self.nets[0](padded)
            out = out.reshape(out.shape[0], len(self.sources), self.audio_channels, *out.shape[-2:])
        return out[..., :frames].contiguous()

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        """``mix`` ``(B, C, T)`` normalised at 44.1 kHz -> magnitude estimates ``(B, S, C, F, N)``
        (``F = n_fft / 2 + 1``, ``N = T // hop_length + 1``), the training domain."""
        if mix.dim() != 3 or mix.shape[1] != self.audio_channels:
            raise ValueError(f"MMDense expects (batch, {self.audio_channels}, time), got {tuple(mix.shape)}")
        return self._estimate(self._spectrogram(mix).abs())

    def target(self, stems: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        """Magnitude STFT of the stems ``(B, S, C, T)``: ``(B, S, C, F, N)``, like ``output``."""
        target = self._spectrogram(stems).abs()
        if target.shape != output.shape:
            raise ValueError(f"MMDense.target: the stems give a spectrogram {tuple(target.shape)}, the output is "
                             f"{tuple(output.shape)}; pass the stems of the mixture given to forward")
        return target

    def separate(self, mix: torch.Tensor) -> torch.Tensor:
        """``mix`` ``(B, C, T)`` -> waveform stems ``(B, S, C, T - 2 n_fft)`` centred on the input:
        magnitude estimates, multichannel Wiener filter with the mixture's STFT, inverse STFT."""
        if mix.dim() != 3 or mix.shape[1] != self.audio_channels:
            raise ValueError(f"MMDense expects (batch, {self.audio_channels}, time), got {tuple(mix.shape)}")
        length = mix.shape[-1]
        if length <= 2 * self.n_fft:
            raise ValueError(f"MMDense.separate got {length} samples; give at least model.valid_length(1) = "
                             f"{self.valid_length(1)} (it drops n_fft = {self.n_fft} samples at each end)")
        spec = self._spectrogram(mix)
        estimates = wiener(self._estimate(spec.abs()), spec, self.wiener_iterations)
        wav = istft(estimates, self.n_fft, self.hop_length, length).to(mix.dtype)
        return center_trim(wav, length - 2 * self.n_fft)
