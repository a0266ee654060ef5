"""What the paper notebook shows: the comparison tables of a profile, rebuilt from the committed
per-track results (``results/<profile>/evals``) and the published scores.

Rows come from the profile's experiments (``config.profile_experiments``): each row is labelled by
its parameters (``report.extra_data`` says what extra data it was trained with), never by its name.
Experiments that differ only by ``seed`` (``config.seed_groups``) are one row, ``"demucs (3 seeds)"``, with
the mean and standard error over seeds; a profile with one seed per experiment has one row per experiment.

The ablation table (:func:`ablation_table`): each Demucs experiment that changes only model or loss
parameters against the baseline ``demucs``, its delta paired per seed on the same test tracks
(``evaluation.aggregate.paired_deltas``), next to the released Demucs' delta for the same change computed the
same way from ``results/published/demucs1911_track_scores.csv`` (:data:`PUBLISHED_ABLATIONS`).
"""
from __future__ import annotations

import math
from pathlib import Path

from .. import paths
from ..config import seeds_label, without_seed
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
    if str(params.get("model")) == "demucs" and without_seed(system) == "demucs":   # the paper's configuration only
        note += "; for comparison, " + PAPER_1909_NOTE
    return RowSpec(system, system, training_data, extra, f"measured: results/{params['profile']}/evals/{system}", note)


def reference_row(profile: str, system: str) -> RowSpec:
    """The row of a reference system (MIX, IRM2) computed on the profile's test set."""
    spec = REFERENCE_ROWS[system]
    return RowSpec(spec.system, spec.display, spec.training_data, spec.extra_data,
                   f"measured: results/{profile}/evals/{system}", spec.note)


def group_row(base: str, members: list[dict]) -> RowSpec:
    """The row of several seeds of one experiment (``members``: their parameters, sorted by seed): shown as
    ``"<name> (n seeds)"``, mean ± standard error over seeds; one member gives :func:`experiment_row`."""
    if len(members) == 1:
        return experiment_row(members[0])
    row = experiment_row(members[0])
    systems = tuple(str(p["experiment"]) for p in members)
    seeds = ", ".join(str(p.get("seed")) for p in members)
    note = row.note.replace("this study; trained here", f"this study; trained here; mean ± s.e. over seeds {seeds}")
    return RowSpec(systems, seeds_label(base, len(members)), row.training_data, row.extra_data,
                   f"measured: results/{members[0]['profile']}/evals/{{{', '.join(systems)}}}", note)


def measured_rows(experiments: list[dict], measured) -> list[RowSpec]:
    """Rows of the experiments that have scores in ``measured`` (the seeds of one experiment in one row, in
    the order of its first seed: :func:`group_row`), then the references that have."""
    from ..config import seed_groups

    present = set(measured["system"].unique()) if len(measured) else set()
    rows = []
    for base, members in seed_groups(experiments).items():
        scored = [p for p in members if p["experiment"] in present]
        if scored:
            rows.append(group_row(base, scored))
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
                     "seconds per step": round(seconds / steps, 2) if steps else float("nan"),
                     "reused from": (doc.get("reused_from") or {}).get("profile") or "-"})
    table = pd.DataFrame(rows).set_index("experiment")
    return table if (table["reused from"] != "-").any() else table.drop(columns="reused from")


def _claim_groups(experiments: list[dict], present: set) -> tuple[tuple[str, list[str]] | None, tuple[str, list[str]] | None]:
    """The Demucs (the group named ``demucs`` if any) and the Wave-U-Net experiments that were scored, each as
    ``(label, [system of each scored seed])`` (``config.seed_groups``)."""
    from ..config import seed_groups

    found: dict[str, list] = {"demucs": [], "waveunet": []}
    for base, members in seed_groups(experiments).items():
        model = members[0].get("model")
        scored = [str(p["experiment"]) for p in members if p["experiment"] in present]
        if model in found and scored:
            found[model].append((scored[0] if len(scored) == 1 else seeds_label(base, len(scored)), scored, base))
    demucs = next((g for g in found["demucs"] if g[2] == "demucs"), found["demucs"][0] if found["demucs"] else None)
    waveunet = found["waveunet"][0] if found["waveunet"] else None
    return (demucs[:2] if demucs else None), (waveunet[:2] if waveunet else None)


