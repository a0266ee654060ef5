"""What the paper notebook shows: the comparison tables of a profile, rebuilt from the committed
per-track results (``results/<profile>/evals``) and the published scores.

Rows come from the profile's experiments (``config.profile_experiments``): each row is labelled by
its parameters (``report.extra_data`` says what extra data it was trained with), never by its name.
"""
from __future__ import annotations

from pathlib import Path

from .. import paths
from .tables import PAPER_1909_NOTE, PUBLISHED_MUSDB_ROWS, RowSpec, comparison_table, write_tables

#: How the reference systems computed here are shown.
REFERENCE_ROWS = {
    "MIX": RowSpec("MIX", "Mixture as every estimate (MIX)", "-", "-", "",
                   "lower bound (SiSEC's MIX), computed here"),
    "IRM2": RowSpec("IRM2", "Ideal ratio mask oracle (IRM2)", "oracle (true stems)", "-", "",
                    "upper bound for masks (SiSEC's IRM2), computed here"),
}


def dataset_description(params: dict) -> tuple[str, bool]:
    """(name of the training data, True if it is the real MUSDB18) for a profile's parameters."""
    from ..data.roots import uses_musdb

    ds = params.get("dataset", {})
    if uses_musdb(ds):
        return "MUSDB18 train", True
    s = ds.get("synth", {})
    return f"synthetic train ({s.get('train')} songs of {s.get('duration'):g} s)", False


def experiment_row(params: dict) -> RowSpec:
    """The table row of one experiment: its name, training data, ``report.extra_data``, and where its
    per-track scores are."""
    system = str(params["experiment"])
    training_data, _ = dataset_description(params)
    extra = str(params.get("report", {}).get("extra_data", "no"))
    note = "this study; trained here"
    if str(params.get("model")) == "demucs":
        note += "; for comparison, " + PAPER_1909_NOTE
    return RowSpec(system, system, training_data, extra, f"measured: results/{params['profile']}/evals/{system}", note)


def reference_row(profile: str, system: str) -> RowSpec:
    """The row of a reference system (MIX, IRM2) computed on the profile's test set."""
    spec = REFERENCE_ROWS[system]
    return RowSpec(spec.system, spec.display, spec.training_data, spec.extra_data,
                   f"measured: results/{profile}/evals/{system}", spec.note)


def measured_rows(experiments: list[dict], measured) -> list[RowSpec]:
    """Rows of the experiments that have scores in ``measured``, then the references that have."""
    present = set(measured["system"].unique()) if len(measured) else set()
    rows = [experiment_row(p) for p in experiments if p["experiment"] in present]
    profile = experiments[0]["profile"] if experiments else None
    rows += [reference_row(profile, s) for s in REFERENCE_ROWS if s in present and profile]
    return rows


def build_tables(params: dict, experiments: list[dict], measured, out_dir: str | Path | None = None) -> dict:
    """The profile's comparison tables, written as CSV/Markdown/LaTeX to ``results/<profile>/tables``.

    ``params``: the profile's defaults (what dataset it uses); ``experiments``: the parameters of
    every experiment of the profile; ``measured``: per-track scores (long format).
    On MUSDB18: the published rows and our measured rows in one table. On the synthetic set: our
    measured rows plus MIX and IRM2 computed on the same tracks, and the published MUSDB18 table
    separately for reference (a different test set: the numbers do not compare across tables).
    """
    from ..evaluation.aggregate import load_published

    profile = params["profile"]
    out_dir = Path(out_dir) if out_dir else paths.results_dir() / profile / "tables"
    _, is_musdb = dataset_description(params)
    rows = measured_rows(experiments, measured)
    published = load_published()
    tables = {}
    if is_musdb:
        tables["musdb18"] = comparison_table(measured if rows else None, published,
                                             list(PUBLISHED_MUSDB_ROWS) + rows,
                                             test_set="MUSDB18 test set (50 tracks)")
    else:
        tables["published_musdb18"] = comparison_table(None, published, PUBLISHED_MUSDB_ROWS,
                                                       test_set="MUSDB18 test set (50 tracks), published")
        if rows:
            n = measured["track"].nunique()
            tables["synthetic"] = comparison_table(measured, None, rows,
                                                   test_set=f"synthetic test set ({n} tracks, profile {profile})")
    for name, table in tables.items():
        write_tables(table, out_dir, name)
    return tables
