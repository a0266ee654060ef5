"""Execute one notebook of the study with papermill: ``python -m demucs_study run-notebook``.

A step is ``(notebook, params file, overrides)``. Its executed copy goes to
``results/<profile>/notebooks/<output>.ipynb`` (git-ignored) and ``<output>.html`` (committed for the quick
profile); its wall time and parameters go to ``results/<profile>/provenance.json``; a stamp records the
hash of its parameters and of the notebook, so re-running a finished step whose parameters did not change
does nothing. The work inside a step is itself resumable (training resumes from its checkpoint,
evaluation skips tracks already scored), so an interrupted step continues where it stopped.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

from ..config import load_params, params_hash
from ..errors import StudyError
from ..paths import repo_root, results_dir
from ..utils import atomic_path, write_json
from .provenance import record_step


def step_hash(notebook: Path, params: dict, after: list[Path] = ()) -> str:
    """Hash of what a step's result depends on: the notebook, its parameters, and the stamps of the
    steps it comes after (each holding that step's own hash, so a re-run upstream propagates)."""
    h = hashlib.sha256()
    h.update(Path(notebook).read_bytes())
    h.update(params_hash(params).encode())
    for stamp in sorted(Path(p) for p in after):
        h.update(stamp.name.encode())
        h.update(json.loads(stamp.read_text()).get("hash", "").encode() if stamp.is_file() else b"missing")
    return h.hexdigest()[:16]


def _to_html(ipynb: Path, html: Path) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(str(ipynb), as_version=4))
    with atomic_path(html) as tmp:
        tmp.write_text(body)


def run_notebook(notebook: str | Path, params_file: str | Path, profile: str, overrides: list[str] = (),
                 output: str | None = None, stamp: str | Path | None = None, force: bool = False,
                 html: bool = True, kernel: str = "python3", after: list[str | Path] = ()) -> dict:
    """Run ``notebook`` with papermill, parameterised by ``params_file`` (+ ``overrides``).

    The notebook's ``parameters`` cell receives ``params_file`` (absolute), ``overrides`` and ``profile``.
    Returns the provenance entry of the step (with ``"skipped": True`` when it was up to date).
    """
    import papermill

    root = repo_root()
    notebook, params_file = Path(notebook).resolve(), Path(params_file).resolve()
    if not notebook.is_file():
        raise StudyError(f"notebook {notebook} does not exist")
    params = load_params(params_file, overrides)
    name = output or (notebook.stem if not overrides and params_file.stem in ("data", "defaults")
                      else f"{notebook.stem}-{params['experiment'].replace(' ', '_')}")
    results = results_dir() / profile
    stamp = Path(stamp) if stamp else results / ".done" / name
    digest = step_hash(notebook, params, [Path(a) for a in after])
    if not force and stamp.is_file() and json.loads(stamp.read_text()).get("hash") == digest:
        print(f"{name}: up to date (parameters unchanged), nothing to do")
        os.utime(stamp)
        return {"skipped": True, "hash": digest}

    out_dir = results / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    out_nb = out_dir / f"{name}.ipynb"
    print(f"{name}: running {notebook.relative_to(root) if notebook.is_relative_to(root) else notebook} "
          f"with {params_file.name} {' '.join(overrides)}".rstrip(), flush=True)
    start = time.time()
    with atomic_path(out_nb) as tmp:
        papermill.execute_notebook(
            str(notebook), str(tmp), kernel_name=kernel, cwd=str(notebook.parent), progress_bar=False,
            parameters={"params_file": str(params_file), "overrides": list(overrides), "profile": profile},
        )
    wall = time.time() - start
    if html:
        _to_html(out_nb, out_dir / f"{name}.html")
    info = {"notebook": str(notebook.relative_to(root)) if notebook.is_relative_to(root) else str(notebook),
            "params_file": str(params_file.relative_to(root)) if params_file.is_relative_to(root) else str(params_file),
            "overrides": list(overrides), "experiment": params["experiment"], "params": params,
            "hash": digest, "wall_seconds": round(wall, 1), "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    record_step(results, name, info)
    write_json(stamp, {"hash": digest, "wall_seconds": info["wall_seconds"]})
    print(f"{name}: done in {wall:.0f} s -> {out_nb}")
    return info


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m demucs_study run-notebook", description=__doc__.split("\n\n")[0])
    p.add_argument("notebook")
    p.add_argument("params_file")
    p.add_argument("--profile", required=True)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--output", help="name of the executed copy (default: from the notebook and experiment)")
    p.add_argument("--stamp", help="stamp file that marks the step done (default results/<profile>/.done/<output>)")
    p.add_argument("--force", action="store_true", help="run even if the step is up to date")
    p.add_argument("--no-html", action="store_true")
    p.add_argument("--after", nargs="*", default=[], metavar="STAMP",
                   help="stamps of the steps this one depends on (their hashes enter this step's hash)")
    a = p.parse_args(argv)
    run_notebook(a.notebook, a.params_file, a.profile, a.overrides, a.output, a.stamp, a.force, not a.no_html,
                 after=a.after)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