def seed_pairs(baseline: list[dict], variant: list[dict]) -> dict[int, tuple[str, str]]:
    """``{seed: (baseline system, variant system)}`` for the seeds both lists of experiment parameters have
    (the ``pairs`` of :func:`~demucs_study.evaluation.aggregate.paired_deltas`); experiments without a ``seed``
    pair with each other."""
    by_seed = {p.get("seed"): str(p["experiment"]) for p in baseline}
    return {p.get("seed"): (by_seed[p.get("seed")], str(p["experiment"])) for p in variant if p.get("seed") in by_seed}


def _beyond_or_within(value: float, se: float) -> str:
    return "beyond" if abs(value) > 2 * se else "within"


def claim_check(measured, experiments: list[dict], published=None):
    """The paper's first claim on our test set: Demucs minus Wave-U-Net SDR per stem and All (SiSEC
    aggregation of each system), next to the same difference of the published MUSDB18 rows (the released
    Demucs, mean of 5 seeds, minus SiSEC's STL2) and the 1909 abstract's +1.6 dB (All only).

    With several seeds (``config.seed_groups``) each system is the mean over its seeds, and the difference
    has a standard error (``sqrt(se_demucs^2 + se_waveunet^2)``, the seeds of the two models being
    independent runs; a column ``difference s.e.``). Also the paired view over the same test tracks (each
    system's per-track value averaged over its seeds): for each stem, on how many tracks Demucs' median SDR
    is higher, and the median of the per-track differences. With the same seeds on both sides, the paired
    delta of the ablation table too (:func:`~demucs_study.evaluation.aggregate.paired_deltas`: seed by seed,
    the median over tracks of the per-track differences, then mean and standard error over the seed pairs;
    columns ``paired difference`` and, with several seeds, ``paired difference s.e.``). The systems are the profile's experiments with
    ``model: demucs`` (the group named ``demucs`` first) and ``model: waveunet`` that have scores.
    Returns ``(table, sentence)``; ``(None, why)`` when one of the two is missing.
    """
    import numpy as np
    import pandas as pd

    from .. import SOURCES
    from ..evaluation.aggregate import aggregate, aggregate_seeds, load_published, paired_deltas
    from .tables import DEMUCS_1911_SEEDS

    demucs, waveunet = _claim_groups(experiments, set(measured["system"].unique()) if len(measured) else set())
    if demucs is None or waveunet is None:
        return None, "This profile has no scored Demucs and Wave-U-Net pair: the claim is not tested here."
    (d_label, d_systems), (w_label, w_systems) = demucs, waveunet
    ours = aggregate_seeds(measured[measured["system"].isin(d_systems + w_systems)],
                           {d_label: d_systems, w_label: w_systems})
    diff = ours.mean.loc[d_label] - ours.mean.loc[w_label]
    diff_se = np.sqrt(ours.sem.loc[d_label] ** 2 + ours.sem.loc[w_label] ** 2)
    published = load_published() if published is None else published
    seeds = aggregate_seeds(published[published["system"].isin(DEMUCS_1911_SEEDS)],
                            {"demucs": list(DEMUCS_1911_SEEDS)}).mean.loc["demucs"]
    stl2 = aggregate(published[published["system"] == "STL2"]).loc["STL2"]
    sdr = measured[measured["metric"] == "SDR"].pivot_table(index=["track", "target"], columns="system",
                                                            values="value")
    paired_wins, paired_median = {}, {}
    for stem in SOURCES:
        block = sdr.xs(stem, level="target")
        per_track = (block[d_systems].mean(axis=1, skipna=False) - block[w_systems].mean(axis=1, skipna=False)).dropna()
        paired_wins[stem] = f"{int((per_track > 0).sum())}/{len(per_track)}"
        paired_median[stem] = float(per_track.median()) if len(per_track) else np.nan
    columns = {f"{d_label} (ours)": ours.mean.loc[d_label], f"{w_label} (ours)": ours.mean.loc[w_label],
               "difference (ours)": diff}
    several = bool(np.isfinite(diff_se["All"]))
    if several:
        columns["difference s.e."] = diff_se
    by_name = {str(p["experiment"]): p for p in experiments}
    pairs = seed_pairs([by_name[w] for w in w_systems], [by_name[d] for d in d_systems])
    paired = paired_deltas(measured, pairs) if pairs else None
    if paired is not None:
        columns["paired difference"] = paired.mean
        if paired.n > 1:
            columns["paired difference s.e."] = paired.sem
    table = pd.DataFrame({
        **columns,
        "tracks where Demucs is better": pd.Series(paired_wins),
        "median per-track difference": pd.Series(paired_median),
        "difference, published MUSDB18 (Demucs 1911 - STL2)": seeds - stl2,
        "1909 abstract": pd.Series({"All": CLAIM_DEMUCS_MINUS_WAVEUNET}),
    })
    all_diff = float(diff["All"])
    sign = "the same sign" if all_diff > 0 else "the opposite sign"
    size = ("about the claimed size" if abs(all_diff - CLAIM_DEMUCS_MINUS_WAVEUNET) <= 0.5 else
            "smaller than claimed" if abs(all_diff) < CLAIM_DEMUCS_MINUS_WAVEUNET else "larger than claimed")
    spread = ""
    if several:
        se = float(diff_se["All"])
        spread = (f" ± {se:.2f} (standard error; {len(d_systems)} and {len(w_systems)} seeds: the difference is "
                  f"{_beyond_or_within(all_diff, se)} twice its standard error)")
    if paired is not None and paired.n > 1:
        p_mean, p_se = float(paired.mean["All"]), float(paired.sem["All"])
        spread += (f"; paired seed by seed on the same tracks (the median of the per-track differences, as in the "
                   f"ablation table) it is {p_mean:+.2f} ± {p_se:.2f} over {paired.n} seed pairs "
                   f"({_beyond_or_within(p_mean, p_se)} twice its standard error)")
    sentence = (f"On this test set Demucs minus Wave-U-Net is {all_diff:+.2f} dB SDR (All){spread}, against +1.6 dB in "
                f"the 1909 abstract (MUSDB18) and {float((seeds - stl2)['All']):+.2f} dB between the published "
                f"MUSDB18 rows: {sign}, {size}.")
    return table, sentence


