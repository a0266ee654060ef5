"""Execute one notebook of the study with papermill (the ``run-notebook`` command, :mod:`.cli`).

A step is ``(notebook, params file, overrides)``. Its executed copy goes to
``results/<profile>/notebooks/<output>.ipynb`` (git-ignored) and ``<output>.html`` (committed for the quick
profile); its wall time and parameters go to ``results/<profile>/provenance.json``; a stamp records the
hash of its parameters and of the notebook, so re-running a finished step whose parameters did not change
does nothing. The work inside a step is itself resumable (training resumes from its checkpoint,
evaluation skips tracks already scored), so an interrupted step continues where it stopped.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path

from ..config import display_path, load_params, params_hash
from ..errors import StudyError
from ..paths import results_dir
from ..utils import atomic_path, write_json
from .index import write_index
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


def stale_temporaries(out_dir: Path, name: str) -> list[Path]:
    """Temporary copies of step ``name`` left in ``out_dir`` by a run that was killed while executing
    (``utils.atomic_path`` names them ``.<name>.<random>.tmp.ipynb``)."""
    pattern = re.compile(rf"\.{re.escape(name)}\.[A-Za-z0-9_]+\.tmp\.ipynb")   # mkstemp's part has no dot
    return sorted(p for p in Path(out_dir).glob(f".{name}.*.tmp.ipynb") if pattern.fullmatch(p.name))


def _scrub_paths(ipynb: Path, input_path: str, output_path: str) -> None:
    """Replace the absolute paths papermill records in the executed notebook's metadata."""
    import nbformat

    nb = nbformat.read(str(ipynb), as_version=4)
    meta = nb.metadata.get("papermill", {})
    meta["input_path"], meta["output_path"] = input_path, output_path
    nbformat.write(nb, str(ipynb))


def _relative(path: Path, start: Path) -> str:
    """``path`` relative to ``start`` (what the notebook, run in ``start``, receives: no machine path)."""
    return os.path.relpath(path, start)


def run_notebook(notebook: str | Path, params_file: str | Path, overrides: list[str] = (),
                 output: str | None = None, stamp: str | Path | None = None, force: bool = False,
                 html: bool = True, kernel: str = "python3", after: list[str | Path] = ()) -> dict:
    """Run ``notebook`` with papermill, parameterised by ``params_file`` (+ ``overrides``).

    The notebook runs in its own folder; its ``parameters`` cell receives ``params_file`` relative to
    that folder and ``overrides``. Its executed copy goes to ``results/<profile>/notebooks/<output>``
    (``.ipynb`` and ``.html``), where temporaries left by a killed run of the same step are removed
    first. Returns the provenance entry of the step (``"skipped": True`` when it was up to date).
    """
    import papermill

    notebook, params_file = Path(notebook).resolve(), Path(params_file).resolve()
    if not notebook.is_file():
        raise StudyError(f"notebook {notebook} does not exist")
    params = load_params(params_file, overrides)
    profile = params["profile"]
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
    for old in stale_temporaries(out_dir, name):
        old.unlink(missing_ok=True)
    out_nb = out_dir / f"{name}.ipynb"
    print(f"{name}: running {display_path(notebook)} with {params_file.name} {' '.join(overrides)}".rstrip(),
          flush=True)
    start = time.time()
    with atomic_path(out_nb) as tmp:
        # store_widget_state=False: no ipywidgets state in the executed notebook, so its HTML shows each widget
        # output's static fallback (the explorer's snapshot) and loads no widget renderer from a CDN
        papermill.execute_notebook(
            str(notebook), str(tmp), kernel_name=kernel, cwd=str(notebook.parent), progress_bar=False,
            parameters={"params_file": _relative(params_file, notebook.parent), "overrides": list(overrides)},
            store_widget_state=False,
        )
        _scrub_paths(tmp, display_path(notebook), f"results/{profile}/notebooks/{out_nb.name}")
    wall = time.time() - start
    if html:
        _to_html(out_nb, out_dir / f"{name}.html")
    info = {"notebook": display_path(notebook), "params_file": display_path(params_file),
            "overrides": list(overrides), "experiment": params["experiment"], "params": params,
            "hash": digest, "wall_seconds": round(wall, 1), "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    record_step(results, name, info)
    write_index(results)
    write_json(stamp, {"hash": digest, "wall_seconds": info["wall_seconds"]})
    print(f"{name}: done in {wall:.0f} s -> {display_path(out_nb)}")
    return info
