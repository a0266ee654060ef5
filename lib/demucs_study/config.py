"""Parameters: one YAML per experiment, on top of its profile's ``defaults.yaml``.

``params/defaults.yaml`` holds every key, with the values of the released protocol (arXiv
1911.13254); ``params/<profile>/defaults.yaml`` holds only what a profile changes (sizes and budgets for
a CPU); ``params/<profile>/data.yaml`` defines the profile's dataset (the data step depends on it
alone). An experiment file in the profile's folder (``params/quick/demucs.yaml``) sets ``name`` and
only the keys it changes;
``--set key=value`` on the command line changes more. The experiment's name is its base name
followed by every leaf that differs from the profile defaults, e.g. ``demucs glu=False`` (as in
the original Demucs, where runs are named by their non-default flags). The name keys the run
folder ``runs/<profile>/<name>/`` and the results ``results/<profile>/evals/<name>/``.
"""
from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any, Iterable

import yaml

from .errors import ParamsError

DEFAULTS_FILE = "defaults.yaml"
DATA_FILE = "data.yaml"
#: Keys that never enter an experiment name (they do not change what is learnt).
NAME_EXCLUDED = ("name", "profile", "dataset.root", "dataset.synth.jobs", "dataset.synth_folder", "train.workers",
                 "eval.jobs", "eval.backend", "eval.museval_check", "report.extra_data", "runs_from")
#: Parameters that are not the experiment's own (they only feed its defaults): never in a name or hash.
NOT_OWN = ("recipes",)


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        raise ParamsError(f"parameter file {path} does not exist; pick one of the files in params/<profile>/")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ParamsError(f"{path} must hold a mapping of keys to values, not {type(data).__name__}")
    return data


def flatten(d: dict, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    out: dict[str, Any] = {}
    for key, value in d.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, full + "."))
        else:
            out[full] = value
    return out


def _merge(base: dict, update: dict, where: str, strict: bool) -> dict:
    out = copy.deepcopy(base)
    for key, value in update.items():
        if strict and key not in out:
            known = ", ".join(sorted(out)) or "none"
            raise ParamsError(f"unknown parameter {where}{key!s} (known keys here: {known})")
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value, f"{where}{key}.", strict)
        else:
            out[key] = copy.deepcopy(value)
    return out


def parse_override(text: str) -> dict:
    """``"model.channels=16"`` -> ``{"model": {"channels": 16}}`` (the value is parsed as YAML)."""
    if "=" not in text:
        raise ParamsError(f"override {text!r} must look like key.sub=value, e.g. model.channels=16")
    key, raw = text.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw != "" else None
    except yaml.YAMLError:
        value = raw
    if isinstance(value, str):  # YAML 1.1 reads "5e-4" as a string
        try:
            value = float(value)
        except ValueError:
            pass
    out: dict = {}
    cursor = out
    parts = key.strip().split(".")
    for part in parts[:-1]:
        cursor = cursor.setdefault(part, {})
    cursor[parts[-1]] = value
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) >= 1 else repr(value)
    return str(value)


def experiment_name(params: dict, defaults: dict) -> str:
    """Base name plus the non-default leaves, sorted: ``demucs channels=32 glu=False``.

    A leaf is written by its last component when that is unambiguous, else by its dotted path.
    """
    not_own = tuple(f"{n}." for n in NOT_OWN)
    flat = {k: v for k, v in flatten(params).items() if not k.startswith(not_own)}
    base = flatten(defaults)
    name = str(params.get("name") or "experiment")
    changed = [k for k in sorted(flat) if k not in NAME_EXCLUDED and flat[k] != base.get(k)
               and not (k == "model" and name.startswith(str(flat[k])))]   # "waveunet" needs no "model=waveunet"
    leaf_count: dict[str, int] = {}
    for k in flat:
        leaf = k.rsplit(".", 1)[-1]
        leaf_count[leaf] = leaf_count.get(leaf, 0) + 1
    parts = [name]
    for k in changed:
        leaf = k.rsplit(".", 1)[-1]
        label = leaf if leaf_count[leaf] == 1 else k
        parts.append(f"{label}={_fmt(flat[k])}")
    return " ".join(parts)


def profile_defaults(folder: Path) -> dict:
    """The defaults of the profile in ``folder``: the shared ``params/defaults.yaml`` (every key,
    with the values of the released protocol) updated by ``<folder>/defaults.yaml`` (only what the
    profile changes; unknown keys are errors), plus ``dataset`` from ``<folder>/data.yaml`` and
    ``profile`` = the folder's name. Without a shared file, the profile file alone holds every key."""
    shared_path, own_path, data_path = folder.parent / DEFAULTS_FILE, folder / DEFAULTS_FILE, folder / DATA_FILE
    defaults = _read_yaml(shared_path) if shared_path.is_file() else {}
    if own_path.is_file():
        own = _read_yaml(own_path)
        recipes = own.pop("recipes", None) or {}   # checked when a recipe is applied (with_recipe)
        defaults = _merge(defaults, own, f"{own_path}: ", strict=bool(defaults))
        if recipes:
            defaults["recipes"] = _merge(defaults.get("recipes") or {}, recipes, f"{own_path}: recipes.", strict=False)
    if data_path.is_file():
        defaults["dataset"] = _read_yaml(data_path).get("dataset", {})
    defaults["profile"] = folder.name
    defaults.setdefault("name", "experiment")
    return defaults


def display_path(path: Path) -> str:
    """``path`` relative to the repository when it is inside it (what committed files record), else as given."""
    from .paths import repo_root

    resolved = Path(path).resolve()
    return str(resolved.relative_to(repo_root())) if resolved.is_relative_to(repo_root()) else str(path)


