"""The reviewer's entry page of a profile: ``results/<profile>/index.html``, linking every executed
notebook, table and figure of the profile (relative links, so it works from a checkout or an archive).

Rewritten after every step of the DAG (:mod:`.runner`); its content depends only on the files present,
so a re-run that changes nothing leaves it byte-identical.
"""
from __future__ import annotations

import html
from pathlib import Path

from ..utils import atomic_path

INDEX = "index.html"


def _links(folder: Path, pattern: str) -> list[Path]:
    return sorted(p for p in folder.glob(pattern) if not p.name.startswith("."))


def index_html(results: Path) -> str:
    """The page for the results folder ``results`` (``results/<profile>``)."""
    results = Path(results)
    esc = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>demucs-study: {esc(results.name)}</title>",
             "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}img{max-width:100%;"
             "border:1px solid #ddd}li{margin:.3em 0}</style></head><body>",
             f"<h1>demucs-study, profile <code>{esc(results.name)}</code></h1>",
             "<p>Every output of <code>make paper-results PROFILE=" + esc(results.name) + "</code>. The tables are "
             "rebuilt from the per-track scores in <code>evals/</code>; <code>provenance.json</code> records the "
             "commit, parameters, versions and wall time of every step.</p>"]
    notebooks = _links(results / "notebooks", "*.html")
    parts.append("<h2>Executed notebooks</h2><ul>")
    parts += [f"<li><a href='notebooks/{esc(p.name)}'>{esc(p.stem)}</a></li>" for p in notebooks]
    parts.append("</ul><h2>Tables</h2><ul>")
    for md in _links(results / "tables", "*.md"):
        others = " · ".join(f"<a href='tables/{esc(md.stem)}.{ext}'>{ext}</a>" for ext in ("csv", "tex")
                           if (md.parent / f"{md.stem}.{ext}").is_file())
        parts.append(f"<li><a href='tables/{esc(md.name)}'>{esc(md.stem)}</a> ({others})</li>")
    parts.append("</ul><h2>Figures</h2>")
    for png in _links(results / "figures", "*.png"):
        svg = f" · <a href='figures/{esc(png.stem)}.svg'>svg</a>" if png.with_suffix(".svg").is_file() else ""
        parts.append(f"<h3>{esc(png.stem)}</h3><p><a href='figures/{esc(png.name)}'>png</a>{svg}</p>"
                     f"<img src='figures/{esc(png.name)}' alt='{esc(png.stem)}'>")
    if (results / "provenance.json").is_file():
        parts.append("<h2>Provenance</h2><p><a href='provenance.json'>provenance.json</a></p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_index(results: Path) -> Path:
    """Write ``results/index.html`` atomically; returns its path."""
    path = Path(results) / INDEX
    with atomic_path(path) as tmp:
        tmp.write_text(index_html(results))
    return path
