"""Every random generator a training run draws from, captured as plain data and restored.

A checkpoint is read with ``torch.load(weights_only=True)``, which accepts tensors, numbers,
strings, lists, tuples and dicts only. So each state is stored as tensors and Python scalars:

* ``torch``: ``torch.get_rng_state()`` (a uint8 tensor); ``cuda``: one tensor per GPU (if any);
* ``numpy``: the legacy global ``np.random`` MT19937 state (624 keys as an int64 tensor, position,
  cached Gaussian);
* ``python``: ``random.getstate()`` (625 ints as an int64 tensor, cached Gaussian);
* ``generators``: named ``torch.Generator`` states (the augmentations' own generators).
"""
from __future__ import annotations

import random

import numpy as np
import torch


def capture(generators: dict[str, torch.Generator] | None = None) -> dict:
    """The state of the global torch (CPU and CUDA), NumPy and Python generators, plus ``generators``."""
    np_kind, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    py_version, py_state, py_gauss = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "cuda": [s for s in torch.cuda.get_rng_state_all()] if torch.cuda.is_available() else [],
        "numpy": {"kind": str(np_kind), "keys": torch.from_numpy(np.asarray(np_keys, dtype=np.int64)),
                  "pos": int(np_pos), "has_gauss": int(np_has_gauss), "cached_gaussian": float(np_gauss)},
        "python": {"version": int(py_version), "state": torch.tensor(py_state, dtype=torch.int64),
                   "gauss_next": None if py_gauss is None else float(py_gauss)},
        "generators": {name: g.get_state() for name, g in (generators or {}).items()},
    }
    return state


def restore(state: dict, generators: dict[str, torch.Generator] | None = None) -> None:
    """Put back the states captured by :func:`capture` (``generators`` must have the same names)."""
    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    npst = state["numpy"]
    np.random.set_state((npst["kind"], npst["keys"].numpy().astype(np.uint32), npst["pos"], npst["has_gauss"],
                         npst["cached_gaussian"]))
    pyst = state["python"]
    random.setstate((pyst["version"], tuple(int(v) for v in pyst["state"].tolist()), pyst["gauss_next"]))
    generators = generators or {}
    saved = state.get("generators", {})
    if set(saved) != set(generators):
        raise ValueError(f"checkpoint has generator states for {sorted(saved)} but the run has {sorted(generators)}")
    for name, g in generators.items():
        g.set_state(saved[name])
