"""The separation models and their registry.

``MODELS`` maps the name used in ``params/<profile>/*.yaml`` (``model: demucs``, constructor
arguments under ``models.<name>``) to the class: ``demucs`` (:class:`Demucs`), ``waveunet``
(:class:`WaveUNet`, the Wave-U-Net baseline) and ``mmdense`` (:class:`MMDense`: MMDenseLSTM, or
MMDenseNet with ``lstm: false``; one name with a switch, since the two share every other argument).
Other networks saved and loaded the same way (the remix scheme's silence classifier) are registered in
:data:`demucs_study.models.io.OTHER_NETWORKS`. Every registered class decorates its
``__init__`` with :func:`demucs_study.models.utils.capture_init` (so that
:func:`~demucs_study.models.io.save_model` can store its constructor arguments) and has the
attributes ``sources`` (list of names) and ``samplerate``.
Importing this package imports torch.
"""
from __future__ import annotations

from .demucs import Demucs
from .mmdense import MMDense
from .waveunet import WaveUNet

#: Model name -> class: the separators an experiment can train (``model:`` in the parameters).
MODELS: dict = {"demucs": Demucs, "waveunet": WaveUNet, "mmdense": MMDense}


def build_model(name: str, **kwargs):
    """Build the registered model ``name`` with constructor arguments ``kwargs``.

    Unknown names and unknown arguments raise :class:`~demucs_study.errors.ParamsError`.
    """
    import inspect

    from ..errors import ParamsError

    if name not in MODELS:
        raise ParamsError(f"unknown model {name!r}; choose one of {sorted(MODELS)} (parameter `model`)")
    cls = MODELS[name]
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ParamsError(f"model {name!r} has no argument(s) {unknown}; its arguments are {accepted} "
                          f"(parameters `models.{name}.*`)")
    return cls(**kwargs)
