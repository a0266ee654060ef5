"""The weak loss of remixed examples, and the loss of a batch mixing supervised and remixed items.

A remixed example is ``mixture = u + s_j`` where only ``s_j`` is known stem by stem; the model's
output ``out`` ``(B, S, C, T')`` is supervised on source j by ``s_j`` and on the others only
through their sum, which must be ``u`` (what "weakly supervised" means here)::

    weak = D(out_j, s_j) + w * D(sum_{k != j} out_k, u)          reduction "sum" (default, the issue's)
    weak = (D(out_j, s_j) + w * D(sum_{k != j} out_k, u)) / (1 + w)   reduction "mean"

``D`` is the training loss (``l1``, the paper's, or ``mse``; ``train.loss``), the mean over channels
and time; ``w`` is ``remix.loss.unlabeled_weight`` (default 1; 0 supervises s_j alone). The
"sum" reduction counts two error terms per item where the supervised loss averages four, so at
the same per-source error a remixed item weighs about twice a supervised one; "mean" puts them on
one scale. Alignment: ``u`` and ``s_j`` are aligned with the mixture and centre-trimmed to the
output's length, as ``Separator.target`` does for stems; the weak loss therefore needs a model
whose training output is waveforms (the default ``target``); MMDense-like models are refused.

:func:`batch_loss` is what the training loop calls per step (see the package docstring).
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from ..errors import ParamsError
from ..models.utils import center_trim

_ELEMENTWISE: dict[str, Callable] = {"l1": F.l1_loss, "mse": F.mse_loss}
REDUCTIONS = ("sum", "mean")


def _distance(name) -> Callable:
    """The distance of ``train.loss``: a name, or one of its functions (``training.loop.LOSSES``)."""
    if callable(name) and name in _ELEMENTWISE.values():
        return name
    if name not in _ELEMENTWISE:
        raise ParamsError(f"unknown loss {name!r} for the weak loss; use one of {sorted(_ELEMENTWISE)} (train.loss)")
    return _ELEMENTWISE[name]


def weak_loss(output: torch.Tensor, stem: torch.Tensor, rest: torch.Tensor, source: torch.Tensor, loss: str = "l1",
              unlabeled_weight: float = 1.0, reduction: str = "sum") -> torch.Tensor:
    """Mean over the batch of the weak loss (module docstring).

    ``output`` ``(B, S, C, T')``; ``stem`` (s_j) and ``rest`` (u) ``(B, C, T)`` with ``T >= T'``
    (centre-trimmed here); ``source`` ``(B,)`` the index j of each item's stem.
    """
    if reduction not in REDUCTIONS:
        raise ParamsError(f"remix.loss.reduction = {reduction!r}; use one of {list(REDUCTIONS)}")
    if unlabeled_weight < 0:
        raise ParamsError(f"remix.loss.unlabeled_weight = {unlabeled_weight} must be >= 0")
    if output.dim() != 4 or stem.dim() != 3 or rest.shape != stem.shape or source.shape != (output.shape[0],):
        raise ValueError(f"weak_loss expects output (B, S, C, T'), stem and rest (B, C, T), source (B,); got "
                         f"{tuple(output.shape)}, {tuple(stem.shape)}, {tuple(rest.shape)}, {tuple(source.shape)}")
    distance = _distance(loss)
    stem, rest = center_trim(stem, output), center_trim(rest, output)
    batch, sources = output.shape[:2]
    one_hot = F.one_hot(source.to(output.device).long(), sources).to(output.dtype)[..., None, None]  # (B, S, 1, 1)
    out_j = (output * one_hot).sum(dim=1)
    others = (output * (1 - one_hot)).sum(dim=1)
    per_item = (distance(out_j, stem, reduction="none").mean(dim=(1, 2))
                + unlabeled_weight * distance(others, rest, reduction="none").mean(dim=(1, 2)))
    if reduction == "mean":
        per_item = per_item / (1.0 + unlabeled_weight)
    return per_item.mean()


def _check_waveform_target(module) -> None:
    from ..models.base import Separator

    target = getattr(type(module), "target", None)
    if target is not None and isinstance(module, Separator) and target is not Separator.target:
        raise ParamsError(f"remix: the weak loss compares waveforms, but {type(module).__name__} trains on another "
                          "representation (it overrides target()); use a waveform model (demucs) for remix "
                          "experiments")


def batch_loss(model, stems: torch.Tensor | None, remixed=None, loss="l1", weight: float = 1.0,
               unlabeled_weight: float = 1.0, reduction: str = "sum", parts: dict | None = None) -> torch.Tensor:
    """The loss of one training step with supervised and remixed items.

    ``model``: the separator (or its DistributedDataParallel wrapper). ``stems``: the supervised part,
    ``(B_s, S, C, T)`` already augmented and centre-cropped to the input length (what
    ``training.loop.train_step`` feeds the model), or None. ``remixed``: a
    :class:`~demucs_study.remix.dataset.RemixBatch` ``(B_r, C, T_r)`` on the same device, or None;
    ``T_r`` must be a valid input length of the model. ``loss``: ``train.loss`` (its name, or its
    function ``F.l1_loss`` / ``F.mse_loss`` as ``training.loop.loss_function`` gives); ``weight``
    (``remix.weight``) scales each remixed item's loss against a supervised item's.

    Returns ``(B_s * supervised + weight * B_r * weak) / (B_s + B_r)`` (a scalar with its graph).
    With no remixed items it is exactly the supervised loss of ``train_step`` (same operations).
    When ``T_r == T`` both parts go through one forward pass (their mixtures concatenated), else
    two. ``parts``, if given, receives the floats ``supervised``, ``weak`` and their item counts.
    """
    module = getattr(model, "module", model)
    distance = _distance(loss)
    n_s = 0 if stems is None else int(stems.shape[0])
    n_r = 0 if remixed is None else int(remixed.rest.shape[0])
    if n_s + n_r == 0:
        raise ValueError("batch_loss: the batch has neither supervised nor remixed items")
    if n_r:
        _check_waveform_target(module)
    out_s = out_r = None
    if n_s and n_r and stems.shape[-1] == remixed.rest.shape[-1]:
        out = model(torch.cat([stems.sum(dim=1), remixed.rest + remixed.stem]))
        out_s, out_r = out[:n_s], out[n_s:]
    else:
        if n_s:
            out_s = model(stems.sum(dim=1))
        if n_r:
            out_r = model(remixed.rest + remixed.stem)
    supervised = weak = None
    if n_s:
        target = module.target(stems, out_s) if hasattr(module, "target") else center_trim(stems, out_s)
        supervised = distance(out_s, target)
    if n_r:
        weak = weak_loss(out_r, remixed.stem, remixed.rest, remixed.source, loss, unlabeled_weight, reduction)
    if parts is not None:
        parts.update({"supervised": None if supervised is None else float(supervised.detach()),
                      "weak": None if weak is None else float(weak.detach()), "supervised_items": n_s,
                      "remixed_items": n_r})
    if not n_r:
        return supervised
    if not n_s:
        return weight * weak
    return (n_s * supervised + weight * n_r * weak) / (n_s + n_r)
