"""What a dataset holds (data.summary): frame levels, stem activity, silent runs, the dataset table, and
the sections of a synthetic song from the generator's manifest."""
import json

import numpy as np
import pytest

from demucs_study import SOURCES
from demucs_study.data.raw import RawCache
from demucs_study.data.summary import (ACTIVITY_THRESHOLD_DB, dataset_table, frame_rms_db, silent_runs,
                                       song_sections, split_summary, stem_activity, track_summary)
from demucs_study.data.synth import generate
from fakedata import fake_stems, make_wav_dataset, write_wav_track

SR = 1000  # 1 s frames of 1000 samples


def sine(seconds, freq=50.0, amp=1.0, channels=2):
    t = np.arange(int(seconds * SR)) / SR
    return np.tile(amp * np.sin(2 * np.pi * freq * t), (channels, 1))


def level(db):
    """A constant whose RMS is ``db`` dBFS."""
    return 10 ** (db / 20)


# ---- frame_rms_db

def test_full_scale_sine_is_minus_3_dbfs_and_silence_is_minus_inf():
    x = np.concatenate([sine(2), np.zeros((2, 2 * SR))], axis=-1)
    db = frame_rms_db(x, SR)
    assert db.shape == (4,)
    np.testing.assert_allclose(db[:2], -10 * np.log10(2), atol=1e-9)  # -3.0103 dB
    assert db[2] == db[3] == -np.inf


def test_levels_of_constants_and_pooled_channels():
    assert frame_rms_db(np.full((2, SR), 0.1), SR) == pytest.approx([-20.0])
    left_only = np.stack([np.ones(SR), np.zeros(SR)])  # power 1 in one channel of two: 0.5
    assert frame_rms_db(left_only, SR) == pytest.approx([-10 * np.log10(2)])
    assert frame_rms_db(np.full((1, 3 * SR), 0.5), SR, frame=1.5) == pytest.approx([-6.0206] * 2, abs=1e-4)


def test_last_partial_frame_is_dropped_and_leading_dims_kept():
    stems = np.zeros((4, 2, int(2.7 * SR)))
    stems[1, :, SR:] = 1.0
    db = frame_rms_db(stems, SR)
    assert db.shape == (4, 2)
    assert db[1].tolist() == [-np.inf, 0.0] and np.all(db[[0, 2, 3]] == -np.inf)


def test_signal_shorter_than_a_frame_is_an_error():
    with pytest.raises(ValueError, match=r"^signal of 999 samples is shorter than one 1.0 s frame$"):
        frame_rms_db(np.ones((2, 999)), SR)


# ---- stem_activity

def test_activity_threshold_is_strict_at_minus_50_db():
    assert ACTIVITY_THRESHOLD_DB == -50.0
    stems = np.zeros((4, 2, 3 * SR))
    stems[0] = level(-49)                 # just above: active
    stems[1] = level(-51)                 # just below: inactive
    stems[2, :, SR:2 * SR] = 0.3          # active in the second second only
    stems[3] = sine(3, amp=0.01)          # -43 dB: active
    act = stem_activity(stems, SR)
    assert act.dtype == bool and act.tolist() == [[True] * 3, [False] * 3, [False, True, False], [True] * 3]
    assert stem_activity(stems, SR, threshold_db=-40).tolist()[3] == [False] * 3


# ---- silent_runs

def test_silent_runs_of_a_vector_with_known_runs():
    active = np.array([True, False, False, True, False, True, True, False])
    assert silent_runs(active) == [(1, 3), (4, 5), (7, 8)]  # a run at the end is closed there
    assert silent_runs(active, frame=0.5) == [(0.5, 1.5), (2.0, 2.5), (3.5, 4.0)]
    assert silent_runs([False, False, True]) == [(0, 2)]
    assert silent_runs(np.ones(5, bool)) == [] and silent_runs([]) == []
    assert silent_runs(np.zeros(3, bool)) == [(0, 3)]


# ---- track_summary

def test_track_summary_row():
    stems = np.full((4, 2, int(4.5 * SR)), 0.1)
    stems[1] = 0.0                              # bass silent throughout
    stems[3, :, SR:3 * SR] = 0.0                # vocals silent from 1 s to 3 s
    row = track_summary("Alpha - First", "valid", stems, SR)
    assert row == {"track": "Alpha - First", "split": "valid", "duration (s)": 4.5, "drums active": 1.0,
                   "bass active": 0.0, "other active": 1.0, "vocals active": 0.5, "longest silence (s)": 4.0}
    assert list(row)[3:7] == [f"{s} active" for s in SOURCES]


