"""Training-time augmentations of a batch of stems ``(batch, sources, channels, time)``.

The four augmentations of the released Demucs runs, in the order they are applied
(docs/paper.md, section "Training"): per-source sign flip, per-source left/right swap,
per-source random time shift (a crop of a window ``shift`` samples longer), and remix across
batch items within groups; then, optionally, the random source gains of the Wave-U-Net recipe
(:class:`Scale`, off unless asked for). The training mixture is then re-made as the sum of the
augmented sources (by the caller).

Each module draws from its own ``torch.Generator`` (attribute ``generator``), so a run is
reproducible and the generator state can be checkpointed (:func:`generators_of`). Random
numbers are drawn on the CPU and moved to the batch's device. In ``eval()`` mode every module
is the identity, except :class:`Shift`, which crops to the same output length as in training.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .errors import ParamsError


def _new_generator(generator: torch.Generator | None) -> torch.Generator:
    """``generator``, or a CPU generator seeded from torch's global RNG (so ``seed_everything``
    makes it reproducible, and two modules built in a row get different streams)."""
    if generator is not None:
        return generator
    return torch.Generator().manual_seed(int(torch.randint(2**62, (1,))))


def _check(wav: torch.Tensor, name: str) -> None:
    if wav.dim() != 4:
        raise ValueError(f"{name} expects (batch, sources, channels, time), got shape {tuple(wav.shape)}")


class _Augment(nn.Module):
    def __init__(self, generator: torch.Generator | None = None):
        super().__init__()
        self.generator = _new_generator(generator)

    def _coin(self, wav: torch.Tensor) -> torch.Tensor:
        """A fair 0/1 draw per (batch item, source): ``(B, S, 1, 1)`` bool on ``wav``'s device."""
        batch, sources = wav.shape[:2]
        draw = torch.randint(2, (batch, sources, 1, 1), generator=self.generator)
        return draw.bool().to(wav.device)


class FlipSign(_Augment):
    """Multiply each (batch item, source) by +1 or -1 at random. ``(B, S, C, T) -> (B, S, C, T)``."""

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        _check(wav, "FlipSign")
        if not self.training:
            return wav
        return torch.where(self._coin(wav), -wav, wav)


class FlipChannels(_Augment):
    """Swap left and right of each (batch item, source) with probability 1/2 (stereo only).

    ``(B, S, 2, T) -> (B, S, 2, T)``.
    """

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        _check(wav, "FlipChannels")
        if not self.training:
            return wav
        if wav.shape[2] != 2:
            raise ParamsError(f"FlipChannels swaps left/right and needs stereo stems, got {wav.shape[2]} "
                              "channel(s); convert the data to stereo or set train.flip to false")
        return torch.where(self._coin(wav), wav.flip(2), wav)


class Shift(_Augment):
    """Shift each (batch item, source) independently by a random offset in ``[0, shift]`` samples.

    ``(B, S, C, T) -> (B, S, C, T - shift)``: source s of item b is ``wav[b, s, :, o:o + T - shift]``
    with its own offset o. ``shift = samplerate`` is the paper's "random shift up to 1 s" (the
    training windows are read ``shift`` samples longer than the model's segment).
    In eval mode the output is ``wav[..., :T - shift]``: the same length as in training, so the
    validation code path sees the same shapes (as in the released Demucs).
    """

    def __init__(self, shift: int, generator: torch.Generator | None = None):
        super().__init__(generator)
        if shift < 0:
            raise ParamsError(f"Shift: shift={shift} samples must be >= 0 (train.shift in seconds)")
        self.shift = int(shift)

    def extra_repr(self) -> str:
        return f"shift={self.shift}"

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        _check(wav, "Shift")
        batch, sources, channels, time = wav.shape
        length = time - self.shift
        if length <= 0:
            raise ValueError(f"Shift: input of {time} samples is not longer than shift={self.shift}; "
                             "read training windows of segment + shift samples")
        if self.shift == 0:
            return wav
        if not self.training:
            return wav[..., :length]
        offsets = torch.randint(self.shift + 1, (batch, sources), generator=self.generator).tolist()
        out = wav.new_empty(batch, sources, channels, length)
        for b in range(batch):
            for s in range(sources):
                out[b, s] = wav[b, s, :, offsets[b][s]:offsets[b][s] + length]
        return out


