"""Which dataset an experiment reads, and the data step that makes it exist.

The dataset of a profile (``params/<profile>/data.yaml``, key ``dataset``) is, in this order:
``dataset.root`` if set (a relative path is taken from the working directory), else ``$MUSDB_ROOT``,
else the profile's synthetic set (``data.synth.generate.dataset_dir``, filed under
``dataset.synth_folder`` or the profile's name), rendered from ``dataset.synth``.

:func:`resolve_root` only looks: a synthetic set that is missing or was made with other parameters
is an error naming the command that makes it. :func:`prepare_root` is the data step of the study
(notebook ``01_data``, ``make data``, ``generate-data --params``): it renders the synthetic set
when that is the one in use and is not current.
"""
from __future__ import annotations

from pathlib import Path

from .. import paths
from ..errors import DatasetError, ParamsError
from .musdb import detect_layout


def _explicit_root(dataset: dict) -> Path | None:
    root = (dataset or {}).get("root")
    if root:
        return Path(str(root)).expanduser().absolute()
    return paths.musdb_root()


def uses_musdb(dataset: dict) -> bool:
    """True when the dataset is a MUSDB18 folder (``dataset.root`` or ``$MUSDB_ROOT``), False for the
    synthetic set."""
    return _explicit_root(dataset) is not None


def _synth_args(dataset: dict) -> dict:
    synth = (dataset or {}).get("synth")
    if not isinstance(synth, dict):
        raise ParamsError("dataset.synth is missing from the parameters: it sets the synthetic dataset "
                          "(seed, train, valid, test, unlabeled, duration); see params/<profile>/data.yaml")
    return {k: v for k, v in synth.items() if k != "jobs"}


def synth_label(dataset: dict, profile: str) -> str:
    """The name the profile's synthetic set is filed under: ``dataset.synth_folder`` when set (a profile
    that reads another profile's set, e.g. ``extended`` reads ``quick``'s), else the profile."""
    return str((dataset or {}).get("synth_folder") or profile)


def data_command(profile: str) -> str:
    """The command that makes a profile's dataset (quoted in error messages)."""
    return (f"make data PROFILE={profile} (or python -m demucs_study generate-data "
            f"--params params/{profile}/data.yaml)")


def resolve_root(dataset: dict, profile: str) -> Path:
    """The dataset root of a profile, checked, without creating anything.

    Raises :class:`DatasetError` for a MUSDB folder that is not a dataset, or a synthetic set that
    is missing, incomplete or made with other parameters (the message names the command to run).
    """
    root = _explicit_root(dataset)
    if root is not None:
        detect_layout(root)
        return root
    from .synth.generate import dataset_dir, dataset_status

    args = _synth_args(dataset)
    out = dataset_dir(synth_label(dataset, profile), args)
    manifest, problem = dataset_status(out, **args)
    if manifest is None:
        raise DatasetError(f"the synthetic dataset of profile {profile!r} is not ready: {problem}; make it with "
                           f"{data_command(profile)}")
    return out


def prepare_root(dataset: dict, profile: str, jobs: int | None = None, progress: bool = False) -> Path:
    """The data step: render the profile's synthetic set if it is the one in use and is not current
    (``jobs`` processes, default ``dataset.synth.jobs``), then :func:`resolve_root`."""
    if not uses_musdb(dataset):
        from .synth.generate import dataset_dir, ensure_dataset

        args = _synth_args(dataset)
        jobs = int(jobs or (dataset.get("synth") or {}).get("jobs") or 1)
        ensure_dataset(dataset_dir(synth_label(dataset, profile), args), jobs=jobs, progress=progress, **args)
    return resolve_root(dataset, profile)
