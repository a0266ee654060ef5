"""Oracle and reference systems: MIX, IRM2, and the STFT helpers behind them."""
from __future__ import annotations

import numpy as np
import pytest

from demucs_study.errors import AudioError
from demucs_study.evaluation.bsseval import new_sdr
from demucs_study.evaluation.oracles import ideal_ratio_mask, istft, mixture_estimates, stft

SR = 44100


def two_sines(seconds=1.0):
    t = np.arange(int(seconds * SR)) / SR
    a = 0.5 * np.stack([np.sin(2 * np.pi * 440 * t), 0.8 * np.sin(2 * np.pi * 440 * t)])
    b = 0.3 * np.stack([np.sin(2 * np.pi * 3000 * t), np.sin(2 * np.pi * 3000 * t + 1)])
    return np.stack([a, b, np.zeros_like(a), 1e-3 * np.sin(2 * np.pi * 8000 * t) * np.ones((2, 1))])


def test_stft_round_trip():
    x = np.random.default_rng(0).standard_normal((2, 3, 10_000))
    spec = stft(x, 4096, 1024)
    assert spec.shape[:3] == (2, 3, 2049) and np.iscomplexobj(spec)
    assert np.abs(istft(spec, 10_000, 4096, 1024) - x).max() < 1e-6
    short = x[0, 0, :100]  # shorter than half a window: padded, then trimmed back
    assert np.abs(istft(stft(short), 100) - short).max() < 1e-6
    with pytest.raises(AudioError, match=r"0 < hop <= n_fft / 2, got n_fft=1024, hop=1000"):
        stft(x, 1024, 1000)


def test_mixture_estimates():
    mix = np.random.default_rng(1).standard_normal((2, 50))
    est = mixture_estimates(mix)
    assert est.shape == (4, 2, 50) and est.dtype == np.float32
    np.testing.assert_allclose(est[3], mix, rtol=1e-6)
    with pytest.raises(AudioError, match=r"mixture must be a non-empty \(channels, time\) array, got shape \(50,\)"):
        mixture_estimates(mix[0])


def test_irm_separates_non_overlapping_sines_and_sums_to_the_mixture():
    stems = two_sines()
    mix = stems.sum(axis=0)
    est = ideal_ratio_mask(mix, stems)
    assert est.shape == stems.shape and est.dtype == np.float32
    sdr = new_sdr(stems, est)
    assert np.all(sdr[[0, 1, 3]] > 20), sdr
    assert np.abs(est[2]).max() < 1e-6  # a silent stem gets (almost) nothing
    np.testing.assert_allclose(est.sum(axis=0), mix, atol=1e-5)
    # power 1 (IRM1) also works; masks apply to the given mixture, not the sum of stems
    est1 = ideal_ratio_mask(2 * mix, stems, power=1)
    np.testing.assert_allclose(est1.sum(axis=0), 2 * mix, atol=1e-5)


def test_irm_of_all_silent_stems_splits_the_mixture_equally():
    mix = np.random.default_rng(2).standard_normal((2, 3000)).astype(np.float32)
    est = ideal_ratio_mask(mix, np.zeros((4, 2, 3000)))
    np.testing.assert_allclose(est, np.broadcast_to(mix / 4, est.shape), atol=1e-6)


def test_irm_errors():
    stems = np.zeros((4, 2, 100))
    with pytest.raises(AudioError, match=r"stems must be \(sources, channels, time\) matching the mixture \(2, 99\)"):
        ideal_ratio_mask(np.zeros((2, 99)), stems)
    with pytest.raises(AudioError, match=r"mask power must be positive, got 0"):
        ideal_ratio_mask(np.zeros((2, 100)), stems, power=0)
