"""``python -m demucs_study real-music --out DIR``: gather the music of the installed Debian packages
(:mod:`.realmusic`) into one folder with its licence manifest (``make real-music`` installs the packages
first, ``scripts/install-real-music.sh``)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def real_music(argv: list[str] | None = None) -> int:
    from .realmusic import PACKAGES, collect

    p = argparse.ArgumentParser(prog="python -m demucs_study real-music",
                                description="Gather the music of the installed Debian packages into one folder.")
    p.add_argument("--out", type=Path, required=True, help="destination folder (e.g. data/real-unlabeled)")
    p.add_argument("--root", type=Path, default=Path("/"), help="file tree the packages are installed in")
    p.add_argument("packages", nargs="*", help=f"packages (default: {' '.join(PACKAGES)})")
    a = p.parse_args(argv)
    unknown = [x for x in a.packages if x not in PACKAGES]
    if unknown:
        print(f"error: unknown package(s) {', '.join(unknown)}; known: {', '.join(PACKAGES)}", file=sys.stderr)
        return 2
    m = collect(a.out, a.root, a.packages or None)
    print(f"real music in {a.out}: {len(m['files'])} files from {len(m['packages'])} packages"
          + (f"; not installed: {', '.join(m['missing'])}" if m["missing"] else ""))
    return 0
