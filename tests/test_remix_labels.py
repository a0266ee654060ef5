"""Silence labels on constructed signals: the rule, per-window energies, the histogram table."""
import math

import numpy as np
import pytest

from demucs_study import SOURCES
from demucs_study.remix import labels as L

from remix_helpers import SR, song


def tone(db: float, n: int = 4410, freq: float = 440.0) -> np.ndarray:
    """A stereo sine whose mean power is ``db`` dBFS exactly (over whole periods)."""
    t = np.arange(n) / 44100
    amp = math.sqrt(2 * 10 ** (db / 10))
    x = amp * np.sin(2 * np.pi * freq * t)
    return np.stack([x, x])


def test_a_stem_of_zeros_is_silent_and_a_stem_20_db_down_is_not():
    stems = np.stack([tone(-20.0, freq=440.0), tone(-40.0, freq=880.0), np.zeros((2, 4410)), tone(-20.0, freq=1320.0)])
    mix_db = L.power_db(stems.sum(0))
    assert mix_db == pytest.approx(10 * np.log10(2 * 10 ** -2 + 10 ** -4), abs=1e-6)  # orthogonal sines add powers
    silent = L.silence_labels(stems)
    # -20 dBFS stems are ~-3 dB below the mixture: playing. -40 dBFS is ~-23 dB: playing (above -30 dB).
    assert silent.tolist() == [False, False, True, False]
    # A stem 40 dB below its mixture is silent by the relative rule.
    quiet = np.stack([tone(-10.0, freq=440.0), tone(-50.0, freq=880.0), tone(-12.0, freq=1320.0),
                      tone(-11.0, freq=1760.0)])
    assert L.silence_labels(quiet).tolist() == [False, True, False, False]


def test_relative_rule_boundary_and_absolute_rule():
    mix = tone(-20.0)
    # relative to the mixture, exactly at -31 and -29 dB
    assert L.is_silent([-51.0, -49.0], L.power_db(mix)).tolist() == [True, False]
    # a stem at -65 dBFS in a mixture at -70 dBFS (a fade-out): silent by the absolute rule only
    stems = np.stack([tone(-65.0, freq=440.0), tone(-72.0, freq=880.0), np.zeros((2, 4410)), np.zeros((2, 4410))])
    assert L.silence_labels(stems).tolist() == [True, True, True, True]
    assert L.silence_labels(stems, absolute_db=-80.0).tolist() == [False, False, True, True]
    # thresholds are parameters
    stems = np.stack([tone(-20.0, freq=440.0), tone(-45.0, freq=880.0), np.zeros((2, 4410)), np.zeros((2, 4410))])
    assert L.silence_labels(stems)[1] == np.False_
    assert L.silence_labels(stems, relative_db=-20.0)[1] == np.True_


def test_window_energies_match_direct_computation_and_find_the_silent_section():
    stems = song(3.0, {"bass": [(1.0, 2.0)]}, seed=3)
    window, hop = SR // 2, SR // 4
    e = L.window_energies(stems, window, hop)
    assert e["start"].tolist() == list(range(0, 3 * SR - window + 1, hop))
    for i, start in enumerate(e["start"]):
        seg = stems[..., start:start + window].astype(np.float64)
        assert e["stem_db"][i] == pytest.approx(L.power_db(seg), abs=1e-6)
        assert e["mix_db"][i] == pytest.approx(L.power_db(seg.sum(0)), abs=1e-6)
    starts, silent = L.window_labels(stems, window, hop)
    bass = starts[silent[:, SOURCES.index("bass")]] / SR
    assert bass.tolist() == [1.0, 1.25, 1.5]          # the windows inside [1, 2) and only those
    assert not silent[:, [0, 2, 3]].any()


def test_energy_table_has_one_row_per_window_and_the_columns_of_the_histogram():
    class T:
        def __init__(self, name, stems):
            self.name, self.stems = name, stems
    tracks = [T("a", song(2.0, seed=1)), T("b", song(3.0, {"vocals": [(0.0, 3.0)]}, seed=2))]
    table = L.energy_table(tracks, window=1.0, hop=0.5, samplerate=SR)
    assert set(table) == {"track", "start", "mix_db"} | {f"{s}_db" for s in SOURCES} | {f"{s}_rel_db" for s in SOURCES}
    assert table["track"] == ["a"] * 3 + ["b"] * 5
    assert table["start"][:3] == [0.0, 0.5, 1.0]
    assert all(v == L.FLOOR_DB for v in table["vocals_db"][3:])
    assert all(-10 < v < 0 for v in table["bass_rel_db"])
