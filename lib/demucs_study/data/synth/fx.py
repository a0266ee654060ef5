"""Per-part effect chains and per-stem reverbs, with Spotify's ``pedalboard`` (JUCE effects).

What a mixing engineer would put on each part of a pop/rock song, its settings drawn per song and part:

* **drums** - high-pass, kick punch and box cut EQ, presence and air, a bus compressor; sometimes a
  crushed parallel copy (distortion + low-pass) for grit; a short room reverb;
* **bass** - high-pass, low-mid cut, compressor; often a parallel overdrive through a low-pass
  (an amp/DI blend), more often on synth basses; no reverb;
* **guitars** (GM 24-31) - overdrive/distortion into a cabinet low-pass for riffs and many comps and
  leads (the overdriven/distortion presets already are), clean ones compressed, some with chorus;
  riffs and comps are often double-tracked (``Doubler``: the part left, a slightly delayed and
  detuned copy right, as two takes panned apart), pads and keys sometimes;
* **keys, organs, pads, strings** - high-pass to leave room for the bass, low-mid cut, gentle
  compression, chorus or phaser on some, more reverb;
* **arpeggios and leads** - tempo-synced delays (1/8, dotted 1/8, 1/4), chorus, some drive on synths;
* **vocals** - high-pass, low-mid cut, a fast compressor, presence and air EQ, sometimes saturation
  and a chorus doubler, a synced delay, a plate-like reverb (more on backing vocals).

Each stem has one reverb (its "aux"): the parts send to it, its return is 100 % wet and belongs to the
stem (as in multitrack stems, a vocal's reverb is in the vocal stem). Chains are JSON-able lists of
``[plugin name, {parameter: value}]`` recorded in the manifest.

pedalboard's plugins are deterministic: a fresh plugin (or one reset between calls, pedalboard's
default) gives the same output for the same input, LFOs (chorus, phaser) included (tests check it).

Speed: the linear EQ stages (``HighpassFilter``, ``LowpassFilter``, ``PeakFilter``, ``HighShelfFilter``,
``LowShelfFilter``) and ``Distortion`` keep pedalboard's names and parameters but run here: each run
of consecutive filters as one cascade of biquads (``scipy.signal.sosfilt``, the Audio EQ Cookbook
designs that JUCE's IIR filters also use) and the drive as ``tanh(gain * x)`` (pedalboard's
Distortion). Tests check that they match pedalboard's plugins; they run about 2x (filters) and 10x
(drive) faster, which keeps the generator above 30x real time. Compressor, chorus, phaser, delay and reverb are pedalboard's (a
reverb at half the sample rate was tried: with resampling it saved under 10 %, so it was left out).
"""
from __future__ import annotations

import numpy as np

GUITARS = range(24, 32)
DISTORTED_GUITARS = (29, 30)
SYNTH_BASSES = (38, 39)
SYNTH_LEADS = range(80, 88)
E_PIANOS = (4, 5)
ORGANS = range(16, 24)
#: Seconds of audio kept after a part's last sound so that delays and reverbs ring out.
TAIL = 2.5
#: Reverb room size per stem (range drawn per song; the bass's is drawn but unused: nothing sends to it).
STEM_REVERB = {"drums": (0.15, 0.45), "bass": (0.2, 0.45), "other": (0.4, 0.8), "vocals": (0.5, 0.85)}


def _u(rng, lo: float, hi: float, nd: int = 3) -> float:
    return round(float(rng.uniform(lo, hi)), nd)


def _synced_delay(rng, plan, mix: tuple, feedback: tuple = (0.15, 0.4)) -> list:
    beats = float(rng.choice([0.5, 0.75, 1.0], p=[0.35, 0.35, 0.3]))
    return ["Delay", {"delay_seconds": round(beats * plan.beat, 4), "feedback": _u(rng, *feedback),
                      "mix": _u(rng, *mix)}]


