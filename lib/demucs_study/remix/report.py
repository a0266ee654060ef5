"""What the remix notebook (``04_remix``) shows, one function per table or figure.

* :func:`remix_experiments` - the profile's experiments of the remix grid: labeled budget, rho, and for
  each remix run its baseline (the experiment with the same parameters but ``remix.rho = 0``).
* :func:`gain_table` - per pair of runs (one seed): test SDR (SiSEC aggregation: median over tracks of the
  per-track medians over frames) with and without remix per stem, the gain, the paired gain (median over
  tracks of the per-track differences) and on how many test tracks the remixed model is better.
* :func:`gain_summary` / :func:`gain_figure` - per remix experiment (labeled budget, excerpt length L) over
  its seeds: the paired gain's mean and standard error (``evaluation.aggregate.paired_deltas``); the figure
  draws it against the labeled budget and against L, with ±2 s.e. bars.
* :func:`energy_table` / :func:`energy_figure` - the stem-to-mixture levels of the training windows,
  which justify the silence rule (``remix.labels``).
* :func:`classifier_table` / :func:`classifier_figure` - the silence classifier's precision and recall
  per source on validation, per window and per excerpt of length L, for each labeled budget.
* :func:`length_grid` - per budget and excerpt length L (the author's remark: {1, 3, 10} s):
  thresholds calibrated on validation, extraction yield, and, on synthetic unlabeled songs, the
  true precision, leaked energy and recall measured on the hidden stems (:mod:`.truth`);
  :func:`yield_figure`, :func:`truth_figure`.
* :func:`run_yields` - what each remix run trained with (its extraction's yield in minutes).
* :func:`real_yield` - the classifier's yield on the real unlabeled music of ``make real-music``.
* :func:`outcome` - the verdict in words, with its numbers and the likely reasons.

Choices are made on validation only; the test set only measures (nothing here tunes on it).
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .. import SOURCES
from ..config import flatten, require
from .errors import RemixError

#: The excerpt lengths of the author's remark (seconds).
LENGTHS = (1.0, 3.0, 10.0)
_NOT_PAIRED = ("remix.", "report.", "name", "experiment", "params_file")


def _rho(params: dict) -> float:
    return float(require(params, "remix.rho"))


def _fraction(params: dict) -> float:
    return float(require(params, "train.labeled_fraction"))


def _pair_key(params: dict) -> str:
    flat = {k: v for k, v in flatten(params).items() if not any(k == p or k.startswith(p) for p in _NOT_PAIRED)}
    return json.dumps(flat, sort_keys=True, default=str)


def remix_experiments(experiments: Sequence[dict]):
    """One row per remix experiment (``remix.rho`` > 0) of ``experiments`` (``config.profile_experiments``):
    ``experiment``, ``baseline`` (same parameters, seed included, with rho 0; or None), ``labeled_fraction``,
    ``rho``, ``unlabeled_data``, ``excerpt``, ``seed``."""
    import pandas as pd

    baselines = {_pair_key(p): p["experiment"] for p in experiments if _rho(p) == 0}
    rows = [{"experiment": p["experiment"], "baseline": baselines.get(_pair_key(p)), "labeled_fraction": _fraction(p),
             "rho": _rho(p), "unlabeled_data": str(p["remix"]["unlabeled_data"]),
             "excerpt": float(p["remix"]["excerpt"]), "seed": int(p.get("seed", 0))}
            for p in experiments if _rho(p) > 0]
    return pd.DataFrame(rows, columns=["experiment", "baseline", "labeled_fraction", "rho", "unlabeled_data",
                                       "excerpt", "seed"])


def main_excerpt(experiments: Sequence[dict]) -> float | None:
    """The excerpt length L of most remix experiments (the profile's default; the smallest on a tie), None
    without remix experiments."""
    lengths = [float(p["remix"]["excerpt"]) for p in experiments if _rho(p) > 0]
    return min(set(lengths), key=lambda L: (-lengths.count(L), L)) if lengths else None


def gain_table(experiments: Sequence[dict], scores, metric: str = "SDR"):
    """Test ``metric`` without and with remix, per labeled budget and target (``All`` = mean of the
    four): columns ``labeled_fraction, experiment, baseline, target, no_remix, remix, gain, improved,
    tracks, track_gain_min, track_gain_max`` (``improved``: test tracks where the remixed model's
    per-track value is higher; the per-track differences range from ``track_gain_min`` to
    ``track_gain_max``). Pairs whose runs were not both evaluated are left out."""
    import pandas as pd

    from ..evaluation.aggregate import aggregate, paired_deltas, per_track

    pairs = remix_experiments(experiments)
    present = set(scores["system"].unique()) if len(scores) else set()
    rows = []
    for _, pair in pairs.iterrows():
        if pair["baseline"] is None or pair["baseline"] not in present or pair["experiment"] not in present:
            continue
        sub = scores[scores["system"].isin([pair["baseline"], pair["experiment"]])]
        agg = aggregate(sub, metric)
        a, b = per_track(sub, pair["baseline"], metric), per_track(sub, pair["experiment"], metric)
        a["All"], b["All"] = a[list(SOURCES)].mean(axis=1), b[list(SOURCES)].mean(axis=1)
        paired = paired_deltas(sub, {pair["seed"]: (pair["baseline"], pair["experiment"])}, metric).mean
        for target in (*SOURCES, "All"):
            both = pd.concat([a[target], b[target]], axis=1, keys=["a", "b"]).dropna()
            base, remix = float(agg.loc[pair["baseline"], target]), float(agg.loc[pair["experiment"], target])
            diff = both["b"] - both["a"]
            rows.append({"labeled_fraction": pair["labeled_fraction"], "excerpt": pair["excerpt"], "seed": pair["seed"],
                         "experiment": pair["experiment"], "baseline": pair["baseline"], "target": target,
                         "no_remix": base, "remix": remix, "gain": remix - base, "paired_gain": float(paired[target]),
                         "improved": int((diff > 0).sum()), "tracks": len(both),
                         "track_gain_min": float(diff.min()) if len(diff) else math.nan,
                         "track_gain_max": float(diff.max()) if len(diff) else math.nan})
    columns = ["labeled_fraction", "excerpt", "seed", "experiment", "baseline", "target", "no_remix", "remix", "gain",
               "paired_gain", "improved", "tracks", "track_gain_min", "track_gain_max"]
    return pd.DataFrame(rows, columns=columns).sort_values(["labeled_fraction", "excerpt", "seed", "experiment"],
                                                           kind="stable", ignore_index=True)


def gain_summary(experiments: Sequence[dict], scores, metric: str = "SDR"):
    """The gain from remixing over seeds: one row per remix experiment (its seeds grouped by
    ``config.seed_groups``) and target, with the runs of the seeds whose pair (remix and its twin without remix,
    same seed) was evaluated. ``gain``: the paired gain (``evaluation.aggregate.paired_deltas``: per seed, the
    median over test tracks of the per-track differences, All = mean of the stems), mean over seeds;
    ``gain_se``: its standard error over seeds (NaN for one seed); ``no_remix`` / ``remix``: the SiSEC
    aggregates averaged over seeds; ``improved`` / ``tracks``: (seed, track) pairs where the remixed model is
    better, of all; ``track_gain_min`` / ``max``: the range of the per-track differences. Columns
    ``labeled_fraction, excerpt, rho, experiment, baseline, seeds, target, no_remix, remix, gain, gain_se,
    improved, tracks, track_gain_min, track_gain_max``."""
    import pandas as pd

    from ..config import seed_groups, seeds_label, without_seed
    from ..evaluation.aggregate import paired_deltas

    columns = ["labeled_fraction", "excerpt", "rho", "experiment", "baseline", "seeds", "target", "no_remix", "remix",
               "gain", "gain_se", "improved", "tracks", "track_gain_min", "track_gain_max"]
    pairs = gain_table(experiments, scores, metric)
    if pairs.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for base, members in seed_groups([p for p in experiments if _rho(p) > 0]).items():
        names = [p["experiment"] for p in members]
        sub = pairs[pairs["experiment"].isin(names)]
        if sub.empty:
            continue
        seeds = sub.drop_duplicates("experiment")
        d = paired_deltas(scores, {int(r.seed): (r.baseline, r.experiment) for r in seeds.itertuples()}, metric)
        n = len(seeds)
        for target in (*SOURCES, "All"):
            t = sub[sub["target"] == target]
            rows.append({"labeled_fraction": float(t["labeled_fraction"].iloc[0]), "excerpt": float(t["excerpt"].iloc[0]),
                         "rho": _rho(members[0]), "experiment": seeds_label(base, n) if n > 1 else names[0],
                         "baseline": seeds_label(without_seed(t["baseline"].iloc[0]), n) if n > 1 else t["baseline"].iloc[0],
                         "seeds": n, "target": target, "no_remix": float(t["no_remix"].mean()),
                         "remix": float(t["remix"].mean()), "gain": float(d.mean[target]),
                         "gain_se": float(d.sem[target]), "improved": int(t["improved"].sum()),
                         "tracks": int(t["tracks"].sum()), "track_gain_min": float(t["track_gain_min"].min()),
                         "track_gain_max": float(t["track_gain_max"].max())})
    return pd.DataFrame(rows, columns=columns).sort_values(["labeled_fraction", "excerpt", "rho"], kind="stable",
                                                           ignore_index=True)


def _errorbar(ax, rows, x, label, color, lw, with_bars: bool = True):
    se = rows["gain_se"].to_numpy(dtype=float)
    bars = 2 * se if with_bars and np.isfinite(se).any() else None
    if bars is not None:
        bars = np.where(np.isfinite(bars), bars, 0.0)
    ax.errorbar(x, rows["gain"], yerr=bars, marker="o", label=label, color=color, lw=lw, capsize=3 if bars is not None
                else 0)


def gain_figure(summary, metric: str = "SDR"):
    """The paired gain from remixing (:func:`gain_summary`): left, against the labeled budget at the main
    excerpt length (one line per stem, All thick); right, against the excerpt length L at the budget with the
    most lengths (All, and the stems thin). Bars: ±2 standard errors over seeds (none for one seed)."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    if len(summary):
        lengths = summary.drop_duplicates(["labeled_fraction", "excerpt"])
        counts = lengths.groupby("excerpt").size()
        main = float(min(counts.index, key=lambda L: (-counts[L], L)))
        by_budget = lengths.groupby("labeled_fraction")["excerpt"].nunique()
        grid_budget = float(min(by_budget.index, key=lambda f: (-by_budget[f], f)))
        for i, target in enumerate((*SOURCES, "All")):
            rows = summary[(summary["target"] == target) & (summary["excerpt"] == main)].sort_values("labeled_fraction")
            _errorbar(left, rows, 100 * rows["labeled_fraction"], target, "black" if target == "All" else f"C{i}",
                      2.5 if target == "All" else 1.0, with_bars=target == "All")
        left.set_xticks(sorted(set(100 * summary["labeled_fraction"])))
        left.legend(fontsize=7)
        left.set_title(f"against the labeled budget (excerpts of {main:g} s)")
        if by_budget[grid_budget] > 1:
            for i, target in enumerate((*SOURCES, "All")):
                rows = summary[(summary["target"] == target) & (summary["labeled_fraction"] == grid_budget)]
                rows = rows.sort_values("excerpt")
                _errorbar(right, rows, rows["excerpt"], target, "black" if target == "All" else f"C{i}",
                          2.5 if target == "All" else 1.0, with_bars=target == "All")
            right.set_xscale("log")
            right.set_xticks(sorted(set(summary["excerpt"])))
            right.set_xticklabels([f"{L:g}" for L in sorted(set(summary["excerpt"]))])
            right.minorticks_off()           # the log axis' own minor labels ("2 x 10^0") would sit among ours
            right.legend(fontsize=7)
            right.set_title(f"against the excerpt length (labeled budget {100 * grid_budget:g} %)")
        else:
            right.text(0.5, 0.5, f"one excerpt length in this profile ({main:g} s)", ha="center",
                       transform=right.transAxes)
    else:
        for ax in (left, right):
            ax.text(0.5, 0.5, "no evaluated pair of runs (with and without remix)", ha="center", transform=ax.transAxes)
    for ax in (left, right):
        ax.axhline(0.0, color="0.5", lw=1, ls=":")
        ax.set_ylabel(f"paired {metric} gain from remixing (dB)")
    left.set_xlabel("labeled budget (% of the labeled training songs)")
    right.set_xlabel("excerpt length L (s)")
    fig.suptitle("remix minus no remix, same seed and training budget (test set); bars: ±2 s.e. over seeds (All)",
                 fontsize=9)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ the silence rule
def _cache(params: dict):
    from ..data.raw import RawCache
    from ..data.roots import resolve_root

    cache = RawCache(resolve_root(params["dataset"], str(params["profile"])),
                     samplerate=int(require(params, "dataset.samplerate")))
    cache.prepare(["train", "valid"])
    return cache


def energy_table(params: dict):
    """Per 1 s window (every 0.5 s; the classifier's ``remix.classifier.window``/``hop``) of every
    training track: the level of each stem relative to its mixture (``labels.energy_table``)."""
    import pandas as pd

    from .labels import energy_table as table

    cfg = params["remix"]["classifier"]
    return pd.DataFrame(table(_cache(params).tracks("train"), float(cfg["window"]), float(cfg["hop"]),
                              int(require(params, "dataset.samplerate"))))


def energy_figure(energies, relative_db: float, absolute_db: float):
    """Histogram per source of the stem-to-mixture level over the windows (digital silence in its own bar at
    the left), with the silence threshold: the gap it sits in is what makes the labels robust."""
    import matplotlib.pyplot as plt

    from .labels import FLOOR_DB

    fig, axes = plt.subplots(1, len(SOURCES), figsize=(3.2 * len(SOURCES), 3.2), sharey=True)
    bins = np.arange(-80, 6, 2.5)
    for ax, s in zip(axes, SOURCES):
        rel = energies[f"{s}_rel_db"].to_numpy()
        digital = energies[f"{s}_db"].to_numpy() <= FLOOR_DB
        ax.hist(np.clip(rel[~digital], bins[0], bins[-1]), bins=bins, color="C0")
        ax.bar(bins[0] - 5, digital.sum(), width=4, color="0.4")
        ax.axvline(relative_db, color="C3", ls="--", lw=1.2, label=f"silent below {relative_db:g} dB")
        ax.set_title(f"{s}: {100 * digital.mean():.0f} % digital silence")
        ax.set_xlabel("stem level - mixture level (dB)")
        ax.set_yscale("log")
    axes[0].set_ylabel("windows")
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"training windows; leftmost bar: digital silence; also silent: a stem below {absolute_db:g} dBFS",
                 fontsize=9)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ classifier, extraction, truth
