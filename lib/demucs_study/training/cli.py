"""``python -m demucs_study train --params params/<profile>/<experiment>.yaml``: train an experiment,
or resume it where it stopped (run the same command again after a crash). Under
``torchrun --nproc_per_node N -m demucs_study train ...`` it trains with DistributedDataParallel."""
from __future__ import annotations

import argparse
import os


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m demucs_study train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--params", required=True, help="params/<profile>/<experiment>.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="change a parameter, e.g. --set train.lr=5e-4 (repeatable; enters the experiment name)")
    parser.add_argument("--stop-after-epochs", type=int, default=None, metavar="K",
                        help="stop once K epochs are done in total (not part of the name; run again to continue)")
    parser.add_argument("--no-progress", action="store_true", help="no tqdm bar (one line per epoch only)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads per process")
    return parser


def train(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # OpenMP threads that spin while waiting make torch ~10x slower when other processes share the
    # cores (measured here: 16.8 s instead of 2.3 s per quick step on 2 busy cores); only effective
    # before torch is first imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from ..config import load_params

    params = load_params(args.params, args.overrides)   # a bad params file fails before torch is imported
    from . import dist
    from .experiment import train_experiment

    try:
        result = train_experiment(params, stop_after_epochs=args.stop_after_epochs, progress=not args.no_progress,
                                  device=args.device, threads=args.threads)
    finally:
        dist.teardown()
    if os.environ.get("RANK", "0") != "0":
        return 0
    if result["done"]:
        print(f"done: {result['experiment']!r}, best valid {result['best_valid']:.4f} "
              f"(baseline mixture/4: {result['baseline_valid']:.4f}); model in {result['best']}")
    else:
        print(f"stopped after {result['epochs_done']} epoch(s); run the same command to continue ({result['run_dir']})")
    return 0