def test_track_summary_of_a_track_with_no_silence():
    row = track_summary("t", "test", np.full((4, 2, 2 * SR), 0.1), SR)
    assert row["longest silence (s)"] == 0.0 and row["duration (s)"] == 2.0


# ---- dataset_table and split_summary on a tiny dataset

@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """The fakedata set (train Alpha, Charlie; valid Bravo; test Delta, Echo), Alpha 2.5 s long, the other
    tracks 1 s; Echo's vocals silent."""
    tmp = tmp_path_factory.mktemp("summary")
    make_wav_dataset(tmp / "hq", lengths={"Alpha - First": int(2.5 * 44100)})
    quiet = fake_stems(9, 44100)
    quiet[3] = 0.0
    write_wav_track(tmp / "hq" / "test" / "Echo - Fifth", quiet)
    c = RawCache(tmp / "hq", cache_dir=tmp / "cache")
    c.prepare(["train", "valid", "test"])
    return c


def test_dataset_table_has_one_row_per_track_by_split(cache):
    table = dataset_table(cache)
    assert list(table.columns) == ["track", "split", "duration (s)", "drums active", "bass active", "other active",
                                   "vocals active", "longest silence (s)"]
    assert list(zip(table["split"], table["track"])) == [
        ("train", "Alpha - First"), ("train", "Charlie - Third"), ("valid", "Bravo - Second"),
        ("test", "Delta - Fourth"), ("test", "Echo - Fifth")]
    assert table["duration (s)"].tolist() == [2.5, 1.0, 1.0, 1.0, 1.0]
    echo = table.set_index("track").loc["Echo - Fifth"]
    assert echo["vocals active"] == 0.0 and echo["longest silence (s)"] == 1.0 and echo["drums active"] == 1.0
    others = table[table["track"] != "Echo - Fifth"]
    assert (others[[f"{s} active" for s in SOURCES]] == 1.0).all().all()
    assert dataset_table(cache, splits=("test",))["track"].tolist() == ["Delta - Fourth", "Echo - Fifth"]


def test_split_summary(cache):
    s = split_summary(dataset_table(cache))
    assert s.index.tolist() == ["train", "valid", "test"]  # in the table's order, not sorted
    assert s["tracks"].tolist() == [2, 1, 2]
    np.testing.assert_allclose(s["minutes"], [3.5 / 60, 1 / 60, 2 / 60])
    assert s.loc["test", "vocals active"] == 0.5 and s.loc["train", "drums active"] == 1.0
    assert list(s.columns) == ["tracks", "minutes", *(f"{x} active" for x in SOURCES)]


# ---- song_sections

def write_manifest(root, tracks, generator=generate.__name__):
    root.mkdir(parents=True, exist_ok=True)
    (root / generate.MANIFEST).write_text(json.dumps({"generator": generator, "tracks": tracks}))


SECTIONS = [{"name": "intro", "start": 0.0, "end": 4.0, "active": {"drums": True, "vocals": False}},
            {"name": "verse", "start": 4.0, "end": 12.0, "active": {"drums": True, "vocals": True}}]


def test_song_sections_from_a_manifest_written_by_hand(tmp_path):
    write_manifest(tmp_path, [{"name": "Other - Song", "sections": []},
                              {"name": "Kilo - Lima", "tempo": 96, "sections": SECTIONS}])
    meta, sections = song_sections(tmp_path, "Kilo - Lima")
    assert meta["tempo"] == 96 and meta["name"] == "Kilo - Lima"
    assert sections["name"].tolist() == ["intro", "verse"]
    assert sections["end"].tolist() == [4.0, 12.0]
    assert sections.loc[0, "active"] == {"drums": True, "vocals": False}
    meta, sections = song_sections(tmp_path, "Other - Song")
    assert meta == {"name": "Other - Song", "sections": []} and len(sections) == 0


def test_song_sections_without_a_manifest_or_track(tmp_path):
    assert song_sections(tmp_path, "Kilo - Lima") == (None, None)  # the real MUSDB18: no manifest
    write_manifest(tmp_path, [{"name": "Kilo - Lima", "sections": SECTIONS}])
    assert song_sections(tmp_path, "Not - There") == (None, None)
    write_manifest(tmp_path / "foreign", [{"name": "Kilo - Lima", "sections": SECTIONS}], generator="someone else")
    assert song_sections(tmp_path / "foreign", "Kilo - Lima") == (None, None)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / generate.MANIFEST).write_text("{not json")
    assert song_sections(tmp_path / "broken", "Kilo - Lima") == (None, None)

