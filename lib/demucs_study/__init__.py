"""demucs-study: a re-executable reproduction of Demucs (Defossez et al., arXiv 1909.01174).

Shapes are contracts: one signal is ``(channels, time)``, stems are ``(sources, channels, time)``
in the order of :data:`SOURCES`, and models add a batch dimension in front.
Nothing here does work at import time.
"""

__version__ = "0.1.0"

#: The MUSDB18 stems, in the order every array of stems uses.
SOURCES = ("drums", "bass", "other", "vocals")
#: Sample rate of MUSDB18 and of everything this study trains on.
SAMPLERATE = 44100
#: Every stem and mixture is stereo.
AUDIO_CHANNELS = 2
