"""The soxr resampler of the models (Wave-U-Net's 22.05 kHz inside): centred, linear, and its edge
effects within the margins the model drops."""
import numpy as np
import torch

from demucs_study.models.resample import EDGE, resample


def tones(length, freqs=(220.0, 1370.0, 3100.0, 5100.0), seed=0):
    """(2, length) float32 sum of tones at 44.1 kHz (well inside 11.025 kHz) with random phases."""
    rng = np.random.default_rng(seed)
    t = np.arange(length) / 44100
    x = np.stack([sum(0.1 * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.28)) for f in freqs) for _ in range(2)])
    return torch.from_numpy(x.astype(np.float32))


def test_resampling_is_aligned_and_linear():
    x = tones(20000)
    down = resample(x, 44100, 22050)
    assert down.shape == (2, 10000)
    assert (down[:, 300:-300] - x[:, 600:-600:2]).abs().max() < 1e-4
    up = resample(down, 22050, 44100)
    assert up.shape == (2, 20000) and (up[:, 600:-600] - x[:, 600:-600]).abs().max() < 1e-3
    y = torch.randn(2, 20000)
    assert torch.allclose(resample(x + y, 44100, 22050), down + resample(y, 44100, 22050), atol=1e-5)
    assert resample(x, 44100, 44100) is x


def test_resampler_edges_fit_in_the_dropped_margins():
    """Converting a chunk gives the same samples as converting the whole signal (to 1e-5 of the peak)
    once EDGE // 2 (after /2) or EDGE (after x2) samples are dropped at each end."""
    x = torch.randn(2, 60000, generator=torch.Generator().manual_seed(0))
    down = resample(x, 44100, 22050)
    part = resample(x[:, 20000:40000], 44100, 22050)
    assert (part - down[:, 10000:20000]).abs()[:, EDGE // 2:-(EDGE // 2)].max() < 1e-5 * down.abs().max()
    assert (part - down[:, 10000:20000]).abs()[:, :8].max() > 1e-3 * down.abs().max()   # the edges do differ
    up = resample(down, 22050, 44100)
    part = resample(down[:, 10000:20000], 22050, 44100)
    assert (part - up[:, 20000:40000]).abs()[:, EDGE:-EDGE].max() < 1e-5 * up.abs().max()