def budgets(experiments: Sequence[dict]) -> list[dict]:
    """One remix experiment per labeled budget, in increasing budget: the one at the main excerpt length
    (:func:`main_excerpt`) with the lowest seed. The classifier and the extractions are the same for every
    remix run of a budget and seed with the same remix parameters (other seeds have their own: the budget's
    songs are drawn from the seed)."""
    main = main_excerpt(experiments)
    seen, out = set(), []
    order = lambda p: (_fraction(p), float(p["remix"]["excerpt"]) != main, int(p.get("seed", 0)))  # noqa: E731
    for p in sorted((p for p in experiments if _rho(p) > 0), key=order):
        if _fraction(p) not in seen:
            seen.add(_fraction(p))
            out.append(p)
    return out


def _budget_classifier(params: dict, log: Callable):
    from .prepare import budget_tracks, prepare_classifier

    cache = _cache(params)
    tracks = budget_tracks(params, cache)
    return cache, tracks, prepare_classifier(params, cache, tracks, log=log)


def length_grid(experiments: Sequence[dict], lengths: Sequence[float] = LENGTHS, log: Callable = print) -> dict:
    """Per labeled budget (:func:`budgets`) and excerpt length: thresholds calibrated on validation,
    the extraction (cached under ``runs/<profile>/_remix``), and on synthetic unlabeled songs its true
    precision, leak and recall. Returns ``{"table": DataFrame (one row per budget, L and source),
    "calibration": DataFrame (validation precision/recall per budget, L and source), "excerpts":
    DataFrame (every accepted excerpt of each budget's own L, with its true leak), "manifests":
    {(fraction, L): manifest}}``. A length where nothing can be extracted (songs shorter than L, no
    threshold reaches the target precision, nothing above it) gets rows of zeros and the reason."""
    import pandas as pd

    from .extract import window_scores
    from .prepare import classifier_config, prepare_extraction, unlabeled_folder
    from .truth import measure_extractions, truth_folder

    rows, calib, excerpts, manifests, done = [], [], [], {}, []
    for params in budgets(experiments):
        cache, tracks, classifier = _budget_classifier(params, log)
        folder = unlabeled_folder(params, cache.root)
        memo: dict = {}

        def scores(hop, classifier=classifier, folder=folder, memo=memo):
            if hop not in memo:
                memo[hop] = window_scores(classifier["classifier"], folder, hop)
            return memo[hop]

        fraction = _fraction(params)
        for length in lengths:
            try:
                ex = prepare_extraction(params, cache, classifier, folder, length=length, log=log, scores=scores)
            except RemixError as exc:
                calibration = _read_calibration(params, classifier, folder, length)
                rows += [_grid_row(fraction, len(tracks), length, s, None,
                                   _nothing(exc, folder, length, calibration, s)) for s in params["remix"]["sources"]]
                _calibration_rows(calib, fraction, length, calibration)
                continue
            manifests[(fraction, float(length))] = ex["manifest"]
            done.append((params, len(tracks), float(length), ex["manifest"]))
            _calibration_rows(calib, fraction, length, ex["calibration"])
    # the hidden stems, read once for every extraction of one unlabeled folder (synthetic songs only)
    truths: list = [None] * len(done)
    by_folder: dict = {}
    for i, (params, _, _, m) in enumerate(done):
        by_folder.setdefault((m["folder"], json.dumps(classifier_config(params)["relative_db"]),
                              json.dumps(classifier_config(params)["absolute_db"])), []).append(i)
    for (_, rel, absolute), indices in by_folder.items():
        if truth_folder(done[indices[0]][3]).is_dir():
            measured = measure_extractions([done[i][3] for i in indices], relative_db=json.loads(rel),
                                           absolute_db=json.loads(absolute), with_excerpts=True)
            for i, t in zip(indices, measured):
                truths[i] = t
    for (params, labeled, length, m), truth in zip(done, truths):
        fraction = _fraction(params)
        for s in m["sources"]:
            note = "" if m["yield"][s]["excerpts"] else (
                f"no threshold reaches the target precision on validation excerpts of {length:g} s"
                if m["thresholds"].get(s) is None else "no excerpt above the threshold")
            row = _grid_row(fraction, labeled, length, s, m, note)
            if truth is not None:
                t = truth["sources"][s]
                row.update({k: t[k] for k in ("precision", "leak_db_mean", "leak_db_median", "leak_db_p90",
                                              "recall", "silent_excerpts")})
            rows.append(row)
        if truth is not None and length == float(params["remix"]["excerpt"]):
            excerpts += [{"labeled_fraction": fraction, "length": length, **e} for e in truth["excerpts"]]
    order = {s: k for k, s in enumerate(SOURCES)}
    table = pd.DataFrame(rows, columns=_GRID_COLUMNS)
    table = table.sort_values(["labeled_fraction", "length", "source"], key=lambda c: c.map(order) if c.name == "source"
                              else c, kind="stable", ignore_index=True)
    return {"table": table, "calibration": pd.DataFrame(calib, columns=_CAL_COLUMNS),
            "excerpts": pd.DataFrame(excerpts, columns=["labeled_fraction", "length", "track", "source", "start",
                                                        "leak_db", "truly_silent"]),
            "manifests": manifests}