# ------------------------------------------------------------------ the ablation grid
#: The released Demucs (arXiv 1911.13254) per seed: ``default`` is seed 42 (results/published/README.md).
PUBLISHED_BASELINE = {42: "demucs-1911:default", **{s: f"demucs-1911:seed={s}" for s in range(43, 47)}}
#: Our ablations -> the released run with the same change: ``dotted parameter: (our value, what it is, the
#: release's flag)``. ``models.demucs.channels`` maps any value below the baseline's (see :func:`published_change`).
PUBLISHED_ABLATIONS = {
    "models.demucs.glu": (False, "ReLU instead of GLU", "glu=False"),
    "models.demucs.lstm_layers": (0, "no BiLSTM", "lstm_layers=0"),
    "models.demucs.rewrite": (False, "no rewrite (1x1) convolutions", "rewrite=False"),
    "models.demucs.rescale": (0.0, "no initial weight rescaling", "rescale=0.0"),
    "models.demucs.context": (1, "decoder context 1 instead of 3", "context=1"),
    "train.loss": ("mse", "MSE instead of L1", "mse=True"),
}
#: The released channel ablation: 64 channels instead of 100 (seeds 42, 43, 44).
PUBLISHED_CHANNELS = (100, 64)
ABLATION_COLUMNS = ["change", "experiment", "seeds", *[f"delta {t}" for t in ("drums", "bass", "other", "vocals", "All")],
                    *[f"delta {t} s.e." for t in ("drums", "bass", "other", "vocals", "All")], "s.e. from",
                    "published", "published seeds",
                    *[f"published delta {t}" for t in ("drums", "bass", "other", "vocals", "All")],
                    "published delta All s.e.", "published s.e. from", "sign agrees", "beyond 2 s.e.",
                    "published beyond 2 s.e.", "note"]
