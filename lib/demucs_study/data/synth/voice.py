"""Sung lines: legato phrases with portamento, vibrato, scoops, pitch drift and syllables.

A singer does not re-attack every note: within a phrase the voice glides from pitch to pitch. Here a
phrase (notes separated by less than ``LEGATO_GAP`` and spanning less than ``MAX_SPAN`` semitones) is
played as **one** sustained note of a voice preset (choir, "oohs", synth voice) at the middle of its
range, and the melody is drawn with pitch bends (bend range 12 semitones, set per part in the synth):

* **portamento** - each new pitch is approached along an exponential glide (time constant drawn per
  song, 25-80 ms), sometimes from a scoop below;
* **vibrato** - 4.8-6.5 Hz, 15-50 cents, fading in 150-300 ms after a note starts on long notes
  (sung vibrato is about 5-7 Hz and +-20-50 cents, Sundberg 1987, *The Science of the Singing Voice*);
* **drift** - a slow wander of a few cents, as no singer holds a pitch exactly;
* **syllables** - expression (CC 11) dips between notes, as consonants break the vowel, and per-note
  accents from the notes' velocities;
* **vowels** - each sung note gets a vowel (sent as CC ``VOWEL_CC``, which the synth ignores); the
  renderer (:func:`formants`) boosts that vowel's first three formants (Peterson & Barney 1952, "Control
  methods used in a study of the vowels", average male values) on the rendered voice, so the timbre
  moves from syllable to syllable as a singer's does instead of holding one "aah".

Without a generator (``rng=None``) the same contour is drawn with fixed middle values.
"""
from __future__ import annotations

import numpy as np

#: Notes closer than this (s) are sung legato in one phrase.
LEGATO_GAP = 0.15
#: A phrase spans at most this many semitones (so bends stay within +-6 of the phrase's centre note).
MAX_SPAN = 11
#: Pitch-bend range (semitones) the renderer sets for sung parts (``Part.bend_range``).
BEND_RANGE = 12.0
STEP = 0.01  # s between bend / expression events
#: Formant frequencies (Hz) F1, F2, F3 of five vowels (Peterson & Barney 1952, average of men).
VOWELS = {"a": (730, 1090, 2440), "e": (530, 1840, 2480), "i": (270, 2290, 3010), "o": (570, 840, 2410),
          "u": (300, 870, 2240)}
VOWEL_P = {"a": 0.3, "e": 0.2, "i": 0.15, "o": 0.2, "u": 0.15}
#: MIDI controllers carrying the vowel of each note and the formant boost (dB x 10) of the part; the
#: synth ignores them (sound controllers 6 and 7).
VOWEL_CC, FORMANT_GAIN_CC = 75, 76


def _phrases(items: list) -> list[list]:
    items = sorted(items, key=lambda n: (n[1], n[0]))
    phrases: list[list] = []
    for n in items:
        cur = phrases[-1] if phrases else None
        if cur is not None and n[1] - cur[-1][2] < LEGATO_GAP:
            pitches = [q[0] for q in cur] + [n[0]]
            if max(pitches) - min(pitches) <= MAX_SPAN:
                cur.append(n)
                continue
        phrases.append([n])
    return phrases


def _draw(rng, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi)) if rng is not None else (lo + hi) / 2


