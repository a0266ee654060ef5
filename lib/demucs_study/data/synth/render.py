"""Render the parts of a song through a General MIDI SoundFont (tinysoundfont), one synth per part.

Note events are applied at exact sample positions between ``generate_simple`` calls, so the audio
depends only on the MIDI and the SoundFont (no wall clock, no threads): renders are reproducible.
Then each stem gets its level (per song and per section) and is gated to exact silence in the
sections where it does not play.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from ...errors import DatasetError

_SOUNDFONT_BYTES: dict[str, bytes] = {}
#: Level ramps at section boundaries (s): short enough to keep sections distinct, long enough not to click.
RAMP = 0.03
#: RMS every stem is brought to over its active sections before the song's stem gains (dB) apply.
REFERENCE_RMS = 0.1


def default_soundfont() -> Path:
    """The small GM SoundFont shipped inside the pretty_midi package (TimGM6mb.sf2, ~6 MB)."""
    import pretty_midi

    return Path(os.path.dirname(pretty_midi.__file__)) / "TimGM6mb.sf2"


def resolve_soundfont(path: str | os.PathLike | None) -> Path:
    """The SoundFont to use: ``path`` (checked) or the default. Raises DatasetError if unusable."""
    if path is None:
        sf = default_soundfont()
        if not sf.is_file():
            raise DatasetError(f"the default SoundFont {sf} is missing (pretty_midi ships it): reinstall "
                               "pretty_midi or pass --soundfont PATH to a General MIDI .sf2 file")
        return sf
    sf = Path(path).expanduser().resolve()
    if not sf.is_file():
        raise DatasetError(f"SoundFont not found: {sf}; pass --soundfont PATH to an existing General MIDI "
                           ".sf2/.sf3 file, or leave it out to use pretty_midi's TimGM6mb.sf2")
    if not os.access(sf, os.R_OK):
        raise DatasetError(f"SoundFont {sf} is not readable; fix its permissions or choose another file")
    return sf


def soundfont_bytes(path: Path) -> bytes:
    """The file's bytes, read once per process; raises DatasetError if tinysoundfont cannot load it."""
    key = str(path)
    if key not in _SOUNDFONT_BYTES:
        import tinysoundfont

        data = Path(path).read_bytes()
        try:
            tinysoundfont.Synth().sfload(data)
        except Exception as exc:  # tinysoundfont raises RuntimeError("Could not load SoundFont ...")
            raise DatasetError(f"SoundFont {path} cannot be loaded ({exc}); give a valid .sf2/.sf3 "
                               "General MIDI SoundFont with --soundfont") from None
        _SOUNDFONT_BYTES[key] = data
    return _SOUNDFONT_BYTES[key]


def soundfont_sha256(path: Path) -> str:
    return hashlib.sha256(soundfont_bytes(path)).hexdigest()


def _select(synth, chan: int, sfid: int, program: int, is_drum: bool, path: Path) -> None:
    """Select a GM program (drum kit in bank 128), falling back to the standard kit / piano."""
    bank = 128 if is_drum else 0
    for preset in (program, 0):
        if synth.sfpreset_name(sfid, bank, preset) is not None:
            synth.program_select(chan, sfid, bank, preset, is_drum)
            return
    raise DatasetError(f"SoundFont {path} has no preset {program} nor 0 in bank {bank}; "
                       "use a General MIDI SoundFont")


def render_instruments(instruments, out: np.ndarray, path: Path, samplerate: int) -> np.ndarray:
    """Render ``pretty_midi.Instrument``s together with a fresh synth into ``out`` (T, 2) float32
    (frames, interleaved stereo, overwritten) and return it.

    Events (CC, pitch bend, note off, note on, in that order at one sample) are applied at
    ``round(time * samplerate)``; audio between events comes from ``generate_simple``.
    """
    import tinysoundfont

    n_samples = out.shape[0]
    assert out.dtype == np.float32 and out.shape == (n_samples, 2) and out.flags.c_contiguous
    synth = tinysoundfont.Synth(gain=0.0, samplerate=samplerate)
    sfid = synth.sfload(soundfont_bytes(path), max_voices=128)
    events = []
    melodic = iter(c for c in range(16) if c != 9)
    for inst in instruments:
        chan = 9 if inst.is_drum else next(melodic)
        _select(synth, chan, sfid, inst.program, inst.is_drum, path)
        for cc in inst.control_changes:
            events.append((int(round(cc.time * samplerate)), 0, chan, cc.number, cc.value))
        for pb in inst.pitch_bends:
            events.append((int(round(pb.time * samplerate)), 1, chan, pb.pitch + 8192, 0))
        for n in inst.notes:
            events.append((int(round(n.end * samplerate)), 2, chan, n.pitch, 0))
            events.append((int(round(n.start * samplerate)), 3, chan, n.pitch, n.velocity))
    events.sort()
    view = memoryview(out).cast("B")
    frame = 8  # bytes per stereo float32 frame
    cur = 0
    for pos, kind, chan, a, b in events:
        if pos >= n_samples:
            break
        if pos > cur:
            synth.generate_simple(pos - cur, buffer=view[cur * frame: pos * frame])
            cur = pos
        if kind == 0:
            synth.control_change(chan, a, b)
        elif kind == 1:
            synth.pitchbend(chan, a)
        elif kind == 2:
            synth.noteoff(chan, a)
        else:
            synth.noteon(chan, a, b)
    if cur < n_samples:
        synth.generate_simple(n_samples - cur, buffer=view[cur * frame:])
    return out


