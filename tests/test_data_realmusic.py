"""Gathering real music from (a fake tree of) installed Debian packages: files, licences, manifest."""
from __future__ import annotations

import json

import numpy as np
import soundfile as sf

from demucs_study.data import realmusic

SR = 44100


def _wav(path, amp=0.5, seconds=1.0):
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * SR)) / SR
    sf.write(path, np.stack([amp * np.sin(2 * np.pi * 220 * t)] * 2, axis=1), SR, subtype="FLOAT")


def test_collect_copies_music_mixes_songs_and_records_licences(tmp_path, monkeypatch):
    root = tmp_path / "root"
    monkeypatch.setattr(realmusic, "_ffmpeg_reads", lambda p: True)
    monkeypatch.setitem(realmusic.PACKAGES, "frozen-bubble-data",
                        {**realmusic.PACKAGES["frozen-bubble-data"], "globs": ["usr/share/games/frozen-bubble/snd/*zik*.wav"]})
    _wav(root / "usr/share/games/frozen-bubble/snd/introzik.wav")
    _wav(root / "usr/share/games/frozen-bubble/snd/launch.wav")  # a sound effect: left out
    (root / "usr/share/doc/frozen-bubble-data").mkdir(parents=True)
    (root / "usr/share/doc/frozen-bubble-data/copyright").write_text("License: GPL-2\n")
    song = root / "usr/share/games/fretsonfire/data/songs/sectoid/Feelings"
    _wav(song / "song.wav", 0.7)
    _wav(song / "guitar.wav", 0.7)
    for name in ("song", "guitar"):  # the real files are ogg; the test writes wav under that name
        (song / f"{name}.wav").rename(song / f"{name}.ogg")
    out = tmp_path / "real"
    m = realmusic.collect(out, root, ["frozen-bubble-data", "fretsonfire-songs-sectoid", "hyperrogue-music"])
    assert m["missing"] == ["hyperrogue-music"]
    paths = sorted(f["path"] for f in m["files"])
    assert paths == ["fretsonfire-songs-sectoid/Feelings.flac", "frozen-bubble-data/introzik.wav"]
    assert m["packages"]["frozen-bubble-data"]["licence"] == "GPL-2"
    assert m["packages"]["frozen-bubble-data"]["copyright_sha256"] is not None
    assert m["packages"]["fretsonfire-songs-sectoid"]["licence"] == "MIT (Expat)"
    song_entry = next(f for f in m["files"] if f["path"].endswith(".flac"))
    assert song_entry["gain"] < 1.0  # 0.7 + 0.7 would clip: scaled down, recorded
    mixed, sr = sf.read(out / song_entry["path"])
    assert sr == SR and 0.9 < np.abs(mixed).max() <= 1.0
    assert json.loads((out / "manifest.json").read_text()) == m
    # idempotent: a second run keeps the files and writes the same manifest
    before = (out / "frozen-bubble-data/introzik.wav").stat().st_mtime_ns
    again = realmusic.collect(out, root, ["frozen-bubble-data", "fretsonfire-songs-sectoid", "hyperrogue-music"])
    assert (out / "frozen-bubble-data/introzik.wav").stat().st_mtime_ns == before
    assert again == m


def test_every_package_has_a_licence_and_authors():
    for name, spec in realmusic.PACKAGES.items():
        assert spec["licence"] and spec["authors"] and ("globs" in spec or "songs" in spec), name
