"""What the paper notebook shows: the comparison tables of a profile, rebuilt from the committed
per-track results (``results/<profile>/evals``) and the published scores.

Rows come from the profile's experiments (``config.profile_experiments``): each row is labelled by
its parameters (``report.extra_data`` says what extra data it was trained with), never by its name.
"""
from __future__ import annotations

import math
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
    """(name of the training data, True if it is the real MUSDB18) for an experiment's parameters (its
    labeled budget ``train.labeled_fraction`` included)."""
    from ..data.roots import uses_musdb

    ds = params.get("dataset", {})
    fraction = float(params.get("train", {}).get("labeled_fraction", 1.0) or 1.0)
    share = "" if fraction >= 1.0 else f", {fraction:.0%} of it"
    if uses_musdb(ds):
        return f"MUSDB18 train{share}", True
    s = ds.get("synth", {})
    songs = s.get("train")
    used = songs if fraction >= 1.0 else f"{max(1, math.ceil(fraction * songs - 1e-9))} of {songs}"   # remix.budget
    return f"synthetic train ({used} songs of {s.get('duration'):g} s)", False


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


#: The 1909 paper's claim (its abstract; docs/paper.md, section "The papers"): Demucs beats Wave-U-Net by
#: 1.6 dB SDR ("All") on the MUSDB18 test set.
CLAIM_DEMUCS_MINUS_WAVEUNET = 1.6


def training_budget(histories: dict[str, dict]):
    """What each trained experiment cost: epochs, optimisation steps, training seconds (training and
    validation, summed over epochs) and seconds per step, from the runs' ``history.json``."""
    import pandas as pd

    rows = []
    for name, doc in histories.items():
        hist = doc.get("history", [])
        steps = sum(int(e.get("steps", 0)) for e in hist)
        seconds = sum(float(e["seconds"]) for e in hist)
        rows.append({"experiment": name, "model": doc.get("params", {}).get("model"), "epochs": len(hist),
                     "steps": steps, "seconds": round(seconds, 1),
                     "seconds per step": round(seconds / steps, 2) if steps else float("nan")})
    return pd.DataFrame(rows).set_index("experiment")


def _claim_systems(experiments: list[dict], present: set) -> tuple[str | None, str | None]:
    """The Demucs (the one named ``demucs`` if any) and the Wave-U-Net experiments that were scored."""
    demucs = [p["experiment"] for p in experiments if p.get("model") == "demucs" and p["experiment"] in present]
    waveunet = [p["experiment"] for p in experiments if p.get("model") == "waveunet" and p["experiment"] in present]
    first = "demucs" if "demucs" in demucs else (demucs[0] if demucs else None)
    return first, (waveunet[0] if waveunet else None)


def claim_check(measured, experiments: list[dict], published=None):
    """The paper's first claim on our test set: Demucs minus Wave-U-Net SDR per stem and All (SiSEC
    aggregation of each system), next to the same difference of the published MUSDB18 rows (the released
    Demucs, mean of 5 seeds, minus SiSEC's STL2) and the 1909 abstract's +1.6 dB (All only).

    Also the paired view over the same test tracks: for each stem, on how many tracks Demucs' median SDR
    is higher, and the median of the per-track differences. The systems are the profile's experiments
    with ``model: demucs`` (the one named ``demucs`` first) and ``model: waveunet`` that have scores.
    Returns ``(table, sentence)``; ``(None, why)`` when one of the two is missing.
    """
    import numpy as np
    import pandas as pd

    from .. import SOURCES
    from ..evaluation.aggregate import aggregate, aggregate_seeds, load_published
    from .tables import DEMUCS_1911_SEEDS

    demucs, waveunet = _claim_systems(experiments, set(measured["system"].unique()) if len(measured) else set())
    if demucs is None or waveunet is None:
        return None, "This profile has no scored Demucs and Wave-U-Net pair: the claim is not tested here."
    ours = aggregate(measured[measured["system"].isin([demucs, waveunet])])
    diff = ours.loc[demucs] - ours.loc[waveunet]
    published = load_published() if published is None else published
    seeds = aggregate_seeds(published[published["system"].isin(DEMUCS_1911_SEEDS)],
                            {"demucs": list(DEMUCS_1911_SEEDS)}).mean.loc["demucs"]
    stl2 = aggregate(published[published["system"] == "STL2"]).loc["STL2"]
    sdr = measured[measured["metric"] == "SDR"].pivot_table(index=["track", "target"], columns="system",
                                                            values="value")
    paired_wins, paired_median = {}, {}
    for stem in SOURCES:
        per_track = (sdr.xs(stem, level="target")[demucs] - sdr.xs(stem, level="target")[waveunet]).dropna()
        paired_wins[stem] = f"{int((per_track > 0).sum())}/{len(per_track)}"
        paired_median[stem] = float(per_track.median()) if len(per_track) else np.nan
    table = pd.DataFrame({
        f"{demucs} (ours)": ours.loc[demucs], f"{waveunet} (ours)": ours.loc[waveunet],
        "difference (ours)": diff,
        "tracks where Demucs is better": pd.Series(paired_wins),
        "median per-track difference": pd.Series(paired_median),
        "difference, published MUSDB18 (Demucs 1911 - STL2)": seeds - stl2,
        "1909 abstract": pd.Series({"All": CLAIM_DEMUCS_MINUS_WAVEUNET}),
    })
    all_diff = float(diff["All"])
    sign = "the same sign" if all_diff > 0 else "the opposite sign"
    size = ("about the claimed size" if abs(all_diff - CLAIM_DEMUCS_MINUS_WAVEUNET) <= 0.5 else
            "smaller than claimed" if abs(all_diff) < CLAIM_DEMUCS_MINUS_WAVEUNET else "larger than claimed")
    sentence = (f"On this test set Demucs minus Wave-U-Net is {all_diff:+.2f} dB SDR (All), against +1.6 dB in the "
                f"1909 abstract (MUSDB18) and {float((seeds - stl2)['All']):+.2f} dB between the published "
                f"MUSDB18 rows: {sign}, {size}.")
    return table, sentence