def _apply_levels(x: np.ndarray, values: list[float], bounds: list[tuple[int, int]], ramp: int) -> None:
    """Multiply ``x`` (T, 2) in place by a piecewise-constant gain (one value per section) with
    linear ramps of ``ramp`` samples starting at each boundary where the gain changes."""
    prev = None
    for v, (a, b) in zip(values, bounds):
        r = min(ramp, b - a) if prev is not None and prev != v else 0
        if r:
            x[a:a + r] *= np.linspace(prev, v, r, endpoint=False, dtype=np.float32)[:, None]
        x[a + r:b] *= np.float32(v)
        prev = v


def _bounds(plan, n: int, samplerate: int) -> list[tuple[int, int]]:
    bounds = [(int(round(s.start * samplerate)), int(round(s.end * samplerate))) for s in plan.sections]
    bounds[-1] = (bounds[-1][0], n)
    return bounds


def _mean_square(x: np.ndarray, spans: list[tuple[int, int]]) -> tuple[float, int]:
    """(sum of squares, number of values) of ``x`` (T, 2) over the sample ``spans``."""
    total = sum(float(np.square(x[a:b]).sum()) for a, b in spans)  # numpy's pairwise sum: deterministic
    return total, sum(b - a for a, b in spans) * x.shape[1]


def render_stems(plan, pm, stems: np.ndarray, path: Path, samplerate: int) -> np.ndarray:
    """Render every part with its own synth into ``stems`` (4, T, 2) float32 (frames layout).

    Each part is brought to REFERENCE_RMS over the sections it plays in, shifted by its
    ``level_db``, and added to its stem; so a quiet preset does not vanish behind a loud one.
    """
    from ... import SOURCES

    n = stems.shape[1]
    bounds = _bounds(plan, n, samplerate)
    tmp = np.empty((n, 2), dtype=np.float32)
    stems[:] = 0.0
    for part, inst in zip(plan.parts, pm.instruments):
        if not inst.notes or not part.sections:
            continue
        render_instruments([inst], tmp, path, samplerate)
        energy, count = _mean_square(tmp, [bounds[i] for i in part.sections])
        if energy <= 1e-12 * count:
            continue  # a preset that makes no sound here; level_stems reports a silent stem
        tmp *= np.float32(REFERENCE_RMS / np.sqrt(energy / count) * 10 ** (part.level_db / 20))
        stems[SOURCES.index(part.stem)] += tmp
    return stems


def level_stems(plan, raw: np.ndarray, samplerate: int, path: Path) -> np.ndarray:
    """Level rendered stems in place: ``raw`` (4, T, 2) float32 (frames layout) -> the same array.

    Each stem is brought to REFERENCE_RMS over its active sections, then gets the song's stem gain
    and per-section gains (dB); inactive sections become exact zeros (after a RAMP fade).
    """
    from ... import SOURCES

    n = raw.shape[1]
    bounds = _bounds(plan, n, samplerate)
    ramp = int(RAMP * samplerate)
    for k, stem in enumerate(SOURCES):
        energy, count = _mean_square(raw[k], [b for s, b in zip(plan.sections, bounds) if s.active[stem]])
        if count == 0 or energy <= 1e-12 * count:
            raise DatasetError(f"SoundFont {path} rendered silence for the {stem} stem; "
                               "use a General MIDI SoundFont with melodic presets and a drum kit")
        gain = REFERENCE_RMS / np.sqrt(energy / count) * 10 ** (plan.stem_gain_db[stem] / 20)
        _apply_levels(raw[k], [gain * 10 ** (s.level_db[stem] / 20) if s.active[stem] else 0.0
                               for s in plan.sections], bounds, ramp)
    return raw