def _nothing(exc: Exception, folder: Path, length: float, calibration: dict | None, source: str) -> str:
    """Why an extraction of ``length`` found nothing for ``source``, in a few words."""
    text = str(exc)
    if "shorter than segment" in text:
        return f"every unlabeled song is shorter than {length:g} s"
    if "found no excerpt" in text:
        if calibration is not None and calibration["thresholds"].get(source) is None:
            return f"no threshold reaches the target precision on validation excerpts of {length:g} s"
        return "no excerpt above the threshold"
    return _reason(exc, folder)


def _reason(exc: Exception, folder: Path) -> str:
    """The first sentence of an error, without the machine's paths (for the notebook's tables)."""
    from .errors import describe

    text = str(exc).split(";")[0]
    for form in {str(folder), str(Path(folder).absolute()), str(Path(folder).resolve())}:
        text = text.replace(form, describe(folder))
    return text


_GRID_COLUMNS = ["labeled_fraction", "labeled_tracks", "length", "source", "threshold", "minutes", "excerpts",
                 "excerpt_minutes", "scanned_minutes", "precision", "leak_db_mean", "leak_db_median", "leak_db_p90",
                 "recall", "silent_excerpts", "note"]
_CAL_COLUMNS = ["labeled_fraction", "length", "source", "threshold", "precision", "recall", "selected", "positives",
                "windows"]


