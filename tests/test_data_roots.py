"""Which dataset a profile reads: dataset.root, then $MUSDB_ROOT, then the synthetic set, which only
the data step makes (resolving never generates)."""
import pytest

from demucs_study.data import roots
from demucs_study.data.musdb import detect_layout
from demucs_study.data.synth.generate import MANIFEST, dataset_dir
from demucs_study.errors import DatasetError, ParamsError

from fakedata import make_wav_dataset

SYNTH = {"seed": 1, "train": 1, "valid": 1, "test": 1, "unlabeled": 0, "duration": 3.0, "soundfont": None,
         "jobs": 1}


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMUCS_STUDY_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("MUSDB_ROOT", raising=False)
    return tmp_path


def test_dataset_root_wins_then_musdb_root(env, monkeypatch):
    root = env / "hq"
    make_wav_dataset(root, train=("A - a",), valid=(), test=("B - b",), seconds=0.05)
    assert roots.resolve_root({"root": str(root), "synth": SYNTH}, "unit") == root
    assert roots.uses_musdb({"root": str(root)})
    with pytest.raises(DatasetError, match=r"dataset folder .*missing does not exist"):
        roots.resolve_root({"root": str(env / "missing"), "synth": SYNTH}, "unit")
    monkeypatch.setenv("MUSDB_ROOT", str(root))
    assert roots.resolve_root({"root": None, "synth": SYNTH}, "unit") == root
    assert roots.prepare_root({"root": None, "synth": SYNTH}, "unit") == root  # nothing generated
    assert not (env / "data").exists()


def test_resolving_never_generates_and_names_the_command(env):
    dataset = {"root": None, "synth": SYNTH}
    assert not roots.uses_musdb(dataset)
    with pytest.raises(DatasetError, match=r"the synthetic dataset of profile 'unit' is not ready: .*no manifest\.json"
                                           r".*make it with make data PROFILE=unit \(or python -m demucs_study "
                                           r"generate-data --params params/unit/data\.yaml\)"):
        roots.resolve_root(dataset, "unit")
    assert not (env / "data").exists()


def test_prepare_root_makes_the_synthetic_set_once_and_then_resolves(env):
    dataset = {"root": None, "synth": SYNTH}
    out = roots.prepare_root(dataset, "unit")
    assert out == dataset_dir("unit", SYNTH) and out.parent == env / "data" and out.name.startswith("synth-unit-")
    assert detect_layout(out) == "wav"
    stamp = (out / MANIFEST).stat().st_mtime_ns
    assert roots.resolve_root(dataset, "unit") == out
    assert roots.prepare_root(dataset, "unit") == out and (out / MANIFEST).stat().st_mtime_ns == stamp
    changed = {"root": None, "synth": {**SYNTH, "seed": 2}}
    with pytest.raises(DatasetError, match=r"was made with other parameters"):
        roots.resolve_root(changed, "unit")


def test_missing_synth_section_is_a_params_error(env):
    with pytest.raises(ParamsError, match="dataset.synth is missing"):
        roots.resolve_root({"root": None}, "unit")


def test_a_profile_can_read_another_profiles_synthetic_set(env):
    """``dataset.synth_folder``: the extended profile reads the quick profile's set instead of rendering
    the same songs again."""
    mine = roots.prepare_root({"root": None, "synth": SYNTH}, "quick")
    shared = {"root": None, "synth": SYNTH, "synth_folder": "quick"}
    assert roots.resolve_root(shared, "extended") == mine
    assert sorted(p.name for p in (env / "data").iterdir()) == [mine.name]
