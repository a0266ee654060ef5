"""Helpers shared by the models: centre trimming and recording constructor arguments."""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable


def center_trim(tensor, reference):
    """Trim the last (time) dimension of ``tensor`` equally on both sides to a given length.

    ``tensor``: ``(..., T)``; ``reference``: a tensor ``(..., T_ref)`` or an int ``T_ref`` with
    ``T_ref <= T``. Returns ``(..., T_ref)``; when ``T - T_ref`` is odd the extra sample is cut at the
    end. A view, not a copy.
    """
    length = reference if isinstance(reference, int) else reference.shape[-1]
    delta = tensor.shape[-1] - length
    if delta < 0:
        raise ValueError(f"center_trim: cannot trim {tensor.shape[-1]} samples to a longer length {length}")
    start = delta // 2
    return tensor[..., start:start + length]


def _plain(value: Any) -> Any:
    """Tuples become lists so that the recorded arguments are plain JSON-like data."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def capture_init(init: Callable) -> Callable:
    """Decorate a model's ``__init__`` to record its arguments in ``self._init_args``.

    Every argument of the signature is recorded, defaults included, so that
    ``type(model)(**model._init_args)`` rebuilds the same architecture (what
    :func:`demucs_study.models.io.save_model` stores). Tuples are stored as lists.
    """
    signature = inspect.signature(init)

    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        init(self, *args, **kwargs)
        recorded = {name: _plain(value) for name, value in bound.arguments.items() if name != "self"}
        object.__setattr__(self, "_init_args", recorded)

    return wrapper
