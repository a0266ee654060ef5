#!/usr/bin/env bash
# The explorer's browser test (tests/test_explore_browser.py) drives Debian's chromium with Playwright (from PyPI,
# pinned in pyproject.toml; no browser download). Installs chromium with apt-get when it is missing and we are
# root; otherwise says how.
set -euo pipefail
CHROMIUM="${DEMUCS_STUDY_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "chromium missing: installing it with apt-get (for the explorer's browser test)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
  [ -x "$CHROMIUM" ] && exit 0
fi
cat >&2 <<MSG
error: the explorer's browser test needs Chromium at $CHROMIUM and it is not there.
Install it, then run make test again:
  Debian/Ubuntu:  sudo apt-get install --no-install-recommends chromium
  elsewhere:      install Chromium and set DEMUCS_STUDY_CHROMIUM=/path/to/chromium
MSG
exit 1
