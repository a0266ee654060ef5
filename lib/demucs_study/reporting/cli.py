"""The reporting commands: ``table`` (a profile's comparison tables from its per-track results) and
``run-notebook`` (one step of the study's DAG: a notebook executed with papermill)."""
from __future__ import annotations

import argparse


def table(argv: list[str] | None = None) -> int:
    """``python -m demucs_study table --profile P``: rebuild the profile's comparison tables (and its ablation
    table, when it has ablations) from the per-track results in ``results/<P>/evals`` and ``results/published``
    into ``results/<P>/tables``."""
    from ..config import load_params, profile_experiments
    from ..evaluation.testset import measured_scores
    from ..paths import params_dir
    from .paper import build_ablation_table, build_tables
    from .tables import ablation_markdown, to_markdown

    p = argparse.ArgumentParser(prog="python -m demucs_study table", description=table.__doc__.split("\n")[0])
    p.add_argument("--profile", default="quick", help="the profile whose results are tabulated")
    p.add_argument("--out", default=None, help="output folder (default results/<profile>/tables)")
    args = p.parse_args(argv)
    params = load_params(params_dir() / args.profile / "defaults.yaml")
    experiments, scores = profile_experiments(args.profile), measured_scores(args.profile)
    for name, t in build_tables(params, experiments, scores, args.out).items():
        print(f"## {name}\n\n{to_markdown(t)}\n")
    ablations = build_ablation_table(experiments, scores, args.out)
    if len(ablations):
        print(f"## ablations\n\n{ablation_markdown(ablations)}\n")
    return 0


def run_notebook(argv: list[str] | None = None) -> int:
    """``python -m demucs_study run-notebook NOTEBOOK PARAMS_FILE``: execute a notebook for the
    profile of PARAMS_FILE, skipped when its stamp says it is up to date."""
    from .runner import run_notebook as run

    p = argparse.ArgumentParser(prog="python -m demucs_study run-notebook", description=run_notebook.__doc__)
    p.add_argument("notebook")
    p.add_argument("params_file", help="params/<profile>/<experiment>.yaml (or data.yaml, defaults.yaml)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--output", help="name of the executed copy (default: from the notebook and experiment)")
    p.add_argument("--stamp", help="stamp file that marks the step done (default results/<profile>/.done/<output>)")
    p.add_argument("--force", action="store_true", help="run even if the step is up to date")
    p.add_argument("--no-html", action="store_true")
    p.add_argument("--after", nargs="*", default=[], metavar="STAMP",
                   help="stamps of the steps this one depends on (their hashes enter this step's hash)")
    a = p.parse_args(argv)
    run(a.notebook, a.params_file, a.overrides, a.output, a.stamp, a.force, not a.no_html, after=a.after)
    return 0
