"""The fast BSSEval v4 (demucs_study.evaluation.fast) against museval 0.4.1, run in the same test.

Parity plan: framing against museval's ``Framing``; correlations against their definition and G
and the filters against museval's internals; end to end, per frame, within 1e-6 dB of museval
with identical NaN and inf frames on well-conditioned inputs (the study's synthetic track and
small broadband signals covering silent frames, a partial last frame, mono, one source, one frame,
overlapping frames, the L = -R silence rule, a zero channel, a quiet track where museval's eps * I
matters, an exactly perfect frame); on ill-conditioned inputs (band-limited, dual-mono) SDR and
the NaN masks only, and the conditioning flag; properties; museval's JSON; error messages.

museval costs seconds per call (one 4096 x 4096 solve per estimate for 4 stereo stems), so its
results are computed once per input in module-scoped fixtures and the small cases use mono or
two sources at 8 kHz.
"""
from __future__ import annotations

import math
import warnings

import museval
import museval.metrics as mm
import numpy as np
import pytest
import scipy.fft
from scipy.signal import butter, lfilter, sosfiltfilt

from demucs_study import SOURCES
from demucs_study.errors import AudioError, ParamsError
from demucs_study.evaluation.bsseval import evaluate_track, max_deviation, track_json
from demucs_study.evaluation.fast import (ILL_CONDITIONED, evaluate, evaluate_systems, frames,
                                          reference_conditioning)
from demucs_study.evaluation.fast.correlations import GramOperator, correlations, cross_matrix, gram_matrix
from demucs_study.evaluation.fast.segments import Segmentation, segmentation
from demucs_study.evaluation.fast.filters import EPS, solve_like_museval
from eval_helpers import synthetic_track

STRICT_DB = 1e-6     # the bound on well-conditioned inputs (observed: ~1e-12)
SDR_DB = 1e-9        # SDR on every input, ill-conditioned ones included
SR = 8000            # the small cases: cheap for museval (G is 1024 or 2048 square)


# ---------------------------------------------------------------- inputs
def broadband(nsrc: int, seconds: float, nchan: int, seed: int, sr: int = SR) -> tuple[np.ndarray, np.ndarray]:
    """Well-conditioned references and estimates, museval's layout ``(nsrc, nsamples, nchan)``.

    Each channel: colored noise (a random one-pole filter) plus a tone plus a white floor 40 dB
    below the stem, so that the correlation matrix is far from singular. Estimates: the reference
    plus leakage of the other sources (interference) and white noise (artifacts).
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    refs = np.empty((nsrc, n, nchan))
    for j in range(nsrc):
        for c in range(nchan):
            colored = lfilter([1.0], [1.0, -rng.uniform(0.3, 0.9)], rng.standard_normal(n))
            tone = np.sin(2 * np.pi * rng.uniform(100, 1500) * t + rng.uniform(0, 6))
            x = colored / colored.std() + tone
            refs[j, :, c] = 0.1 * x / x.std() + 1e-3 * rng.standard_normal(n)
    leak = refs.sum(axis=0, keepdims=True) - refs
    ests = refs + 0.1 * leak + 0.02 * rng.standard_normal(refs.shape)
    return refs, ests


def study_track(seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """tests/test_evaluate.py's synthetic track (4 stereo stems, -40 dB floor, vocals silent from
    2 s), in museval's layout, float64."""
    refs, ests = synthetic_track(seconds=seconds)
    return refs.transpose(0, 2, 1).astype(np.float64), ests.transpose(0, 2, 1).astype(np.float64)


def run_museval(refs, ests, win, hop):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # museval's log10(0) where a numerator is 0
        return np.array(museval.evaluate(refs, ests, win=win, hop=hop))


