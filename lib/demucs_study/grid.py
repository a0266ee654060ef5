"""Generated profiles: a grid of experiments (seeds, ablations, the remix grid) kept as data here and written
as one small YAML per experiment, so that the Makefile enumerates them and a reviewer reads them.

``python -m demucs_study grid extended`` writes ``params/extended/`` from :data:`GRIDS`; a test checks that the
files on disk are exactly what the grid says (:func:`check_grid`), so the two cannot drift apart. A grid
profile is built on a *base* profile:

* ``data.yaml``: the base's, with ``dataset.synth_folder: <base>`` (it reads the base's synthetic set; nothing
  is rendered again);
* ``defaults.yaml``: the base's (the same budget per run), with ``runs_from: <base>`` (the base's finished runs
  of the same training parameters are copied instead of trained again: ``training.experiment.reuse_run``) and
  the grid's own keys (:attr:`Grid.extra_defaults`);
* one file per experiment and seed, named by the experiment (``demucs glu=False seed=43`` ->
  ``demucs_glu-False_seed-43.yaml``; ``=`` is not safe in a make target);
* ``README.md``: what the grid runs, which seeds each part has and why, and the expected wall time from the
  costs measured on this machine (:data:`COSTS`, :func:`estimate`).
"""
from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import yaml

from .config import DATA_FILE, DEFAULTS_FILE, load_params, profile_experiments
from .errors import ParamsError

README = "README.md"
#: The seeds of a fully replicated part (42 is the seed of the base profile's runs, reused).
SEEDS = (42, 43, 44)
#: The base name, model and display name of each main system (the base profile's experiment files say the same).
SYSTEMS = {"demucs": ({}, "Demucs"), "waveunet": ({"model": "waveunet"}, "Wave-U-Net"),
           "mmdenselstm": ({"model": "mmdense"}, "MMDenseLSTM")}


@dataclass(frozen=True)
class Entry:
    """Experiments of one grid cell: the base name (the file's ``name``), the parameters it changes (nested),
    its seeds, which part of the grid it belongs to and one line saying what it is."""
    part: str
    name: str
    changes: dict
    seeds: tuple[int, ...]
    what: str


@dataclass(frozen=True)
class Grid:
    """A generated profile: its base profile, its own default keys, its entries and its README text."""
    profile: str
    base: str
    title: str
    extra_defaults: str            # YAML (with its comments): the profile's own keys besides runs_from
    entries: tuple[Entry, ...]
    plan: str = ""                 # README: the seeds of each part and why (Markdown)
    timed: bool = True             # README: the expected wall time (from COSTS, measured on the quick profile)
    parts: dict = field(default_factory=dict)   # part -> its title in the README


def _remix(fraction: float, excerpt: float | None = None, rho: float = 0.25) -> dict:
    changes: dict = {"train": {"labeled_fraction": fraction}} if fraction != 1.0 else {}
    if rho:
        changes["remix"] = {"rho": rho, **({"excerpt": excerpt} if excerpt is not None else {})}
        changes["report"] = {"extra_data": "{unlabeled}"}   # filled from the base's data (number of songs)
    return changes


#: Excerpt lengths trained besides the default 3 s. 10 s is measured (notebook 04's length grid: calibration, yield,
#: truth) but not trained: on the quick data no validation excerpt of 10 s has a silent source, so no threshold
#: can be chosen and the extraction finds nothing (remix.prepare raises RemixError), which is itself the finding.
TRAINED_LENGTHS = (1.0,)


