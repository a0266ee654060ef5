"""The synthetic MUSDB18-HQ-layout dataset: songs composed as MIDI and rendered through a GM SoundFont.

* :mod:`.plan` - a song's plan: tempo, key, sections, chords, which parts play where;
* :mod:`.parts` - the notes of each part (drums, bass, other parts, vocals) as MIDI;
* :mod:`.render` - SoundFont rendering of the parts into the four stems, and their levels;
* :mod:`.names` - track names;
* :mod:`.generate` - one track from (seed, split, index), the dataset on disk, its manifest;
* :mod:`.cli` - ``python -m demucs_study generate-data``.

Importing this package imports numpy only.
"""
from __future__ import annotations

from .generate import (DEFAULTS, GENERATOR_VERSION, MANIFEST, MARKER, ensure_dataset, generate_dataset,
                       read_manifest, render_song)

__all__ = ["DEFAULTS", "GENERATOR_VERSION", "MANIFEST", "MARKER", "ensure_dataset", "generate_dataset",
           "read_manifest", "render_song"]
