"""Render the parts of a song through a General MIDI SoundFont (tinysoundfont), one part at a time.

The SoundFont is parsed once per process and reused: before each part its synth is reset, and after
it every voice is silenced and run out, so a part's audio does not depend on what was rendered before
(tests check it). Note events are applied at exact sample positions between ``render`` calls, so the
audio depends only on the MIDI and the SoundFont (no wall clock, no threads): renders are reproducible.

Default SoundFont: Debian's ``fluid-soundfont-gm`` (FluidR3_GM.sf2 by Frank Wen, MIT licence, 142 MB)
when it is installed (``scripts/ensure-soundfont.sh``), else the small TimGM6mb.sf2 (6 MB) shipped
inside pretty_midi. :func:`soundfont_tag` names them apart (dataset folders, manifest).
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import numpy as np

from ...errors import DatasetError

#: Where Debian's fluid-soundfont-gm installs FluidR3_GM (the default SoundFont when present).
SYSTEM_SOUNDFONTS = (Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),)
#: Short names of the known SoundFonts (by file name): dataset folder names and manifests use them.
KNOWN_TAGS = {"FluidR3_GM.sf2": "fluidr3", "TimGM6mb.sf2": "timgm6mb"}
_FONTS: dict[tuple[str, int], object] = {}
_SHA256: dict[tuple[str, int, int], str] = {}
#: Level ramps at section boundaries (s): short enough to keep sections distinct, long enough not to click.
RAMP = 0.03
#: Fade (s) when a stem stops at a section boundary: its reverb and release tails die out over this.
TAIL = 0.12
#: RMS every part is brought to over its active sections before its own level and effects.
REFERENCE_RMS = 0.1
#: Voices per synth; a flush of this many samples after ``sounds_off`` lets every voice end.
MAX_VOICES = 128
_FLUSH = 4096


def small_soundfont() -> Path:
    """The small GM SoundFont shipped inside the pretty_midi package (TimGM6mb.sf2, ~6 MB)."""
    import pretty_midi

    return Path(os.path.dirname(pretty_midi.__file__)) / "TimGM6mb.sf2"


def system_soundfont() -> Path | None:
    """FluidR3_GM.sf2 from Debian's fluid-soundfont-gm if it is installed and readable, else None."""
    for sf in SYSTEM_SOUNDFONTS:
        if sf.is_file() and os.access(sf, os.R_OK):
            return sf
    return None


def default_soundfont() -> Path:
    """The SoundFont used when none is given: FluidR3_GM when installed, else pretty_midi's TimGM6mb."""
    return system_soundfont() or small_soundfont()


def resolve_soundfont(path: str | os.PathLike | None) -> Path:
    """The SoundFont to use: ``path`` (checked) or the default. Raises DatasetError if unusable."""
    if path is None:
        sf = default_soundfont()
        if not sf.is_file():
            raise DatasetError(f"the default SoundFont {sf} is missing (pretty_midi ships it): reinstall "
                               "pretty_midi, install FluidR3 (bash scripts/ensure-soundfont.sh) or pass "
                               "--soundfont PATH to a General MIDI .sf2 file")
        return sf
    sf = Path(path).expanduser().resolve()
    if not sf.is_file():
        raise DatasetError(f"SoundFont not found: {sf}; pass --soundfont PATH to an existing General MIDI "
                           ".sf2/.sf3 file, or leave it out to use the default (FluidR3_GM if installed, "
                           "else pretty_midi's TimGM6mb.sf2)")
    if not os.access(sf, os.R_OK):
        raise DatasetError(f"SoundFont {sf} is not readable; fix its permissions or choose another file")
    return sf


def soundfont_sha256(path: Path) -> str:
    """SHA-256 of the file (cached per process by path, size and modification time)."""
    st = Path(path).stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _SHA256:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                h.update(block)
        _SHA256[key] = h.hexdigest()
    return _SHA256[key]


def soundfont_tag(path: str | os.PathLike | None) -> str:
    """A short name telling SoundFonts apart: ``fluidr3`` and ``timgm6mb`` for the two defaults,
    else ``<file stem>-<first 8 hex digits of its SHA-256>`` (lower case, [a-z0-9-] only)."""
    sf = resolve_soundfont(path)
    if sf.name in KNOWN_TAGS and (sf == small_soundfont() or sf in SYSTEM_SOUNDFONTS):
        return KNOWN_TAGS[sf.name]
    stem = re.sub(r"[^a-z0-9]+", "-", sf.stem.lower()).strip("-")[:24] or "soundfont"
    return f"{stem}-{soundfont_sha256(sf)[:8]}"