def extended_entries(seeds: Sequence[int] = SEEDS, middle_seeds: Sequence[int] = (42,),
                     excerpt_seeds: Sequence[int] = (42,), ablation_seeds: Sequence[int] = (42,)) -> tuple[Entry, ...]:
    """The extended grid (issue 13) with the seeds of each part (see :data:`EXTENDED_PLAN` for why)."""
    seeds, middle, excerpt, ablation = tuple(seeds), tuple(middle_seeds), tuple(excerpt_seeds), tuple(ablation_seeds)
    out = [Entry("main", name, changes, seeds, what) for name, (changes, what) in SYSTEMS.items()]
    for fraction, cell_seeds in ((0.25, seeds), (0.5, middle), (1.0, seeds)):
        share = f"{fraction:.0%} of the labeled songs"
        if fraction != 1.0:   # 100 % without remix is the main Demucs
            out.append(Entry("remix", "demucs", _remix(fraction, rho=0.0), cell_seeds, f"Demucs on {share}, no remix"))
        out.append(Entry("remix", "demucs", _remix(fraction), cell_seeds,
                         f"Demucs on {share}, a quarter of every batch remixed (excerpts of 3 s)"))
    for length in TRAINED_LENGTHS:
        out.append(Entry("excerpt", "demucs", _remix(0.25, excerpt=length), excerpt,
                         f"Demucs on 25% of the labeled songs, remixed excerpts of {length:g} s"))
    ablations = [({"models": {"demucs": {"glu": False}}}, "ReLU instead of GLU"),
                 ({"models": {"demucs": {"lstm_layers": 0}}}, "no BiLSTM"),
                 ({"models": {"demucs": {"rewrite": False}}}, "no rewrite (1x1) convolutions"),
                 ({"models": {"demucs": {"rescale": 0.0}}}, "no initial weight rescaling"),
                 ({"models": {"demucs": {"context": 1}}}, "decoder context 1 instead of 3"),
                 ({"train": {"loss": "mse"}}, "MSE instead of L1"),
                 ({"models": {"demucs": {"channels": 10}}}, "fewer channels: 10 instead of 16 (x0.62; the released "
                                                            "ablation: 64 instead of 100, x0.64)")]
    out += [Entry("ablation", "demucs", changes, ablation, f"ablation: {what}") for changes, what in ablations]
    return tuple(out)


EXTENDED_PLAN = """\
The issue's whole grid (3 seeds everywhere) is about 4.9 hours of work here; the profile must finish within 3
hours, so the grid keeps the issue's priorities: **3 seeds (42, 43, 44) for the three main systems and for the
remix grid's two ends** (labeled budget 25 % and 100 %, with and without remix, excerpts of 3 s), **one seed (42)
for the rest**: the 50 % budget (with and without remix), excerpts of 1 s (at the 25 % budget), and each of the
seven ablations. Excerpts of 10 s are not trained: on this data no validation excerpt of 10 s has a silent
source, so no threshold can be calibrated and the extraction finds nothing (notebook 04's length grid measures
calibration, yield and truth at 1, 3 and 10 s, and says so). A single-seed delta has no spread of its own: the tables give it the seed spread
of a difference between two runs, estimated from the baseline's three seeds (sqrt(2) x their standard
deviation), and say so. Seed 42 of Demucs, Wave-U-Net, MMDenseLSTM and of the quick profile's three remix runs
is the quick profile's run, reused (`runs_from: quick`): only its evaluation runs here.

Cut, in this order, to fit: seeds 43 and 44 of the ablations (7 x 2 runs, 86 min), of the 1 s excerpts (2 runs,
15 min) and of the 50 % budget (4 runs, 29 min). More seeds for a part: raise its seeds in
`lib/demucs_study/grid.py` (`extended_entries`), run `python -m demucs_study grid extended`, then
`make paper-results PROFILE=extended` again: finished runs are kept, only the new ones train.
"""

#: The museval cross-check of notebook 03 (~35 s per system) is the base profile's: same data, same backend.
MUSEVAL_OFF = ("eval:\n  museval_check: 0       # no museval re-scoring in notebook 03: the base profile checks the fast "
               "backend\n                         # on the same test tracks (~35 s per system saved)\n")