def _grid_row(fraction: float, labeled: int, length: float, source: str, manifest: dict | None, note: str) -> dict:
    row = {c: math.nan for c in _GRID_COLUMNS}
    y = (manifest or {}).get("yield", {}).get(source, {"minutes": 0.0, "excerpts": 0, "excerpt_minutes": 0.0})
    row.update({"labeled_fraction": fraction, "labeled_tracks": labeled, "length": float(length), "source": source,
                "threshold": (manifest or {}).get("thresholds", {}).get(source), "minutes": y["minutes"],
                "excerpts": y["excerpts"], "excerpt_minutes": y["excerpt_minutes"],
                "scanned_minutes": (manifest or {}).get("scanned_minutes", math.nan), "note": note})
    return row


def _read_calibration(params: dict, classifier: dict, folder: Path, length: float) -> dict | None:
    from ..utils import read_json
    from .prepare import CALIBRATION, extraction_dir

    path = extraction_dir(params, classifier["dir"], folder, length) / CALIBRATION
    return read_json(path) if path.is_file() else None


def _calibration_rows(out: list, fraction: float, length: float, calibration: dict | None) -> None:
    if calibration is None:
        return
    for s, m in calibration["valid"].items():
        out.append({"labeled_fraction": fraction, "length": float(length), "source": s,
                    "threshold": calibration["thresholds"].get(s), **{k: m.get(k) for k in _CAL_COLUMNS[4:]}})