def _compressor(rng, thr: tuple, ratio: tuple, attack: tuple, release: tuple) -> list:
    return ["Compressor", {"threshold_db": _u(rng, *thr, 1), "ratio": _u(rng, *ratio, 2),
                           "attack_ms": _u(rng, *attack, 1), "release_ms": _u(rng, *release, 0)}]


def _drive(rng, drive: tuple, lowpass: tuple, mix: tuple | None) -> dict:
    chain = [["Distortion", {"drive_db": _u(rng, *drive, 1)}],
             ["LowpassFilter", {"cutoff_frequency_hz": _u(rng, *lowpass, 0)}]]
    return {"mix": _u(rng, *mix) if mix else 1.0, "chain": chain}


def draw_part_fx(rng: np.random.Generator, plan, part) -> dict:
    """The effect settings of one part: ``{"chain": [...], "parallel": {...} | None, "send": float}``.

    ``chain`` runs in series; ``parallel`` (a mix ratio and a chain) is blended with the chain's input
    before it (a "parallel" drive or crush); ``send`` is the level sent to the stem's reverb.
    """
    role, prog = part.role, part.program
    chain: list = []
    parallel = None
    if role == "drums":
        chain = [["HighpassFilter", {"cutoff_frequency_hz": _u(rng, 28, 45, 0)}],
                 ["PeakFilter", {"cutoff_frequency_hz": _u(rng, 55, 95, 0), "gain_db": _u(rng, 0, 4, 1), "q": 1.0}],
                 ["PeakFilter", {"cutoff_frequency_hz": _u(rng, 300, 550, 0), "gain_db": _u(rng, -4, -1, 1), "q": 1.2}],
                 ["PeakFilter", {"cutoff_frequency_hz": _u(rng, 3000, 6000, 0), "gain_db": _u(rng, -1, 2, 1), "q": 0.9}],
                 ["HighShelfFilter", {"cutoff_frequency_hz": _u(rng, 8000, 11000, 0), "gain_db": _u(rng, -4, 1, 1),
                                      "q": 0.7}],
                 _compressor(rng, (-22, -12), (2.5, 6), (3, 20), (60, 200))]
        if rng.random() < 0.35:
            parallel = _drive(rng, (12, 24), (4000, 8000), (0.1, 0.3))
        send = _u(rng, 0.15, 0.35)  # the room around the kit
    elif role == "bass":
        chain = [["HighpassFilter", {"cutoff_frequency_hz": _u(rng, 28, 40, 0)}],
                 ["PeakFilter", {"cutoff_frequency_hz": _u(rng, 220, 400, 0), "gain_db": _u(rng, -4, -1, 1), "q": 1.0}],
                 ["PeakFilter", {"cutoff_frequency_hz": _u(rng, 700, 1300, 0), "gain_db": _u(rng, 0, 3, 1), "q": 1.0}],
                 _compressor(rng, (-24, -14), (3, 8), (5, 25), (80, 220))]
        if rng.random() < (0.45 if prog in SYNTH_BASSES else 0.3):
            parallel = _drive(rng, (8, 22), (1500, 3500), (0.25, 0.6))
        send = 0.0  # bass stays dry (reverb on low frequencies muddies a mix)
    elif part.stem == "vocals":
        backing = role == "harmony-vocal"
        # EQ before the compressor (one cascade of biquads), as on many vocal chains
        chain = [["HighpassFilter", {"cutoff_frequency_hz": _u(rng, 80, 130, 0) + (60 if backing else 0)}],
                 ["PeakFilter", {"cutoff_frequency_hz": _u(rng, 250, 450, 0), "gain_db": _u(rng, -4, -1, 1), "q": 1.0}],
                 ["PeakFilter", {"cutoff_frequency_hz": _u(rng, 2500, 5000, 0), "gain_db": _u(rng, 0.5, 3.5, 1),
                                 "q": _u(rng, 0.7, 1.2, 2)}],
                 ["HighShelfFilter", {"cutoff_frequency_hz": _u(rng, 9000, 12000, 0), "gain_db": _u(rng, -2, 2, 1),
                                      "q": 0.7}],
                 _compressor(rng, (-26, -16), (3, 6), (1, 8), (50, 150))]
        if rng.random() < 0.3:
            parallel = _drive(rng, (6, 14), (6000, 10000), (0.15, 0.3))
        if rng.random() < (0.6 if backing else 0.3):
            chain.append(["Chorus", {"rate_hz": _u(rng, 0.3, 1.2), "depth": _u(rng, 0.1, 0.25),
                                     "centre_delay_ms": _u(rng, 7, 15, 1), "feedback": 0.0, "mix": _u(rng, 0.2, 0.4)}])
        if rng.random() < 0.6:
            chain.append(_synced_delay(rng, plan, (0.06, 0.16), (0.15, 0.35)))
        send = _u(rng, 0.2, 0.4) if backing else _u(rng, 0.12, 0.3)
    else:  # the "other" parts
        guitar = prog in GUITARS
        hp = {"pad": (100, 220), "comp": (70, 150), "arp": (120, 250), "lead": (120, 250), "riff": (60, 110)}[role]
        chain = [["HighpassFilter", {"cutoff_frequency_hz": _u(rng, *hp, 0)}],
                 ["PeakFilter", {"cutoff_frequency_hz": _u(rng, 250, 500, 0), "gain_db": _u(rng, -4, 0, 1), "q": 1.0}]]
        drive_p = {"riff": 0.8, "comp": 0.4, "lead": 0.6, "arp": 0.15, "pad": 0.0}[role] if guitar else \
            (0.3 if prog in SYNTH_LEADS and role == "lead" else 0.0)
        if prog in DISTORTED_GUITARS:
            drive_p = 0.25  # already distorted: sometimes a bit more
        if rng.random() < drive_p:  # amp: drive, then a cabinet (two first-order low-passes, 12 dB/octave)
            cab = _u(rng, 2500, 5000, 0)
            chain += [["Distortion", {"drive_db": _u(rng, 12, 30, 1)}],
                      ["LowpassFilter", {"cutoff_frequency_hz": cab}], ["LowpassFilter", {"cutoff_frequency_hz": cab}],
                      ["PeakFilter", {"cutoff_frequency_hz": _u(rng, 700, 1600, 0), "gain_db": _u(rng, -3, 3, 1),
                                      "q": 0.8}]]
        chain.append(_compressor(rng, (-24, -12), (1.5, 4), (5, 30), (80, 250)))
        chorus_p = {"pad": 0.4, "comp": 0.3, "arp": 0.2, "lead": 0.25, "riff": 0.05}[role]
        if prog in E_PIANOS:
            chorus_p = 0.6
        if rng.random() < chorus_p:
            chain.append(["Chorus", {"rate_hz": _u(rng, 0.3, 1.5), "depth": _u(rng, 0.15, 0.4),
                                     "centre_delay_ms": _u(rng, 5, 12, 1), "feedback": 0.0, "mix": _u(rng, 0.25, 0.5)}])
        elif prog in ORGANS and rng.random() < 0.3:
            chain.append(["Phaser", {"rate_hz": _u(rng, 0.2, 1.0), "depth": _u(rng, 0.3, 0.6),
                                     "centre_frequency_hz": _u(rng, 800, 1800, 0), "feedback": 0.0,
                                     "mix": _u(rng, 0.3, 0.5)}])
        if role in ("arp", "lead") and rng.random() < 0.6:
            chain.append(_synced_delay(rng, plan, (0.12, 0.3)))
        double_p = {"pad": 0.5, "comp": 0.6 if guitar else 0.35, "arp": 0.2, "lead": 0.0, "riff": 0.7}[role]
        if rng.random() < double_p:
            chain.append(["Doubler", {"delay_ms": _u(rng, 10, 25, 1), "depth": _u(rng, 0.05, 0.2),
                                      "rate_hz": _u(rng, 0.3, 1.2), "spread": _u(rng, 0.6, 1.0)}])
        send = {"pad": (0.2, 0.45), "comp": (0.1, 0.3), "arp": (0.15, 0.3), "lead": (0.15, 0.3),
                "riff": (0.05, 0.18)}[role]
        send = _u(rng, *send)
    return {"chain": chain, "parallel": parallel, "send": send}