GRIDS: dict[str, Grid] = {
    "extended": Grid(
        profile="extended", base="quick",
        title="The extended profile: seeds, the ablation grid and the remix grid, with their spread",
        extra_defaults=MUSEVAL_OFF,
        entries=extended_entries(), plan=EXTENDED_PLAN,
        parts={"main": "the main systems", "remix": "the remix grid (labeled budget x remix, excerpts of 3 s)",
               "excerpt": "the remix grid: excerpt length", "ablation": "the ablation grid"}),
    # the smoke-size twin of a subset of the extended grid: what tests/test_paper_results_extended.py runs
    "extended-smoke": Grid(
        profile="extended-smoke", base="smoke",
        title="The smoke-size twin of a subset of the extended profile (the test suite)",
        extra_defaults=MUSEVAL_OFF,
        entries=(Entry("main", "demucs", {}, (42, 43), "Demucs"),
                 Entry("ablation", "demucs", {"models": {"demucs": {"glu": False}}}, (42,),
                       "ablation: ReLU instead of GLU")),
        plan="Two experiments of the extended grid at the smoke profile's size, seeded as in `extended`: Demucs with two "
             "seeds, its `glu=False` ablation with one (its ± from the baseline's seed spread): the test of the extended "
             "DAG (seed groups, paired deltas, run reuse from `smoke`).\n",
        timed=False,
        parts={"main": "the main systems", "ablation": "the ablation grid"}),
}

# ------------------------------------------------------------------ measured costs and the expected time
#: Minutes of wall time on this machine (2 cores, no GPU), measured on the quick profile: a training run (6 x
#: ~50 s epochs with validation for Demucs; Wave-U-Net and MMDenseLSTM have the same wall-clock budget), the
#: remix overhead (~0.1 s per step, 6 x 67 steps), a silence classifier (per labeled budget and seed), the
#: separation and fast scoring of one system on the 8 test tracks, the overhead of one notebook step, and the
#: profile's fixed steps. ``extraction`` (calibration and scan of the 150 unlabeled songs for one L) and
#: ``04_remix`` are estimates, not measurements.
COSTS = {"train": {"demucs": 5.0, "waveunet": 5.3, "mmdense": 5.3}, "remix_steps": 0.67, "classifier": 1.0,
         "extraction": 0.5, "evaluate": 0.75, "notebook": 0.2,
         "fixed": {"01_data": 1.5, "04_remix": 4.0, "05_paper": 1.5, "06_explore": 1.0}}


def _fill(value, unlabeled: str):
    if isinstance(value, dict):
        return {k: _fill(v, unlabeled) for k, v in value.items()}
    return unlabeled if value == "{unlabeled}" else value


def slug(experiment: str) -> str:
    """The file name (without ``.yaml``) of an experiment: ``"demucs glu=False seed=43"`` ->
    ``"demucs_glu-False_seed-43"``."""
    out = experiment.replace(" ", "_").replace("=", "-")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", out):
        raise ParamsError(f"experiment name {experiment!r} gives the file name {out!r}, which is not safe in a make "
                          "target; use letters, digits, '.', '-' and '_' in names and values")
    return out


def _experiment_text(grid: Grid, entry: Entry, seed: int, unlabeled: str) -> str:
    body = {"name": entry.name, **({"seed": seed} if seed != 42 else {}), **_fill(entry.changes, unlabeled)}
    head = (f"# {grid.profile}, {grid.parts.get(entry.part, entry.part)}: {entry.what}; seed {seed}.\n"
            f"# Generated by `python -m demucs_study grid {grid.profile}` (lib/demucs_study/grid.py): do not edit.\n")
    return head + yaml.safe_dump(body, sort_keys=False, default_flow_style=False)


def _strip_head(text: str) -> str:
    """``text`` without its leading comment lines (the base file's own header)."""
    lines = text.splitlines(keepends=True)
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)
    return "".join(lines)


def _defaults_text(grid: Grid, base_text: str) -> str:
    base = yaml.safe_load(base_text) or {}
    extra = yaml.safe_load(grid.extra_defaults) or {}
    if not isinstance(extra, dict):
        raise ParamsError(f"the grid {grid.profile}'s extra_defaults must be a YAML mapping")
    own = {"runs_from": grid.base, **extra}
    clash = sorted(set(base) & set(own))
    if clash:
        raise ParamsError(f"params/{grid.base}/{DEFAULTS_FILE} sets {', '.join(clash)}, which the grid {grid.profile} "
                          "sets too (lib/demucs_study/grid.py, extra_defaults): merge them there by hand")
    head = (f"# {grid.title}.\n# The {grid.base} profile's defaults (below its own keys, unchanged: the same budget per "
            f"run) with this profile's keys. Generated by\n# `python -m demucs_study grid {grid.profile}` from "
            f"params/{grid.base}/{DEFAULTS_FILE} and lib/demucs_study/grid.py: do not edit.\n")
    own_text = (f"runs_from: {grid.base}          # finished runs of {grid.base} with the same training parameters are "
                "reused (training.experiment.reuse_run)\n")
    own_text += grid.extra_defaults
    body = _strip_head(base_text)
    return head + own_text + (body if body.strip() not in ("", "{}") else "")


