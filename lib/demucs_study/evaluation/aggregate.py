"""Aggregation of per-track BSSEval scores exactly as SiSEC 2018 (Stoeter, Liutkus, Ito 2018).

1. per (system, track, target, metric): median over the 1 s frames, ignoring NaN frames
   (:func:`track_scores_from_json`; the published CSVs are already at this level);
2. per (system, target): median over the test tracks;
3. "All": mean of the four target medians (drums, bass, other, vocals) (:func:`aggregate`);
4. several seeds of one experiment: mean and standard error over seeds of the per-seed
   numbers of step 3 (:func:`aggregate_seeds`).

Differences between two systems (an ablation, remix against no remix) are *paired* on the same test tracks
(:func:`paired_deltas`): per seed, the per-track difference of the medians over frames, aggregated as above
(median over tracks per target, "All" = mean of the four); then mean and standard error over seeds.

Every frame of per-track scores here is "long": columns ``system, track, target, metric, value``,
the layout of ``results/published/*_track_scores.csv``.
"""
from __future__ import annotations

import gzip
import json
import math
import os
from pathlib import Path
from typing import Iterable, Mapping, NamedTuple, Sequence

import numpy as np

from .. import SOURCES
from ..errors import DatasetError

COLUMNS = ["system", "track", "target", "metric", "value"]
METRICS = ("SDR", "SIR", "ISR", "SAR")


def published_dir() -> Path:
    """``<repo>/results/published``: per-track scores of other systems, copied into the repository."""
    from ..paths import repo_root

    return repo_root() / "results" / "published"


def load_published(files: Iterable[str] | None = None, directory: str | os.PathLike | None = None):
    """Read published per-track scores (long format) from ``directory`` (default
    :func:`published_dir`): the given CSV file names, else every ``*_track_scores.csv``."""
    import pandas as pd

    root = Path(directory) if directory is not None else published_dir()
    paths = [root / f for f in files] if files is not None else sorted(root.glob("*_track_scores.csv"))
    if not paths:
        raise DatasetError(f"no *_track_scores.csv in {root}; copy the published scores there (see its README)")
    frames = []
    for path in paths:
        if not path.is_file():
            raise DatasetError(f"published scores file {path} does not exist")
        df = pd.read_csv(path)
        if list(df.columns) != COLUMNS:
            raise DatasetError(f"{path} must have the columns {', '.join(COLUMNS)}, has {', '.join(df.columns)}")
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def load_published_logs(directory: str | os.PathLike | None = None):
    """The per-epoch training logs of the released Demucs runs (``demucs1911_training_logs.csv``:
    run, epoch, train_l1, valid_l1, seconds; see ``results/published/README.md``)."""
    import pandas as pd

    path = (Path(directory) if directory is not None else published_dir()) / "demucs1911_training_logs.csv"
    if not path.is_file():
        raise DatasetError(f"published training logs {path} do not exist (see results/published/README.md)")
    return pd.read_csv(path)


def _read_museval_json(path: Path) -> dict:
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt") as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path} is not a readable museval JSON file: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("targets"), list):
        raise DatasetError(f"{path} is not a museval JSON file (no 'targets' list)")
    return data