def classifier_table(experiments: Sequence[dict], log: Callable = print):
    """The silence classifier of each labeled budget on the validation split, per source: at its window
    thresholds (chosen there for ``remix.classifier.target_precision``) and at one half, with the
    number of truly silent windows. Columns ``labeled_fraction, labeled_tracks, source, threshold,
    precision, recall, precision@0.5, recall@0.5, positives, windows, best_epoch, seconds``."""
    import pandas as pd

    rows = []
    for params in budgets(experiments):
        _, tracks, c = _budget_classifier(params, log)
        for s, m in (c["valid"] or {}).items():
            rows.append({"labeled_fraction": _fraction(params), "labeled_tracks": len(tracks), "source": s,
                         **{k: m.get(k) for k in ("threshold", "precision", "recall", "precision@0.5", "recall@0.5",
                                                  "positives", "windows")},
                         "best_epoch": c["best_epoch"], "seconds": c["total_seconds"]})
    return pd.DataFrame(rows)


def classifier_figure(classifier, calibration, lengths: Sequence[float] = LENGTHS):
    """Precision and recall per source on validation: per 1 s window (the classifier's thresholds) and per
    excerpt of each length (the calibrated thresholds), one panel per labeled budget. A missing bar:
    no threshold reaches the target precision (nothing extracted)."""
    import matplotlib.pyplot as plt

    fractions = sorted(set(classifier["labeled_fraction"])) if len(classifier) else []
    fig, axes = plt.subplots(1, max(1, len(fractions)), figsize=(5.5 * max(1, len(fractions)), 3.4), squeeze=False)
    for ax, fraction in zip(axes[0], fractions):
        kinds = [("window", classifier[classifier["labeled_fraction"] == fraction])]
        for length in lengths:
            sub = calibration[(calibration["labeled_fraction"] == fraction) & (calibration["length"] == length)]
            if len(sub):
                kinds.append((f"{length:g} s", sub))
        x = np.arange(len(SOURCES))
        width = 0.8 / len(kinds)
        for i, (kind, sub) in enumerate(kinds):
            by = sub.set_index("source")
            for metric, hatch, shift in (("precision", "", 0.0), ("recall", "//", width / 2)):
                values = [by[metric].get(s) if s in by.index else None for s in SOURCES]
                values = [np.nan if v is None else float(v) for v in values]
                ax.bar(x + i * width + shift - 0.4 + width / 4, values, width / 2, color=f"C{i}", hatch=hatch,
                       edgecolor="white", label=f"{kind} {metric}")
        ax.set_xticks(x)
        ax.set_xticklabels(SOURCES)
        ax.set_ylim(0, 1.45)
        ax.set_yticks(np.linspace(0, 1, 6))
        ax.set_title(f"labeled budget {100 * fraction:g} %")
        ax.legend(fontsize=6, ncol=4, loc="upper center")
    axes[0][0].set_ylabel("validation precision / recall (hatched)")
    fig.tight_layout()
    return fig


