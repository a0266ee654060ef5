"""Real, freely licensed music from Debian packages, gathered into one folder of unlabeled mixtures.

``scripts/install-real-music.sh`` (``make real-music``) installs the packages with apt-get and runs
``python -m demucs_study.data.realmusic --out data/real-unlabeled``, which copies each package's music
(not its sound effects) into ``<out>/<package>/`` and writes ``<out>/manifest.json`` with every
file's package, version, authors, licence and the package's copyright file (its SHA-256 too).

The data notebook compares the synthetic mixtures with these (:mod:`.realism`); the remix scheme can
use them as unlabeled music, as the paper used unlabeled songs. Frets on Fire songs ship as a
backing track (``song.ogg``) and the guitar part (``guitar.ogg``): their sum is the record, written
as ``<song>.flac`` (24 bit; scaled down only if the sum would clip, gain recorded).

Licences (from ``/usr/share/doc/<package>/copyright``; also in docs/real-music.md):

==============================  ===============================================  ==================
package                         music                                            licence
==============================  ===============================================  ==================
singularity-music               Max McCracken, Endgame: Singularity soundtrack   CC BY-SA 3.0
hyperrogue-music                Shawn Parrotte, Lincoln Domina, Will Savino      CC BY-SA 3.0
frozen-bubble-data              The Frozen-Bubble Team (3 music tracks)          GPL-2
fretsonfire-songs-muldjord      El Senator (Muldjord): 4 metal songs             CC BY-SA 3.0
fretsonfire-songs-sectoid       Carlos Viola Iborra (Sectoid): 4 rock songs      MIT (Expat)
==============================  ===============================================  ==================
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

from ..utils import atomic_path, write_json

MANIFEST = "manifest.json"
#: package -> where its music is (globs under the install root), what it is, who made it, its licence.
PACKAGES = {
    "singularity-music": {
        "globs": ["usr/share/games/singularity/music/*.ogg", "usr/share/games/singularity/music/*/*.ogg"],
        "what": "Endgame: Singularity game soundtrack (electronic, orchestral)",
        "authors": "Max McCracken", "licence": "CC BY-SA 3.0"},
    "hyperrogue-music": {
        "globs": ["usr/share/hyperrogue/music/*.ogg"],
        "what": "HyperRogue game soundtrack (ambient, orchestral, world)",
        "authors": "Shawn Parrotte; Lincoln Domina; Will Savino", "licence": "CC BY-SA 3.0"},
    "frozen-bubble-data": {
        "globs": ["usr/share/games/frozen-bubble/snd/*zik*.ogg"],
        "what": "Frozen-Bubble game music (pop/electronic; sound effects left out)",
        "authors": "The Frozen-Bubble Team", "licence": "GPL-2"},
    "fretsonfire-songs-muldjord": {
        "songs": "usr/share/games/fretsonfire/data/songs/muldjord",
        "what": "Frets on Fire songs by Muldjord (metal, full band with vocals)",
        "authors": "El Senator (Muldjord)", "licence": "CC BY-SA 3.0"},
    "fretsonfire-songs-sectoid": {
        "songs": "usr/share/games/fretsonfire/data/songs/sectoid",
        "what": "Frets on Fire songs by Sectoid (rock/metal instrumentals)",
        "authors": "Carlos Viola Iborra (Sectoid)", "licence": "MIT (Expat)"},
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def package_version(package: str) -> str | None:
    """The installed version of a Debian package (dpkg-query), or None."""
    try:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True,
                           timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() or None if r.returncode == 0 else None


def _ffmpeg_reads(path: Path) -> bool:
    """Whether ffprobe parses ``path`` (the project decodes ogg with ffmpeg; a few Debian oggs have a
    header ffmpeg 5 rejects while libsndfile reads them)."""
    try:
        r = subprocess.run(["ffprobe", "-v", "error", str(path)], capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return True  # no ffprobe: leave the file as it is
    return r.returncode == 0


def _transcode(src: Path, dest: Path) -> None:
    """Decode ``src`` with libsndfile and write it losslessly as 24-bit FLAC ``dest``."""
    import numpy as np
    import soundfile as sf

    from ..audio import write_audio

    x, sr = sf.read(str(src), dtype="float32", always_2d=True)
    x = x.T
    peak = float(np.abs(x).max()) if x.size else 0.0
    write_audio(dest, x / np.float32(peak / 0.999) if peak > 0.999 else x, sr, subtype="PCM_24")


def _mix_song(folder: Path, dest: Path) -> dict:
    """Frets on Fire: ``song.ogg + guitar.ogg`` -> ``dest`` (FLAC, 24 bit). Returns its metadata."""
    import numpy as np

    from ..audio import read_audio, write_audio

    song, sr = read_audio(folder / "song.ogg", channels=2)
    parts = [song]
    if (folder / "guitar.ogg").is_file():
        guitar, _ = read_audio(folder / "guitar.ogg", samplerate=sr, channels=2)
        parts.append(guitar)
    n = max(p.shape[1] for p in parts)
    mix = np.zeros((2, n), np.float32)
    for p in parts:
        mix[:, :p.shape[1]] += p
    peak = float(np.abs(mix).max())
    gain = min(1.0, 0.999 / peak) if peak > 0 else 1.0
    write_audio(dest, mix * np.float32(gain), sr, subtype="PCM_24")
    return {"sources": [str(folder / "song.ogg")] + ([str(folder / "guitar.ogg")] if len(parts) > 1 else []),
            "gain": round(gain, 4)}


def collect(out: str | Path, root: str | Path = "/", packages: list[str] | None = None) -> dict:
    """Copy the music of the installed ``packages`` (default: all of PACKAGES) from the file tree at
    ``root`` into ``out/<package>/``; write and return ``out/manifest.json``. Files already there
    with the same size are kept (idempotent). A package that is not installed is listed as missing."""
    out, root = Path(out), Path(root)
    out.mkdir(parents=True, exist_ok=True)
    try:  # what an earlier run recorded about the files it made (e.g. a mix's gain)
        before = {f["path"]: f for f in json.loads((out / MANIFEST).read_text())["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        before = {}
    manifest = {"what": "freely licensed music from Debian packages (demucs_study.data.realmusic)",
                "packages": {}, "files": [], "missing": []}
    for name in packages or list(PACKAGES):
        spec = PACKAGES[name]
        copyright_file = root / "usr/share/doc" / name / "copyright"
        files = []
        dest_dir = out / name
        if "songs" in spec:
            for folder in sorted(p for p in (root / spec["songs"]).glob("*") if (p / "song.ogg").is_file()):
                dest = dest_dir / f"{folder.name}.flac"
                dest.parent.mkdir(parents=True, exist_ok=True)
                old = before.get(str(dest.relative_to(out)))
                if dest.is_file() and old is not None:
                    info = {"sources": old.get("sources"), "gain": old.get("gain")}
                else:
                    info = _mix_song(folder, dest)
                files.append((dest, info))
        else:
            found = sorted({p for g in spec["globs"] for p in root.glob(g) if p.is_file()})
            for src in found:
                rel = src.relative_to(root / Path(spec["globs"][0]).parent)
                dest = dest_dir / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                flac = dest.with_suffix(".flac")
                if flac.is_file() or not _ffmpeg_reads(src):
                    if not flac.is_file():
                        _transcode(src, flac)
                    files.append((flac, {"sources": [str(src)], "transcoded": "libsndfile: ffmpeg cannot "
                                                                               "parse this file's header"}))
                    continue
                if not (dest.is_file() and dest.stat().st_size == src.stat().st_size):
                    with atomic_path(dest) as tmp:
                        shutil.copyfile(src, tmp)
                files.append((dest, {"sources": [str(src)]}))
        if not files:
            manifest["missing"].append(name)
            continue
        manifest["packages"][name] = {
            "version": package_version(name) if Path(root) == Path("/") else None,
            "what": spec["what"], "authors": spec["authors"], "licence": spec["licence"],
            "copyright_file": str(copyright_file),
            "copyright_sha256": _sha256(copyright_file) if copyright_file.is_file() else None,
            "files": len(files)}
        for dest, info in files:
            manifest["files"].append({"path": str(dest.relative_to(out)), "package": name,
                                      "licence": spec["licence"], "authors": spec["authors"], **info})
    write_json(out / MANIFEST, manifest, indent=2)
    return manifest
