"""Provenance of a profile's results: git commit, parameters, package versions, machine, wall times.

``results/<profile>/provenance.json`` is updated after every notebook step (read-modify-write under a
file lock, so ``make -j`` steps do not lose each other's entries) and written atomically.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from ..paths import repo_root
from ..utils import write_json

PACKAGES = ("torch", "numpy", "scipy", "soundfile", "soxr", "musdb", "museval", "stempeg", "pretty_midi",
            "tinysoundfont", "pandas", "matplotlib", "seaborn", "papermill")


def git_commit(root: Path | None = None) -> dict:
    """The commit of the checkout and whether its code had local changes (None outside git).

    ``results/`` is left out of the check: the study writes its outputs there while it runs, so a run
    of a clean checkout stays ``dirty: false`` from its first step to its last."""
    root = root or repo_root()
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!results"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip() != ""
        return {"commit": sha, "dirty": dirty}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}


def package_versions() -> dict:
    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def cpu_model() -> str | None:
    """The CPU's model name (``/proc/cpuinfo``), or None where the system does not say. Floating-point
    results can differ between CPU types (different vector kernels), so bitwise reproduction of the
    committed results is expected on the same kind of CPU only."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def machine() -> dict:
    try:
        import torch

        threads = torch.get_num_threads()
        capability = torch.backends.cpu.get_cpu_capability()
        cuda = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except Exception:  # pragma: no cover - torch is a dependency
        threads, capability, cuda = None, None, []
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_model": cpu_model(), "cpu_capability": capability, "cpus": os.cpu_count(),
            "torch_threads": threads, "gpus": cuda}


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def record_step(results: Path, step: str, info: dict) -> dict:
    """Add or replace ``step`` in ``results/provenance.json``; refresh commit, versions and machine."""
    path = Path(results) / "provenance.json"
    with _locked(path):
        data = json.loads(path.read_text()) if path.is_file() else {}
        data.update({"git": git_commit(), "packages": package_versions(), "machine": machine(),
                     "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        steps = data.setdefault("steps", {})
        steps[step] = info
        data["steps"] = dict(sorted(steps.items()))
        data["total_wall_seconds"] = round(sum(s.get("wall_seconds", 0.0) for s in steps.values()), 1)
        write_json(path, data)
    return data
