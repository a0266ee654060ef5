"""What the paper notebook shows: the comparison tables and figures of a profile, rebuilt from the
committed per-track results (``results/<profile>/evals``) and the published scores."""
from __future__ import annotations

from pathlib import Path

from .. import paths
from .tables import PAPER_1909_NOTE, PUBLISHED_MUSDB_ROWS, RowSpec, comparison_table, write_tables

#: How the reference systems computed here are shown.
REFERENCE_ROWS = {
    "MIX": ("Mixture as every estimate (MIX)", "-", "-", "lower bound (SiSEC's MIX), computed here"),
    "IRM2": ("Ideal ratio mask oracle (IRM2)", "oracle (true stems)", "-",
             "upper bound for masks (SiSEC's IRM2), computed here"),
}


def dataset_description(params: dict) -> tuple[str, bool]:
    """(name of the training data, True if it is the real MUSDB18) for a profile's parameters."""
    ds = params.get("dataset", {})
    if ds.get("root") or paths.musdb_root():
        return "MUSDB18 train", True
    s = ds.get("synth", {})
    return f"synthetic train ({s.get('train')} songs of {s.get('duration'):g} s)", False


def measured_rows(profile: str, systems: list[str], training_data: str) -> list[RowSpec]:
    """Rows for our measured systems (experiments first, references last)."""
    rows = []
    for system in systems:
        source = f"measured: results/{profile}/evals/{system}"
        if system in REFERENCE_ROWS:
            display, train, extra, note = REFERENCE_ROWS[system]
            rows.append(RowSpec(system, display, train, extra, source, note))
        else:
            note = "this study; " + ("trained with remixed unlabeled data" if "remix" in system else "trained here")
            if system.startswith("demucs"):
                note += "; for comparison, " + PAPER_1909_NOTE
            rows.append(RowSpec(system, system, training_data, "no", source, note))
    order = {name: i for i, name in enumerate(REFERENCE_ROWS)}
    return sorted(rows, key=lambda r: (r.system in order, order.get(r.system, 0)))


def build_tables(params: dict, measured, out_dir: str | Path | None = None) -> dict:
    """The profile's comparison tables, written as CSV/Markdown/LaTeX to ``results/<profile>/tables``.

    On MUSDB18: the published rows and our measured rows in one table. On the synthetic set: our
    measured rows plus MIX and IRM2 computed on the same tracks, and the published MUSDB18 table
    separately for reference (a different test set: the numbers do not compare across tables).
    """
    from ..evaluation.aggregate import load_published

    profile = params["profile"]
    out_dir = Path(out_dir) if out_dir else paths.results_dir() / profile / "tables"
    training_data, is_musdb = dataset_description(params)
    systems = sorted(measured["system"].unique()) if len(measured) else []
    published = load_published()
    tables = {}
    if is_musdb:
        rows = list(PUBLISHED_MUSDB_ROWS) + measured_rows(profile, systems, training_data)
        tables["musdb18"] = comparison_table(measured if systems else None, published, rows,
                                             test_set="MUSDB18 test set (50 tracks)")
    else:
        tables["published_musdb18"] = comparison_table(None, published, PUBLISHED_MUSDB_ROWS,
                                                       test_set="MUSDB18 test set (50 tracks), published")
        if systems:
            n = measured["track"].nunique()
            tables["synthetic"] = comparison_table(measured, None, measured_rows(profile, systems, training_data),
                                                   test_set=f"synthetic test set ({n} tracks, profile {profile})")
    for name, table in tables.items():
        write_tables(table, out_dir, name)
    return tables