_NOT_COMPARED = ("seed", "experiment", "params_file", "name", "report.")


def _difference(baseline: dict, variant: dict) -> dict:
    """The leaves where ``variant`` differs from ``baseline`` (bookkeeping, seed and report keys left out)."""
    from ..config import NAME_EXCLUDED, flatten

    a, b = flatten(baseline), flatten(variant)
    skip = (*_NOT_COMPARED, *NAME_EXCLUDED)
    keys = sorted(k for k in set(a) | set(b) if not any(k == s or k.startswith(s) for s in skip))
    return {k: b.get(k) for k in keys if a.get(k) != b.get(k)}


def ablation_groups(experiments: list[dict]) -> list[dict]:
    """The ablations of a profile: each seed group (``config.seed_groups``) of a model whose parameters differ
    from that model's baseline group (the group named by its base name alone, e.g. ``demucs``) only in the
    model's constructor arguments (``models.<model>.*``) and ``train.loss``. One dict per ablation:
    ``label`` (the group's name), ``change`` (``{dotted key: value}``), ``baseline`` (the baseline's
    systems by seed) and ``pairs`` (``{seed: (baseline system, variant system)}``, the seeds both have)."""
    from ..config import seed_groups

    groups = seed_groups(experiments)
    out = []
    for base, members in groups.items():
        first = members[0]
        baseline = groups.get(str(first.get("name")))
        if baseline is None or base == first.get("name") or baseline[0].get("model") != first.get("model"):
            continue
        change = _difference(baseline[0], first)
        model = first.get("model")
        if not change or any(not (k.startswith(f"models.{model}.") or k == "train.loss") for k in change):
            continue
        out.append({"label": base, "change": change, "baseline": {int(p["seed"]): str(p["experiment"]) for p in baseline},
                    "pairs": seed_pairs(baseline, members)})
    return out


def published_change(change: dict, baseline_channels: int | None = None) -> tuple[str, str | None]:
    """``(what the change is, the released run's flag or None when the release has no such run)`` for one of
    our ablations. Fewer channels (any value below ``baseline_channels``) maps to the release's 64 instead of
    100 (x0.64), said with both ratios."""
    if len(change) != 1:
        return " and ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in change.items()), None
    (key, value), = change.items()
    leaf = key.rsplit(".", 1)[-1]
    if key in PUBLISHED_ABLATIONS:
        ours, what, flag = PUBLISHED_ABLATIONS[key]
        return (what, flag) if value == ours else (f"{leaf}={value}", None)
    if key == "models.demucs.channels" and baseline_channels and int(value) < int(baseline_channels):
        full, fewer = PUBLISHED_CHANNELS
        return (f"fewer channels: {baseline_channels} -> {value} (x{int(value) / int(baseline_channels):.2f}; "
                f"released: {full} -> {fewer}, x{fewer / full:.2f})", f"channels={fewer}")
    return f"{leaf}={value}", None


def published_runs(flag: str, published) -> dict[int, str]:
    """The released runs of a change, by seed (``{42: "demucs-1911:<flag>", 43: "demucs-1911:seed=43 <flag>",
    ...}``, those present in the published scores)."""
    present = set(published["system"].unique())
    runs = {s: f"demucs-1911:{flag}" if s == 42 else f"demucs-1911:seed={s} {flag}" for s in PUBLISHED_BASELINE}
    return {s: r for s, r in runs.items() if r in present}