def load_soundfont(path: Path, samplerate: int):
    """The parsed SoundFont (a tinysoundfont synth), loaded once per process and per rate.

    Raises DatasetError if tinysoundfont cannot load the file.
    """
    key = (str(path), int(samplerate))
    if key not in _FONTS:
        from tinysoundfont import _tinysoundfont as tsf

        try:
            font = tsf.SoundFont(str(path))
        except Exception as exc:  # tinysoundfont raises RuntimeError("Could not load SoundFont ...")
            raise DatasetError(f"SoundFont {path} cannot be loaded ({exc}); give a valid .sf2/.sf3 "
                               "General MIDI SoundFont with --soundfont") from None
        font.set_output(tsf.OutputMode.StereoInterleaved, int(samplerate), 0.0)
        font.set_max_voices(MAX_VOICES)
        _FONTS[key] = font
    return _FONTS[key]


def check_soundfont(path: Path, load: bool = True) -> None:
    """Raise DatasetError unless ``path`` is a RIFF ``sfbk`` file (SoundFont 2/3) and, with ``load``,
    tinysoundfont loads it (into the process cache: FluidR3 takes about a second)."""
    from ... import SAMPLERATE

    with open(path, "rb") as f:
        head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        raise DatasetError(f"SoundFont {path} cannot be loaded (not a RIFF sfbk file); give a valid "
                           ".sf2/.sf3 General MIDI SoundFont with --soundfont")
    if load:
        load_soundfont(path, SAMPLERATE)


def _select(font, chan: int, program: int, is_drum: bool, path: Path) -> int:
    """Select a GM program (drum kit in bank 128), falling back to the standard kit / piano.

    Returns the program selected."""
    bank = 128 if is_drum else 0
    for preset in (program, 0):
        if font.get_preset_name(bank, preset) != "<None>":
            font.channel_set_bank(chan, bank)
            font.channel_set_preset_number(chan, preset, is_drum)
            return preset
    raise DatasetError(f"SoundFont {path} has no preset {program} nor 0 in bank {bank}; "
                       "use a General MIDI SoundFont")


def render_instruments(instruments, out: np.ndarray, path: Path, samplerate: int,
                       settings: list[dict] | None = None) -> np.ndarray:
    """Render ``pretty_midi.Instrument``s together into ``out`` (T, 2) float32 (frames, interleaved
    stereo, overwritten) and return it.

    ``settings[i]`` may give instrument ``i`` a ``tuning`` (semitones), a ``bend_range``
    (semitones, default 2) and, for drums, ``key_pans`` (group of DRUM_GROUPS -> pan in [-1, 1]). Events (CC, pitch bend, note off, note on, in that order at one sample)
    are applied at ``round(time * samplerate)``; audio between events comes from the synth.
    """
    from .plan import DRUM_GROUPS

    n_samples = out.shape[0]
    assert out.dtype == np.float32 and out.shape == (n_samples, 2) and out.flags.c_contiguous
    font = load_soundfont(path, samplerate)
    font.reset()
    events = []
    free = iter(c for c in range(16) if c != 9)
    used = []
    try:
        for k, inst in enumerate(instruments):
            extra = (settings or [{}] * len(instruments))[k] or {}
            key_pans = extra.get("key_pans") if inst.is_drum else None
            # a drum part with key_pans plays each group of kit pieces on its own channel and pan
            groups = list(key_pans) if key_pans else [None]
            chans = {g: (9 if (inst.is_drum and j == 0) else next(free)) for j, g in enumerate(groups)}
            by_key = {key: chans[g] for g in groups if g is not None for key in DRUM_GROUPS[g]}
            for g, chan in chans.items():
                used.append(chan)
                _select(font, chan, inst.program, inst.is_drum, path)
                if extra.get("tuning"):
                    font.channel_set_tuning(chan, float(extra["tuning"]))
                if extra.get("bend_range"):
                    font.channel_set_pitch_range(chan, float(extra["bend_range"]))
                for cc in inst.control_changes:
                    value = cc.value
                    if g is not None and cc.number == 10:
                        value = int(round(64 + 63 * key_pans[g]))
                    events.append((int(round(cc.time * samplerate)), 0, chan, cc.number, value))
            chan = chans[groups[0]]
            for pb in inst.pitch_bends:
                events.append((int(round(pb.time * samplerate)), 1, chan, pb.pitch + 8192, 0))
            for n in inst.notes:
                c = by_key.get(n.pitch, chan)
                events.append((int(round(n.end * samplerate)), 2, c, n.pitch, 0))
                events.append((int(round(n.start * samplerate)), 3, c, n.pitch, n.velocity))
        events.sort()
        view = memoryview(out).cast("B")
        frame = 8  # bytes per stereo float32 frame
        cur = 0
        for pos, kind, chan, a, b in events:
            if pos >= n_samples:
                break
            if pos > cur:
                font.render(view[cur * frame: pos * frame], False)
                cur = pos
            if kind == 0:
                font.channel_midi_control(chan, a, b)
            elif kind == 1:
                font.channel_set_pitch_wheel(chan, a)
            elif kind == 2:
                font.channel_note_off(chan, a)
            else:
                font.channel_note_on(chan, a, b / 127.0)
        if cur < n_samples:
            font.render(view[cur * frame:], False)
    finally:  # leave the shared synth silent: every voice ended, channels reset
        for chan in used:
            font.channel_sounds_off(chan)
        font.render(memoryview(np.zeros((_FLUSH, 2), np.float32)).cast("B"), False)
        font.reset()
    return out


