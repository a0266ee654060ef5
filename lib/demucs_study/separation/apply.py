"""Apply a separation model to one whole track of any length: :func:`apply_model`.

What it does, in order:

1. Per-track normalisation (docs/paper.md, section "Training": statistics of the whole track,
   ``utils.mono_stats``), the convention of training (``data.datasets.normalize``): the model sees
   the normalised mixture and its estimates are de-normalised as stems (``denormalize_``); they sum
   to the mixture when the normalised estimates sum to the normalised mixture.
2. The seeded shift trick (docs/paper.md, section "Test-time shift trick and chunking"): for each of ``shifts`` offsets ``s``
   drawn uniformly in ``[0, 0.5 s)`` from a local ``torch.Generator`` seeded with ``seed``, the track
   is separated as if it started ``s`` samples later (``s`` zeros in front, i.e. the input is padded
   by up to 0.5 s), the first ``s`` output samples are dropped, and the passes are averaged.
   ``shifts=0`` is one pass with no shift.
3. Overlap-add: each pass cuts the (shifted) track into chunks of ``segment`` seconds sharing an
   ``overlap`` fraction, cross-faded linearly with weights that sum to one
   (:mod:`demucs_study.separation.chunks`), so a model returning its input gives back its input.
4. Each chunk of ``L`` samples is extended on both sides with the neighbouring audio (zeros outside
   the track) to ``model.valid_length(L)`` samples, and exactly the ``L`` output samples aligned with
   the chunk are kept (the model's output is centred on its input, as in ``center_trim``).

Peak memory: the input as given (not copied when it is float32 on the CPU), the output
``(S, C, T)`` float32, and, per chunk, its padded input ``(C, valid_length(L))``, the model's
activations and its output ``(S, C, L')``. Nothing else grows with the track length ``T``; with
``split=False`` the single chunk is the whole track, so the model's activations grow with ``T``
(see ``benchmarks/bench_separate.py``).
"""
from __future__ import annotations

import math
import numbers
import sys

import numpy as np

from .. import SAMPLERATE
from ..data.datasets import denormalize_, normalize
from ..errors import AudioError, ParamsError
from ..utils import mono_stats
from .chunks import chunk_weights, plan_chunks

#: Chunk length in seconds when neither ``segment`` nor ``model.segment`` is given: the 10 s training
#: windows of the paper (docs/paper.md, section "Training"), also ``separate.segment`` of the profiles.
DEFAULT_SEGMENT = 10.0
#: Largest shift of the shift trick, in seconds (docs/paper.md, section "Test-time shift trick and
#: chunking": pad by 0.5 s, shifts in [0, 0.5 s)).
MAX_SHIFT_SECONDS = 0.5
def _normalised_window(mix, start: int, stop: int, mean: float, std: float, device):
    """``normalize(mix[:, start:stop], mean, std)`` as float32 on ``device``, with zeros where the
    range goes beyond the track ``[0, T)``. Shape ``(C, stop - start)``."""
    import torch

    channels, length = mix.shape
    window = torch.zeros(channels, stop - start, dtype=torch.float32)
    lo, hi = max(start, 0), min(stop, length)
    if hi > lo:
        window[:, lo - start:hi - start] = normalize(mix[:, lo:hi].to(torch.float32), mean, std)
    return window.to(device)