def draw_stem_reverb(rng: np.random.Generator, stem: str) -> dict:
    """The settings of a stem's reverb return: a band-limited, fully wet room or plate."""
    lo, hi = STEM_REVERB[stem]
    return {"chain": [["HighpassFilter", {"cutoff_frequency_hz": _u(rng, 150, 350, 0)}],
                      ["Reverb", {"room_size": _u(rng, lo, hi), "damping": _u(rng, 0.3, 0.7),
                                  "wet_level": 1.0, "dry_level": 0.0, "width": _u(rng, 0.85, 1.0)}],
                      ["LowpassFilter", {"cutoff_frequency_hz": _u(rng, 5000, 10000, 0)}]]}


#: Chain stages computed here instead of by pedalboard (same names and parameters, see the module doc).
LINEAR = ("HighpassFilter", "LowpassFilter", "PeakFilter", "HighShelfFilter", "LowShelfFilter")


def biquad(name: str, params: dict, samplerate: int) -> np.ndarray:
    """One section ``[b0, b1, b2, 1, a1, a2]`` of a pedalboard-named linear filter: high- and low-pass
    are first order (6 dB/octave, -3 dB at the cutoff, as pedalboard's), peak and shelves second order
    (Audio EQ Cookbook, R. Bristow-Johnson; pedalboard's default Q is 1/sqrt(2))."""
    fc = float(params["cutoff_frequency_hz"])
    q = float(params.get("q", 1 / np.sqrt(2)))
    gain_db = float(params.get("gain_db", 0.0))
    w0 = 2 * np.pi * min(fc, 0.49 * samplerate) / samplerate
    cw, sw = np.cos(w0), np.sin(w0)
    alpha = sw / (2 * q)
    amp = 10 ** (gain_db / 40)
    if name in ("HighpassFilter", "LowpassFilter"):  # bilinear transform of a first-order section
        n = np.tan(w0 / 2)
        b = [1.0, -1.0, 0.0] if name == "HighpassFilter" else [n, n, 0.0]
        b, a = [v / (n + 1) for v in b], [1.0, (n - 1) / (n + 1), 0.0]
    elif name == "PeakFilter":
        b, a = [1 + alpha * amp, -2 * cw, 1 - alpha * amp], [1 + alpha / amp, -2 * cw, 1 - alpha / amp]
    elif name in ("HighShelfFilter", "LowShelfFilter"):
        sq = 2 * np.sqrt(amp) * alpha
        sign = 1 if name == "HighShelfFilter" else -1
        b = [amp * ((amp + 1) + sign * (amp - 1) * cw + sq), -2 * sign * amp * ((amp - 1) + sign * (amp + 1) * cw),
             amp * ((amp + 1) + sign * (amp - 1) * cw - sq)]
        a = [(amp + 1) - sign * (amp - 1) * cw + sq, 2 * sign * ((amp - 1) - sign * (amp + 1) * cw),
             (amp + 1) - sign * (amp - 1) * cw - sq]
    else:
        raise ValueError(f"{name} is not a linear filter")
    b, a = np.asarray(b) / a[0], np.asarray(a) / a[0]
    return np.concatenate([b, a])