def _delta_with_spread(scores, pairs: dict, baseline_systems: list[str]) -> dict:
    """Paired deltas over seeds; one seed gets the spread of a difference between two single runs,
    ``sqrt(2)`` x the baseline's standard deviation over its seeds."""
    from ..evaluation.aggregate import paired_deltas, seed_spread

    d = paired_deltas(scores, pairs)
    sem, source = d.sem, f"{d.n} seeds"
    if d.n == 1:
        sem = seed_spread(scores, baseline_systems) * math.sqrt(2)
        source = f"1 seed: sqrt(2) x the baseline's seed spread ({len(baseline_systems)} seeds)" \
            if len(baseline_systems) > 1 else "1 seed: no spread"
    return {"mean": d.mean, "sem": sem, "n": d.n, "source": source}


def _yes_no(flag) -> str:
    return "-" if flag is None else ("yes" if flag else "no")


def ablation_table(experiments: list[dict], measured, published=None):
    """Our ablations (:func:`ablation_groups`) against the released Demucs' for the same change.

    Ours: per seed, variant minus baseline of the same seed, paired on our test tracks
    (``evaluation.aggregate.paired_deltas``: median over tracks of the per-track differences, All = mean of the
    four stems), then mean ± standard error over seeds; a single seed gets ``sqrt(2)`` x the standard deviation
    of the baseline over its seeds (the spread of a difference between two single runs), said in ``s.e. from``.
    Published: the same computation on the 50 MUSDB18 test tracks of ``results/published``, each released
    ablation run paired with the released baseline of its seed (``default`` = 42, ``seed=43``...;
    :data:`PUBLISHED_BASELINE`); the released single-seed ablations get sqrt(2) x the spread of the 5 released
    baseline seeds. ``published`` is ``missing`` when the release has no run with that change.
    Columns :data:`ABLATION_COLUMNS`: ``sign agrees`` (our All delta and the released one have the same sign),
    ``beyond 2 s.e.`` (|our All delta| > 2 x its s.e.), ``published beyond 2 s.e.`` likewise. One row per
    ablation whose baseline and variant were both scored for at least one seed; an empty table when none was.
    """
    import pandas as pd

    from ..evaluation.aggregate import load_published

    present = set(measured["system"].unique()) if len(measured) else set()
    rows = []
    published_scores = None
    for ab in ablation_groups(experiments):
        pairs = {s: pair for s, pair in ab["pairs"].items() if set(pair) <= present}
        if not pairs:
            continue
        if published_scores is None:
            published_scores = load_published() if published is None else published
        baseline = [s for s in ab["baseline"].values() if s in present]
        ours = _delta_with_spread(measured, pairs, baseline)
        what, flag = published_change(ab["change"], _baseline_channels(experiments, ab))
        row = {"change": what, "experiment": seeds_label(ab["label"], len(pairs)), "seeds": len(pairs),
               "s.e. from": ours["source"], "note": ""}
        for target in ("drums", "bass", "other", "vocals", "All"):
            row[f"delta {target}"] = float(ours["mean"][target])
            row[f"delta {target} s.e."] = float(ours["sem"][target])
        runs = published_runs(flag, published_scores) if flag else {}
        if runs:
            pub = _delta_with_spread(published_scores, {s: (PUBLISHED_BASELINE[s], r) for s, r in runs.items()},
                                     [PUBLISHED_BASELINE[s] for s in sorted(PUBLISHED_BASELINE)])
            row.update({"published": "; ".join(runs.values()), "published seeds": len(runs),
                        "published delta All s.e.": float(pub["sem"]["All"]), "published s.e. from": pub["source"]})
            for target in ("drums", "bass", "other", "vocals", "All"):
                row[f"published delta {target}"] = float(pub["mean"][target])
            sign = (row["delta All"] > 0) == (row["published delta All"] > 0)
            row["sign agrees"] = _yes_no(sign)
            se = row["published delta All s.e."]
            row["published beyond 2 s.e."] = _yes_no(None if se != se else abs(row["published delta All"]) > 2 * se)
        else:
            row.update({"published": "missing", "published seeds": 0, "sign agrees": "-",
                        "published beyond 2 s.e.": "-",
                        "note": "the released results have no run with this change" if flag is None else
                        f"the released run {flag} is not in the published per-track scores"})
        se = row["delta All s.e."]
        row["beyond 2 s.e."] = _yes_no(None if se != se else abs(row["delta All"]) > 2 * se)
        rows.append(row)
    table = pd.DataFrame(rows, columns=ABLATION_COLUMNS)
    n = measured["track"].nunique() if len(measured) else 0
    table.attrs["caption"] = (
        f"Ablations: SDR delta (dB) of each change against the Demucs baseline, ours on the synthetic test set "
        f"({n} tracks) and the released Demucs' (arXiv 1911.13254) on the MUSDB18 test set (50 tracks). Each delta "
        "is paired: per seed, the variant minus the baseline of the same seed, track by track (per-track medians "
        "over 1 s frames), then the median over tracks per stem and All = mean of the four stems; ± is the "
        "standard error over seeds, or, for one seed, sqrt(2) x the baseline's standard deviation over its seeds "
        "(the spread of a difference between two single runs).")
    return table