class _Progress:
    """One tick per chunk: tqdm on stderr when it is a terminal, else one printed line per chunk; or, when
    ``enabled`` is a callable, ``enabled(done, total)`` after every chunk (a notebook's progress bar)."""

    def __init__(self, total: int, enabled):
        self.callback = enabled if callable(enabled) else None
        self.total, self.enabled, self.done, self.bar = total, bool(enabled), 0, None
        if self.callback is not None:
            self.enabled = False
        elif enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="chunk", desc="separate", file=sys.stderr, leave=False)

    def update(self) -> None:
        self.done += 1
        if self.callback is not None:
            self.callback(self.done, self.total)
        elif self.bar is not None:
            self.bar.update(1)
        elif self.enabled:
            print(f"separate: chunk {self.done}/{self.total}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _check_args(shifts, segment, overlap, samplerate) -> tuple[int, int]:
    """Validate the options; returns the chunk length and the overlap in samples."""
    if isinstance(shifts, bool) or not isinstance(shifts, numbers.Integral) or shifts < 0:
        raise ParamsError(f"shifts={shifts!r}: give a whole number >= 0 (0: no shift trick; the paper uses 10)")
    if not isinstance(segment, numbers.Real) or not math.isfinite(segment) or segment <= 0:
        raise ParamsError(f"segment={segment!r}: give the chunk length in seconds, a number > 0 (e.g. 10)")
    if not isinstance(overlap, numbers.Real) or not 0 <= overlap < 1:
        raise ParamsError(f"overlap={overlap!r}: give the fraction of a chunk shared with the next, "
                          "in [0, 1) (e.g. 0.25)")
    chunk = max(1, int(round(float(segment) * samplerate)))
    return chunk, min(int(float(overlap) * chunk), chunk - 1)


def apply_model(model, mix, shifts: int = 0, split: bool = True, segment: float | None = None,
                overlap: float = 0.25, seed: int = 0, progress=False):
    """Separate one track: ``mix`` ``(C, T)`` -> stems ``(S, C, T)``, same type, dtype (and device).

    Args:
        model: an ``nn.Module`` mapping ``(B, C, L)`` to ``(B, S, C, L')`` (S sources, ``L' >= L`` for
            an input of ``model.valid_length(L)`` samples, output centred on the input). Optional
            attributes: ``valid_length(n)`` (default: ``n``), ``samplerate`` (default 44100),
            ``segment`` (seconds, used when ``segment`` is None). Run in eval mode under
            ``torch.no_grad()``; its train/eval mode is restored afterwards.
        mix: the raw (not normalised) mixture, a numpy array or torch tensor ``(C, T)``, any ``T >= 1``.
        shifts: number of random shifts of the shift trick, averaged (0: none; the paper uses 10).
        split: cut the track into overlapping chunks (bounded memory); False: one chunk, the whole track.
        segment: chunk length in seconds; default ``model.segment`` if the model has one, else
            :data:`DEFAULT_SEGMENT` (10 s).
        overlap: fraction of a chunk shared with the next one, in ``[0, 1)``; linear cross-fade there.
        seed: seeds the local ``torch.Generator`` drawing the shifts (the global RNGs are not touched).
        progress: report each chunk on stderr (tqdm on a terminal, else one line per chunk); a callable
            is called as ``progress(done, total)`` after each chunk instead (chunks of every shift).

    Returns the de-normalised estimates ``(S, C, T)``: a numpy array if ``mix`` is one (float32 input:
    the array shares memory with the float32 buffer the stems were accumulated in), else a tensor on
    ``mix``'s device. The estimates of a model whose normalised outputs sum to its normalised input
    sum to ``mix``.

    Raises :class:`~demucs_study.errors.AudioError` for a ``mix`` that is not ``(C, T)`` with the
    model's channel count or holds NaN/inf, :class:`~demucs_study.errors.ParamsError` for bad options.
    """
    import torch

    is_numpy = not isinstance(mix, torch.Tensor)
    if is_numpy:
        array = np.asarray(mix)
        if any(stride < 0 for stride in array.strides):   # e.g. x[:, ::-1]: torch needs positive strides
            array = array.copy()
        source = torch.from_numpy(array)
    else:
        source = mix.detach()
    channels = getattr(model, "audio_channels", None)
    if source.dim() != 2 or source.shape[-1] < 1 or (channels is not None and source.shape[0] != channels):
        want = f"({channels}, time)" if channels is not None else "(channels, time)"
        raise AudioError(f"apply_model: the mixture must be shaped {want} with at least one sample, got "
                         f"{tuple(source.shape)}; transpose (time, channels) arrays and convert mono to stereo")
    if not source.dtype.is_floating_point:
        raise AudioError(f"apply_model: the mixture must hold floats (samples in [-1, 1]), got {source.dtype}")
    if source.device.type != "cpu":
        source = source.cpu()
    samplerate = int(getattr(model, "samplerate", None) or SAMPLERATE)
    if segment is None:
        segment = getattr(model, "segment", None) or DEFAULT_SEGMENT
    chunk, overlap_samples = _check_args(shifts, segment, overlap, samplerate)
    length = source.shape[-1]

    mean, std = mono_stats(source)
    if not (math.isfinite(mean) and math.isfinite(std)):
        raise AudioError("apply_model: the mixture holds NaN or infinite samples; check how it was read")

    valid_length = getattr(model, "valid_length", None) or (lambda n: n)
    try:
        parameter = next(model.parameters())
        device = parameter.device
        dtype = parameter.dtype if parameter.dtype.is_floating_point else torch.float32
    except (StopIteration, AttributeError):
        device, dtype = torch.device("cpu"), torch.float32

    run = getattr(model, "separate", model)   # models.base.Separator.separate: waveforms at the mixture rate
    generator = torch.Generator().manual_seed(int(seed))
    max_shift = int(MAX_SHIFT_SECONDS * samplerate)
    offsets = (torch.randint(0, max(max_shift, 1), (int(shifts),), generator=generator).tolist() if shifts else [0])
    plans = []
    for offset in offsets:
        span = length + offset            # the virtual track: `offset` zeros, then the mixture
        plans.append(plan_chunks(span, chunk if split else span, overlap_samples if split else 0))

    out = None
    bar = _Progress(sum(len(plan) for plan in plans), progress)
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        with torch.no_grad():
            for offset, plan in zip(offsets, plans):
                for index, (start, size) in enumerate(plan):
                    begin = start - offset      # chunk start in track coordinates (< 0 in the padding)
                    if begin + size <= 0:       # wholly in the shift's zero padding: nothing to keep
                        bar.update()
                        continue
                    padded = int(valid_length(size))
                    if padded < size:
                        raise ValueError(f"model.valid_length({size}) = {padded} is shorter than its argument")
                    pad_left = (padded - size) // 2
                    window = _normalised_window(source, begin - pad_left, begin - pad_left + padded,
                                                mean, std, device).to(dtype)
                    estimate = run(window[None])
                    if estimate.dim() != 4 or estimate.shape[0] != 1 or estimate.shape[2] != source.shape[0]:
                        raise ValueError(f"the model mapped (1, {source.shape[0]}, {padded}) to "
                                         f"{tuple(estimate.shape)}; expected (1, sources, {source.shape[0]}, time)")
                    produced = estimate.shape[-1]
                    # the output is centred on the input: output sample j is input sample (padded - produced) // 2 + j
                    first = pad_left - (padded - produced) // 2
                    if first < 0 or first + size > produced:
                        raise ValueError(f"the model returned {produced} samples for an input of {padded}; "
                                         f"{size} centred samples are needed: check its valid_length")
                    weights = torch.from_numpy(chunk_weights(plan, index, overlap_samples if split else 0))
                    # out of place: the model's output may be a view that cannot be written (e.g. expand)
                    estimate = estimate[0, ..., first:first + size].float().cpu() * (weights / len(offsets))
                    if out is None:
                        out = torch.zeros(estimate.shape[0], source.shape[0], length, dtype=torch.float32)
                    lo, hi = max(begin, 0), min(begin + size, length)
                    if hi > lo:
                        out[..., lo:hi] += estimate[..., lo - begin:hi - begin]
                    bar.update()
    finally:
        bar.close()
        model.train(was_training)

    denormalize_(out, mean, std)
    if is_numpy:
        result = out.numpy()
        return result if result.dtype == np.asarray(mix).dtype else result.astype(np.asarray(mix).dtype)
    return out.to(device=mix.device, dtype=mix.dtype)


def options_from_params(params: dict) -> dict:
    """The keyword arguments of :func:`apply_model` for an experiment: its ``separate`` parameters
    (shifts, split, segment, overlap) and its ``seed``."""
    from ..config import require

    return {"shifts": int(require(params, "separate.shifts")), "split": bool(require(params, "separate.split")),
            "segment": float(require(params, "separate.segment")),
            "overlap": float(require(params, "separate.overlap")), "seed": int(require(params, "seed"))}
