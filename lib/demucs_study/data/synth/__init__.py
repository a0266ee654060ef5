"""The synthetic MUSDB18-HQ-layout dataset: songs composed as MIDI and rendered through a GM SoundFont.

* :mod:`.plan` - a song's plan: tempo, key, sections, chords, which parts play where;
* :mod:`.parts` - the notes of each part (drums, bass, other parts, vocals) as MIDI;
* :mod:`.humanize` - the performance: swing, push/lag, timing scatter, dynamics;
* :mod:`.voice` - sung lines: legato phrases with portamento, vibrato and syllables;
* :mod:`.render` - SoundFont rendering of the parts into the four stems, and their levels;
* :mod:`.fx` - effect chains per part and a reverb per stem (pedalboard);
* :mod:`.mixbus` - the bus compressor and limiter, as one gain curve applied to every stem;
* :mod:`.names` - track names;
* :mod:`.generate` - one track from (seed, split, index), the dataset on disk and its manifest (with
  the hidden true stems of the unlabeled songs), :func:`~.generate.dataset_dir` (a profile's folder),
  :func:`~.generate.dataset_status` (is it current?) and :func:`~.generate.ensure_dataset` (make it so);
* :mod:`.cli` - ``python -m demucs_study generate-data``.
"""