def _data_text(grid: Grid, base_text: str) -> str:
    base = yaml.safe_load(base_text) or {}
    if "synth_folder" in (base.get("dataset") or {}):
        raise ParamsError(f"params/{grid.base}/{DATA_FILE} already sets dataset.synth_folder: a grid profile reads "
                          "its base profile's own synthetic set")
    body, n = re.subn(r"^dataset:[^\n]*\n", f"dataset:\n  synth_folder: {grid.base}   # the {grid.base} profile's "
                      "synthetic set (data.roots.synth_label): nothing is rendered again\n",
                      _strip_head(base_text), count=1, flags=re.M)
    expected = {**base, "dataset": {"synth_folder": grid.base, **(base.get("dataset") or {})}}
    if n != 1 or yaml.safe_load(body) != expected:
        raise ParamsError(f"params/{grid.base}/{DATA_FILE}: cannot add dataset.synth_folder under its 'dataset:' line "
                          "(expected a top-level block 'dataset:' indented by two spaces)")
    head = (f"# {grid.title}: the {grid.base} profile's dataset, read from its folder. Generated by\n"
            f"# `python -m demucs_study grid {grid.profile}` from params/{grid.base}/{DATA_FILE}: do not edit.\n")
    return head + body


@dataclass
class Rendered:
    """What a grid writes: ``files`` (file name -> text, the README last) and ``experiments`` (the params of
    every experiment, as :func:`demucs_study.config.load_params` gives them, in file order)."""
    files: dict
    experiments: list
    entries: dict = field(default_factory=dict)   # experiment name -> its Entry


def render(grid: Grid, params_root: Path | None = None) -> Rendered:
    """Every file of ``grid``'s profile folder, from the base profile's files under ``params_root`` (default
    ``params/``); the experiment names are the ones :func:`~demucs_study.config.load_params` gives."""
    from .paths import params_dir

    root = Path(params_root or params_dir())
    base = root / grid.base
    if not (base / DEFAULTS_FILE).is_file() or not (base / DATA_FILE).is_file():
        raise ParamsError(f"the grid {grid.profile} is built on the profile {grid.base}, but {base} has no "
                          f"{DEFAULTS_FILE} and {DATA_FILE}")
    files = {DATA_FILE: _data_text(grid, (base / DATA_FILE).read_text()),
             DEFAULTS_FILE: _defaults_text(grid, (base / DEFAULTS_FILE).read_text())}
    songs = (yaml.safe_load((base / DATA_FILE).read_text())["dataset"].get("synth") or {}).get("unlabeled")
    unlabeled = f"unlabeled ({songs} songs), remixed"
    texts = [(e, s, _experiment_text(grid, e, s, unlabeled)) for e in grid.entries for s in e.seeds]
    experiments: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / grid.profile
        folder.mkdir()
        if (root / DEFAULTS_FILE).is_file():
            (Path(tmp) / DEFAULTS_FILE).write_text((root / DEFAULTS_FILE).read_text())
        for name, text in files.items():
            (folder / name).write_text(text)
        named = {}
        for i, (entry, seed, text) in enumerate(texts):
            path = folder / f"e{i}.yaml"
            path.write_text(text)
            params = load_params(path)
            file = f"{slug(params['experiment'])}.yaml"
            if file in named:
                raise ParamsError(f"the grid {grid.profile} holds the experiment {params['experiment']!r} twice "
                                  f"({entry.what}; {named[file][0].what}): remove one in lib/demucs_study/grid.py")
            named[file] = (entry, text)
            experiments[file] = params
    for file in sorted(named):
        files[file] = named[file][1]
        experiments[file] = {**experiments[file], "params_file": f"params/{grid.profile}/{file}"}
    ordered = [experiments[f] for f in sorted(experiments)]
    entries = {experiments[f]["experiment"]: named[f][0] for f in named}
    files[README] = readme(grid, ordered, entries, root)
    return Rendered(files=files, experiments=ordered, entries=entries)


