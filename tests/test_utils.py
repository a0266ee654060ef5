"""Shared helpers (utils): atomic writes, JSON, float32 .npy, the mono statistics, seeding."""
import json
import os
import random
import stat

import numpy as np
import pytest
import torch

from demucs_study import utils
from demucs_study.utils import (STATS_BLOCK, atomic_path, mono_stats, read_json, save_npy, seed_everything,
                                write_json)


# ---- atomic_path

def test_atomic_path_replaces_the_file_on_success(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target
        assert tmp.name.startswith(".out.") and tmp.name.endswith(".tmp.txt")  # keeps the suffix
        tmp.write_text("new")
        assert target.read_text() == "old"  # nothing visible until the body is done
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_atomic_path_leaves_the_old_file_and_no_temporary_when_the_body_raises(tmp_path, error):
    target = tmp_path / "results.json"
    target.write_text('{"complete": true}')
    with pytest.raises(type(error)):
        with atomic_path(target) as tmp:
            tmp.write_text('{"compl')
            raise error
    assert target.read_text() == '{"complete": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_atomic_path_creates_the_folder_and_tolerates_a_body_that_writes_nothing(tmp_path):
    target = tmp_path / "a" / "b" / "x.bin"
    with atomic_path(target) as tmp:
        assert tmp.parent.is_dir()
    assert target.is_file() and target.read_bytes() == b""  # the (empty) temporary was moved in place


def test_atomic_path_gives_the_usual_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "f.txt") as tmp:
            tmp.write_text("x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "f.txt").stat().st_mode) == 0o644  # not mkstemp's private 0o600


# ---- JSON

def test_write_read_json_round_trip(tmp_path):
    obj = {"name": "demucs glu=False", "values": [1, 2.5, None, True], "nested": {"é": "ü"}, "inf": float("inf")}
    write_json(tmp_path / "sub" / "x.json", obj)
    assert read_json(tmp_path / "sub" / "x.json") == obj
    assert read_json(str(tmp_path / "sub" / "x.json")) == obj
    text = (tmp_path / "sub" / "x.json").read_text()
    assert text.endswith("}\n") and text.startswith('{\n "name"')  # indent 1, a final newline
    assert list(json.loads(text)) == ["name", "values", "nested", "inf"]  # keys keep their order


def test_write_json_indent_and_atomicity(tmp_path):
    path = tmp_path / "x.json"
    write_json(path, {"a": 1}, indent=2)
    assert path.read_text() == '{\n  "a": 1\n}\n'
    with pytest.raises(TypeError):
        write_json(path, {"a": object()})  # not serialisable: the old file stays
    assert read_json(path) == {"a": 1} and [p.name for p in tmp_path.iterdir()] == ["x.json"]


# ---- save_npy

@pytest.mark.parametrize("source", ["float64", "transposed", "torch"])
def test_save_npy_writes_contiguous_float32(tmp_path, source):
    x = np.arange(12, dtype=np.float64).reshape(3, 4) / 7
    array = {"float64": x, "transposed": x.astype(np.float32).T.T[:, ::-1], "torch": torch.from_numpy(x)}[source]
    save_npy(tmp_path / "a.npy", array)
    back = np.load(tmp_path / "a.npy")
    assert back.dtype == np.float32 and back.flags.c_contiguous
    np.testing.assert_array_equal(back, np.asarray(array, dtype=np.float32))
    assert [p.name for p in tmp_path.iterdir()] == ["a.npy"]  # np.save did not add a second .npy suffix


# ---- mono_stats

def reference_stats(x):
    mono = np.asarray(x, dtype=np.float64).mean(axis=0)
    return mono.mean(), mono.std()


def signal(length, seed=0, dc=0.3):
    g = np.random.default_rng(seed)
    return (dc + 0.2 * g.standard_normal((2, length))).astype(np.float32)


@pytest.mark.parametrize("length", [1, 1000, STATS_BLOCK, STATS_BLOCK + 1, 2 * STATS_BLOCK + 12345])
def test_mono_stats_equal_numpy_on_the_mono_mix(length):
    x = signal(length)
    mean, std = mono_stats(x)
    ref_mean, ref_std = reference_stats(x)
    assert mean == pytest.approx(ref_mean, rel=1e-12)
    assert std == pytest.approx(ref_std, rel=1e-12, abs=0 if length > 1 else 1e-15)


def test_mono_stats_blocks_do_not_change_the_result(monkeypatch):
    x = signal(1001, seed=2, dc=-0.7)
    expected = mono_stats(x)
    monkeypatch.setattr(utils, "STATS_BLOCK", 7)  # 143 blocks
    mean, std = mono_stats(x)
    assert mean == pytest.approx(expected[0], rel=1e-12) and std == pytest.approx(expected[1], rel=1e-12)
    assert (mean, std) == pytest.approx(reference_stats(x), rel=1e-12)


def test_mono_stats_of_a_torch_tensor_and_of_a_memory_map(tmp_path):
    x = signal(STATS_BLOCK + 77, seed=3)
    np.save(tmp_path / "x.npy", x)
    ref = reference_stats(x)
    assert mono_stats(torch.from_numpy(x)) == pytest.approx(ref, rel=1e-12)
    assert mono_stats(np.load(tmp_path / "x.npy", mmap_mode="r")) == pytest.approx(ref, rel=1e-12)


def test_mono_stats_uses_the_mono_mix_not_the_channels():
    """Opposite channels: each channel has a large std, their mean is silence."""
    x = np.stack([np.ones(100), -np.ones(100)]) + 0.5
    assert mono_stats(x) == (0.5, 0.0)
    assert mono_stats(np.array([[1.0, 3.0]])) == (2.0, 1.0)  # population std (ddof=0)


# ---- seed_everything

def test_seed_everything_reproduces_python_numpy_and_torch_draws():
    def draw():
        return random.random(), np.random.rand(2).tolist(), torch.rand(2).tolist()

    seed_everything(1909)
    first = draw()
    seed_everything(1909)
    assert draw() == first
    seed_everything(1911)
    assert draw() != first


def test_seed_everything_accepts_seeds_beyond_32_bits():
    seed_everything(2**40 + 5)
    a = np.random.rand()
    seed_everything(5)  # numpy's seed is taken modulo 2**32
    assert np.random.rand() == a
