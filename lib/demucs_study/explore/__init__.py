"""The students' explorer (``notebooks/06_explore.ipynb``): listen to, look at and remix what separation does.

Pure functions compute what the explorer shows; one module wires them to widgets:

* :mod:`.audio` - embedded Ogg/Opus players at true loudness (also used by notebooks 01 and 02);
* :mod:`.data` - what can be chosen for a profile (test tracks, systems, stems) and loading a choice:
  mixture, true stems, a system's estimates (stored, or computed on demand), per-frame scores;
* :mod:`.views` - figures, players, remixes and scores of a selection;
* :mod:`.own` - a song of your own, read and separated like the ``separate`` command does;
* :mod:`.app` - the ipywidgets layer: controls, callbacks that recompute only what depends on them,
  errors shown as messages.
"""