def _apply_levels(x: np.ndarray, values: list[float], bounds: list[tuple[int, int]], ramp: int,
                  tail: int | None = None) -> None:
    """Multiply ``x`` (T, 2) in place by a piecewise-constant gain (one value per section) with
    linear ramps of ``ramp`` samples starting at each boundary where the gain changes; where it drops
    to 0 (the stem stops) the ramp lasts ``tail`` samples (default ``ramp``) so that tails fade out."""
    prev = None
    for v, (a, b) in zip(values, bounds):
        length = tail if (tail is not None and v == 0) else ramp
        r = min(length, b - a) if prev is not None and prev != v else 0
        if r:
            x[a:a + r] *= np.linspace(prev, v, r, endpoint=False, dtype=np.float32)[:, None]
        x[a + r:b] *= np.float32(v)
        prev = v


def _bounds(plan, n: int, samplerate: int) -> list[tuple[int, int]]:
    bounds = [(int(round(s.start * samplerate)), int(round(s.end * samplerate))) for s in plan.sections]
    bounds[-1] = (bounds[-1][0], n)
    return bounds


def _mean_square(x: np.ndarray, spans: list[tuple[int, int]]) -> tuple[float, int]:
    """(sum of squares, number of values) of ``x`` (T, channels) over the sample ``spans``."""
    total = sum(float(np.square(x[a:b], dtype=np.float64).sum()) for a, b in spans)  # pairwise: deterministic
    return total, sum(b - a for a, b in spans) * x.shape[1]


def _kweighted_mean_square(x: np.ndarray, spans: list[tuple[int, int]], samplerate: int) -> tuple[float, int]:
    """_mean_square of the K-weighted (BS.1770) signal: loudness without gating, over ``spans``."""
    from ..loudness import k_weight

    a0, b1 = min(a for a, _ in spans), max(b for _, b in spans)
    y = k_weight(np.ascontiguousarray(x[a0:b1].T), samplerate, np.float32).T
    return _mean_square(y, [(a - a0, b - a0) for a, b in spans])


def _section_runs(sections: list[int], bounds: list[tuple[int, int]], samplerate: int) -> list[tuple[int, int]]:
    """Sample ranges of the runs of consecutive ``sections`` (indices into ``bounds``), from 0.1 s before
    each run (notes pushed ahead of the beat) to 2 s after it (note releases)."""
    out, run = [], None
    for j in sorted(sections):
        a, b = bounds[j]
        if run is not None and j == run[2] + 1:
            run = (run[0], b, j)
        else:
            if run is not None:
                out.append(run)
            run = (a, b, j)
    if run is not None:
        out.append(run)
    return [(a - int(0.1 * samplerate), b + int(2.0 * samplerate)) for a, b, _ in out]


