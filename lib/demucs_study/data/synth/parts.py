"""Notes of each part of a planned song, as a ``pretty_midi.PrettyMIDI`` (one instrument per part).

Each instrument is named ``"<stem>:<role>"`` (stem in drums/bass/other/vocals), carries its pan as
MIDI CC 10 at time 0, and for sung parts one note per legato phrase with pitch bends (portamento,
vibrato, scoops) and expression (CC 11) dips between syllables (:mod:`.voice`). Notes are only
written inside the sections where the part plays, so a stem is silent in its inactive sections.
"""
from __future__ import annotations

import numpy as np

from .plan import Part, SongPlan

# General MIDI percussion keys (channel 10).
KICK, RIM, SNARE, CLAP, SNARE2, CHH, PHH, OHH, CRASH, RIDE, TAMB, CRASH2, SHAKER = (
    36, 37, 38, 39, 40, 42, 44, 46, 49, 51, 54, 57, 70)
TOMS = (50, 48, 47, 45, 43, 41)

# Drum grooves: steps per bar, then kick, snare and hat lanes ('x' hit, 'g' ghost note).
GROOVES = {
    "rock": (16, "x.......x.x.....", "....x.......x...", "x.x.x.x.x.x.x.x."),
    "pop": (16, "x.....x...x.....", "....x.......x...", "x.x.x.x.x.x.x.x."),
    "funk": (16, "x..x......x..x..", "....x..g.g..x..g", "xxxxxxxxxxxxxxxx"),
    "halftime": (16, "x.....x...x.....", "........x.......", "x.x.x.x.x.x.x.x."),
    "fourfloor": (16, "x...x...x...x...", "....x.......x...", "..x...x...x...x."),
    "shuffle": (12, "x.....x..x..", "...x.....x..", "x.xx.xx.xx.x"),
    "electronic": (16, "x..x..x...x.....", "....x.......x...", "xxxxxxxxxxxxxxxx"),
    "ballad": (16, "x.......x..x....", "....x.......x...", "x.x.x.x.x.x.x.x."),
}
#: Fill kinds at the end of a section (or, shorter, at the end of a 4-bar phrase inside one).
FILLS = ("snare", "toms", "mixed", "roll", "unison", "accents")
BASS_PATTERNS = {  # eighth-note slots: r root, f fifth, o octave, c third, a approach, - tie, . rest
    "root8": ["rrrrrrrr", "rrrrrrro"], "root4": ["r-r-r-r-", "r-r-r-rr"], "rootfifth": ["r-f-r-f-", "r-f-o-f-"],
    "syncop": ["r--r--r-", "r-.rr-.r", "r--r-.o-", "r-.r.-rf"], "walking": ["r-c-f-a-", "r-f-c-a-"],
    "octave": ["rorororo", "r-oor-or"], "sustain": ["r-------", "r-----f-"],
}
COMP_PATTERNS = {
    "keys": ["x...x...x...x...", "x..x..x...x.....", "x.......x.......", "..x...x...x...x.", "x.x.x.x.x.x.x.x."],
    "guitar": ["x.x.x.x.x.x.x.x.", "x..x..x.x.x.x...", "..x...x...x...x.", "x...x.xx..x.x.x.", "x.......x..x...."],
}
GUITARS = range(24, 32)


def _jitter(rng, sd: float) -> float:
    return float(rng.normal(0.0, sd))


def _nearest(pc: int, target: float, lo: int, hi: int) -> int:
    """The MIDI pitch of pitch class ``pc`` in [lo, hi] nearest to ``target``."""
    cands = [p for p in range(lo, hi + 1) if p % 12 == pc]
    return min(cands, key=lambda p: (abs(p - target), p))


def _voicing(tones, center: float, n: int, lo: int, hi: int) -> list[int]:
    """``n`` chord tones stacked upwards from the inversion whose mean pitch is nearest ``center``."""
    best = None
    for inv in range(len(tones)):
        pcs = [tones[(inv + i) % len(tones)] for i in range(n)]
        p = _nearest(pcs[0], center - 5, lo, hi)
        stack = [p]
        for pc in pcs[1:]:
            p = p + 1
            while p % 12 != pc:
                p += 1
            stack.append(p)
        score = abs(sum(stack) / len(stack) - center)
        if best is None or score < best[0]:
            best = (score, stack)
    return best[1]