def build(chain: list):
    """A ``pedalboard.Pedalboard`` of fresh plugins from a JSON-able chain (every stage by pedalboard)."""
    import pedalboard

    return pedalboard.Pedalboard([getattr(pedalboard, name)(**kwargs) for name, kwargs in chain])


def run_chain(chain: list, x: np.ndarray, samplerate: int) -> np.ndarray:
    """``x`` (channels, time) float32 through ``chain`` -> a new float32 array (see the module doc)."""
    from scipy.signal import sosfilt

    y = x
    k = 0
    while k < len(chain):
        name, params = chain[k]
        if name in LINEAR:
            run = []
            while k < len(chain) and chain[k][0] in LINEAR:
                run.append(biquad(chain[k][0], chain[k][1], samplerate))
                k += 1
            # float32 throughout, as JUCE's filters (tests compare with them)
            y = sosfilt(np.array(run, dtype=np.float32), np.asarray(y, dtype=np.float32), axis=-1)
            continue
        if name == "Distortion":
            y = np.tanh(y * np.float32(10 ** (params["drive_db"] / 20))).astype(np.float32)
        elif name == "Doubler":
            y = double(y, samplerate, **params)
        else:
            y = build([chain[k]])(np.ascontiguousarray(y, dtype=np.float32), samplerate)
        k += 1
    return y if y is not x else x.copy()