# ------------------------------------------------------------------ what is reused, what it costs
def _remix_keys(params: dict) -> tuple | None:
    if float(params["remix"]["rho"]) <= 0:
        return None
    return (float(params["train"]["labeled_fraction"]), int(params["seed"]))


def estimate(experiments: Sequence[dict], base_experiments: Sequence[dict], costs: dict = COSTS) -> list[dict]:
    """The expected wall time of each experiment of a grid (minutes, :data:`COSTS`): training (none when the
    base profile has a run with the same ``train_hash``: reused), the remix overhead, a new silence classifier
    per (labeled budget, seed) and a new extraction per (budget, seed, L) that the base profile does not have,
    evaluation, and the two notebook steps. One row per experiment: ``experiment``, ``model``, ``seed``,
    ``reused``, ``train``, ``remix``, ``evaluate``, ``minutes``."""
    from .training.experiment import train_hash

    base_hashes = {train_hash(p) for p in base_experiments}
    classifiers = {_remix_keys(p) for p in base_experiments} - {None}
    extractions = {(*_remix_keys(p), float(p["remix"]["excerpt"])) for p in base_experiments if _remix_keys(p)}
    rows = []
    for p in experiments:
        reused = train_hash(p) in base_hashes
        train = 0.0 if reused else costs["train"][p["model"]]
        remix = 0.0
        keys = _remix_keys(p)
        if keys is not None and not reused:
            remix += costs["remix_steps"]
            if keys not in classifiers:
                remix += costs["classifier"]
                classifiers.add(keys)
            if (*keys, float(p["remix"]["excerpt"])) not in extractions:
                remix += costs["extraction"]
                extractions.add((*keys, float(p["remix"]["excerpt"])))
        evaluate = costs["evaluate"] + 2 * costs["notebook"]
        rows.append({"experiment": p["experiment"], "model": p["model"], "seed": int(p["seed"]), "reused": reused,
                     "train": train, "remix": remix, "evaluate": evaluate, "minutes": train + remix + evaluate})
    return rows


def total_minutes(rows: Sequence[dict], costs: dict = COSTS) -> float:
    """The experiments' minutes plus the profile's fixed steps (data, remix, paper, explorer notebooks)."""
    return sum(r["minutes"] for r in rows) + sum(costs["fixed"].values())