class Notes:
    """Collects notes (pitch, start, end, velocity) in seconds for one part."""

    def __init__(self, plan: SongPlan):
        self.plan = plan
        self.items: list[tuple[int, float, float, int]] = []
        self.bends: list[tuple[float, int]] = []
        self.ccs: list[tuple[float, int, int]] = []  # (time, controller, value)

    def add(self, pitch: int, start: float, end: float, vel: float) -> None:
        start = max(0.0, start)
        if start >= self.plan.duration - 0.02 or end - start < 0.02:
            return
        self.items.append((min(127, max(0, int(pitch))), start, min(end, self.plan.duration),
                           min(127, max(1, int(round(vel))))))


def _section_vel(plan: SongPlan, i: int) -> float:
    return {0: 72.0, 1: 88.0, 2: 102.0}[plan.sections[i].energy]


# ---------------------------------------------------------------- drums
def _fill(rng, out: "Notes", plan: SongPlan, b: int, start_beat: float, beats: int, base: float) -> None:
    """A fill over the last ``beats`` beats of bar ``b``, louder towards the end."""
    kind = str(rng.choice(FILLS, p=[0.22, 0.22, 0.22, 0.12, 0.12, 0.1]))
    per_beat = 8 if kind == "roll" else (2 if kind in ("unison", "accents") else 4)
    n = beats * per_beat
    toms = TOMS if rng.random() < 0.7 else TOMS[::2]
    for k in range(n):
        t = plan.time(b, start_beat + k / per_beat)
        vel = base - 15 + 25 * k / n + rng.normal(0, 4)
        if kind == "snare" or kind == "roll":
            out.add(SNARE, t, t + 0.1, vel - (10 if kind == "roll" and k % 2 else 0))
        elif kind == "toms":
            out.add(toms[min(len(toms) - 1, k * len(toms) // n)], t, t + 0.2, vel)
        elif kind == "mixed":
            key = SNARE if k % 2 == 0 else toms[min(len(toms) - 1, k * len(toms) // n)]
            out.add(key, t, t + 0.15, vel)
        elif kind == "unison":
            out.add(KICK, t, t + 0.15, vel)
            out.add(SNARE, t, t + 0.15, vel)
        else:  # accents: kick + crash stabs
            out.add(KICK, t, t + 0.15, vel + 5)
            if k % 2 == 1:
                out.add(CRASH2, t, t + 0.8, vel)


def drums(rng, plan: SongPlan, part: Part) -> Notes:
    out = Notes(plan)
    steps, kick, snare, hat = GROOVES[part.style]
    kick = list(kick)
    if rng.random() < 0.5:  # a per-song variation of the kick lane
        kick[int(rng.integers(1, steps))] = "x"
    chorus_cymbal = str(rng.choice(["chh", "ohh", "ride"]))
    intro_mode = str(rng.choice(["hats", "rim", "kick"]))
    perc = int(rng.choice([0, TAMB, SHAKER], p=[0.5, 0.25, 0.25]))
    ghosts = part.style != "funk" and rng.random() < 0.35  # ghost notes on the snare between backbeats
    open_hat_end = rng.random() < 0.4  # an open hat on the last off-beat of some bars
    phrase_fills = rng.random() < 0.6  # short fills at the end of 4-bar phrases inside sections
    step_beats = 4.0 / steps
    secs = part.sections
    after_fill = False
    for i in secs:
        sec = plan.sections[i]
        base = _section_vel(plan, i) + 10
        fill_beats = int(rng.choice([1, 2])) if (i + 1 < len(plan.sections) and rng.random() < 0.6) else 0
        crash = sec.energy >= 1 and i > 0 and (after_fill or rng.random() < 0.8)
        after_fill = False
        for bar in range(sec.bars):
            b = sec.start_bar + bar
            last = bar == sec.bars - 1
            fill_from = 4 - fill_beats if last and fill_beats else 4
            if not last and phrase_fills and sec.energy >= 1 and bar % 4 == 3 and rng.random() < 0.5:
                fill_from = 3
            if bar == 0 and crash:
                t = plan.time(b)
                out.add(int(rng.choice([CRASH, CRASH2])), t, t + 1.2, base - 5)
            for s in range(steps):
                beat = s * step_beats
                if beat >= fill_from:
                    continue
                t = plan.time(b, beat)
                accent = 8 if s % (steps // 4) == 0 else 0
                if kick[s] == "x" and not (sec.energy == 0 and intro_mode == "hats" and s > 0):
                    out.add(KICK, t, t + 0.15, base + accent + rng.normal(0, 4))
                if snare[s] in "xg":
                    if snare[s] == "g":
                        if sec.energy >= 1:
                            out.add(SNARE, t, t + 0.1, 38 + rng.normal(0, 5))
                    elif sec.energy == 0 and intro_mode != "kick":
                        out.add(RIM, t, t + 0.15, base - 10 + rng.normal(0, 4))
                    elif sec.energy > 0:
                        out.add(CLAP if part.style in ("fourfloor", "electronic") else SNARE,
                                t, t + 0.15, base + rng.normal(0, 4))
                elif ghosts and sec.energy >= 1 and s % 2 == 1 and rng.random() < 0.25:
                    out.add(SNARE, t, t + 0.08, 30 + rng.normal(0, 5))
                if hat[s] == "x" and not (sec.energy == 0 and intro_mode == "kick"):
                    key = CHH
                    if sec.energy == 2 and chorus_cymbal == "ride":
                        key = RIDE
                    elif (sec.energy == 2 and chorus_cymbal == "ohh" and s % (steps // 4) == steps // 8) \
                            or part.style == "fourfloor" \
                            or (open_hat_end and s == steps - steps // 8 and bar % 2 == 1):
                        key = OHH
                    out.add(key, t, t + (0.3 if key != CHH else 0.1), base - 32 + accent * 2 + rng.normal(0, 6))
                if perc and sec.energy == 2 and s % 2 == 1:
                    out.add(perc, t, t + 0.1, base - 35 + rng.normal(0, 5))
            if fill_from < 4:
                _fill(rng, out, plan, b, fill_from, 4 - fill_from, base)
                after_fill = last
    return out


# ---------------------------------------------------------------- bass
def bass(rng, plan: SongPlan, part: Part) -> Notes:
    out = Notes(plan)
    style = part.style
    pats = {e: BASS_PATTERNS[style][int(rng.integers(len(BASS_PATTERNS[style])))] for e in (1, 2)}
    pats[0] = BASS_PATTERNS["sustain"][int(rng.integers(2))] if rng.random() < 0.6 else pats[1]
    staccato = 0.8 if style in ("root8", "octave") else 0.96
    prev = 36.0
    eighth = plan.beat / 2
    for i in part.sections:
        sec = plan.sections[i]
        pat = pats[sec.energy]
        vel = _section_vel(plan, i)
        for bar in range(sec.bars):
            b = sec.start_bar + bar
            slot = 0
            while slot < 8:
                sym = pat[slot]
                length = 1
                while slot + length < 8 and pat[slot + length] == "-":
                    length += 1
                if sym in ".-":
                    slot += length
                    continue
                t = plan.time(b, slot / 2)
                chord = plan.chord_at(t + 1e-6)
                root = _nearest(chord.root, prev, 28, 47)
                if sym == "r":
                    p = root
                elif sym == "f":
                    p = root + 7 if root + 7 <= 52 else root - 5
                elif sym == "o":
                    p = root + 12
                elif sym == "c":
                    p = _nearest(chord.tones[1], root + 4, 28, 55)
                else:  # approach the next chord's root by a semitone
                    nxt = plan.chord_at(plan.time(b + 1) + 1e-6)
                    target = _nearest(nxt.root, root, 28, 47)
                    p = target + int(rng.choice([-1, 1]))
                if sym == "r":
                    prev = root
                start = t + _jitter(rng, 0.004)
                out.add(p, start, start + length * eighth * staccato, vel + (8 if slot % 2 == 0 else 0)
                        + rng.normal(0, 5))
                slot += length
    return out


# ---------------------------------------------------------------- other: pad, comp, arp, riff
def _chords_in(plan: SongPlan, i: int):
    sec = plan.sections[i]
    return [c for c in plan.chords if sec.start - 1e-6 <= c.start < sec.end - 1e-6 or
            (c.start < sec.start < c.end)]


def pad(rng, plan: SongPlan, part: Part) -> Notes:
    out = Notes(plan)
    center = float(rng.uniform(58, 68))
    n = int(rng.choice([3, 4]))
    for i in part.sections:
        sec = plan.sections[i]
        vel = _section_vel(plan, i) - 10
        for c in _chords_in(plan, i):
            start, end = max(c.start, sec.start), min(c.end, sec.end)
            for p in _voicing(c.tones, center, n, 45, 84):
                out.add(p, start + _jitter(rng, 0.005), end, vel + rng.normal(0, 4))
    return out


def comp(rng, plan: SongPlan, part: Part) -> Notes:
    out = Notes(plan)
    guitar = part.program in GUITARS
    pool = COMP_PATTERNS["guitar" if guitar else "keys"]
    pats = {e: pool[int(rng.integers(len(pool)))] for e in (0, 1, 2)}
    center = float(rng.uniform(60, 70))
    left_hand = (not guitar) and rng.random() < 0.5
    n = 4 if guitar else int(rng.choice([3, 4]))
    six = plan.beat / 4
    for i in part.sections:
        sec = plan.sections[i]
        pat = pats[sec.energy]
        hits = [s for s in range(16) if pat[s] == "x"]
        vel = _section_vel(plan, i) - 5
        for bar in range(sec.bars):
            b = sec.start_bar + bar
            for j, s in enumerate(hits):
                t = plan.time(b, s / 4)
                nxt = hits[j + 1] if j + 1 < len(hits) else 16
                dur = (nxt - s) * six * (0.55 if guitar and s % 4 else 0.92)
                chord = plan.chord_at(t + 1e-6)
                voice = _voicing(chord.tones, center, n, 48, 84)
                down = s % 4 == 0
                order = voice if down else voice[::-1]
                accent = 8 if s % 4 == 0 else 0
                for k, p in enumerate(order):
                    st = t + (k * 0.008 if guitar else 0.0) + _jitter(rng, 0.003)
                    out.add(p, st, t + dur, vel + accent + rng.normal(0, 5))
                if left_hand and (s == hits[0] or t <= chord.start + 1e-3 <= t + six):
                    out.add(_nearest(chord.root, 43, 36, 52), t, t + dur, vel + rng.normal(0, 4))
    return out


def arp(rng, plan: SongPlan, part: Part) -> Notes:
    out = Notes(plan)
    per_beat = 4 if plan.tempo < 110 and rng.random() < 0.6 else 2
    shape = str(rng.choice(["up", "down", "updown", "random"]))
    center = float(rng.uniform(62, 72))
    step = plan.beat / per_beat
    for i in part.sections:
        sec = plan.sections[i]
        vel = _section_vel(plan, i) - 8
        nsteps = sec.bars * 4 * per_beat
        for k in range(nsteps):
            t = plan.time(sec.start_bar, k / per_beat)
            chord = plan.chord_at(t + 1e-6)
            tones = _voicing(chord.tones, center, len(chord.tones), 48, 96)
            tones = tones + [p + 12 for p in tones]
            m = len(tones)
            if shape == "up":
                idx = k % m
            elif shape == "down":
                idx = m - 1 - k % m
            elif shape == "updown":
                cyc = k % (2 * m - 2)
                idx = cyc if cyc < m else 2 * m - 2 - cyc
            else:
                idx = int(rng.integers(m))
            out.add(tones[idx], t + _jitter(rng, 0.003), t + step * 1.4, vel + (6 if k % per_beat == 0 else 0)
                    + rng.normal(0, 4))
    return out


def riff(rng, plan: SongPlan, part: Part) -> Notes:
    out = Notes(plan)
    pat = str(rng.choice(["x-x-xx-x", "x.x.x.x.", "xxxxxxxx", "x--x--x-", "x-.xx-.x"]))
    power = rng.random() < 0.7
    eighth = plan.beat / 2
    prev = 45.0
    for i in part.sections:
        sec = plan.sections[i]
        vel = _section_vel(plan, i)
        for bar in range(sec.bars):
            b = sec.start_bar + bar
            for slot, sym in enumerate(pat):
                if sym != "x":
                    continue
                length = 1
                while slot + length < 8 and pat[slot + length] == "-":
                    length += 1
                t = plan.time(b, slot / 2)
                chord = plan.chord_at(t + 1e-6)
                root = _nearest(chord.root, prev, 40, 55)
                prev = root
                notes = [root, root + 7, root + 12] if power else [root]
                for p in notes:
                    st = t + _jitter(rng, 0.003)
                    out.add(p, st, st + length * eighth * 0.85, vel + rng.normal(0, 5))
    return out


# ---------------------------------------------------------------- melodies (vocals and leads)
def _scale_pitches(plan: SongPlan, lo: int, hi: int) -> list[int]:
    return [p for p in range(lo, hi + 1) if p % 12 in plan.scale]


def _rhythm(rng, beats: int, density: float) -> list[tuple[float, float]]:
    """Phrases with rests over ``beats`` beats: a list of (start beat, length in beats)."""
    notes: list[tuple[float, float]] = []
    pos = 0.0
    durs = np.array([0.5, 1.0, 1.5, 2.0, 0.25])
    p = np.array([0.35 * density, 0.3, 0.12, 0.13 / density, 0.1 * density])
    p /= p.sum()
    while pos < beats - 1.0:
        plen = float(min(beats - pos, rng.choice([4.0, 8.0], p=[0.55, 0.45])))
        if notes and rng.random() < 0.2:
            pos += plen
            continue
        t = pos + float(rng.choice([0.0, 0.5, 1.0, 1.5], p=[0.4, 0.3, 0.2, 0.1]))
        end = pos + plen - float(rng.choice([0.5, 1.0, 1.5]))
        first = len(notes)
        while t < end - 0.2:
            d = float(min(rng.choice(durs, p=p), end - t))
            notes.append((t, d))
            t += d
        if len(notes) > first:
            s, _ = notes[-1]
            notes[-1] = (s, max(0.5, end - s))
        pos += plen
    if not notes:
        notes = [(0.0, min(2.0, beats * 0.75)), ]
    return notes


def _pitches(rng, plan: SongPlan, times: list[float], phrase_starts: set, lo: int, hi: int,
             center: float) -> list[int]:
    scale = _scale_pitches(plan, lo, hi)
    pitches = []
    idx = None
    for j, t in enumerate(times):
        chord = plan.chord_at(t + 1e-6)
        chord_pitches = [p for p in scale if p % 12 in chord.tones] or scale
        if idx is None or j in phrase_starts:
            aim = center + rng.normal(0, 3)
            p = min(chord_pitches, key=lambda q: (abs(q - aim), q))
        else:
            step = int(rng.choice([-2, -1, 0, 1, 2, -3, 3, -4, 4],
                                  p=[.1, .2, .1, .2, .1, .1, .1, .05, .05]))
            cur = scale[idx]
            if cur > center + 5:
                step = -abs(step)
            elif cur < center - 5:
                step = abs(step)
            p = scale[int(np.clip(idx + step, 0, len(scale) - 1))]
            beat_pos = (t - plan.offset) / plan.beat
            if abs(beat_pos - round(beat_pos)) < 0.05:  # on the beat: land on a chord tone
                p = min(chord_pitches, key=lambda q: (abs(q - p), q))
        idx = scale.index(p)
        pitches.append(p)
    return pitches


def melody(rng, plan: SongPlan, sections: list[int], lo: int, hi: int, density: float,
           lift: float = 3.0) -> list[tuple[int, float, float, int]]:
    """A monophonic line over ``sections``; repeated sections of the same kind reuse their tune."""
    cache: dict = {}
    notes = []
    for i in sections:
        sec = plan.sections[i]
        key = (sec.name, sec.bars)
        t0 = plan.time(sec.start_bar)
        if key in cache and rng.random() < 0.8:
            for (dt, dur, p, v) in cache[key]:
                notes.append((p, t0 + dt, t0 + dt + dur, v))
            continue
        rhythm = _rhythm(rng, sec.bars * 4, density)
        starts = {0} | {j for j in range(1, len(rhythm)) if rhythm[j][0] - sum(rhythm[j - 1]) > 0.4}
        times = [plan.time(sec.start_bar, s) for s, _ in rhythm]
        center = (lo + hi) / 2 + (lift if sec.energy == 2 else -1.0)
        pitches = _pitches(rng, plan, times, starts, lo, hi, center)
        vel = _section_vel(plan, i) + 5
        rel = []
        for (s, d), t, p in zip(rhythm, times, pitches):
            dur = d * plan.beat * float(rng.uniform(0.85, 0.98))
            v = int(vel + rng.normal(0, 5))
            rel.append((t - t0, dur, p, v))
            notes.append((p, t, t + dur, v))
        cache[key] = rel
    return notes


def vocals(rng, plan: SongPlan, part: Part) -> Notes:
    out = Notes(plan)
    lo, hi = (50, 69) if part.style == "low" else (57, 77)
    for p, s, e, v in melody(rng, plan, part.sections, lo, hi, density=1.0):
        out.add(p, s, e, v)
    return out


def harmony(rng, plan: SongPlan, part: Part, lead: Notes) -> Notes:
    """A second voice a diatonic third (or sixth) below the lead, in the sections of ``part``."""
    out = Notes(plan)
    down = int(rng.choice([2, 5], p=[0.75, 0.25]))  # scale steps
    scale = _scale_pitches(plan, 24, 108)
    spans = [(plan.sections[i].start, plan.sections[i].end) for i in part.sections]
    for p, s, e, v in lead.items:
        if any(a <= s < b for a, b in spans) and p in scale:
            out.add(scale[max(0, scale.index(p) - down)], s + 0.01, e, v - 12)
    return out


def lead(rng, plan: SongPlan, part: Part, vox: Notes) -> Notes:
    """An instrumental counter-melody in the vocal register; it answers the vocals (plays in their
    rests) in some songs and doubles over them in others, which makes vocals/other hard to tell apart."""
    out = Notes(plan)
    answer = rng.random() < 0.6
    for p, s, e, v in melody(rng, plan, part.sections, 60, 84, density=1.3, lift=2.0):
        if answer and any(vs - 0.1 < e and s < ve + 0.1 for _, vs, ve, _ in vox.items):
            continue
        out.add(p, s + _jitter(rng, 0.004), e, v - 6)
    return out


def build_midi(rng, plan: SongPlan, perf_rng=None):
    """All parts of ``plan`` as a ``pretty_midi.PrettyMIDI``; instruments named ``"<stem>:<role>"``.

    ``rng`` composes the notes; ``perf_rng`` (if given) performs them: humanised timing and velocity
    (:mod:`.humanize`) and, for sung parts, the pitch contour and syllables (:mod:`.voice`). Without
    it the notes stay on the grid and sung parts get a plain vibrato.
    """
    import pretty_midi

    from .humanize import draw_feel, humanize
    from .voice import sing

    pm = pretty_midi.PrettyMIDI(initial_tempo=plan.tempo)
    made: dict[str, Notes] = {}
    feel = draw_feel(perf_rng, plan) if perf_rng is not None else None
    order = sorted(plan.parts, key=lambda q: {"lead-vocal": 0, "harmony-vocal": 1}.get(q.role, 2))
    for part in order:
        r = part.role
        if r == "drums":
            n = drums(rng, plan, part)
        elif r == "bass":
            n = bass(rng, plan, part)
        elif r == "lead-vocal":
            n = vocals(rng, plan, part)
        elif r == "harmony-vocal":
            n = harmony(rng, plan, part, made["lead-vocal"])
        elif r == "lead":
            n = lead(rng, plan, part, made["lead-vocal"])
        else:
            n = {"pad": pad, "comp": comp, "arp": arp, "riff": riff}[r](rng, plan, part)
        if feel is not None and r != "harmony-vocal":  # the harmony follows the (humanised) lead
            n.items = humanize(perf_rng, plan, part, n.items, feel)
        if part.stem == "vocals":
            sing(perf_rng, plan, part, n)
        made[r] = n
    for part in plan.parts:
        n = made[part.role]
        inst = pretty_midi.Instrument(program=part.program, is_drum=part.is_drum, name=f"{part.stem}:{part.role}")
        inst.control_changes.append(pretty_midi.ControlChange(10, int(round(64 + 63 * part.pan)), 0.0))
        for t, number, value in n.ccs:
            inst.control_changes.append(pretty_midi.ControlChange(int(number), int(value), float(t)))
        for p, s, e, v in _monophonic_keys(n.items) if part.stem != "vocals" else sorted(n.items, key=lambda q: (q[1], q[0])):
            inst.notes.append(pretty_midi.Note(velocity=v, pitch=p, start=s, end=e))
        for t, b in n.bends:
            inst.pitch_bends.append(pretty_midi.PitchBend(min(8191, max(-8192, int(b))), float(t)))
        pm.instruments.append(inst)
    return pm


def _monophonic_keys(items):
    """Sorted notes where two notes of the same key never overlap (a note-off would cut the second)."""
    items = sorted(items, key=lambda n: (n[1], n[0]))
    last: dict[int, int] = {}
    out = []
    for p, s, e, v in items:
        j = last.get(p)
        if j is not None and out[j][2] > s - 0.005:
            q = out[j]
            out[j] = (q[0], q[1], max(q[1] + 0.01, s - 0.005), q[3])
        last[p] = len(out)
        out.append((p, s, e, v))
    return [n for n in out if n[2] - n[1] >= 0.01]
