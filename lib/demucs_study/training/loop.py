"""One training epoch, and the validation loss on whole tracks.

Shapes: training windows are stems ``(B, S, C, T)`` (S = 4 sources, C = 2 channels, normalised by
the track's mixture statistics). After the augmentations (``(B, S, C, T - shift)``) they are
centre-cropped to the model's input length L (:func:`.batches.input_length`); the mixture is
re-made as their sum ``(B, C, L)`` (docs/paper.md, section "Training"), the model returns ``(B, S, C, L')`` and
the targets are the stems centre-trimmed to ``L'``.

Remix experiments (``remix.rho`` > 0, :mod:`demucs_study.remix`): each step also gets a
:class:`~demucs_study.remix.dataset.RemixBatch` of remixed examples; the supervised batch is
augmented whole, then its first ``keep`` items are kept (:mod:`demucs_study.remix.batches`), and
the loss is :func:`demucs_study.remix.loss.batch_loss` of both parts. Every step computes its loss
with ``batch_loss``; without remixed items it is the supervised loss, bit for bit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import torch
import torch.nn.functional as F

from ..errors import ParamsError
from ..models.utils import center_trim

LOSSES: dict[str, Callable] = {"l1": F.l1_loss, "mse": F.mse_loss}


def loss_function(name: str) -> Callable:
    """``l1`` (the paper's) or ``mse``: ``(estimate, target) -> mean loss``."""
    if name not in LOSSES:
        raise ParamsError(f"unknown train.loss={name!r}; use one of {sorted(LOSSES)}")
    return LOSSES[name]


@dataclass
class RemixSteps:
    """The remixed part of one epoch's steps, for this process (:mod:`demucs_study.remix.batches`).

    ``dataset``: a :class:`~demucs_study.remix.dataset.RemixDataset` (epoch already set);
    ``batches``: its item indices per step; ``keep``: supervised items kept per step out of the
    augmented batch; ``weight``, ``unlabeled_weight``, ``reduction``: ``remix.weight`` and
    ``remix.loss.*`` (see :func:`demucs_study.remix.loss.batch_loss`).
    """
    dataset: object
    batches: list
    keep: int
    weight: float = 1.0
    unlabeled_weight: float = 1.0
    reduction: str = "sum"


def train_step(model, stems: torch.Tensor, augment, optimizer, loss_fn, length: int, remixed=None,
               remix: RemixSteps | None = None, parts: dict | None = None) -> float:
    """One optimisation step on a batch of stems ``(B, S, C, T)`` and, in a remix run, a
    :class:`~demucs_study.remix.dataset.RemixBatch` ``remixed`` (on the model's device) with the
    options of ``remix``; returns the loss. ``parts`` receives ``batch_loss``'s parts."""
    from ..remix.loss import batch_loss

    stems = augment(stems)
    stems = center_trim(stems, length)
    options = {}
    if remix is not None:
        if remix.keep < stems.shape[0]:
            stems = stems[:remix.keep]
        options = {"weight": remix.weight, "unlabeled_weight": remix.unlabeled_weight, "reduction": remix.reduction}
    loss = batch_loss(model, stems if stems.shape[0] else None, remixed, loss=loss_fn, parts=parts, **options)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def train_epoch(model, dataset, batches: list[list[int]], augment, optimizer, loss_fn, length: int, device: str,
                workers: int = 0, progress: bool = False, desc: str = "train", remix: RemixSteps | None = None,
                parts: dict | None = None) -> tuple[float, int]:
    """Run the given (local) batches, with the remixed items of ``remix`` in a remix run; returns (sum
    of batch losses, number of batches). ``parts`` (remix runs) receives the sums and step counts of
    the supervised and weak losses: ``{"supervised", "supervised_steps", "weak", "weak_steps"}``."""
    from torch.utils.data import DataLoader
    from tqdm import tqdm

    model.train()
    augment.train()
    loader = DataLoader(dataset, batch_sampler=batches, num_workers=workers)
    remixed_batches = [None] * len(batches)
    if remix is not None:
        from ..remix.dataset import collate

        if len(remix.batches) != len(batches):
            raise ValueError(f"{len(remix.batches)} remix batches for {len(batches)} supervised ones")
        remixed_batches = DataLoader(remix.dataset, batch_sampler=remix.batches, num_workers=workers,
                                     collate_fn=collate)
    total, count = 0.0, 0
    with tqdm(zip(loader, remixed_batches), total=len(batches), desc=desc, disable=not progress, leave=False,
              dynamic_ncols=True) as bar:
        for stems, remixed in bar:
            step = {} if parts is not None else None
            total += train_step(model, stems.to(device), augment, optimizer, loss_fn, length,
                                None if remixed is None else remixed.to(device), remix, step)
            count += 1
            if step:
                for key in ("supervised", "weak"):
                    if step.get(key) is not None:
                        parts[key] = parts.get(key, 0.0) + step[key]
                        parts[f"{key}_steps"] = parts.get(f"{key}_steps", 0) + 1
            bar.set_postfix(loss=f"{total / count:.4f}")
    return total, count


def whole_track(model, mix: torch.Tensor) -> torch.Tensor:
    """Separate one whole (normalised) mixture ``(C, T)`` -> ``(S, C, T)`` in a single pass of
    ``model.separate`` (``models.base.Separator``: waveforms at the mixture's rate; a plain module is called).

    The mixture is zero-padded on both sides to ``model.valid_length(T)``; the output (centred on the
    padded input, see ``Demucs.forward``) is cut back to the samples aligned with the original T.
    """
    length = mix.shape[-1]
    valid = model.valid_length(length) if hasattr(model, "valid_length") else length
    left = (valid - length) // 2
    padded = F.pad(mix, (left, valid - length - left))
    out = getattr(model, "separate", model)(padded[None])[0]
    # The output starts at input sample (valid - T') // 2 (centre alignment).
    offset = left - (valid - out.shape[-1]) // 2
    if offset < 0 or offset + length > out.shape[-1]:
        raise RuntimeError(f"model output of {out.shape[-1]} samples does not cover the {length} input samples")
    return out[..., offset:offset + length]


def validate(model, tracks: Iterable, loss_fn, device: str, separate: Callable | None = None,
             baseline: bool = True) -> dict:
    """Validation loss on whole tracks, in the normalised domain of training.

    ``tracks`` yields objects with ``mixture (C, T)``, ``stems (S, C, T)`` (raw, numpy or torch),
    ``mean`` and ``std`` (of the track's mono mixture), e.g. ``data.datasets.iter_tracks``. They are
    normalised as the training windows (``data.datasets.normalize``: mixture ``(x - mean) / std``,
    stems ``(s - mean / S) / std``, so that they still sum to the normalised mixture), and the
    loss is the training loss between the normalised estimates and stems, averaged over the track.

    ``separate(model, mixture (C, T) raw) -> raw estimates (S, C, T)`` (e.g. ``separate.apply_model``,
    which normalises with the same statistics and de-normalises its output); the estimates are then
    normalised like the stems. Default: :func:`whole_track` on the normalised mixture.
    Returns sums over tracks: ``{"loss": sum of per-track losses, "baseline": same for the estimate
    mixture / S for every stem, "tracks": count}``.
    """
    from ..data.datasets import normalize

    model.eval()
    total = base = 0.0
    count = 0
    with torch.no_grad():
        for track in tracks:
            raw_mix = torch.as_tensor(track.mixture, dtype=torch.float32)
            stems = torch.as_tensor(track.stems, dtype=torch.float32)
            sources = stems.shape[0]
            mean, std = float(track.mean), float(track.std)
            mix = normalize(raw_mix, mean, std)
            stems = normalize(stems, mean, std, stems=True)
            if separate is None:
                estimate = whole_track(model, mix.to(device)).cpu()
            else:
                estimate = normalize(torch.as_tensor(separate(model, raw_mix)).cpu(), mean, std, stems=True)
            total += float(loss_fn(estimate, stems))
            if baseline:
                base += float(loss_fn((mix / sources).expand_as(stems), stems))
            count += 1
    return {"loss": total, "baseline": base, "tracks": count}
