#!/usr/bin/env bash
# Real, freely licensed music for the realism comparison (data notebook) and as unlabeled songs:
# Debian packages of game soundtracks and Frets on Fire songs (licences in docs/real-music.md),
# installed with apt-get, then gathered into data/real-unlabeled/ with a manifest.json that records
# each file's package, authors and licence. Idempotent: installed packages and copied files are kept.
# Usage: scripts/install-real-music.sh [--optional] [OUT]   (--optional: exit 0 when it cannot install)
set -euo pipefail
OPTIONAL=0
if [ "${1:-}" = "--optional" ]; then OPTIONAL=1; shift; fi
OUT=${1:-${DEMUCS_STUDY_DATA:-data}/real-unlabeled}
PY=${PY:-.venv/bin/python}
PACKAGES="singularity-music hyperrogue-music frozen-bubble-data fretsonfire-songs-muldjord fretsonfire-songs-sectoid"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing the real-music packages:$missing (about 230 MB)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 \
      || { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null; }
  else
    echo "error: the real-music packages are not installed:$missing" >&2
    echo "install them, then run make real-music again:" >&2
    echo "  sudo apt-get install --no-install-recommends$missing" >&2
    [ "$OPTIONAL" = "1" ] && exit 0
    exit 1
  fi
fi
if [ -f "$OUT/manifest.json" ] && [ -z "$missing" ]; then
  exit 0
fi
"$PY" -m demucs_study real-music --out "$OUT"
