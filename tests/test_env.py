"""The dependency lists of pyproject.toml and environment.yml must agree (same packages, same pins)."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _norm(req: str) -> tuple[str, str]:
    name, _, version = req.partition("==")
    assert version, f"{req!r} is not pinned with =="
    return re.sub(r"[-_.]+", "-", name.strip().lower()), version.strip()


def test_pyproject_and_environment_yml_pin_the_same_packages():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    nodeps = [l.strip() for l in (ROOT / "requirements-nodeps.txt").read_text().splitlines()
              if l.strip() and not l.startswith("#")]
    pip_side = dict(_norm(r) for r in project["dependencies"] + nodeps)
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda_side = dict(_norm(r) for r in pip_section)
    assert pip_side == conda_side
    assert pip_side["torch"] == "2.13.0"
    conda_pkgs = [d for d in env["dependencies"] if isinstance(d, str)]
    assert "ffmpeg" in conda_pkgs and any(d.startswith("python=3.11") for d in conda_pkgs)
    assert "conda-forge" in env["channels"]