def yield_figure(grid):
    """Extraction yield (minutes of distinct audio) per source and excerpt length, per labeled budget."""
    import matplotlib.pyplot as plt

    fractions = sorted(set(grid["labeled_fraction"])) if len(grid) else []
    fig, axes = plt.subplots(1, max(1, len(fractions)), figsize=(5 * max(1, len(fractions)), 3.3), squeeze=False,
                             sharey=True)
    for ax, fraction in zip(axes[0], fractions):
        sub = grid[grid["labeled_fraction"] == fraction]
        lengths = sorted(set(sub["length"]))
        sources = [s for s in SOURCES if s in set(sub["source"])]
        width = 0.8 / max(1, len(lengths))
        for i, length in enumerate(lengths):
            by = sub[sub["length"] == length].set_index("source")
            ax.bar(np.arange(len(sources)) + i * width - 0.4 + width / 2, [by["minutes"].get(s, 0.0) for s in sources],
                   width, color=f"C{i}", label=f"L = {length:g} s")
        ax.set_xticks(np.arange(len(sources)))
        ax.set_xticklabels(sources)
        scanned = sub["scanned_minutes"].max()
        ax.set_title(f"budget {100 * fraction:g} %; {scanned:.0f} min scanned" if scanned == scanned
                     else f"budget {100 * fraction:g} %")
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("extracted audio (min, distinct)")
    fig.tight_layout()
    return fig


