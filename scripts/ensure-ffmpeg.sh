#!/usr/bin/env bash
# musdb and museval cannot be imported without the ffmpeg and ffprobe programs.
# Installs them with apt-get when they are missing and we are root; otherwise says how.
set -euo pipefail
if command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ffmpeg/ffprobe missing: installing them with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null
  command -v ffprobe >/dev/null 2>&1 && exit 0
fi
cat >&2 <<'MSG'
error: the programs ffmpeg and ffprobe are required (musdb and museval call them) and are not on PATH.
Install them, then run make again:
  Debian/Ubuntu:  sudo apt-get install --no-install-recommends ffmpeg
  macOS:          brew install ffmpeg
  conda:          conda install -c conda-forge ffmpeg   (or use environment.yml)
MSG
exit 1
