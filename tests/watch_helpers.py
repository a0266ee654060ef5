"""Watching file accesses in tests: :func:`watching` records every file a block opens, lists or decodes, so a
test can prove that a folder (the hidden true stems of the unlabeled songs) is never touched.

Every access is watched three ways: Python's audit hook (``open`` - which also covers ``np.load``
and memory maps -, ``os.listdir``, ``os.scandir`` - which ``Path.glob``/``rglob`` use -,
``glob.glob``, ``subprocess.Popen`` - ffmpeg/ffprobe), and soundfile's ``SoundFile`` (libsndfile
opens files in C, below the audit hook).
"""
import contextlib
import sys
from pathlib import Path

import soundfile

_WATCH: dict = {"active": False, "seen": []}
_EVENTS = {"open", "os.listdir", "os.scandir", "glob.glob", "subprocess.Popen"}


def _audit(event, args):
    if _WATCH["active"] and event in _EVENTS:
        _WATCH["seen"].append((event, repr(args)))


sys.addaudithook(_audit)  # hooks cannot be removed; it records only while a test watches


class _Watched(soundfile.SoundFile):
    def __init__(self, file, *args, **kwargs):
        if _WATCH["active"]:
            _WATCH["seen"].append(("soundfile", repr(file)))
        super().__init__(file, *args, **kwargs)


@contextlib.contextmanager
def watching():
    """Record every file access inside the block; yields the list of (event, argument repr)."""
    seen: list = []
    original = soundfile.SoundFile
    soundfile.SoundFile = _Watched
    _WATCH["seen"], _WATCH["active"] = seen, True
    try:
        yield seen
    finally:
        _WATCH["active"] = False
        soundfile.SoundFile = original


def touched(seen, folder: Path) -> list:
    """The accesses of ``seen`` inside ``folder``."""
    key = str(Path(folder).resolve())
    return [s for s in seen if key in s[1] or str(folder) in s[1]]