def truth_figure(grid, excerpts):
    """Left: the share of extracted excerpts whose source is truly silent (hidden stems), per source and
    length. Right: the leaked energy of the excerpts of the runs' own L (true stem level relative to the
    excerpt; digital silence at the left edge), per source."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.4))
    found = grid[grid["excerpts"] > 0] if len(grid) else grid
    for i, (key, sub) in enumerate(found.groupby(["labeled_fraction", "length"])):
        sub = sub.set_index("source")
        sources = [s for s in SOURCES if s in sub.index]
        left.plot([SOURCES.index(s) for s in sources], [sub.loc[s, "precision"] for s in sources], marker="o",
                  color=f"C{i}", label=f"budget {100 * key[0]:g} %, L = {key[1]:g} s")
    left.set_xticks(range(len(SOURCES)))
    left.set_xticklabels(SOURCES)
    left.set_ylim(-0.02, 1.02)
    left.set_ylabel("true precision")
    left.legend(fontsize=7)
    if len(excerpts):
        bins = np.arange(-80, 6, 2.5)
        for s in SOURCES:
            leak = excerpts[excerpts["source"] == s]["leak_db"].to_numpy()
            if len(leak):
                right.hist(np.clip(leak, bins[0], bins[-1]), bins=bins, histtype="step", lw=1.5,
                           color=f"C{SOURCES.index(s)}", label=f"{s} ({len(leak)})")
        right.legend(fontsize=7)
    else:
        right.text(0.5, 0.5, "no excerpt with ground truth", ha="center", transform=right.transAxes)
    right.set_xlabel("leaked energy: true stem level - excerpt level (dB)")
    right.set_ylabel("excerpts")
    fig.tight_layout()
    return fig


def run_yields(experiments: Sequence[dict]):
    """What each remix run trained with, from its ``history.json`` (``remix`` entry): the extraction's
    yield per source in minutes, the remixed items' length and count."""
    import pandas as pd

    from ..training.runs import HISTORY, run_dir
    from ..utils import read_json

    rows = []
    for p in experiments:
        if _rho(p) == 0 or not (run_dir(p) / HISTORY).is_file():
            continue
        info = read_json(run_dir(p) / HISTORY).get("remix") or {}
        y = info.get("yield", {})
        rows.append({"experiment": p["experiment"], "extra data": p["report"]["extra_data"],
                     **{f"{s} (min)": y[s]["minutes"] for s in SOURCES if s in y},
                     "total (min)": sum(v["minutes"] for v in y.values()), "remixed excerpts": info.get("items"),
                     "example length (s)": info.get("length", 0) / int(p["dataset"]["samplerate"])})
    return pd.DataFrame(rows)


def real_yield(params: dict, log: Callable = print):
    """The silence classifier of ``params``' labeled budget on the real music of ``make real-music``
    (``<data>/real-unlabeled``): yield per source at ``remix.excerpt`` (no ground truth there). None
    when the folder is not there."""
    import pandas as pd

    from .. import paths
    from .prepare import REAL_FOLDER, prepare_extraction

    folder = paths.data_dir() / REAL_FOLDER
    if not folder.is_dir():
        return None
    cache, tracks, classifier = _budget_classifier(params, log)
    try:
        ex = prepare_extraction(params, cache, classifier, folder, log=log)
    except RemixError as exc:
        return pd.DataFrame([{"source": s, "minutes": 0.0, "excerpts": 0, "note": _reason(exc, folder)}
                             for s in params["remix"]["sources"]])
    m = ex["manifest"]
    return pd.DataFrame([{"source": s, "threshold": m["thresholds"][s], **m["yield"][s],
                          "scanned_minutes": m["scanned_minutes"], "files": len(m["tracks"])} for s in m["sources"]])


# ------------------------------------------------------------------ the verdict
def _verdict(row) -> tuple[bool, str]:
    """(helped, words) for one budget's All row of :func:`gain_summary`: with several seeds, the paired gain
    against twice its standard error; with one, its sign and the majority of tracks."""
    se = row["gain_se"]
    if se == se:   # several seeds
        if row["gain"] > 2 * se:
            return True, "helps here (beyond twice its standard error)"
        if row["gain"] < -2 * se:
            return False, "hurts here (beyond twice its standard error)"
        return False, "does not help here beyond twice its standard error"
    better = row["gain"] > 0 and row["improved"] > row["tracks"] / 2
    return better, "helps here" if better else "does not help here"


