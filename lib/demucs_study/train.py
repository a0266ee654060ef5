"""Train an experiment: ``python -m demucs_study train --params params/<profile>/<experiment>.yaml``.

One loop for every model mapping a mixture ``(B, 2, T)`` to stems ``(B, 4, 2, T')`` (paper.md,
"Training"): L1 (or MSE) loss, Adam, ``train.epochs`` epochs of ``train.repeat`` passes over the
training windows, the augmentations (train only) with the mixture re-made as the sum of the
augmented stems, targets centre-trimmed to the output length, validation loss on whole tracks after
every epoch, the best model (lowest validation loss) kept.

Lengths: training windows hold ``segment + shift`` seconds; the Shift augmentation crops ``segment``
seconds, which are then centre-cropped to the longest input the model accepts
(``training.batches.input_length``: for Demucs, valid lengths are 4096 samples apart, so at most
4095 samples go); the mixture is their sum, and the stems are centre-trimmed to the model's output
(for Demucs about 10,900 samples shorter than its input). Validation separates each whole track
with ``separate.apply_model`` (no shift trick, chunks of ``separate.segment`` s with
``separate.overlap``, bounded memory) and measures the training loss against the stems, both
normalised as the training windows (``data.datasets.normalize``); ``baseline_valid`` is the same
loss for the estimate mixture / 4 for every stem. A checkpoint after every epoch holds
everything needed to resume bit for bit; start the same command again after a crash and it continues.
Under ``torchrun --nproc_per_node N -m demucs_study train ...`` it trains with
DistributedDataParallel (gloo on CPU, nccl on GPU); ``train.batch_size`` is the global batch.

Files: ``runs/<profile>/<experiment name>/{checkpoint.th, history.json, best.th}`` (see
:mod:`demucs_study.training.experiment`). Notebooks call :func:`train_experiment`,
:func:`load_history`, :func:`run_dir` and :func:`best_model_path`. Importing this module imports
torch only when a function needs it.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from .errors import StudyError
from .utils import read_json

__all__ = ["train_experiment", "load_history", "run_dir", "best_model_path", "main"]


def run_dir(params: dict) -> Path:
    """``<runs_dir>/<profile>/<experiment name>`` (``/`` in the name replaced by ``_``)."""
    from .training.experiment import run_dir as _run_dir

    return _run_dir(params)


def best_model_path(params: dict) -> Path:
    """Where the best model of the experiment is (or will be) saved: ``run_dir(params) / "best.th"``."""
    from .training.experiment import BEST

    return run_dir(params) / BEST


def load_history(run_dir: str | Path) -> dict:
    """The ``history.json`` of a run folder: ``{"history": [{"epoch", "train", "valid", "best", "best_epoch",
    "seconds", "lr"}, ...], "baseline_valid", "best_valid", "best_epoch", "done", ...}``."""
    path = Path(run_dir) / "history.json"
    if not path.is_file():
        raise StudyError(f"no training log {path}: this experiment has not trained yet; run python -m "
                         "demucs_study train --params <its params file>")
    return read_json(path)


def train_experiment(params: dict, stop_after_epochs: int | None = None, progress: bool = True,
                     device: str | None = None, threads: int | None = None) -> dict:
    """Train, resume, or (if finished) return at once; see :func:`demucs_study.training.experiment.train_experiment`.

    Returns ``{"run_dir", "checkpoint", "best", "history", "baseline_valid", "best_valid", "epochs_done",
    "done", "experiment"}``.
    """
    from .training.experiment import train_experiment as _train

    return _train(params, stop_after_epochs=stop_after_epochs, progress=progress, device=device, threads=threads)


def build_parser() -> argparse.ArgumentParser:
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # OpenMP threads that spin while waiting make torch ~10x slower when other processes share the
    # cores (measured here: 16.8 s instead of 2.3 s per quick step on 2 busy cores); only effective
    # before torch is first imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from .config import load_params

    params = load_params(args.params, args.overrides)
    try:
        result = train_experiment(params, stop_after_epochs=args.stop_after_epochs, progress=not args.no_progress,
                                  device=args.device, threads=args.threads)
    finally:
        from .training import dist

        if dist.torch.distributed.is_initialized():
            dist.torch.distributed.destroy_process_group()
    if os.environ.get("RANK", "0") != "0":
        return 0
    if result["done"]:
        print(f"done: {result['experiment']!r}, best valid {result['best_valid']:.4f} "
              f"(baseline mixture/4: {result['baseline_valid']:.4f}); model in {result['best']}")
    else:
        print(f"stopped after {result['epochs_done']} epoch(s); run the same command to continue ({result['run_dir']})")
    return 0
