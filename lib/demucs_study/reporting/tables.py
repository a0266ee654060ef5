"""The comparison tables: published rows (other systems' per-track scores) and our measured rows,
aggregated as SiSEC 2018, written as CSV, Markdown and LaTeX with every number's source.

A table is a DataFrame (one per test set) with the columns of :data:`TABLE_COLUMNS`; the
Markdown/LaTeX writers show the first nine (``± s.e.`` appended for seed groups) and list each
row's source as a numbered footnote. Which rows a profile shows is decided in :mod:`.paper`.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .. import SOURCES
from ..errors import DatasetError
from ..utils import atomic_path

STEM_COLUMNS = list(SOURCES) + ["All"]
SE_COLUMNS = [f"{c} s.e." for c in STEM_COLUMNS]
SHOWN_COLUMNS = ["system", "training data", "extra data", *STEM_COLUMNS, "note"]
TABLE_COLUMNS = SHOWN_COLUMNS + SE_COLUMNS + ["runs", "id", "source"]

#: Where the published per-track files come from (results/published/README.md).
PUBLISHED_PROVENANCE = {
    "sisec2018_track_scores.csv": "SiSEC 2018 submissions, sigsep/sigsep-mus-2018 @ 62fb479e, "
                                  "submissions/<ID>/test/*.json",
    "demucs1911_track_scores.csv": "facebookresearch/demucs @ 7cf5c60d (2019-11-25), baselines/*/test and "
                                   "results/evals/<run>/results/test",
}
#: The 1909 paper's only available number (its abstract): Demucs beats Wave-U-Net by 1.6 dB SDR.
PAPER_1909_NOTE = ("1909 paper (abstract): +1.6 dB over Wave-U-Net, i.e. about 4.8 dB All "
                   "(MUSDB18 only); its tables are not available")
#: The metric is museval 0.4.1's for every row: published rows were scored by museval, measured rows by
#: :mod:`demucs_study.evaluation.fast` (the same numbers, see docs/library.md) unless ``eval.backend`` says museval.
DEFAULT_CAPTION = ("{test_set}, {metric} in dB (BSSEval v4 as museval 0.4.1 computes it): median over 1 s "
                   "frames, median over tracks, All = mean of the four stems (SiSEC 2018 protocol).")


@dataclass(frozen=True)
class RowSpec:
    """One row of a comparison table.

    Attributes:
        system: the ``system`` id in the per-track scores; a tuple of ids = the seeds of one
            experiment, shown as mean ± standard error over seeds.
        display: the name shown in the table.
        training_data, extra_data: what the system was trained on.
        source: ``"published: <file in results/published>"`` or
            ``"measured: results/<profile>/evals/<experiment>"``.
        note: free text shown in the note column.
    """
    system: str | tuple[str, ...]
    display: str
    training_data: str
    extra_data: str
    source: str
    note: str = ""

    @property
    def kind(self) -> str:
        kind = self.source.split(":", 1)[0].strip()
        if kind not in ("published", "measured") or ":" not in self.source:
            raise DatasetError(f"row {self.display!r}: source must start with 'published:' or 'measured:', "
                               f"got {self.source!r}")
        return kind

    @property
    def systems(self) -> list[str]:
        return [self.system] if isinstance(self.system, str) else list(self.system)


_SISEC = "published: sisec2018_track_scores.csv"
_D1911 = "published: demucs1911_track_scores.csv"
_MUSDB = "MUSDB18 train"
#: The released Demucs (arXiv 1911.13254): seed 42 (``default``) and seeds 43 to 46.
DEMUCS_1911_SEEDS = ("demucs-1911:default",) + tuple(f"demucs-1911:seed={s}" for s in range(43, 47))

#: Published MUSDB18 rows: no extra data first, then extra data, then the oracle.
PUBLISHED_MUSDB_ROWS: tuple[RowSpec, ...] = (
    RowSpec("STL2", "Wave-U-Net (STL2)", _MUSDB, "no", _SISEC, "SiSEC 2018 submission"),
    RowSpec("baseline:OpenUnmix", "Open-Unmix", _MUSDB, "no", _D1911, "baseline of the Demucs release"),
    RowSpec("TAK1", "MMDenseLSTM (TAK1)", _MUSDB, "no", _SISEC, "SiSEC 2018 submission"),
    RowSpec(DEMUCS_1911_SEEDS, "Demucs (Nov 2019 release)", _MUSDB, "no", _D1911,
            "mean ± s.e. over 5 seeds; " + PAPER_1909_NOTE),
    RowSpec("TAK3", "MMDenseNet (TAK3)", _MUSDB, "804 songs", _SISEC, "SiSEC 2018 submission"),
    RowSpec("TAK2", "MMDenseLSTM (TAK2)", _MUSDB, "804 songs", _SISEC, "SiSEC 2018 submission"),
    RowSpec("IRM2", "IRM2 oracle", "oracle (true stems)", "-", _SISEC, "upper bound for masks"),
)


def comparison_table(measured, published, systems: Sequence[RowSpec], metric: str = "SDR",
                     test_set: str = "MUSDB18 test set", caption: str | None = None):
    """Build one comparison table.

    Args:
        measured: per-track scores of our runs (long format: system, track, target, metric,
            value), or ``None`` if no row is measured.
        published: published per-track scores (same format), or ``None``.
        systems: the rows, in order.
        metric: BSSEval metric shown.
        test_set, caption: the caption (default :data:`DEFAULT_CAPTION`), stored with the
            footnotes in ``table.attrs``.

    Returns:
        DataFrame with :data:`TABLE_COLUMNS` (numbers in dB, unrounded; s.e. NaN for single runs).
    """
    import pandas as pd

    from ..evaluation.aggregate import aggregate_seeds

    scores = {"measured": measured, "published": published}
    rows, sources = [], []
    for spec in systems:
        df = scores[spec.kind]
        if df is None:
            raise DatasetError(f"row {spec.display!r} is {spec.kind} but no {spec.kind} scores were given")
        known = set(df["system"].unique())
        missing = [s for s in spec.systems if s not in known]
        if missing:
            raise DatasetError(f"row {spec.display!r}: no scores for system(s) {', '.join(map(repr, missing))} "
                               f"in the {spec.kind} scores ({spec.source})")
        agg = aggregate_seeds(df[df["system"].isin(spec.systems)], {spec.display: spec.systems}, metric)
        if spec.source not in sources:
            sources.append(spec.source)
        row = {"system": spec.display, "training data": spec.training_data, "extra data": spec.extra_data,
               "note": spec.note, "runs": int(agg.n[spec.display]), "id": "; ".join(spec.systems),
               "source": spec.source}
        for col in STEM_COLUMNS:
            row[col] = float(agg.mean.loc[spec.display, col])
            row[f"{col} s.e."] = float(agg.sem.loc[spec.display, col])
        rows.append(row)
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    table.attrs["caption"] = caption or DEFAULT_CAPTION.format(test_set=test_set, metric=metric)
    table.attrs["footnotes"] = [_describe_source(s) for s in sources]
    table.attrs["sources"] = sources
    return table


def _describe_source(source: str) -> str:
    kind, _, what = source.partition(":")
    what = what.strip()
    if kind.strip() == "published":
        origin = PUBLISHED_PROVENANCE.get(what, "")
        return f"published: results/published/{what}" + (f" ({origin})" if origin else "")
    return f"measured by this study: {what}"


def published_musdb_table(published=None):
    """The published MUSDB18 table (:data:`PUBLISHED_MUSDB_ROWS`) from ``results/published``."""
    from ..evaluation.aggregate import load_published

    return comparison_table(None, load_published() if published is None else published, PUBLISHED_MUSDB_ROWS)


def _fmt(value: float, se: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.2f}" if se is None or math.isnan(se) else f"{value:.2f} ± {se:.2f}"


def _cells(table) -> tuple[list[str], list[list[str]]]:
    """Header and string cells of the shown columns, with a [k] source marker after each name."""
    sources = table.attrs.get("sources") or list(dict.fromkeys(table["source"]))
    rows = []
    for _, r in table.iterrows():
        marker = f" [{sources.index(r['source']) + 1}]" if r["source"] in sources else ""
        rows.append([f"{r['system']}{marker}", str(r["training data"]), str(r["extra data"]),
                     *[_fmt(r[c], r[f"{c} s.e."]) for c in STEM_COLUMNS], str(r["note"] or "")])
    return SHOWN_COLUMNS, rows


def _footnotes(table) -> list[str]:
    notes = table.attrs.get("footnotes")
    if notes is None:
        notes = [_describe_source(s) for s in dict.fromkeys(table["source"])]
    return notes


def to_markdown(table) -> str:
    """GitHub Markdown: caption, the table, numbered sources."""
    header, rows = _cells(table)
    esc = lambda s: s.replace("|", "\\|")  # noqa: E731
    lines = [f"**{table.attrs.get('caption', '')}**", "",
             "| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if h in STEM_COLUMNS else "---" for h in header) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    lines += ["", "Sources: " + "; ".join(f"[{i}] {n}" for i, n in enumerate(_footnotes(table), 1)) + ".",
              "± is the standard error over seeds (runs column in the CSV)."]
    return "\n".join(lines) + "\n"


_LATEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "±": r"$\pm$", "<": r"\textless{}", ">": r"\textgreater{}"}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_ESCAPES.get(ch, ch) for ch in text)


def to_latex(table, label: str = "tab:comparison") -> str:
    """A booktabs table (needs ``\\usepackage{booktabs}``), caption and sources under it."""
    header, rows = _cells(table)
    spec = "lll" + "r" * len(STEM_COLUMNS) + "p{5cm}"
    lines = [r"\begin{table}[t]", r"\centering\small",
             rf"\caption{{{latex_escape(table.attrs.get('caption', ''))}}}", rf"\label{{{label}}}",
             rf"\begin{{tabular}}{{{spec}}}", r"\toprule",
             " & ".join(latex_escape(h[:1].upper() + h[1:]) for h in header) + r" \\", r"\midrule"]
    lines += [" & ".join(latex_escape(c) for c in row) + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{tabular}", r"\par\smallskip\footnotesize Sources: "
              + "; ".join(f"[{i}] {latex_escape(n)}" for i, n in enumerate(_footnotes(table), 1))
              + r". $\pm$: standard error over seeds.", r"\end{table}"]
    return "\n".join(lines) + "\n"


def write_tables(table, out_dir: str | os.PathLike, stem: str) -> dict[str, Path]:
    """Write ``out_dir/<stem>.csv`` (every column, full precision), ``.md`` and ``.tex``
    atomically. Returns ``{"csv": path, "md": path, "tex": path}``."""
    return _write_formats(table, out_dir, stem, to_markdown, to_latex)


def _write_formats(table, out_dir, stem: str, markdown, latex) -> dict[str, Path]:
    """``<stem>.csv`` (``table.to_csv``), ``.md`` (``markdown(table)``) and ``.tex`` (``latex(table, label)``),
    each written to a temporary file and renamed."""
    out = Path(out_dir)
    paths = {ext: out / f"{stem}.{ext}" for ext in ("csv", "md", "tex")}
    with atomic_path(paths["csv"]) as tmp:
        table.to_csv(tmp, index=False)
    with atomic_path(paths["md"]) as tmp:
        tmp.write_text(markdown(table))
    with atomic_path(paths["tex"]) as tmp:
        tmp.write_text(latex(table, label=f"tab:{stem}"))
    return paths


# ------------------------------------------------------------------ the ablation table (reporting.paper.ablation_table)
def _signed(value, se=None, one_seed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    text = f"{value:+.2f}"
    if se is not None and not (isinstance(se, float) and math.isnan(se)):
        text += f" ± {se:.2f}"
    return text + (" †" if one_seed else "")


def _ablation_cells(table) -> tuple[list[str], list[list[str]]]:
    header = ["change", "ours", "seeds", "Δ All (dB)", "Δ drums / bass / other / vocals", "released Demucs",
              "seeds", "released Δ All (dB)", "sign agrees", "ours beyond 2 s.e.", "released beyond 2 s.e."]
    rows = []
    for _, r in table.iterrows():
        one = str(r["s.e. from"]).startswith("1 seed")
        stems = " / ".join(_signed(r[f"delta {t}"]) for t in SOURCES)
        if r["published"] == "missing":
            released, pub = "missing", "-"
        else:
            released = str(r["published"]).replace("demucs-1911:", "")
            pub = _signed(r["published delta All"], r["published delta All s.e."],
                          str(r["published s.e. from"]).startswith("1 seed"))
        rows.append([str(r["change"]), str(r["experiment"]), str(int(r["seeds"])),
                     _signed(r["delta All"], r["delta All s.e."], one), stems, released,
                     str(int(r["published seeds"])) if r["published"] != "missing" else "-", pub, str(r["sign agrees"]),
                     str(r["beyond 2 s.e."]), str(r["published beyond 2 s.e."])])
    return header, rows


ABLATION_NOTE = ("† one seed: ± is sqrt(2) x the standard deviation of the baseline over its seeds (the spread of a "
                 "difference between two single runs), not a spread of its own. Released runs: "
                 "results/published/demucs1911_track_scores.csv (facebookresearch/demucs @ 7cf5c60d), paired with the "
                 "released baseline of the same seed (default = 42). Per-stem deltas and every s.e. in ablations.csv.")


def ablation_markdown(table) -> str:
    """The ablation table as GitHub Markdown: caption, one row per change, the note on the standard errors."""
    header, rows = _ablation_cells(table)
    esc = lambda s: s.replace("|", "\\|")  # noqa: E731
    lines = [f"**{table.attrs.get('caption', 'Ablations')}**", "", "| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if "Δ" in h or h == "seeds" else "---" for h in header) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    if not rows:
        lines.append("| " + " | ".join(["(no ablation scored)"] + [""] * (len(header) - 1)) + " |")
    return "\n".join(lines + ["", ABLATION_NOTE]) + "\n"


def ablation_latex(table, label: str = "tab:ablations") -> str:
    """The ablation table as a booktabs table (caption and note under it)."""
    header, rows = _ablation_cells(table)
    lines = [r"\begin{table}[t]", r"\centering\small", rf"\caption{{{latex_escape(table.attrs.get('caption', ''))}}}",
             rf"\label{{{label}}}", rf"\begin{{tabular}}{{ll{'r' * 3}l{'r' * 2}lll}}", r"\toprule",
             " & ".join(latex_escape(h) for h in header).replace("Δ", r"$\Delta$") + r" \\", r"\midrule"]
    lines += [" & ".join(latex_escape(c) for c in row).replace("†", r"$^\dagger$") + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{tabular}",
              r"\par\smallskip\footnotesize " + latex_escape(ABLATION_NOTE).replace("†", r"$^\dagger$"), r"\end{table}"]
    return "\n".join(lines) + "\n"


def write_ablation_tables(table, out_dir: str | os.PathLike, stem: str = "ablations") -> dict[str, Path]:
    """Write ``out_dir/<stem>.csv`` (every column, full precision), ``.md`` and ``.tex`` atomically."""
    return _write_formats(table, out_dir, stem, ablation_markdown, ablation_latex)