def _track_name(path: Path) -> str:
    name = path.name
    for suffix in (".json.gz", ".json"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _frame_median(values: list) -> float:
    """Median over frames ignoring NaN, inf and null (museval writes inf as NaN); NaN if none left."""
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return float(np.median(finite)) if finite else math.nan


def track_scores_from_json(dir_or_files: str | os.PathLike | Iterable[str | os.PathLike],
                           system: str | None = None):
    """Per-track scores (long format) from museval JSON files.

    Args:
        dir_or_files: a folder (every ``*.json`` / ``*.json.gz`` below it, hidden files
            excluded) or a list of files. The track name is the file name without suffix.
        system: the ``system`` column; default the folder's name (of the first file's folder).

    Returns:
        DataFrame ``system, track, target, metric, value``: one row per (track, target, metric),
        value = median over frames ignoring NaN frames (NaN when every frame is NaN).
    """
    import pandas as pd

    if isinstance(dir_or_files, (str, os.PathLike)):
        folder = Path(dir_or_files)
        if not folder.is_dir():
            raise DatasetError(f"evaluation folder {folder} does not exist")
        paths = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")
                       and (p.name.endswith(".json") or p.name.endswith(".json.gz")))
        if not paths:
            raise DatasetError(f"no museval JSON files in {folder}; run `python -m demucs_study evaluate` first")
        default_system = folder.name
    else:
        paths = [Path(p) for p in dir_or_files]
        if not paths:
            raise DatasetError("no museval JSON files given")
        default_system = paths[0].parent.name
    system = system if system is not None else default_system
    rows = []
    seen: dict[str, Path] = {}
    for path in paths:
        track = _track_name(path)
        if track in seen:
            raise DatasetError(f"track {track!r} has two score files: {seen[track]} and {path}")
        seen[track] = path
        for target in _read_museval_json(path)["targets"]:
            frames = target.get("frames", [])
            for metric in METRICS:
                values = [frame["metrics"].get(metric) for frame in frames]
                rows.append((system, track, target["name"], metric, _frame_median(values)))
    return pd.DataFrame(rows, columns=COLUMNS)


def _check_long(df) -> None:
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise DatasetError(f"per-track scores need the columns {', '.join(COLUMNS)}; missing {', '.join(missing)}")


def per_track(df, system: str, metric: str = "SDR"):
    """One system's per-track ``metric`` (median over frames) as a table: a row per track, a column
    per target."""
    _check_long(df)
    rows = df[(df["system"] == system) & (df["metric"] == metric)]
    return rows.pivot(index="track", columns="target", values="value")


def aggregate(df, metric: str = "SDR", targets: Sequence[str] = SOURCES):
    """SiSEC 2018 aggregation: median over tracks per (system, target), "All" = mean of targets.

    Args:
        df: per-track scores, long format (see module docstring); other targets (e.g.
            ``accompaniment``) and metrics are ignored.
        metric: ``"SDR"``, ``"SIR"``, ``"ISR"`` or ``"SAR"``.

    Returns:
        DataFrame indexed by system (sorted), columns ``drums, bass, other, vocals, All`` (dB).
        NaN per-track values are ignored by the median; "All" is NaN if a target is missing.
    """
    _check_long(df)
    sub = df[(df["metric"] == metric) & df["target"].isin(list(targets))]
    if sub.empty:
        raise DatasetError(f"no {metric} scores for the targets {', '.join(targets)} in these per-track scores")
    table = sub.groupby(["system", "target"])["value"].median().unstack("target")
    table = table.reindex(columns=list(targets))
    table["All"] = table[list(targets)].mean(axis=1, skipna=False)
    table.columns.name = None
    return table


class SeedAggregate(NamedTuple):
    """Mean and standard error over seeds, each a DataFrame indexed by group, columns
    ``drums, bass, other, vocals, All``; ``n`` is the number of seeds per group (a Series)."""
    mean: object
    sem: object
    n: object


def aggregate_seeds(df, groups: Mapping[str, Sequence[str]], metric: str = "SDR",
                    targets: Sequence[str] = SOURCES) -> SeedAggregate:
    """Mean and standard error over seeds of the per-seed :func:`aggregate` numbers.

    Args:
        df: per-track scores (long format) holding every system named in ``groups``.
        groups: ``{group name: [system of seed 1, system of seed 2, ...]}``.

    Returns:
        :class:`SeedAggregate` ``(mean, sem, n)``; sem = sample std (ddof 1) / sqrt(n), NaN for
        one seed. E.g. the released Demucs (``demucs-1911:default``, ``seed=43..46``): All 5.58.
    """
    import pandas as pd

    per_system = aggregate(df, metric, targets)
    means, sems, counts = {}, {}, {}
    for group, systems in groups.items():
        systems = list(systems)
        missing = [s for s in systems if s not in per_system.index]
        if not systems or missing:
            raise DatasetError(f"seed group {group!r}: no {metric} scores for system(s) "
                               f"{', '.join(map(repr, missing)) or '(none given)'}")
        block = per_system.loc[systems]
        means[group] = block.mean(axis=0)
        sems[group] = block.std(axis=0, ddof=1) / math.sqrt(len(systems)) if len(systems) > 1 \
            else block.iloc[0] * math.nan
        counts[group] = len(systems)
    return SeedAggregate(pd.DataFrame(means).T, pd.DataFrame(sems).T, pd.Series(counts, name="n"))