def double(x: np.ndarray, samplerate: int, delay_ms: float, depth: float, rate_hz: float,
           spread: float) -> np.ndarray:
    """A double-tracked part: the mono sum left, a copy delayed by ``delay_ms`` with a slow pitch
    wobble (pedalboard's Chorus, fully wet) right; ``spread`` 1 keeps them apart, less blends them."""
    import pedalboard

    mono = np.ascontiguousarray(np.broadcast_to(x.mean(axis=0, dtype=np.float32), x.shape))
    copy = pedalboard.Chorus(rate_hz=rate_hz, depth=depth, centre_delay_ms=delay_ms, feedback=0.0,
                             mix=1.0)(mono, samplerate)[0]
    a, b = np.float32((1 + spread) / 2), np.float32((1 - spread) / 2)
    return np.stack([mono[0] * a + copy * b, copy * a + mono[0] * b]).astype(np.float32)


def runs(spans: list[tuple[int, int]], length: int, tail: int) -> list[tuple[int, int]]:
    """Sample ranges to process: each ``(start, end)`` of ``spans`` extended by ``tail`` (clipped to
    ``length``), overlapping ones merged, sorted."""
    out: list[list[int]] = []
    for a, b in sorted((max(0, int(a)), min(length, int(b) + tail)) for a, b in spans):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def process(settings: dict, x: np.ndarray, samplerate: int,
            spans: list[tuple[int, int]] | None = None) -> np.ndarray:
    """``x`` (channels, time) float32 through a part's ``chain`` (and ``parallel`` blend) -> new array.

    Only the ``spans`` where the part sounds (default: from the first sound of ``x`` to its last),
    each followed by ``TAIL`` s for delays and reverbs, are processed, each range on its own (fresh
    effects, as a part that stops and starts again); the rest stays 0.
    """
    out = np.zeros_like(x)
    for a, b in runs(spans if spans is not None else [_span(x, 0)], x.shape[1], int(TAIL * samplerate)):
        seg = np.ascontiguousarray(x[:, a:b])
        if settings.get("parallel"):
            par = settings["parallel"]
            wet = run_chain(par["chain"], seg, samplerate)
            dry_rms, wet_rms = np.sqrt(np.mean(np.square(seg))), np.sqrt(np.mean(np.square(wet)))
            match = dry_rms / wet_rms if wet_rms > 0 else 0.0  # the blend is at equal loudness, not drive level
            seg = (seg * np.float32(1.0 - par["mix"]) + wet * np.float32(par["mix"] * match)).astype(np.float32)
        out[:, a:b] = run_chain(settings["chain"], seg, samplerate)
    return out


def _span(x: np.ndarray, tail: int) -> tuple[int, int]:
    """First and one-past-last sample of ``x`` (channels, time) with sound, plus ``tail``."""
    nz = np.flatnonzero(np.abs(x).max(axis=0) > 0)
    if len(nz) == 0:
        return 0, 0
    return int(nz[0]), min(x.shape[1], int(nz[-1]) + 1 + tail)
