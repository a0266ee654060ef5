"""The interface every separation model of the study implements: :class:`Separator`.

Training, separation (``separation.apply_model``), evaluation and the explorer call only these
members, so Demucs, Wave-U-Net and MMDense are treated alike:

* ``sources`` (list of stem names, :data:`demucs_study.SOURCES`), ``audio_channels`` (2) and
  ``samplerate`` (44100: the rate of the mixtures a caller gives and of the stems it gets back; a
  model working at another rate inside, like Wave-U-Net at 22.05 kHz, converts in :meth:`forward` /
  :meth:`separate`, never its callers).
* ``valid_length(n)``: the smallest input length (samples at ``samplerate``) ``>= n`` for which
  :meth:`forward` and :meth:`separate` produce an output covering the ``n`` centred samples; a model
  with no constraint returns ``n``. Non-decreasing in ``n``.
* ``forward(mix)``: ``mix`` ``(B, C, T)``, normalised (``data.datasets.normalize``), ``T`` a valid
  length -> the *training-domain* output (waveforms ``(B, S, C, T')`` centred on the input for
  waveform models; magnitude spectrograms for MMDense).
* ``target(stems, output)``: the stems ``(B, S, C, T)`` of the same batch (normalised, aligned
  with ``mix``) in the training domain of ``output``, so that ``loss(output, target(stems, output))``
  is the training loss. Default: the stems centre-trimmed to ``output``'s length.
* ``separate(mix)``: ``(B, C, T)`` normalised at ``samplerate`` -> waveform stems ``(B, S, C, T')``
  at ``samplerate``, centred on the input, ``T' >= n`` when ``T = valid_length(n)``. Default:
  :meth:`forward` (waveform models). Resampling, STFT and Wiener filtering live here.

A saved model (``models.io.save_model``) records its registry name and constructor arguments
(``capture_init``) and loads weights-only.
"""
from __future__ import annotations

from torch import nn

from .. import AUDIO_CHANNELS, SAMPLERATE, SOURCES
from .utils import center_trim


class Separator(nn.Module):
    """Base class of the study's models; subclasses set ``sources``, ``audio_channels``, ``samplerate``
    and implement :meth:`forward`, overriding :meth:`valid_length`, :meth:`target` and
    :meth:`separate` where their defaults do not hold."""

    sources: list[str] = list(SOURCES)
    audio_channels: int = AUDIO_CHANNELS
    samplerate: int = SAMPLERATE

    def valid_length(self, length: int) -> int:
        return int(length)

    def target(self, stems, output):
        """Training target for ``output`` (default: ``stems`` centre-trimmed to its length)."""
        return center_trim(stems, output)

    def separate(self, mix):
        """Waveform stems ``(B, S, C, T')`` of a normalised mixture ``(B, C, T)`` (default: forward)."""
        return self(mix)
