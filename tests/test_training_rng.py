"""Every random generator of a run captured as plain data and restored (training.rng)."""
import json
import random

import numpy as np
import pytest
import torch

from demucs_study.training import rng


def draws(generators):
    """The next numbers of every stream: torch, numpy (uniform and Gaussian), Python (uniform and
    Gaussian) and each named generator."""
    return (torch.rand(3), np.random.rand(3), np.random.standard_normal(3), random.random(), random.gauss(0, 1),
            {name: torch.rand(2, generator=g) for name, g in generators.items()})


def assert_same(a, b):
    assert torch.equal(a[0], b[0])
    assert np.array_equal(a[1], b[1]) and np.array_equal(a[2], b[2])
    assert a[3] == b[3] and a[4] == b[4]
    assert a[5].keys() == b[5].keys() and all(torch.equal(a[5][k], b[5][k]) for k in a[5])


# ---- moved from test_training_experiment.py

def test_rng_capture_restores_every_generator():
    g = torch.Generator().manual_seed(1)
    state = rng.capture({"g": g})
    json.dumps({"ok": True})
    first = (torch.rand(3), np.random.rand(3), random.random(), torch.rand(2, generator=g))
    rng.restore(state, {"g": g})
    second = (torch.rand(3), np.random.rand(3), random.random(), torch.rand(2, generator=g))
    assert torch.equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    assert first[2] == second[2] and torch.equal(first[3], second[3])
    with pytest.raises(ValueError, match=r"generator states for \['g'\] but the run has \[\]"):
        rng.restore(state, {})


# ---- round trips

def test_restore_continues_the_same_streams_including_cached_gaussians():
    """numpy and Python draw Gaussians in pairs and keep the second one: that cache is part of the state."""
    gens = {"0": torch.Generator().manual_seed(5), "shift": torch.Generator().manual_seed(6)}
    np.random.seed(3)
    random.seed(4)
    np.random.standard_normal(1)  # odd count: numpy now holds a cached Gaussian
    random.gauss(0, 1)            # Python too (gauss_next)
    state = rng.capture(gens)
    assert state["numpy"]["has_gauss"] == 1 and state["python"]["gauss_next"] is not None
    first = draws(gens)
    torch.manual_seed(99), np.random.seed(99), random.seed(99)  # another process state in between
    for g in gens.values():
        g.manual_seed(99)
    rng.restore(state, gens)
    assert_same(first, draws(gens))


def test_state_survives_a_weights_only_file(tmp_path):
    """What a checkpoint does: torch.save the captured state, load it with weights_only=True, restore."""
    gens = {"remix": torch.Generator().manual_seed(11)}
    state = rng.capture(gens)
    torch.save({"rng": [state]}, tmp_path / "state.th")
    first = draws(gens)
    loaded = torch.load(tmp_path / "state.th", weights_only=True)["rng"][0]
    rng.restore(loaded, gens)
    assert_same(first, draws(gens))


def test_state_is_plain_data():
    state = rng.capture({"g": torch.Generator()})
    assert set(state) == {"torch", "cuda", "numpy", "python", "generators"}
    assert state["torch"].dtype == torch.uint8
    assert state["numpy"]["kind"] == "MT19937" and state["numpy"]["keys"].dtype == torch.int64
    assert state["numpy"]["keys"].shape == (624,) and isinstance(state["numpy"]["pos"], int)
    assert state["python"]["state"].shape == (625,) and isinstance(state["python"]["version"], int)
    assert state["cuda"] == [] or torch.cuda.is_available()
    assert state["generators"]["g"].dtype == torch.uint8


def test_capture_copies_the_state_rather_than_aliasing_it():
    g = torch.Generator().manual_seed(2)
    state = rng.capture({"g": g})
    saved = state["generators"]["g"].clone()
    torch.rand(10, generator=g)
    assert torch.equal(state["generators"]["g"], saved)


def test_no_named_generators():
    state = rng.capture()
    assert state["generators"] == {}
    first = draws({})
    rng.restore(state)
    assert_same(first, draws({}))


def test_named_generators_must_match():
    state = rng.capture({"a": torch.Generator(), "b": torch.Generator()})
    with pytest.raises(ValueError, match=r"^checkpoint has generator states for \['a', 'b'\] but the run has "
                                         r"\['a', 'c'\]$"):
        rng.restore(state, {"a": torch.Generator(), "c": torch.Generator()})