class PairedDeltas(NamedTuple):
    """Paired differences (variant minus baseline) on the same test tracks: ``per_seed`` (DataFrame indexed
    by seed, columns ``drums, bass, other, vocals, All``), their ``mean`` and standard error ``sem`` over seeds
    (Series; sem NaN for one seed), ``n`` seeds, and ``tracks`` (Series: tracks paired per target, fewest over
    seeds)."""
    per_seed: object
    mean: object
    sem: object
    n: int
    tracks: object


def paired_deltas(df, pairs: Mapping, metric: str = "SDR", targets: Sequence[str] = SOURCES) -> PairedDeltas:
    """Variant minus baseline, paired on the same test tracks, per seed, then over seeds.

    Args:
        df: per-track scores (long format) holding every system named in ``pairs``.
        pairs: ``{seed: (baseline system, variant system)}`` (one entry per seed; any hashable key).

    Per seed and target: the per-track differences of the per-track values (medians over frames) on the
    tracks where both are finite, then their median over tracks (the SiSEC aggregation applied to the paired
    differences, robust to a track where one stem is nearly silent); ``All`` = mean of the four target
    medians. Over seeds: mean and standard error (sample std, ddof 1, / sqrt(n)). A target with no paired
    track is NaN. Note the median of differences is not the difference of the medians (:func:`aggregate`).
    """
    import pandas as pd

    _check_long(df)
    if not pairs:
        raise DatasetError("paired_deltas: no (baseline, variant) pair given")
    sub = df[(df["metric"] == metric) & df["target"].isin(list(targets))]
    rows, counts = {}, {}
    for seed, (baseline, variant) in pairs.items():
        missing = [s for s in (baseline, variant) if s not in set(sub["system"])]
        if missing:
            raise DatasetError(f"paired_deltas, seed {seed}: no {metric} scores for system(s) "
                               f"{', '.join(map(repr, missing))}")
        a, b = per_track(sub, baseline, metric), per_track(sub, variant, metric)
        row, count = {}, {}
        for target in targets:
            both = pd.concat([a.get(target), b.get(target)], axis=1, keys=["a", "b"]).dropna() \
                if target in a.columns and target in b.columns else pd.DataFrame(columns=["a", "b"])
            diff = both["b"] - both["a"]
            row[target] = float(np.median(diff)) if len(diff) else math.nan
            count[target] = len(diff)
        row["All"] = float(np.mean([row[t] for t in targets]))
        rows[seed], counts[seed] = row, count
    per_seed = pd.DataFrame.from_dict(rows, orient="index")[[*targets, "All"]]
    per_seed.index.name = "seed"
    n = len(per_seed)
    sem = per_seed.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else per_seed.iloc[0] * math.nan
    tracks = pd.DataFrame.from_dict(counts, orient="index").min(axis=0)
    return PairedDeltas(per_seed, per_seed.mean(axis=0), sem, n, tracks)


def seed_spread(df, systems: Sequence[str], metric: str = "SDR", targets: Sequence[str] = SOURCES):
    """The standard deviation over seeds (ddof 1) of the :func:`aggregate` numbers of ``systems`` (the seeds
    of one experiment): a Series ``drums, bass, other, vocals, All``; NaN for fewer than two seeds. ``sqrt(2)``
    times it is the spread of a difference between two single runs (what a one-seed delta is given)."""
    table = aggregate(df[df["system"].isin(list(systems))], metric, targets)
    return table.std(axis=0, ddof=1) if len(table) > 1 else table.iloc[0] * math.nan
