"""BS.1770 loudness: the K-weighting and the gated integrated loudness (EBU Tech 3341 test signal)."""
import numpy as np
import pytest

from demucs_study.data import loudness

SR = 44100


def _sine(freq, seconds, amp=0.5):
    t = np.arange(int(seconds * SR)) / SR
    return np.stack([amp * np.sin(2 * np.pi * freq * t)] * 2)


def _noise(seconds, channels=2, seed=0):
    return np.random.default_rng(seed).standard_normal((channels, int(seconds * SR))) * 0.1


def test_ebu_tech_3341_sine_reads_minus_23_lufs():
    """EBU Tech 3341, test 1: a stereo 1 kHz sine at -23 dBFS (peak) in both channels is -23.0 LUFS."""
    x = _sine(1000.0, 20.0, amp=10 ** (-23 / 20))
    assert loudness.loudness(x, SR) == pytest.approx(-23.0, abs=0.1)
    assert loudness.loudness(x * 10 ** (6 / 20), SR) == pytest.approx(-17.0, abs=0.1)
    assert loudness.loudness(np.zeros((2, SR)), SR) == float("-inf")


def test_k_weighting_matches_pyloudnorm_on_steady_noise():
    x = _noise(10.0, seed=1)
    y = loudness.k_weight(x, SR)
    ungated = -0.691 + 10 * np.log10(np.sum(np.mean(y ** 2, axis=1)))
    assert ungated == pytest.approx(loudness.loudness(x, SR), abs=0.05)
