"""Test models for tests/test_separate*.py (not collected: no test_ prefix)."""
import torch
from torch import nn

from demucs_study import SOURCES
from demucs_study.models.utils import capture_init, center_trim


class IdentityModel(nn.Module):
    """Returns ``gain * input / S`` for each of S sources, Demucs-like in shape: it needs
    ``valid_length(n) = n + pad`` input samples and returns ``pad - trim`` samples more than asked,
    centred on its input (``center_trim``). With ``gain=1`` the stems sum to the mixture."""

    @capture_init
    def __init__(self, sources: int = 4, gain: float = 1.0, pad: int = 37, trim: int = 5,
                 samplerate: int = 44100):
        super().__init__()
        self.sources = list(SOURCES[:sources])
        self.audio_channels = 2
        self.gain, self.pad, self.trim, self.samplerate = gain, pad, trim, samplerate
        self.scale = nn.Parameter(torch.ones(()))    # a state dict to save, a device to find
        self.calls = []                               # input shapes seen by forward

    def valid_length(self, n):
        return n + self.pad

    def forward(self, x):
        self.calls.append(tuple(x.shape))
        y = center_trim(x, x.shape[-1] - self.trim) * self.scale * (self.gain / len(self.sources))
        return y[:, None].expand(-1, len(self.sources), -1, -1)


class ConvModel(nn.Module):
    """A random stride-1 convolution (receptive field 9 samples): translation-equivariant, so chunked
    and whole-track separation must agree exactly when the chunks get their context."""

    def __init__(self, samplerate: int = 1000):
        super().__init__()
        self.conv = nn.Conv1d(2, 8, 9)
        self.samplerate = samplerate

    def valid_length(self, n):
        return n + 8

    def forward(self, x):
        y = self.conv(x)
        return y.view(y.shape[0], 4, 2, -1)


class RecordingModel(nn.Module):
    """No valid_length, no samplerate (defaults apply); records what it is given, returns zeros + input/4."""

    def __init__(self):
        super().__init__()
        self.inputs = []

    def forward(self, x):
        self.inputs.append(x.clone())
        return (x / 4)[:, None].repeat(1, 4, 1, 1)