def assert_parity(fast: np.ndarray, ref: np.ndarray, atol: float, metrics=slice(None)) -> float:
    """Same NaN and inf frames, finite values within ``atol`` dB; returns the largest deviation."""
    fast, ref = np.asarray(fast)[metrics], np.asarray(ref)[metrics]
    assert fast.shape == ref.shape
    np.testing.assert_array_equal(np.isnan(fast), np.isnan(ref), err_msg="NaN frames differ")
    np.testing.assert_array_equal(np.isposinf(fast), np.isposinf(ref), err_msg="+inf frames differ")
    np.testing.assert_array_equal(np.isneginf(fast), np.isneginf(ref), err_msg="-inf frames differ")
    finite = np.isfinite(ref)
    worst = float(np.max(np.abs(fast[finite] - ref[finite]), initial=0.0))
    assert worst <= atol, worst
    return worst


# ---------------------------------------------------------------- framing
@pytest.mark.parametrize("nsamples", [1, 999, 1000, 1001, 44100, 44101, 132299, 154350])
@pytest.mark.parametrize("win,hop", [(1000, 1000), (44100, 44100), (2 * 44100, 1.5 * 44100), (1000, 250),
                                     (1000, 333.3), (150000, 44100), (np.inf, np.inf)])
def test_frames_are_museval_framing(nsamples, win, hop):
    framer = mm.Framing(win, hop, nsamples)
    expected = [(s.start, s.stop) for s in framer]
    starts, stops = frames(nsamples, win, hop)
    assert len(expected) == framer.nwin
    assert list(zip(starts.tolist(), stops.tolist())) == expected


# ---------------------------------------------------------------- correlations, G, D, filters
def direct_correlations(refs: np.ndarray, ests: np.ndarray, filters_len: int):
    """rr[p, q, m] = sum_n x_p[n + m - L + 1] x_q[n] and re[p, e, a] = sum_n x_p[n - a] s_e[n],
    by np.correlate (the definitions, no FFT)."""
    x = refs.transpose(0, 2, 1).reshape(-1, refs.shape[1])
    s = ests.transpose(0, 2, 1).reshape(-1, ests.shape[1])
    lag, n = filters_len - 1, x.shape[1]
    full = lambda a, b: np.correlate(a, b, mode="full")[n - 1 - lag:n + lag]  # lags -lag..lag
    rr = np.array([[full(xp, xq) for xq in x] for xp in x])
    re = np.array([[full(xp, se)[:lag + 1][::-1] for se in s] for xp in x])
    return rr, re