def readme(grid: Grid, experiments: Sequence[dict], entries: dict, params_root: Path) -> str:
    """``params/<profile>/README.md``: the grid, its seeds, what is reused and the expected time."""
    base_experiments = profile_experiments(grid.base, params_root)
    rows = estimate(experiments, base_experiments)
    by_name = {r["experiment"]: r for r in rows}
    lines = [f"# `{grid.profile}`: {grid.title[0].lower() + grid.title[1:]}", "",
             f"Generated by `python -m demucs_study grid {grid.profile}` (`lib/demucs_study/grid.py`); do not edit: a "
             "test checks that this folder is what the grid says. `make paper-results PROFILE="
             f"{grid.profile}` runs it (the same DAG and notebooks as every profile). The data and the budget per run "
             f"are the `{grid.base}` profile's (`data.yaml` reads its synthetic set, `defaults.yaml` is its "
             f"defaults); runs of `{grid.base}` with the same training parameters are reused (`runs_from: "
             f"{grid.base}`), the evaluation is done again.", "", "## The grid", "", grid.plan.strip(), "",
             "| part | experiment | what | seeds | reused from " + grid.base + " |" + (" minutes |" if grid.timed else ""),
             "|---|---|---|---|---|" + ("---:|" if grid.timed else "")]
    from .config import without_seed

    for entry in grid.entries:
        members = [m for m in experiments if entries[m["experiment"]] is entry]
        seeds = ", ".join(str(int(m["seed"])) for m in members)
        reused = ", ".join(str(int(m["seed"])) for m in members if by_name[m["experiment"]]["reused"]) or "-"
        minutes = sum(by_name[m["experiment"]]["minutes"] for m in members)
        lines.append(f"| {grid.parts.get(entry.part, entry.part)} | `{without_seed(members[0]['experiment'])}` | "
                     f"{entry.what} | {seeds} | {reused} |" + (f" {minutes:.1f} |" if grid.timed else ""))
    trained = sum(1 for r in rows if not r["reused"])
    if grid.timed:
        fixed = sum(COSTS["fixed"].values())
        total = total_minutes(rows)
        lines += ["", "## Expected time", "",
                  f"{len(rows)} experiments, {trained} trained here and {len(rows) - trained} reused from `{grid.base}`: "
                  f"**{total:.0f} minutes** ({total / 60:.1f} hours) of wall time on this machine (2 cores, no GPU), "
                  f"from the costs measured on the `{grid.base}` profile (`grid.COSTS`, minutes): training "
                  + ", ".join(f"{m} {c:g}" for m, c in COSTS["train"].items())
                  + f"; a remix run adds {COSTS['remix_steps']:g} (0.1 s per step) plus {COSTS['classifier']:g} for a "
                  f"new silence classifier (one per labeled budget and seed) and {COSTS['extraction']:g} for a new "
                  f"extraction (estimate); separating and scoring one system {COSTS['evaluate']:g}; "
                  f"{COSTS['notebook']:g} per notebook step (two per experiment); the fixed steps {fixed:g} ("
                  + ", ".join(f"{k} {v:g}" for k, v in COSTS["fixed"].items()) + "; 04_remix is an estimate). "
                  f"Training {sum(r['train'] for r in rows):.0f} min, remix set-up {sum(r['remix'] for r in rows):.0f} "
                  f"min, evaluation and notebooks {sum(r['evaluate'] for r in rows):.0f} min, fixed steps {fixed:g} min."]
    lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------ writing and checking the folder
def _grid(profile: str) -> Grid:
    if profile not in GRIDS:
        raise ParamsError(f"no grid named {profile!r}: the generated profiles are {', '.join(sorted(GRIDS))} "
                          "(lib/demucs_study/grid.py, GRIDS)")
    return GRIDS[profile]


def _generated(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*") if p.is_file() and (p.suffix == ".yaml" or p.name == README))


def check_grid(profile: str, params_root: Path | None = None) -> list[str]:
    """How ``params/<profile>/`` differs from what its grid says: a list of ``"missing: f"``, ``"extra: f"``,
    ``"differs: f"`` (empty when the folder is current)."""
    from .paths import params_dir

    root = Path(params_root or params_dir())
    want = render(_grid(profile), root).files
    folder = root / profile
    have = {p.name: p.read_text() for p in _generated(folder)} if folder.is_dir() else {}
    out = [f"missing: {f}" for f in want if f not in have]
    out += [f"extra: {f}" for f in have if f not in want]
    out += [f"differs: {f}" for f in want if f in have and have[f] != want[f]]
    return sorted(out)


def write_grid(profile: str, params_root: Path | None = None) -> list[Path]:
    """Write ``params/<profile>/`` from its grid (atomically, file by file); experiment files that the grid
    no longer holds are removed. Returns the files written."""
    from .paths import params_dir
    from .utils import atomic_path

    root = Path(params_root or params_dir())
    files = render(_grid(profile), root).files
    folder = root / profile
    folder.mkdir(parents=True, exist_ok=True)
    for stale in _generated(folder):
        if stale.name not in files:
            stale.unlink()
    written = []
    for name, text in files.items():
        path = folder / name
        if not path.is_file() or path.read_text() != text:
            with atomic_path(path) as tmp:
                tmp.write_text(text)
            written.append(path)
    return written


def expected_seconds_note(rows: Sequence[dict]) -> str:
    """One line: how many experiments train and the expected hours (for the command's output)."""
    total = total_minutes(rows)
    return (f"{len(rows)} experiments ({sum(not r['reused'] for r in rows)} trained here): about "
            f"{total:.0f} minutes")