def render_stems(plan, pm, stems: np.ndarray, path: Path, samplerate: int,
                 production: dict | None = None) -> np.ndarray:
    """Render every part into ``stems`` (4, T, 2) float32 (frames layout).

    Each part is brought to REFERENCE_RMS over the sections it plays in (so a quiet preset does not
    vanish behind a loud one and effect thresholds mean the same for every part). With
    ``production`` (``{"parts": [settings per part], "reverbs": {stem: settings}}``, see :mod:`.fx`)
    it goes through its effect chain, is levelled again (drive and EQ do not move the balance) and
    sends to its stem's reverb, whose return is added to the stem. Then it is shifted by its
    ``level_db`` and added to its stem.
    """
    from ... import SOURCES
    from . import fx

    n = stems.shape[1]
    bounds = _bounds(plan, n, samplerate)
    tmp = np.empty((n, 2), dtype=np.float32)
    stems[:] = 0.0
    sends: dict[str, np.ndarray] = {}
    sounding: dict[str, list] = {}
    for i, (part, inst) in enumerate(zip(plan.parts, pm.instruments)):
        if not inst.notes or not part.sections:
            continue
        render_instruments([inst], tmp, path, samplerate,
                           [{"tuning": part.tuning, "bend_range": part.bend_range, "key_pans": part.key_pans}])
        if part.stem == "vocals":  # the vowels of the sung notes (see voice.formants)
            from .voice import FORMANT_GAIN_CC, VOWEL_CC, formants

            vowels = [(int(round(c.time * samplerate)), c.value) for c in inst.control_changes if c.number == VOWEL_CC]
            gain = next((c.value / 10 for c in inst.control_changes if c.number == FORMANT_GAIN_CC), 0.0)
            if vowels:
                tmp[:] = formants(tmp, samplerate, vowels, gain)
        spans = [bounds[j] for j in part.sections]
        energy, count = _mean_square(tmp, spans)
        if energy <= 1e-12 * count:
            continue  # a preset that makes no sound here; level_stems reports a silent stem
        level = np.float32(10 ** (part.level_db / 20))
        k = SOURCES.index(part.stem)
        if production is None:
            tmp *= np.float32(REFERENCE_RMS / np.sqrt(energy / count)) * level
            stems[k] += tmp
            continue
        settings = production["parts"][i]
        # (2, T) in Fortran order: rows are channels for the effects, x.T is C-contiguous for the stem
        x = tmp.T * np.float32(REFERENCE_RMS / np.sqrt(energy / count))
        # where it sounds: each run of consecutive sections it plays in, from a little before (pushed
        # notes) to 2 s after (releases); fx.process adds the effects' tail
        part_runs = fx.runs(_section_runs(part.sections, bounds, samplerate), n, 0)
        x = fx.process(settings, x, samplerate, part_runs)
        sounding.setdefault(part.stem, []).extend(part_runs)
        e2, c2 = _mean_square(x.T, spans)
        if e2 <= 1e-12 * c2:
            continue
        x *= np.float32(REFERENCE_RMS / np.sqrt(e2 / c2)) * level
        stems[k] += x.T
        if settings["send"] > 0:
            bus = sends.setdefault(part.stem, np.zeros((2, n), np.float32))
            bus += x * np.float32(settings["send"])
    for stem, bus in sends.items():
        spans = fx.runs(sounding[stem], n, int(fx.TAIL * samplerate))  # the parts' sound and effect tails
        stems[SOURCES.index(stem)] += fx.process(production["reverbs"][stem], bus, samplerate, spans).T
    return stems


def level_stems(plan, raw: np.ndarray, samplerate: int, path: Path) -> np.ndarray:
    """Level rendered stems in place: ``raw`` (4, T, 2) float32 (frames layout) -> the same array.

    Each stem is brought to the same K-weighted loudness (BS.1770 weighting, no gating) over its
    active sections, then gets the song's stem gain and per-section gains (dB); inactive sections
    become exact zeros, after a RAMP fade (TAIL when the stem stops: release and reverb die out).
    """
    from ... import SOURCES

    n = raw.shape[1]
    bounds = _bounds(plan, n, samplerate)
    ramp, tail = int(RAMP * samplerate), int(TAIL * samplerate)
    for k, stem in enumerate(SOURCES):
        spans = [b for s, b in zip(plan.sections, bounds) if s.active[stem]]
        energy, count = _kweighted_mean_square(raw[k], spans, samplerate) if spans else (0.0, 0)
        if count == 0 or energy <= 1e-12 * count:
            raise DatasetError(f"SoundFont {path} rendered silence for the {stem} stem; "
                               "use a General MIDI SoundFont with melodic presets and a drum kit")
        gain = REFERENCE_RMS / np.sqrt(energy / count) * 10 ** (plan.stem_gain_db[stem] / 20)
        _apply_levels(raw[k], [gain * 10 ** (s.level_db[stem] / 20) if s.active[stem] else 0.0
                               for s in plan.sections], bounds, ramp, tail)
    return raw