class Remix(_Augment):
    """Within each group of ``group_size`` consecutive batch items, permute every source
    independently across the group, so stems of different songs are mixed together.

    ``(B, S, C, T) -> (B, S, C, T)`` with B a multiple of ``group_size``.
    """

    def __init__(self, group_size: int = 4, generator: torch.Generator | None = None):
        super().__init__(generator)
        if group_size < 1:
            raise ParamsError(f"Remix: group_size={group_size} must be >= 1 (train.remix_group; 0 turns it off)")
        self.group_size = int(group_size)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}"

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        _check(wav, "Remix")
        if not self.training:
            return wav
        batch, sources = wav.shape[:2]
        if batch % self.group_size:
            raise ParamsError(f"Remix: a batch of B={batch} items cannot be split into groups of "
                              f"group_size={self.group_size}; make the batch size a multiple of "
                              f"{self.group_size} (and drop the last incomplete batch), or change train.remix_group")
        groups = batch // self.group_size
        # One independent permutation of the group per (group, source).
        perm = torch.rand(groups, self.group_size, sources, generator=self.generator).argsort(dim=1)
        perm = perm.to(wav.device)
        grouped = wav.view(groups, self.group_size, *wav.shape[1:])
        group_index = torch.arange(groups, device=wav.device)[:, None, None]
        source_index = torch.arange(sources, device=wav.device)[None, None, :]
        return grouped[group_index, perm, source_index].reshape(wav.shape)


class Scale(_Augment):
    """Multiply each (batch item, source) by its own gain drawn uniformly in ``[min, max]``.

    The "random amplification" of the Wave-U-Net training recipe (Stoller, Ewert, Dixon, ISMIR 2018,
    arXiv 1806.03185; its public code draws one gain in [0.7, 1.0] per source and training example
    and re-makes the mixture as the sum of the scaled sources). ``(B, S, C, T) -> (B, S, C, T)``;
    the identity in eval mode.
    """

    def __init__(self, min: float = 0.7, max: float = 1.0, generator: torch.Generator | None = None):
        super().__init__(generator)
        low, high = float(min), float(max)
        if not (math.isfinite(high) and 0 < low <= high):
            raise ParamsError(f"Scale: gains in [min={min}, max={max}] must satisfy 0 < min <= max < inf "
                              "(the Wave-U-Net recipe uses [0.7, 1.0])")
        self.min, self.max = low, high

    def extra_repr(self) -> str:
        return f"min={self.min}, max={self.max}"

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        _check(wav, "Scale")
        if not self.training:
            return wav
        batch, sources = wav.shape[:2]
        gains = torch.rand(batch, sources, 1, 1, generator=self.generator, dtype=torch.float64)
        gains = (self.min + (self.max - self.min) * gains).to(device=wav.device, dtype=wav.dtype)
        return wav * gains


def make_augmentations(shift: int = 0, flip: bool = True, remix_group: int = 0,
                       generator_seed: int | None = None,
                       scale: tuple[float, float] | None = None) -> nn.Sequential:
    """The augmentation pipeline in the paper's order: FlipSign, FlipChannels (if ``flip``),
    Shift (if ``shift`` > 0 samples), Remix (if ``remix_group`` > 1), then Scale (if ``scale`` is
    a ``(min, max)`` pair of gains, e.g. ``(0.7, 1.0)`` for the Wave-U-Net recipe; default None: off).

    ``generator_seed``: each module gets its own generator, seeded with independent seeds derived
    from it (``numpy.random.SeedSequence``); None seeds them from torch's global RNG. The first four
    seeds do not depend on ``scale``, so adding Scale leaves the other modules' streams unchanged.
    ``(B, S, C, T) -> (B, S, C, T - shift)``.
    """
    import numpy as np

    seeds = iter(np.random.SeedSequence(generator_seed).generate_state(5, np.uint64).tolist()
                 if generator_seed is not None else [None] * 5)

    def gen() -> torch.Generator | None:
        seed = next(seeds)
        return None if seed is None else torch.Generator().manual_seed(seed)

    modules: list[nn.Module] = []
    flip_gens = (gen(), gen())          # drawn always, so each module's stream does not depend on the others
    shift_gen, remix_gen = gen(), gen()
    if flip:
        modules += [FlipSign(flip_gens[0]), FlipChannels(flip_gens[1])]
    if shift:
        modules.append(Shift(shift, shift_gen))
    if remix_group and remix_group > 1:
        modules.append(Remix(remix_group, remix_gen))
    scale_gen = gen()
    if scale is not None:
        if not isinstance(scale, (tuple, list)) or len(scale) != 2:
            raise ParamsError(f"scale={scale!r}: give the (min, max) range of the random source gains, "
                              "e.g. [0.7, 1.0] (the Wave-U-Net recipe), or None to turn Scale off")
        modules.append(Scale(float(scale[0]), float(scale[1]), scale_gen))
    return nn.Sequential(*modules)


def generators_of(module: nn.Module) -> dict[str, torch.Generator]:
    """The ``torch.Generator`` of every augmentation inside ``module``, keyed by submodule name (what a
    checkpoint captures with ``training.rng.capture`` and puts back with ``training.rng.restore``)."""
    return {name: sub.generator for name, sub in module.named_modules() if isinstance(sub, _Augment)}
