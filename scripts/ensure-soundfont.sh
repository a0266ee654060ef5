#!/usr/bin/env bash
# The synthetic dataset renders through FluidR3_GM (Frank Wen, MIT licence), Debian's fluid-soundfont-gm,
# when it is installed; otherwise through the small TimGM6mb.sf2 inside pretty_midi (the dataset folder
# name tells the two apart). Installs it with apt-get when missing and we are root; otherwise says how
# and carries on (exit 0: the generator still works with the small SoundFont). Idempotent.
set -euo pipefail
SF=/usr/share/sounds/sf2/FluidR3_GM.sf2
if [ -r "$SF" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "FluidR3_GM SoundFont missing: installing fluid-soundfont-gm with apt-get (120 MB)" >&2
  export DEBIAN_FRONTEND=noninteractive
  if apt-get install -y -qq --no-install-recommends fluid-soundfont-gm >/dev/null 2>&1 \
     || { apt-get update -qq && apt-get install -y -qq --no-install-recommends fluid-soundfont-gm >/dev/null; }; then
    [ -r "$SF" ] && exit 0
  fi
fi
cat >&2 <<'MSG'
note: the General MIDI SoundFont FluidR3_GM is not installed, so the synthetic dataset is rendered with
pretty_midi's small TimGM6mb.sf2 (in data/synth-<profile>-timgm6mb). For the realistic default, install it:
  Debian/Ubuntu:  sudo apt-get install --no-install-recommends fluid-soundfont-gm
  (or pass any General MIDI .sf2 as dataset.synth.soundfont in params/<profile>/data.yaml)
MSG
exit 0