def _gain_text(row) -> str:
    se = row["gain_se"]
    return f"{row['gain']:+.2f}" + (f" ± {se:.2f}" if se == se else "")


def outcome(summary, classifier, grid, experiments: Sequence[dict]) -> str:
    """The outcome in words (Markdown), from :func:`gain_summary`: per labeled budget at the main excerpt
    length the paired gain (All ± s.e. over seeds, per stem, tracks improved), the verdict (several seeds: the
    gain against twice its standard error; one seed: its sign and most tracks), the gain per excerpt length
    where several were run, and the likely reasons read from the measured numbers: the classifier's
    validation precision, the extraction's true precision and leaked energy, the yield, the training budget."""
    if not len(summary):
        return "No pair of evaluated runs with and without remix: nothing to conclude."
    main = main_excerpt(experiments)
    at_main = summary[summary["excerpt"] == main] if main is not None else summary
    lines, helped = [], []
    for fraction, sub in at_main.groupby("labeled_fraction"):
        by = sub.set_index("target")
        allg = by.loc["All"]
        per = ", ".join(f"{t} {by.loc[t, 'gain']:+.2f}" for t in SOURCES)
        better, words = _verdict(allg)
        helped.append(better)
        seeds = int(allg["seeds"])
        over = f" over {seeds} seeds" if seeds > 1 else ""
        pairs = "(seed, track) pairs" if seeds > 1 else "test tracks"
        lines.append(f"- **Labeled budget {100 * fraction:g} %**: SDR {allg['no_remix']:.2f} dB without remix, "
                     f"{allg['remix']:.2f} dB with (paired gain All **{_gain_text(allg)} dB**{over}; {per}); the "
                     f"remixed model is better on {allg['improved']} of {allg['tracks']} {pairs} (per-track gains "
                     f"from {allg['track_gain_min']:+.2f} to {allg['track_gain_max']:+.2f} dB): remixing {words}.")
    verdict = ("Remixing helped at every labeled budget." if all(helped) else
               "Remixing did not help at any labeled budget." if not any(helped) else
               "Remixing helped at some labeled budgets only.")
    lengths = summary[summary["target"] == "All"]
    for fraction, sub in lengths.groupby("labeled_fraction"):
        if sub["excerpt"].nunique() > 1:
            parts = [f"{r.excerpt:g} s {_gain_text(r._asdict())} dB ({r.seeds} seed{'s' if r.seeds > 1 else ''})"
                     for r in sub.sort_values("excerpt").itertuples()]
            lines.append(f"- **Excerpt length** (labeled budget {100 * fraction:g} %): paired gain All "
                         + ", ".join(parts) + ".")
    reasons = []
    p0 = experiments[0] if experiments else {}
    rho = max((_rho(p) for p in experiments), default=0.0)
    for fraction in sorted(set(at_main["labeled_fraction"])):
        g = grid[(grid["labeled_fraction"] == fraction)] if len(grid) else grid
        L = main
        g = g[g["length"] == L] if len(g) and L is not None else g
        c = classifier[classifier["labeled_fraction"] == fraction] if len(classifier) else classifier
        if len(c):
            prec = ", ".join(f"{r.source} {_pct(r.precision)} / {_pct(r.recall)}" for r in c.itertuples()
                             if r.source in (p0.get("remix", {}).get("sources") or SOURCES))
            reasons.append(f"- Budget {100 * fraction:g} %: the classifier's validation precision / recall per window: "
                           f"{prec}.")
        if len(g):
            parts = []
            for r in g.itertuples():
                if r.excerpts:
                    truth = "" if r.precision != r.precision else \
                        f", truly silent {_pct(r.precision)}, mean leak {r.leak_db_mean:.0f} dB"
                    parts.append(f"{r.source} {r.minutes:.1f} min{truth}")
                else:
                    parts.append(f"{r.source} nothing")
            reasons.append(f"  Extraction at L = {L:g} s: {'; '.join(parts)}.")
    reasons.append(f"- Budget: every run trains the same steps on the same batch size; with rho = {rho:g} the remixed "
                   f"items replace {100 * rho:g} % of the labeled items of each batch, so a remix run sees that much "
                   "less labeled audio per step. The test set is small: gains of a few tenths of a dB are within "
                   "the spread between tracks" + (" and seeds." if (summary["seeds"] > 1).any() else "."))
    return "\n".join([f"**{verdict}**", "", *lines, "", "Likely reasons (measured):", *reasons])


def _pct(value) -> str:
    return "n/a" if value is None or value != value else f"{100 * float(value):.0f} %"