def sing(rng, plan, part, notes) -> None:
    """Replace ``notes.items`` by one note per legato phrase, with the melody in ``notes.bends``
    (time, bend in [-8192, 8191] for ``part.bend_range`` semitones) and syllables in ``notes.ccs``."""
    if not notes.items:
        notes.bends, notes.ccs = [], []
        return
    bend_range = float(part.bend_range or BEND_RANGE)
    unit = 8192.0 / (bend_range * 100.0)  # bend units per cent
    glide = _draw(rng, 0.025, 0.08)
    rate = _draw(rng, 4.8, 6.5)
    depth = _draw(rng, 15.0, 50.0)
    onset = _draw(rng, 0.15, 0.3)
    scoop_p = _draw(rng, 0.1, 0.4)
    dip = _draw(rng, 0.45, 0.8)
    formant_db = _draw(rng, 4.0, 9.0)
    names = list(VOWELS)
    p_vowel = np.array([VOWEL_P[v] for v in names])
    items, bends, ccs = [], [], [(0.0, FORMANT_GAIN_CC, int(round(formant_db * 10)))]
    for phrase in _phrases(notes.items):
        pitches = [n[0] for n in phrase]
        anchor = (max(pitches) + min(pitches)) // 2
        start, end = phrase[0][1], max(n[2] for n in phrase)
        vel = int(max(n[3] for n in phrase))
        items.append((anchor, start, end, vel))
        times = np.arange(start, end, STEP)
        cents = np.empty(len(times))
        target = np.empty(len(times))
        note_start = np.empty(len(times))
        j = 0
        for k, t in enumerate(times):  # the note sounding (or the next one, in a gap) at t
            while j + 1 < len(phrase) and t >= phrase[j + 1][1]:
                j += 1
            target[k] = (phrase[j][0] - anchor) * 100.0
            note_start[k] = phrase[j][1]
        first = target[0] - (100.0 * _draw(rng, 0.5, 2.0) if (rng is not None and rng.random() < scoop_p) else 0.0)
        a = 1.0 - np.exp(-STEP / glide)
        cur = first
        for k in range(len(times)):  # first-order glide towards the current note's pitch
            cur += a * (target[k] - cur)
            cents[k] = cur
        since = times - note_start
        ramp = np.clip((since - onset) / 0.25, 0.0, 1.0)
        cents += depth * ramp * np.sin(2 * np.pi * rate * np.maximum(since - onset, 0.0))
        phase = _draw(rng, 0.0, 2 * np.pi)
        cents += 6.0 * np.sin(2 * np.pi * 0.7 * (times - start) + phase)
        values = np.clip(np.round(cents * unit), -8192, 8191).astype(int)
        bends.append((start, int(values[0])))
        last = int(values[0])
        for t, v in zip(times[1:], values[1:]):
            if v != last:
                bends.append((float(t), int(v)))
                last = v
        # syllables: the expression follows the notes' velocities and dips before each new note
        for q, (p, s, e, v) in enumerate(phrase):
            level = int(np.clip(70 + (v - 70) * 0.9, 60, 127))
            if q > 0:  # a short dip (a consonant) shaped in a few steps, so it does not click
                for dt, f in ((0.05, (1 + dip) / 2), (0.035, dip), (0.015, (1 + dip) / 2)):
                    ccs.append((max(start, s - dt), 11, int(level * f)))
            ccs.append((s, 11, level))
            vowel = int(rng.choice(len(names), p=p_vowel)) if rng is not None else q % len(names)
            ccs.append((s, VOWEL_CC, vowel))
        ccs.append((end, 11, 127))
    bends.append((max(n[2] for n in items), 0))
    notes.items = items
    notes.bends = bends
    notes.ccs = sorted(ccs, key=lambda c: c[0])


def formants(x: np.ndarray, samplerate: int, events: list[tuple[int, int]], gain_db: float) -> np.ndarray:
    """Boost the formants of each note's vowel on a rendered voice ``x`` (T, channels) float32.

    ``events``: (sample, vowel index into VOWELS) where a vowel starts. Each segment is filtered by
    three peaking biquads (F1, F2, F3: Q 4, 5, 6, gains ``gain_db``, 0.8x, 0.6x); the filter state
    carries over between segments, so the timbre changes without a gap.
    """
    from scipy.signal import sosfilt

    from .fx import biquad

    if not events or gain_db <= 0:
        return x
    formant_sets = []
    for f1, f2, f3 in VOWELS.values():
        formant_sets.append(np.array([
            biquad("PeakFilter", {"cutoff_frequency_hz": f, "gain_db": g, "q": q}, samplerate)
            for f, g, q in ((f1, gain_db, 4.0), (f2, 0.8 * gain_db, 5.0), (f3, 0.6 * gain_db, 6.0))]))
    events = sorted((max(0, int(a)), int(v) % len(formant_sets)) for a, v in events)
    out = x.copy()
    zi = np.zeros((3, 2, x.shape[1]))
    starts = [a for a, _ in events]
    starts[0] = 0  # before the first vowel: the first one
    ends = starts[1:] + [x.shape[0]]
    for (_, v), a, b in zip(events, starts, ends):
        if b > a:
            out[a:b], zi = sosfilt(formant_sets[v], x[a:b], axis=0, zi=zi)
    return out