def segments_of(nsamples: int, width: int, filters_len: int) -> Segmentation:
    starts = np.arange(-(-nsamples // width)) * width
    return Segmentation(starts, width, scipy.fft.next_fast_len(width + filters_len - 1, real=True), False)


@pytest.mark.parametrize("width", [63, 100, 1000, 5000])  # L - 1, several segments and a partial one, one segment
def test_segment_and_seam_correlations_are_the_definitions(width):
    refs, ests = broadband(2, 0.4, 2, seed=3)  # 3200 samples
    rr, re, _ = correlations(refs, [ests, 2 * ests], segments_of(refs.shape[1], width, 64), filters_len=64)
    rr_d, re_d = direct_correlations(refs, ests, 64)
    scale = np.abs(rr_d).max()
    np.testing.assert_allclose(rr, rr_d, rtol=0, atol=1e-13 * scale)
    np.testing.assert_allclose(re[:, :4], re_d, rtol=0, atol=1e-13 * scale)
    np.testing.assert_allclose(re[:, 4:], 2 * re_d, rtol=0, atol=2e-13 * scale)


@pytest.fixture(scope="module")
def small_stereo():
    return broadband(2, 0.5, 2, seed=5)


@pytest.mark.slow
def test_gram_matrix_is_museval_g_with_its_exact_block_transposes(small_stereo):
    refs, _ = small_stereo
    g6, _ = mm._compute_reference_correlations(refs, 512)
    theirs = mm._reshape_G(g6)
    rr, _, _ = correlations(refs, [], segments_of(refs.shape[1], 1000, 512), 512)
    ours = gram_matrix(rr, 512)
    assert ours.shape == theirs.shape == (2048, 2048)
    block = lambda g, p, q: g[p * 512:(p + 1) * 512, q * 512:(q + 1) * 512]
    for p in range(4):
        for q in range(p):  # museval writes each off-diagonal block and its exact transpose
            np.testing.assert_array_equal(block(theirs, q, p), block(theirs, p, q).T)
            np.testing.assert_array_equal(block(ours, q, p), block(ours, p, q).T)
    v = np.random.default_rng(0).standard_normal((2048, 3))  # G v by FFT, for the conditioning estimate
    np.testing.assert_allclose(GramOperator(rr, 0.5) @ v, ours @ v + 0.5 * v, rtol=0,
                               atol=1e-12 * np.abs(ours @ v).max())
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-14 * np.abs(theirs).max())


@pytest.mark.slow
def test_filters_are_museval_filters(small_stereo):
    refs, ests = small_stereo
    g6, sf = mm._compute_reference_correlations(refs, 512)
    rr, re, _ = correlations(refs, [ests], segments_of(refs.shape[1], 1500, 512), 512)
    g = gram_matrix(rr, 512)
    g[np.diag_indices_from(g)] += EPS
    d = cross_matrix(re)
    ours = np.linalg.solve(g, d).reshape(2, 2, 512, 2, 2)  # (i, cj, a, j, c)
    for j in range(2):
        theirs = mm._compute_projection_filters(g6, sf, ests[j])          # (i, cj, a, c)
        scale = np.abs(theirs).max()
        np.testing.assert_allclose(ours[:, :, :, j], theirs, rtol=0, atol=1e-8 * scale)
        own = mm._compute_projection_filters(g6[j, j], sf[j], ests[j])    # (cj, a, c)
        rows = slice(j * 1024, (j + 1) * 1024)
        ours_own = np.linalg.solve(g[rows, rows], d[rows, 2 * j:2 * j + 2]).reshape(2, 512, 2)
        np.testing.assert_allclose(ours_own, own, rtol=0, atol=1e-8 * np.abs(own).max())


def test_solve_falls_back_to_lstsq_without_eps_on_an_exact_zero_pivot():
    g = np.full((2, 2), 4.0)  # 4 + eps == 4: still exactly singular, as museval's G can be
    g_eps = g + EPS * np.eye(2)
    rhs = np.array([[4.0], [4.0]])
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.solve(g_eps, rhs)
    solution, fallback = solve_like_museval(g_eps, rhs, np.diag(g).copy())
    assert fallback
    np.testing.assert_allclose(solution, np.linalg.lstsq(g, rhs, rcond=None)[0], rtol=1e-15)
    solution, fallback = solve_like_museval(np.eye(2) * 2, rhs)
    assert not fallback and np.allclose(solution, 2.0)


# ---------------------------------------------------------------- end to end, well conditioned
@pytest.fixture(scope="module")
def study_3s():
    """The study's track at 3.5 s: 3 one-second frames (the last 0.5 s dropped), vocals silent
    from 2 s (third frame NaN for every source)."""
    refs, ests = study_track(3.5)
    return refs, ests, run_museval(refs, ests, 44100, 44100), evaluate_systems(refs, [ests])[0]


@pytest.mark.slow
def test_study_track_parity_with_museval(study_3s):
    refs, ests, theirs, scores = study_3s
    ours = np.array(list(scores))
    assert ours.shape == (4, 4, 3)
    assert np.isnan(ours[:, :, 2]).all() and np.isfinite(ours[:, :, :2]).all()
    assert_parity(ours, theirs, STRICT_DB)
    assert not scores.conditioning.ill_conditioned and not scores.conditioning.lstsq_fallback
    assert 1e3 < scores.conditioning.cond < ILL_CONDITIONED


def test_float32_input_is_the_float64_result():
    refs, ests = broadband(2, 2.0, 2, seed=9)
    r32, e32 = refs.astype(np.float32), ests.astype(np.float32)
    a = np.array(evaluate(r32, e32, win=SR, hop=SR))
    b = np.array(evaluate(r32.astype(np.float64), e32.astype(np.float64), win=SR, hop=SR))
    np.testing.assert_array_equal(a, b)


SMALL_CASES = {
    # name: (nsrc, seconds, nchan, win, hop, edit)
    "mono two sources, partial last frame": (2, 2.6, 1, SR, SR, None),
    "stereo one source": (1, 2.0, 2, SR, SR, None),
    "one frame (win > length)": (2, 0.9, 1, SR, SR, None),
    "overlapping frames": (2, 1.5, 1, SR, SR // 4, None),
    "fractional win and hop": (2, 1.2, 1, 2999.5, 1234.5, None),
    "three mono sources": (3, 1.3, 1, SR, SR, None),
    "silent reference frame, silent estimate frame": (2, 3.0, 1, SR, SR, "silent"),
    "left = -right is silent": (2, 2.0, 2, SR, SR, "antiphase"),
    "a zero channel": (2, 2.0, 2, SR, SR, "zero channel"),
    "quiet track (eps * I matters)": (2, 1.0, 1, SR, SR, "quiet"),
}


def small_case(name):
    nsrc, seconds, nchan, win, hop, edit = SMALL_CASES[name]
    refs, ests = broadband(nsrc, seconds, nchan, seed=len(name))
    if edit == "silent":
        refs[1, SR:2 * SR] = 0          # frame 1: reference silent
        ests[0, 2 * SR:] = 0            # frame 2: an estimate silent (not the whole track)
    elif edit == "antiphase":
        refs[0, SR:2 * SR, 1] = -refs[0, SR:2 * SR, 0]   # frame 1: L = -R, channel sum 0
    elif edit == "zero channel":
        refs[1, :, 1] = 0
    elif edit == "quiet":
        refs *= 1e-8
        ests *= 1e-8
    return refs, ests, win, hop


@pytest.fixture(scope="module", params=sorted(SMALL_CASES))
def small_parity(request):
    refs, ests, win, hop = small_case(request.param)
    return request.param, refs, ests, win, hop, run_museval(refs, ests, win, hop)


def test_small_cases_parity_with_museval(small_parity):
    name, refs, ests, win, hop, theirs = small_parity
    ours = np.array(evaluate(refs, ests, win=win, hop=hop))
    assert_parity(ours, theirs, STRICT_DB)
    if name.startswith("silent"):
        assert np.isnan(ours[:, :, 1]).all() and np.isnan(ours[:, :, 2]).all() and not np.isnan(ours[:, :, 0]).any()
    if name.startswith("left"):
        assert np.isnan(ours[:, :, 1]).all()
    if name == "stereo one source":
        assert np.isposinf(ours[2]).all()  # SIR: no other source, no interference


@pytest.mark.parametrize("nsrc", [1, 2])
def test_a_perfect_frame_gives_museval_inf_or_rounding_noise(nsrc):
    """An estimate equal to its reference over a frame: museval's SDR denominator is the rounding
    residue of its three error terms, a finite 300-400 dB for two sources and exactly 0 (+inf)
    for one. Reproduced in kind (finite where finite, inf where inf); the other metrics exactly."""
    refs, ests = broadband(nsrc, 3.0, 1, seed=81)
    ests[:, SR:2 * SR] = refs[:, SR:2 * SR]
    theirs = run_museval(refs, ests, SR, SR)
    ours = np.array(evaluate(refs, ests, win=SR, hop=SR))
    assert_parity(ours[1:], theirs[1:], STRICT_DB)
    assert_parity(ours[0][:, [0, 2]], theirs[0][:, [0, 2]], STRICT_DB)
    np.testing.assert_array_equal(np.isinf(ours[0]), np.isinf(theirs[0]))
    assert (ours[0][:, 1] > 250).all() and (theirs[0][:, 1] > 250).all()


def test_quiet_track_depends_on_eps_like_museval():
    """The eps * I term is what museval adds, not a detail: at 1e-8 amplitude it moves the
    metrics by far more than the parity bound."""
    refs, ests, win, hop = small_case("quiet track (eps * I matters)")
    quiet = np.array(evaluate(refs, ests, win=win, hop=hop))
    loud = np.array(evaluate(refs * 1e8, ests * 1e8, win=win, hop=hop))
    np.testing.assert_allclose(quiet[0], loud[0], atol=1e-9)          # SDR: no filters
    assert np.max(np.abs(quiet[1:] - loud[1:])) > 100 * STRICT_DB


@pytest.mark.slow
def test_sdr_only_is_the_full_sdr_and_the_closed_form(study_3s):
    refs, ests, theirs, full = study_3s
    only = evaluate_systems(refs, [ests], sdr_only=True)[0]
    np.testing.assert_array_equal(only.sdr, full.sdr)
    assert np.isnan(only.isr).all() and np.isnan(only.sir).all() and np.isnan(only.sar).all()
    assert only.conditioning is None
    assert_parity(only.sdr, theirs[0], SDR_DB)
    s, e = refs[0, :44100], ests[0, :44100]
    assert only.sdr[0, 0] == pytest.approx(10 * np.log10(np.sum(s ** 2) / np.sum((e - s) ** 2)), abs=1e-12)


# ---------------------------------------------------------------- ill conditioned
def ill_conditioned(kind: str):
    refs, ests = broadband(2, 2.0, 2, seed=11)
    if kind == "band-limited":
        # brick-walled references (like AAC's lowpass), estimates keep their broadband noise
        sos = butter(12, 0.3 * SR, fs=SR, output="sos")
        refs = sosfiltfilt(sos, refs, axis=1)
        noise = np.random.default_rng(1).standard_normal(refs.shape)
        ests = refs + 0.1 * (refs.sum(axis=0, keepdims=True) - refs) + 0.02 * noise
    else:  # dual-mono: L == R in every reference, so G is exactly singular (up to eps)
        refs[:, :, 1] = refs[:, :, 0]
    return refs, ests


@pytest.fixture(scope="module", params=["band-limited", "dual-mono"])
def ill_parity(request):
    refs, ests = ill_conditioned(request.param)
    return request.param, refs, ests, run_museval(refs, ests, SR, SR)


def test_ill_conditioned_sdr_and_masks_equal_and_flagged(ill_parity):
    name, refs, ests, theirs = ill_parity
    scores = evaluate_systems(refs, [ests], SR, SR)[0]
    ours = np.array(list(scores))
    assert_parity(ours[0], theirs[0], SDR_DB)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    assert scores.conditioning.ill_conditioned, scores.conditioning
    assert scores.conditioning.cond > 1e3 * ILL_CONDITIONED
    assert reference_conditioning(refs).ill_conditioned


@pytest.mark.slow
def test_well_conditioned_reference_is_not_flagged(small_stereo):
    refs, _ = small_stereo
    conditioning = reference_conditioning(refs)
    assert not conditioning.ill_conditioned and conditioning.cond < ILL_CONDITIONED / 100


# ---------------------------------------------------------------- properties
def test_scaling_and_permutation():
    refs, ests = broadband(3, 1.0, 1, seed=21)
    base = np.array(evaluate(refs, ests, win=SR, hop=SR))
    scaled = np.array(evaluate(refs * 7.5, ests * 7.5, win=SR, hop=SR))
    np.testing.assert_allclose(scaled, base, atol=1e-9)
    perm = [2, 0, 1]
    permuted = np.array(evaluate(refs[perm], ests[perm], win=SR, hop=SR))
    np.testing.assert_allclose(permuted, base[:, perm], atol=1e-9)


def test_several_systems_equal_separate_calls_and_keep_their_own_nan_frames():
    refs, ests = broadband(2, 3.0, 2, seed=31)
    other = 0.8 * ests + 0.01 * np.random.default_rng(2).standard_normal(ests.shape)
    other[1, SR:2 * SR] = 0  # only this system has a silent estimate in frame 1
    both = evaluate_systems(refs, [ests, other], SR, SR)
    for scores, est in zip(both, (ests, other)):
        alone = evaluate_systems(refs, [est], SR, SR)[0]
        assert_parity(np.array(list(scores)), np.array(list(alone)), 1e-9)
        assert scores.conditioning == both[0].conditioning
    assert not np.isnan(both[0].sdr).any() and np.isnan(both[1].sdr[:, 1]).all()


@pytest.mark.parametrize("keep_frames", [0, 1])
def test_kept_and_recomputed_frame_spectra_give_the_same_metrics(monkeypatch, keep_frames):
    """The frames' spectra are kept from the correlation pass up to a memory budget and computed
    again beyond it: both ways give the same numbers."""
    from demucs_study.evaluation.fast import api

    refs, ests = broadband(2, 3.5, 2, seed=91)
    default = np.array(evaluate(refs, ests, win=SR, hop=SR))
    frame_bytes = api._frame_bytes(segmentation(refs.shape[1], *frames(refs.shape[1], SR, SR), 512), refs, 1)
    monkeypatch.setattr(api, "KEEP_BYTES", keep_frames * frame_bytes)
    assert_parity(np.array(evaluate(refs, ests, win=SR, hop=SR)), default, 1e-9)


# ---------------------------------------------------------------- museval's JSON
@pytest.mark.slow
def test_track_json_equals_museval_trackstore(study_3s):
    refs, ests, theirs, _ = study_3s
    ours = evaluate_track("synthetic", refs.transpose(0, 2, 1), ests.transpose(0, 2, 1))
    museval_json = track_json("synthetic", SOURCES, 1.0, 1.0, *theirs)
    assert ours.keys() == museval_json.keys() == {"targets", "museval_version"}
    deviation = max_deviation(ours, museval_json, "synthetic")
    assert set(deviation) == {"SDR", "SIR", "SAR", "ISR"}
    assert max(deviation.values()) <= 1.5e-5  # TrackStore rounds to 1e-5
    assert math.isnan(ours["targets"][3]["frames"][2]["metrics"]["SDR"])


@pytest.mark.slow
def test_evaluate_track_backends_agree_and_conditioning_is_returned():
    refs, ests = broadband(2, 2.0, 2, seed=41)
    args = ("pair", refs.transpose(0, 2, 1), ests.transpose(0, 2, 1), SR)
    kwargs = dict(sources=("drums", "bass"))
    fast_json, conditioning = evaluate_track(*args, **kwargs, return_conditioning=True)
    museval_json, none = evaluate_track(*args, **kwargs, backend="museval", return_conditioning=True)
    assert none is None and not conditioning.ill_conditioned
    assert max(max_deviation(fast_json, museval_json).values()) <= 1.5e-5
    museval_json["targets"][1]["frames"][0]["metrics"]["SIR"] += 0.5
    museval_json["targets"][0]["frames"][1]["metrics"]["SDR"] = float("nan")
    deviation = max_deviation(fast_json, museval_json)
    assert deviation["SIR"] == pytest.approx(0.5, abs=2e-5) and deviation["SDR"] == math.inf
    museval_json["targets"][0]["frames"].pop()
    with pytest.raises(AudioError, match=r"track 'track': the frames of 'drums' differ"):
        max_deviation(fast_json, museval_json)


@pytest.mark.slow
def test_evaluate_track_refuses_what_museval_refuses(monkeypatch):
    refs, ests = broadband(2, 1.0, 1, seed=51)
    args = ("t", refs.transpose(0, 2, 1), ests.transpose(0, 2, 1), SR)
    with pytest.raises(ParamsError, match=r"track 't': unknown evaluation backend 'gpu'; use one of fast, museval"):
        evaluate_track(*args, sources=("drums", "bass"), backend="gpu")

    def singular(*a, **k):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(np.linalg, "solve", singular)  # as if G had an exactly zero pivot
    scores = evaluate_systems(refs, [ests], SR, SR)[0]
    assert scores.conditioning.lstsq_fallback and np.isfinite(scores.sir).all()
    with pytest.raises(AudioError, match=r"track 't': the references' correlation matrix is singular"):
        evaluate_track(*args, sources=("drums", "bass"))


# ---------------------------------------------------------------- errors, as museval's
def both_raise(refs, ests, match, **kwargs):
    with pytest.raises(ValueError, match=match):
        museval.evaluate(refs, ests, win=SR, hop=SR)
    with pytest.raises(ValueError, match=match):
        evaluate(refs, ests, win=SR, hop=SR, **kwargs)


def test_errors_are_museval_errors_naming_track_and_stem():
    refs, ests = broadband(2, 0.5, 2, seed=61)
    names = dict(track="song", names=("drums", "bass"))
    both_raise(refs, ests[:1], r"shape of estimated sources and the true sources should match")
    both_raise(refs, ests[:, :, :1], r"shape of estimated sources and the true sources should match")
    both_raise(refs[None], ests[None], r"number of dimensions is too high")
    silent = refs.copy()
    silent[1] = 0
    both_raise(silent, ests, r"All the reference sources should be non-silent \(not all-zeros\)")
    with pytest.raises(ValueError, match=r"track 'song': All the reference sources should be non-silent .* "
                                         r"the reference of 'bass' is all 0s"):
        evaluate(silent, ests, **names)
    silent = ests.copy()
    silent[0, :, 0] = -silent[0, :, 1]  # L = -R: silent by museval's rule
    both_raise(refs, silent, r"All the estimated sources should be non-silent \(not all-zeros\)")
    with pytest.raises(ValueError, match=r"track 'song': .* the estimate of 'drums' is all 0s"):
        evaluate(refs, silent, **names)
    bad = ests.copy()
    bad[1, 5, 0] = np.nan
    with pytest.raises(ValueError, match=r"track 'song': the estimate of 'bass' holds NaN or inf samples"):
        evaluate(refs, bad, **names)
    with pytest.raises(ValueError, match=r"mode='v3': only 'v4'"):
        evaluate(refs, ests, mode="v3")
    with pytest.raises(ValueError, match=r"track 'song \(system 1\)': .* the estimate of 'drums' is all 0s"):
        evaluate_systems(refs, [ests, silent], **names)


def test_padding_and_empty_inputs_like_museval():
    refs, ests = broadband(2, 1.2, 1, seed=71)
    n = refs.shape[1]
    longer = np.concatenate([ests, ests[:, :500]], axis=1)
    shorter = ests[:, :-700]
    padded = np.concatenate([shorter, np.zeros((2, 700, 1))], axis=1)
    sdr = lambda est, padding=True: evaluate(refs, est, win=SR, hop=SR, padding=padding, sdr_only=True)[0]
    np.testing.assert_array_equal(sdr(longer), sdr(longer[:, :n]))
    np.testing.assert_array_equal(sdr(shorter), sdr(padded))
    with pytest.raises(ValueError, match=r"shape of estimated sources"):
        sdr(shorter, padding=False)
    with pytest.warns(UserWarning, match=r"empty"):
        theirs = museval.evaluate(np.zeros((0, 10, 1)), np.zeros((0, 10, 1)))
    with pytest.warns(UserWarning, match=r"empty"):
        ours = evaluate(np.zeros((0, 10, 1)), np.zeros((0, 10, 1)))
    assert len(ours) == len(theirs) == 4 and all(o.size == t.size == 0 for o, t in zip(ours, theirs))
