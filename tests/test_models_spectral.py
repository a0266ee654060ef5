"""STFT / inverse STFT and the multichannel Wiener filter (norbert) of the spectrogram models."""
import math

import pytest
import torch

from demucs_study.models.spectral import istft, stft, wiener


def faded_sources(length, seed=0):
    """Four stereo sources of sines in disjoint frequency regions (differently panned), faded in and out
    so that no STFT frame sees a jump: they barely overlap in the time-frequency plane."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(length) / 44100
    fade = torch.ones(length)
    ramp = min(3000, length // 4)
    fade[:ramp] = torch.sin(torch.linspace(0, math.pi / 2, ramp)) ** 2
    fade[-ramp:] = fade[:ramp].flip(0)
    freqs = [(110.0, 160.0), (900.0, 1300.0), (3000.0, 4200.0), (8000.0, 10500.0)]
    return torch.stack([sum((torch.rand(2, 1, generator=g) + 0.2) * torch.sin(2 * math.pi * f * t + 1.0) for f in fs)
                        for fs in freqs]) * fade


def relative(a, b):
    return float((a - b).norm() / b.norm())


def test_stft_istft_round_trip():
    x = torch.randn(3, 2, 12345, generator=torch.Generator().manual_seed(1))
    spec = stft(x, 1024, 256)
    assert spec.is_complex() and spec.shape[:2] == (3, 2) and spec.shape[-2] == 513
    assert relative(istft(spec, 1024, 256, 12345), x) < 1e-5


@pytest.mark.parametrize("iterations", [0, 1, 2])
def test_wiener_keeps_the_sum_and_gives_back_oracle_sources(iterations):
    sources = faded_sources(20000)
    mix = sources.sum(0)
    spec = stft(mix[None], 2048, 512)
    oracle = stft(sources[None], 2048, 512).abs()
    estimates = istft(wiener(oracle, spec, iterations), 2048, 512, 20000)[0]
    assert relative(estimates.sum(0), mix) < 1e-4
    for s in range(4):
        assert relative(estimates[s], sources[s]) < 2e-3, s
    # estimates of poor quality (many zeros) still sum to the mixture
    noise = torch.rand(oracle.shape, generator=torch.Generator().manual_seed(0))
    poor = torch.relu(oracle - 0.05 * oracle.max()) * noise
    estimates = istft(wiener(poor, spec, iterations), 2048, 512, 20000)[0]
    assert relative(estimates.sum(0), mix) < 1e-4
