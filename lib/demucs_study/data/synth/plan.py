"""The plan of one synthetic song: tempo, key, sections, chords, which stems play where, instruments.

Everything here is drawn from one ``np.random.Generator`` so a song is a pure function of its seed.
Times are in seconds from the start of the track; bars are 4/4 (4 beats).
Program numbers are General MIDI presets, 0-based (GM "53 Choir Aahs" is 52 here).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ... import SOURCES

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}

# Chord progressions as 0-based scale degrees (I V vi IV, i VI III VII, ... the staples of pop songs).
PROGRESSIONS = {
    "major": [(0, 4, 5, 3), (0, 5, 3, 4), (0, 3, 4, 4), (0, 3, 0, 4), (5, 3, 0, 4), (0, 2, 3, 4),
              (0, 4, 3, 4), (3, 4, 0, 5), (0, 5, 1, 4), (3, 0, 4, 5)],
    "minor": [(0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 5, 3, 4), (0, 2, 6, 5), (0, 3, 6, 2),
              (5, 6, 0, 0), (0, 6, 5, 4), (3, 4, 0, 0), (0, 5, 6, 4)],
}

#: Nominal section lengths in bars for ordinary, long (u=2) tracks; tiny tracks use 1-2 bars.
SECTION_BARS = {"intro": 4, "verse": 8, "chorus": 8, "bridge": 4, "break": 4, "outro": 4}
#: Energy drives drum density, velocities and levels: 0 sparse, 1 normal, 2 full.
ENERGY = {"intro": 0, "verse": 1, "chorus": 2, "bridge": 1, "break": 1, "outro": 0}
#: Probability that a stem plays in a section of this kind (fixed up so no stem is silent overall).
ACTIVE_P = {
    "intro": {"drums": 0.45, "bass": 0.5, "other": 0.95, "vocals": 0.08},
    "verse": {"drums": 0.9, "bass": 0.95, "other": 0.9, "vocals": 1.0},
    "chorus": {"drums": 1.0, "bass": 1.0, "other": 1.0, "vocals": 1.0},
    "bridge": {"drums": 0.6, "bass": 0.75, "other": 0.95, "vocals": 0.6},
    "break": {"drums": 0.75, "bass": 0.6, "other": 0.6, "vocals": 0.15},
    "outro": {"drums": 0.5, "bass": 0.6, "other": 0.95, "vocals": 0.25},
}

DRUM_STYLES = {  # style -> kits (bank 128 presets) it may use; a kit the SoundFont lacks falls back to 0
    # FluidR3_GM: 0-7 Standard, 8-15 Room, 16-19 Power, 24 Electronic, 25 TR-808, 32-36 Jazz, 40-42 Brush,
    # 48 Orchestra; TimGM6mb has 0, 8, 16, 24, 25, 32, 40, 48.
    "rock": (0, 1, 8, 9, 16, 17, 18), "pop": (0, 2, 3, 8, 10, 24), "funk": (0, 4, 8, 11, 32, 33),
    "halftime": (0, 5, 16, 19, 24, 25), "fourfloor": (24, 25, 0, 6), "shuffle": (0, 32, 34, 40, 41),
    "electronic": (24, 25, 7), "ballad": (8, 12, 40, 42, 32),
}
#: Kit pieces panned together (GM keys): a drum kit is spread across the stereo field as its
#: overhead microphones hear it, the hats on one side, the ride and floor toms on the other.
DRUM_GROUPS = {"center": (35, 36, 37, 38, 39, 40), "hats": (42, 44, 46), "ride": (51, 53, 59, 57),
               "crash": (49, 52, 55), "low_toms": (41, 43, 45), "high_toms": (47, 48, 50),
               "perc": (54, 69, 70, 75, 82)}
BASS_PROGRAMS = (32, 33, 33, 34, 35, 36, 37, 38, 39)
BASS_STYLES = ("root8", "root4", "rootfifth", "syncop", "walking", "octave")
#: "other" parts: role -> candidate GM programs (several instrument families per role).
OTHER_PROGRAMS = {
    "pad": (48, 49, 50, 51, 88, 89, 90, 91, 92, 94, 95, 19, 16, 44, 60),
    "comp": (0, 1, 2, 4, 5, 6, 7, 16, 17, 18, 24, 25, 26, 27, 28, 21),
    "arp": (0, 4, 8, 11, 12, 45, 46, 80, 81, 98, 108, 10, 13, 24),
    "lead": (73, 65, 66, 64, 56, 81, 80, 40, 71, 68, 29, 22, 74, 84, 62),
    "riff": (29, 30, 27, 28, 25, 62, 87),
}
#: Mean level (dB) of a part relative to the other parts of its stem (backing voices sit lower).
PART_LEVEL_DB = {"pad": -1.0, "comp": 0.0, "arp": -2.0, "lead": -1.0, "riff": 0.0, "harmony-vocal": -7.0}
OTHER_ROLE_P = {"pad": 0.24, "comp": 0.3, "arp": 0.16, "lead": 0.16, "riff": 0.14}
#: Sung-voice presets (Choir Aahs, Voice Oohs, Synth Voice, Solo Vox) and their odds.
VOCAL_PROGRAMS = {52: 0.3, 53: 0.3, 54: 0.2, 85: 0.2}


@dataclass
class Chord:
    start: float          # seconds
    end: float
    root: int             # pitch class 0-11
    tones: tuple          # pitch classes, root first
    degree: int


@dataclass
class Section:
    name: str
    start_bar: int
    bars: int
    start: float          # seconds
    end: float
    energy: int
    active: dict          # stem -> bool
    level_db: dict        # stem -> dB offset for this section


@dataclass
class Part:
    stem: str             # one of SOURCES
    role: str             # drums / bass / pad / comp / arp / lead / riff / lead-vocal / harmony-vocal
    program: int
    is_drum: bool
    pan: float            # -1 (left) .. 1 (right)
    style: str = ""
    sections: list = field(default_factory=list)   # indices of the sections it plays in
    level_db: float = 0.0  # level within its stem, relative to the stem's other parts
    tuning: float = 0.0    # semitones (drum kits are tuned per song)
    key_pans: dict = field(default_factory=dict)  # drums: pan of each kit piece group (see DRUM_GROUPS)
    bend_range: float = 2.0  # pitch-bend range in semitones (sung parts glide over a wider range)


@dataclass
class SongPlan:
    duration: float
    tempo: float
    key: int
    mode: str
    offset: float         # seconds of silence before the first downbeat
    sections: list
    chords: list
    parts: list
    stem_gain_db: dict
    drum_style: str

    @property
    def beat(self) -> float:
        return 60.0 / self.tempo

    @property
    def bar(self) -> float:
        return 4 * self.beat

    def time(self, bar: float, beat: float = 0.0) -> float:
        """Seconds of (bar, beat) from the track start."""
        return self.offset + (bar * 4 + beat) * self.beat

    @property
    def scale(self) -> tuple:
        return tuple((self.key + s) % 12 for s in SCALES[self.mode])

    def chord_at(self, t: float) -> Chord:
        for c in self.chords:
            if c.start <= t < c.end:
                return c
        return self.chords[-1] if t >= self.chords[-1].start else self.chords[0]

    @property
    def key_name(self) -> str:
        return f"{PITCH_NAMES[self.key]} {self.mode}"


def _section_names(rng: np.random.Generator, total_bars: int) -> list[tuple[str, int]]:
    """Names and bar lengths of the sections covering ``total_bars`` bars."""
    if total_bars >= 40:
        scale = 1.0
    elif total_bars >= 12:
        scale = 0.5
    else:
        scale = 0.0  # tiny tracks: sections of 1-2 bars
    def length(name: str) -> int:
        if scale == 0.0:
            return 1 if name in ("intro", "outro", "break") else int(rng.integers(1, 3))
        return max(1, int(SECTION_BARS[name] * scale))
    seq: list[tuple[str, int]] = []
    if rng.random() < 0.85:
        seq.append(("intro", length("intro")))
    outro = ("outro", length("outro")) if rng.random() < 0.8 else None
    cycle = 0
    while sum(b for _, b in seq) + (outro[1] if outro else 0) < total_bars:
        seq.append(("verse", length("verse")))
        if rng.random() < 0.9 or cycle > 0:
            seq.append(("chorus", length("chorus")))
        if cycle >= 1 or rng.random() < 0.3:
            seq.append((str(rng.choice(["bridge", "break"], p=[0.6, 0.4])), length("bridge")))
        cycle += 1
    if outro:
        seq.append(outro)
    # Cut to the track: the last sections shrink or go.
    out, used = [], 0
    for name, bars in seq:
        if used >= total_bars:
            break
        bars = min(bars, total_bars - used)
        out.append((name, bars))
        used += bars
    if outro and len(out) > 2 and out[-1][0] != "outro":
        name, bars = out[-1]
        out[-1] = ("outro", bars)
    return out


def _activity(rng: np.random.Generator, names: list[str]) -> list[dict]:
    """Which stems play in each section: random by section kind, then fixed up so that every
    section has at least one stem and every stem plays somewhere (no stem silent over a track)."""
    sparse = rng.uniform(-0.15, 0.1)  # some songs drop stems more often than others
    act = [{s: bool(rng.random() < min(1.0, ACTIVE_P[n][s] + (sparse if ACTIVE_P[n][s] < 1 else 0)))
            for s in SOURCES} for n in names]
    for a in act:
        if not any(a.values()):
            a["other"] = True
    order = sorted(range(len(names)), key=lambda i: {"chorus": 0, "verse": 1}.get(names[i], 2))
    for s in SOURCES:
        if not any(a[s] for a in act):
            act[order[0]][s] = True
    return act


def _chords(rng: np.random.Generator, plan_sections: list[Section], key: int, mode: str,
            time_of) -> list[Chord]:
    scale = SCALES[mode]
    progs = {name: PROGRESSIONS[mode][int(rng.integers(len(PROGRESSIONS[mode])))]
             for name in ("verse", "chorus", "bridge")}
    progs["intro"] = progs[str(rng.choice(["verse", "chorus"]))]
    progs["outro"] = progs["chorus"]
    progs["break"] = progs[str(rng.choice(["verse", "bridge"]))]
    per_bar = float(rng.choice([1.0, 2.0, 0.5], p=[0.7, 0.2, 0.1]))
    sevenths = rng.random() < 0.35
    raise_leading = mode == "minor" and rng.random() < 0.5
    chords = []
    for sec in plan_sections:
        prog = progs[sec.name]
        n = max(1, int(round(sec.bars * per_bar)))
        span = sec.bars / n
        for i in range(n):
            deg = prog[i % len(prog)]
            idx = [deg, deg + 2, deg + 4] + ([deg + 6] if sevenths and rng.random() < 0.5 else [])
            tones = [(key + scale[j % 7]) % 12 for j in idx]
            if raise_leading and deg == 4:
                tones[1] = (tones[1] + 1) % 12  # V major in harmonic minor
            chords.append(Chord(time_of(sec.start_bar + i * span), time_of(sec.start_bar + (i + 1) * span),
                                tones[0], tuple(tones), deg))
    return chords


def _pick(rng: np.random.Generator, options) -> int:
    return int(options[int(rng.integers(len(options)))])


def _parts(rng: np.random.Generator, sections: list[Section], drum_style: str) -> list[Part]:
    n = len(sections)
    on = {s: [i for i in range(n) if sections[i].active[s]] for s in SOURCES}
    kit_tuning = float(np.round(rng.normal(0, 0.8), 2)) if rng.random() < 0.6 else 0.0
    side = float(rng.choice([-1.0, 1.0]))  # drummer's or audience's perspective
    spread = float(rng.uniform(0.5, 1.0))  # how wide the overheads are
    r2 = lambda v: float(np.round(v, 3))  # noqa: E731
    key_pans = {"center": 0.0, "hats": r2(-side * spread * 0.8), "ride": r2(side * spread * 0.75),
                "crash": r2(-side * spread * 0.6), "low_toms": r2(side * spread * 0.85),
                "high_toms": r2(-side * spread * 0.6), "perc": r2(side * spread)}
    parts = [
        Part("drums", "drums", _pick(rng, DRUM_STYLES[drum_style]), True, 0.0, drum_style, on["drums"],
             tuning=kit_tuning, key_pans=key_pans),
        Part("bass", "bass", _pick(rng, BASS_PROGRAMS), False, float(rng.uniform(-0.1, 0.1)),
             str(rng.choice(BASS_STYLES)), on["bass"]),
    ]
    # other: 1-3 parts of distinct roles, at least one harmonic (pad/comp/arp/riff).
    k = int(rng.choice([1, 2, 3], p=[0.25, 0.45, 0.3]))
    roles = list(OTHER_ROLE_P)
    p = np.array([OTHER_ROLE_P[r] for r in roles])
    chosen = [str(r) for r in rng.choice(roles, size=k, replace=False, p=p / p.sum())]
    if chosen == ["lead"]:
        chosen = [str(rng.choice(["pad", "comp", "arp"])), "lead"]
    pans = rng.permutation(np.linspace(-0.8, 0.8, len(chosen))) + rng.uniform(-0.15, 0.15, len(chosen))
    others = []
    for role, pan in zip(chosen, pans):
        prob = {"pad": 0.7, "comp": 0.8, "arp": 0.6, "lead": 0.5, "riff": 0.6}[role]
        secs = [i for i in on["other"] if rng.random() < prob]
        level = float(np.round(rng.normal(PART_LEVEL_DB[role], 1.5), 2))
        others.append(Part("other", role, _pick(rng, OTHER_PROGRAMS[role]), False,
                           float(np.clip(pan, -0.9, 0.9)), "", secs, level))
    harmonic = [q for q in others if q.role != "lead"]  # a lead may rest for a whole section
    for i in on["other"]:
        if not any(i in q.sections for q in harmonic):
            q = harmonic[int(rng.integers(len(harmonic)))]
            q.sections = sorted(q.sections + [i])
    parts += others
    programs = list(VOCAL_PROGRAMS)
    probs = np.array(list(VOCAL_PROGRAMS.values()))
    lead = int(rng.choice(programs, p=probs))
    parts.append(Part("vocals", "lead-vocal", lead, False, float(rng.normal(0, 0.08)),
                      str(rng.choice(["low", "high"])), on["vocals"], bend_range=12.0))
    harm = [i for i in on["vocals"] if sections[i].name == "chorus" and rng.random() < 0.4]
    if harm:
        parts.append(Part("vocals", "harmony-vocal", int(rng.choice(programs, p=probs)), False,
                          float(rng.choice([-1, 1]) * rng.uniform(0.2, 0.5)), "", harm,
                          float(np.round(rng.normal(PART_LEVEL_DB["harmony-vocal"], 1.5), 2)), bend_range=12.0))
    return parts


def plan_song(rng: np.random.Generator, duration: float) -> SongPlan:
    """Draw the whole plan of a ``duration``-second song from ``rng``."""
    tempo = float(np.round(rng.uniform(78, 150), 1))
    key = int(rng.integers(12))
    mode = "minor" if rng.random() < 0.45 else "major"
    offset = float(np.round(rng.uniform(0.0, 0.3), 3))
    bar = 240.0 / tempo
    total_bars = max(1, math.ceil((duration - offset) / bar))
    named = _section_names(rng, total_bars)
    if len(named) > 1 and duration - (offset + (total_bars - named[-1][1]) * bar) < 0.75 * bar:
        # a last section cut to a sliver by the end of the track joins the previous one
        (name, bars), (_, last) = named[-2], named[-1]
        named = named[:-2] + [(name, bars + last)]
    act = _activity(rng, [n for n, _ in named])
    time_of = lambda b: offset + b * bar  # noqa: E731
    sections, b = [], 0
    for (name, bars), a in zip(named, act):
        level = {s: float(np.round(rng.normal(0, 1.2) + {2: 1.5, 1: 0.0, 0: -1.5}[ENERGY[name]], 2))
                 for s in SOURCES}
        sections.append(Section(name, b, bars, round(time_of(b), 6), round(min(duration, time_of(b + bars)), 6),
                                ENERGY[name], a, level))
        b += bars
    sections[0].start = 0.0
    sections[-1].end = float(duration)
    chords = _chords(rng, sections, key, mode, time_of)
    drum_style = str(rng.choice(list(DRUM_STYLES)))
    parts = _parts(rng, sections, drum_style)
    # Stem loudness (LU, K-weighted over the stem's active sections) relative to the others: vocals on
    # top, drums close, bass and the other parts lower (the ranges are discussed in docs/synthetic-data.md).
    gain = {"drums": rng.normal(0, 1.5), "bass": rng.normal(-2.0, 1.5), "other": rng.normal(-1.0, 1.5),
            "vocals": rng.normal(1.0, 1.5)}
    return SongPlan(duration, tempo, key, mode, offset, sections, chords, parts,
                    {s: float(np.round(g, 2)) for s, g in gain.items()}, drum_style)