def _baseline_channels(experiments: list[dict], ab: dict):
    base = next((p for p in experiments if p["experiment"] in set(ab["baseline"].values())), None)
    if base is None:
        return None
    return ((base.get("models") or {}).get(base.get("model")) or {}).get("channels")


def build_ablation_table(experiments: list[dict], measured, out_dir: str | Path | None = None, published=None):
    """:func:`ablation_table`, written as ``ablations.csv``/``.md`` to ``results/<profile>/tables`` (or
    ``out_dir``) when the profile has an ablation that was scored; returns the table (empty: nothing written)."""
    from .tables import write_ablation_tables

    table = ablation_table(experiments, measured, published)
    if len(table) and experiments:
        out = Path(out_dir) if out_dir else paths.results_dir() / experiments[0]["profile"] / "tables"
        write_ablation_tables(table, out, "ablations")
    return table


# ------------------------------------------------------------------ seeds in the figures
def seed_systems(experiments: list[dict], present=None, several: bool = False) -> dict[str, list[str]]:
    """``{label: [system of each seed]}`` for every seed group (``config.seed_groups``), restricted to the
    systems in ``present`` when given; labels as in the tables (``"demucs (3 seeds)"``, a single run keeps its
    own name). ``several``: only the groups with at least two seeds."""
    from ..config import seed_groups

    out = {}
    for base, members in seed_groups(experiments).items():
        systems = [str(p["experiment"]) for p in members if present is None or p["experiment"] in present]
        if systems and (len(systems) > 1 or not several):
            out[systems[0] if len(systems) == 1 else seeds_label(base, len(systems))] = systems
    return out


def pooled_scores(experiments: list[dict], scores):
    """``scores`` with each system of a seed group renamed to the group's label (a box plot then pools the seeds'
    per-track values: tracks x seeds); other systems (single runs, MIX, IRM2) unchanged."""
    present = set(scores["system"].unique()) if len(scores) else set()
    rename = {s: label for label, systems in seed_systems(experiments, present).items() for s in systems}
    return scores.assign(system=scores["system"].map(lambda s: rename.get(s, s)))


def representatives(experiments: list[dict], systems) -> list[str]:
    """``systems`` with one system per seed group (its lowest seed) instead of every seed; the order of
    ``systems`` is kept and systems that are not experiments (MIX, IRM2) stay."""
    groups = seed_systems(experiments, set(systems))
    dropped = {s for members in groups.values() for s in members[1:]}
    return [s for s in systems if s not in dropped]


def representative_histories(histories: dict[str, dict], experiments: list[dict]) -> dict[str, dict]:
    """The histories of :func:`representatives` (one run per seed group, its lowest seed)."""
    keep = set(representatives(experiments, list(histories)))
    return {name: doc for name, doc in histories.items() if name in keep}
