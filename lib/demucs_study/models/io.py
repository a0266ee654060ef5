"""Save and load a model as plain data: its registry name, constructor arguments and weights.

A model file is a ``torch.save`` of ``{"class": name, "kwargs": {...}, "state": state_dict,
"extra": {...}}`` holding only tensors and plain Python values, so it loads with
``torch.load(weights_only=True)``: loading never unpickles code. ``extra`` always holds
``samplerate`` and ``sources`` (the list of names) so that ``separate`` knows them without
building the model; callers may add more (epoch, metrics, parameters).
"""
from __future__ import annotations

import os
import pickle
import re
from pathlib import Path
from typing import Any

from ..errors import StudyError
from ..utils import atomic_path

FORMAT_VERSION = 1
_KEYS = ("class", "kwargs", "state", "extra")


class ModelError(StudyError, ValueError):
    """A model file that is missing, unreadable, truncated, or names a model we do not know."""


#: Networks other than the separators that are saved and loaded the same way: name -> "module:Class",
#: imported when first needed (the remix package itself builds on the models package).
OTHER_NETWORKS = {"silence_classifier": "demucs_study.remix.classifier:SilenceClassifier"}


def registry() -> dict:
    """Every class a model file may name: :data:`demucs_study.models.MODELS` and :data:`OTHER_NETWORKS`."""
    import importlib

    from . import MODELS

    out = dict(MODELS)
    for name, target in OTHER_NETWORKS.items():
        module, cls = target.split(":")
        out[name] = getattr(importlib.import_module(module), cls)
    return out




def _check_plain(value: Any, where: str) -> None:
    if value is None or isinstance(value, (bool, int, float, str)):
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_plain(item, where)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: keys must be str, got {key!r}")
            _check_plain(item, where)
        return
    raise TypeError(f"{where}: {type(value).__name__} value {value!r} is not plain data "
                    "(use None, bool, int, float, str, list, dict)")


def save_model(model, path: str | os.PathLike, extra: dict | None = None) -> Path:
    """Write ``model`` to ``path`` atomically (a crash leaves any previous file intact).

    ``model`` must be an instance of a class of :func:`registry` built through
    its ``capture_init``-decorated constructor. ``extra`` is plain data stored alongside
    (``samplerate`` and ``sources`` are added from the model unless given). Returns ``path``.
    """
    import torch

    names = [name for name, cls in registry().items() if type(model) is cls]
    if not names:
        raise TypeError(f"{type(model).__name__} is not registered in demucs_study.models.MODELS or "
                        "models.io.OTHER_NETWORKS")
    kwargs = getattr(model, "_init_args", None)
    if kwargs is None:
        raise TypeError(f"{type(model).__name__}.__init__ must be decorated with models.utils.capture_init")
    extra = {"samplerate": model.samplerate, "sources": list(model.sources), **(extra or {})}
    _check_plain(kwargs, "model kwargs")
    _check_plain(extra, "extra")
    state = {key: value.detach().cpu() for key, value in model.state_dict().items()}
    package = {"class": names[0], "kwargs": dict(kwargs), "state": state, "extra": extra,
               "format_version": FORMAT_VERSION}
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(package, tmp)
    return path


def load_package(path: str | os.PathLike) -> dict:
    """Read a file written by :func:`save_model` without building the model.

    Returns ``{"class", "kwargs", "state", "extra", "format_version"}``. Raises :class:`ModelError`
    naming ``path`` if the file is missing, truncated/corrupt, not a model file, or names an
    unregistered model.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist; train the model first or give the path "
                         "of a file written by demucs_study.models.save_model")
    try:
        package = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:  # torch raises RuntimeError, UnpicklingError, EOFError... for bad files
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
        if isinstance(exc, pickle.UnpicklingError) and found:
            raise ModelError(f"refusing to load model file {path}: it holds Python objects ({found.group(1)}) "
                             "beyond tensors and plain data, so it was not written by demucs_study.models."
                             "save_model and loading it could run code; give the path of a saved model") from None
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"cannot read model file {path}: it is truncated, corrupt or not a model file "
                         f"({type(exc).__name__}: {reason[:200]}); delete it and save or train the "
                         "model again") from None
    if not isinstance(package, dict) or any(key not in package for key in _KEYS):
        raise ModelError(f"{path} is not a model file written by demucs_study.models.save_model "
                         f"(expected the keys {list(_KEYS)}); give the path of a saved model")
    if package["class"] not in registry():
        raise ModelError(f"{path} holds a model of unknown class {package['class']!r}; this version "
                         f"knows {sorted(registry())}: use the version of demucs_study that saved it")
    return package


def load_model(path: str | os.PathLike):
    """Rebuild the model saved at ``path`` on the CPU, with its weights, in eval mode.

    Raises :class:`ModelError` naming ``path`` for any unusable file (see :func:`load_package`),
    including weights that do not match the stored constructor arguments.
    """
    package = load_package(path)
    cls = registry()[package["class"]]
    try:
        model = cls(**package["kwargs"])
        model.load_state_dict(package["state"])
    except (TypeError, ValueError, RuntimeError, KeyError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ModelError(f"model file {path} does not match the {package['class']!r} model of this "
                         f"version ({type(exc).__name__}: {reason[:300]}); re-train or re-save it") from None
    return model.eval()