def load_params(path: str | Path, overrides: Iterable[str] = ()) -> dict:
    """Load an experiment's parameters: the profile's defaults (:func:`profile_defaults`), then the
    file, then ``overrides``.

    Returns the merged mapping with ``profile`` (the folder name), ``name`` (the base name),
    ``experiment`` (the full name from :func:`experiment_name`) and ``params_file`` (repo-relative).
    Unknown keys are errors. ``data.yaml`` itself loads alone (the dataset step does not depend on
    training parameters); so does the profile's ``defaults.yaml`` (an experiment that changes nothing).
    """
    path = Path(path)
    folder = path.parent
    changes = [parse_override(text) for text in overrides]
    if path.name == DATA_FILE:
        defaults = {"profile": folder.name, "name": "data", **_read_yaml(path)}
        own: dict = {}
    else:
        defaults = profile_defaults(folder)
        own = _read_yaml(path) if path.name != DEFAULTS_FILE else {}
    strict = path.name == DATA_FILE or any(f.is_file() for f in (folder.parent / DEFAULTS_FILE, folder / DEFAULTS_FILE))
    model = next((c["model"] for c in reversed([own, *changes]) if "model" in c), defaults.get("model"))
    defaults = with_recipe(defaults, model)
    params = _merge(defaults, own, "", strict)
    for change in changes:
        params = _merge(params, change, "", strict)
    params["name"] = params.get("name") or path.stem
    params["experiment"] = experiment_name(params, defaults)
    params["params_file"] = display_path(path)
    return params


def with_recipe(defaults: dict, model) -> dict:
    """``defaults`` with ``recipes.<model>`` applied (a model's own training recipe, e.g. Wave-U-Net's
    MSE loss, learning rate and batch size); unchanged when there is no recipe for it."""
    recipe = (defaults.get("recipes") or {}).get(model) or {}
    return _merge(defaults, recipe, f"recipes.{model}: ", strict=True) if recipe else defaults


def profile_experiments(profile: str, params_root: Path | None = None) -> list[dict]:
    """The parameters of every experiment of a profile: each ``params/<profile>/*.yaml`` but
    ``defaults.yaml`` and ``data.yaml``, sorted by file name (the Makefile's list)."""
    from .paths import params_dir

    folder = Path(params_root or params_dir()) / profile
    if not folder.is_dir():
        raise ParamsError(f"no parameter folder {folder}: profiles are the folders of params/")
    files = sorted(p for p in folder.glob("*.yaml") if p.name not in (DEFAULTS_FILE, DATA_FILE))
    return [load_params(p) for p in files]


#: Keys that tell the seeds of one experiment apart, or are bookkeeping: ignored when grouping by seed.
SEED_GROUP_IGNORED = ("seed", "experiment", "params_file")


def without_seed(experiment: str) -> str:
    """An experiment's name without its ``seed=`` leaf: ``"demucs glu=False seed=43"`` -> ``"demucs glu=False"``
    (the top-level ``seed`` is written ``seed=``; ``dataset.synth.seed`` keeps its dotted path)."""
    return " ".join(part for part in str(experiment).split(" ") if not part.startswith("seed="))


def seeds_label(base: str, n: int) -> str:
    """How a group of ``n`` seeds is shown: ``"demucs (3 seeds)"``; a single run keeps its own name."""
    return base if n == 1 else f"{base} ({n} seeds)"


def seed_groups(experiments: Iterable[dict]) -> dict[str, list[dict]]:
    """The experiments that differ only by ``seed``, grouped: ``{name without seed: [params, ...]}``, groups in
    the order of their first experiment, each group sorted by seed. A profile with one seed per experiment
    gives one group per experiment, named as the experiment. Two groups whose names would be the same (they
    differ only in keys that are not in names) are an error naming both."""
    groups: dict[str, list[dict]] = {}
    keys: dict[str, str] = {}
    for p in experiments:
        flat = {k: v for k, v in flatten(p).items() if k not in SEED_GROUP_IGNORED}
        key = json.dumps(flat, sort_keys=True, default=str)
        base = without_seed(p["experiment"])
        if base in keys and keys[base] != key:
            raise ParamsError(f"experiments {groups[base][0]['experiment']!r} and {p['experiment']!r} differ in more than "
                              "their seed but in no parameter their names show; give one of them a name of its own")
        keys[base] = key
        groups.setdefault(base, []).append(p)
    return {base: sorted(members, key=lambda p: int(p.get("seed") or 0)) for base, members in groups.items()}


def training_parameters(params: dict) -> dict[str, Any]:
    """The flattened parameters that decide what an experiment learns: ``seed``, ``model``, the
    model's constructor arguments and ``train.*`` (for the training notebook's table)."""
    model = params.get("model")
    keep = {"seed": params.get("seed"), "model": model, "models": {model: params.get("models", {}).get(model, {})},
            "train": params.get("train", {})}
    return flatten(keep)


def require(params: dict, dotted: str):
    """The value of the parameter ``dotted`` (``"train.lr"``); a :class:`ParamsError` naming the params
    file if it is missing."""
    node = params
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ParamsError(f"parameter {dotted} is missing from {params.get('params_file', 'the parameters')}; "
                              "every key of params/defaults.yaml is needed")
        node = node[part]
    return node


def params_hash(params: dict) -> str:
    """A short stable hash of the parameters (used to tell whether a finished step is still valid)."""
    clean = {k: v for k, v in params.items() if k not in ("params_file",)}
    blob = json.dumps(clean, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
