"""Train one experiment: data, model, augmentations, resume, epochs, checkpoints and logs.

Files of a run, in ``runs/<profile>/<experiment>/`` (:func:`run_dir`; the experiment's name is used
as is, spaces and ``=`` included, with ``/`` replaced by ``_``):

* ``checkpoint.th`` - after every epoch (see :mod:`.checkpoint`), atomic;
* ``history.json`` - after every epoch, atomic: one entry per epoch (``epoch``, ``train``, ``valid``,
  ``best``, ``best_epoch``, ``seconds``, ``lr``) plus ``baseline_valid`` (the validation loss of
  predicting mixture / 4 for every stem), ``best_valid``, ``done``;
* ``best.th`` - at the end: the model of the epoch with the lowest validation loss, written by
  :func:`demucs_study.models.io.save_model` (loads with ``weights_only=True``).

Reproducibility: the model is built after ``seed_everything(seed)``; the augmentations of rank r
draw from generators seeded by ``seed * 256 + r``; the windows of epoch e are shuffled by a generator
seeded from (seed, e) (:mod:`.batches`). The checkpoint stores every generator's state (per rank),
so a run stopped after epoch k and resumed ends with the same weights, bit for bit, as one that
never stopped (same device, thread count and number of processes).
"""
from __future__ import annotations

import copy
import math
import os
import sys
import time
from pathlib import Path

import torch

from .. import paths
from ..config import NAME_EXCLUDED, flatten, params_hash
from ..errors import ParamsError, StudyError
from ..utils import read_json, seed_everything, write_json
from . import batches as B
from . import dist, rng
from .checkpoint import cpu_state, load_checkpoint, save_checkpoint, FORMAT_VERSION
from .loop import loss_function, train_epoch, validate

CHECKPOINT = "checkpoint.th"
HISTORY = "history.json"
BEST = "best.th"
#: Parameters that do not change what is learnt, so a checkpoint made with other values still resumes:
#: those that never enter the experiment's name, where the evaluation happens, and the number of epochs
#: (a run given more epochs continues from its last checkpoint).
HASH_EXCLUDED = (*NAME_EXCLUDED, "experiment", "params_file", "separate", "eval", "train.epochs")


class TrainingDiverged(StudyError, RuntimeError):
    """The loss became NaN or infinite."""


def safe_name(experiment: str) -> str:
    """The folder name of an experiment: its name with ``/`` (and NUL) replaced by ``_``."""
    return experiment.replace("/", "_").replace("\0", "_")


def run_dir(params: dict) -> Path:
    """``<runs_dir>/<profile>/<experiment>``: where the run of ``params`` keeps its files."""
    return paths.runs_dir() / str(params["profile"]) / safe_name(str(params["experiment"]))


def train_hash(params: dict) -> str:
    """Hash of the parameters that change what is learnt (all but :data:`HASH_EXCLUDED`)."""
    flat = flatten({k: v for k, v in params.items()})
    kept = {k: v for k, v in flat.items()
            if not any(k == e or k.startswith(e + ".") for e in HASH_EXCLUDED)}
    return params_hash(kept)


def _param(params: dict, dotted: str):
    node = params
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ParamsError(f"parameter {dotted} is missing from {params.get('params_file', 'the parameters')}; "
                              "every key of params/<profile>/defaults.yaml is needed")
        node = node[part]
    return node


def _finished(folder: Path, expected_hash: str, epochs: int) -> dict | None:
    """The history of a finished run with these parameters, else None."""
    history_file = folder / HISTORY
    if not (history_file.is_file() and (folder / BEST).is_file()):
        return None
    try:
        history = read_json(history_file)
    except (OSError, ValueError):
        return None
    if history.get("done") and history.get("params_hash") == expected_hash and history.get("epochs_done") == epochs:
        return history
    return None


def _result(folder: Path, history: dict) -> dict:
    return {"run_dir": folder, "checkpoint": folder / CHECKPOINT,
            "best": folder / BEST if history.get("done") else None, "history": history["history"],
            "baseline_valid": history.get("baseline_valid"), "best_valid": history.get("best_valid"),
            "epochs_done": history["epochs_done"], "done": bool(history.get("done")),
            "experiment": history["experiment"]}


def _set_threads(d: dist.Dist, threads: int | None) -> None:
    if threads:
        torch.set_num_threads(int(threads))
    elif d.local_world > 1 and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // d.local_world))


def _data(params: dict, d: dist.Dist):
    """(train windows, the raw cache); rank 0 generates the data set and fills the cache first."""
    from ..data.datasets import TrainWindows
    from ..data.musdb import resolve_root
    from ..data.raw import RawCache

    samplerate = int(params["dataset"]["samplerate"])

    def prepare():
        root = resolve_root(params["dataset"], str(params["profile"]))
        cache = RawCache(root, samplerate=samplerate)
        cache.prepare(["train", "valid"])
        return cache

    if d.is_main:
        cache = prepare()
    dist.barrier(d)
    if not d.is_main:
        cache = prepare()
    tp = params["train"]
    windows = TrainWindows(cache, "train", segment=float(tp["segment"]), stride=float(tp["stride"]),
                           shift=float(tp["shift"]), samplerate=samplerate)
    return windows, cache


def _valid_tracks(cache, d: dist.Dist):
    """This rank's share of the validation tracks (every ``world``-th one), loaded one at a time."""
    from ..data.datasets import iter_tracks

    return iter_tracks(cache, cache.tracks("valid")[d.rank::d.world])


def _separator(params: dict):
    """Validation separates each whole track with ``separate.apply_model`` (no shift trick), in chunks
    of ``separate.segment`` seconds with ``separate.overlap`` (bounded memory on long tracks)."""
    from ..separate import apply_model

    segment = float(_param(params, "separate.segment"))
    overlap = float(_param(params, "separate.overlap"))

    def run(model, mix):
        return apply_model(model, mix, shifts=0, split=True, segment=segment, overlap=overlap)

    return run


def _history_doc(params, h, epochs, history, baseline, best_loss, best_epoch, d, done) -> dict:
    return {"experiment": params["experiment"], "profile": params["profile"], "params_hash": h,
            "epochs": epochs, "epochs_done": len(history), "done": done, "baseline_valid": baseline,
            "best_valid": best_loss if math.isfinite(best_loss) else None, "best_epoch": best_epoch,
            "world_size": d.world, "device": d.device, "threads": torch.get_num_threads(),
            "total_seconds": sum(e["seconds"] for e in history), "history": history,
            "params": params}


def _log(message: str) -> None:
    print(message, flush=True)


def train_experiment(params: dict, stop_after_epochs: int | None = None, progress: bool = True,
                     device: str | None = None, threads: int | None = None) -> dict:
    """Train (or resume, or return at once if finished) the experiment of ``params``.

    ``params``: from :func:`demucs_study.config.load_params`. ``stop_after_epochs``: stop once that
    many epochs are done in total (the run resumes later with the same call without it).
    ``progress``: a tqdm bar per epoch when stderr is a terminal (never in notebooks or CI logs);
    one line per epoch is printed either way. ``device``: "cpu"/"cuda" (default: cuda if any).
    ``threads``: torch CPU threads (default: torch's, or cores / processes under torchrun).
    Started by ``torchrun`` it trains with DistributedDataParallel (``train.batch_size`` is the
    global batch) and only rank 0 writes files.

    Returns ``{"run_dir", "checkpoint", "best" (None until done), "history" (list of epoch dicts),
    "baseline_valid", "best_valid", "epochs_done", "done", "experiment"}``.
    """
    folder = run_dir(params)
    epochs = int(_param(params, "train.epochs"))
    if epochs < 1:
        raise ParamsError(f"train.epochs={epochs} must be >= 1 ({params.get('params_file', 'the parameters')})")
    h = train_hash(params)
    finished = _finished(folder, h, epochs)
    if finished is not None:
        return _result(folder, finished)

    d = dist.setup(device)
    _set_threads(d, threads)
    tp = params["train"]
    seed = int(_param(params, "seed"))
    samplerate = int(_param(params, "dataset.samplerate"))
    batch_size, repeat = int(_param(params, "train.batch_size")), int(_param(params, "train.repeat"))
    remix_group = int(_param(params, "train.remix_group") or 0)
    shift = int(round(float(_param(params, "train.shift")) * samplerate))
    loss_fn = loss_function(str(_param(params, "train.loss")))
    where = params.get("params_file", "the parameters")

    windows, cache = _data(params, d)
    B.check_batching(len(windows), batch_size, d.world, remix_group, where)

    from ..augment import generator_states, make_augmentations
    from ..models import build_model, save_model

    model_name = str(_param(params, "model"))
    model_kwargs = dict(_param(params, f"models.{model_name}"))
    seed_everything(seed)
    model = build_model(model_name, **model_kwargs).to(d.device)
    augment = make_augmentations(shift=shift, flip=bool(tp["flip"]), remix_group=remix_group,
                                 generator_seed=seed * 256 + d.rank)
    generators = {name: sub.generator for name, sub in augment.named_modules() if hasattr(sub, "generator")}
    assert set(generators) == set(generator_states(augment))
    optimizer = torch.optim.Adam(model.parameters(), lr=float(_param(params, "train.lr")))
    length = B.input_length(model, windows[0].shape[-1] - shift)

    checkpoint_path = folder / CHECKPOINT
    history: list[dict] = []
    best_state, best_loss, best_epoch, baseline = None, math.inf, 0, None
    start = 0
    if checkpoint_path.is_file():
        ck = load_checkpoint(checkpoint_path)
        if ck["params_hash"] != h or ck["epoch"] > epochs:
            if d.is_main:
                _log(f"{checkpoint_path}: made with other parameters (or more epochs); training from the start")
        else:
            model.load_state_dict(ck["model"])
            optimizer.load_state_dict(ck["optimizer"])
            best_state, best_loss, best_epoch = ck["best_state"], float(ck["best_loss"]), int(ck["best_epoch"])
            history, baseline, start = list(ck["history"]), ck["baseline_valid"], int(ck["epoch"])
            if ck["world_size"] == d.world:
                rng.restore(ck["rng"][d.rank], generators)
            elif d.is_main:
                _log(f"resuming with {d.world} process(es) from a checkpoint of {ck['world_size']}: the random "
                     "streams restart, so the result will differ from an uninterrupted run")
            if d.is_main and start < epochs:
                _log(f"resuming {params['experiment']!r} after epoch {start}/{epochs}")

    if start == 0 and d.is_main:
        (folder / BEST).unlink(missing_ok=True)  # a best model of other parameters must not pass for this run's

    net = model
    if d.distributed:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[d.local_rank] if d.device.startswith("cuda") else None)

    separator = _separator(params)
    show_bar = bool(progress) and d.is_main and sys.stderr.isatty()
    stop = epochs if stop_after_epochs is None else min(epochs, int(stop_after_epochs))
    sampler_state = {"scheme": "torch.Generator seeded by batches.epoch_seed(seed, epoch)", "seed": seed,
                     "epoch": start, "state": B.epoch_generator(seed, start).get_state()}
    for epoch in range(start, stop):
        began = time.perf_counter()
        shuffle = B.epoch_generator(seed, epoch)
        local = [B.shard(b, d.rank, d.world) for b in B.epoch_batches(len(windows), batch_size, repeat, shuffle)]
        total, count = train_epoch(net, windows, local, augment, optimizer, loss_fn, length, d.device,
                                   workers=int(tp.get("workers") or 0), progress=show_bar,
                                   desc=f"epoch {epoch + 1}/{epochs}")
        total, count = dist.all_sum(d, [total, count])
        sampler_state = {**sampler_state, "epoch": epoch + 1, "state": shuffle.get_state()}

        v = validate(model, _valid_tracks(cache, d), loss_fn, d.device, separate=separator,
                     baseline=baseline is None)
        v_loss, v_base, v_tracks = dist.all_sum(d, [v["loss"], v["baseline"], v["tracks"]])
        valid_loss = v_loss / v_tracks
        if not (math.isfinite(total / count) and math.isfinite(valid_loss)):
            raise TrainingDiverged(f"{params['experiment']!r} diverged at epoch {epoch + 1} (train loss "
                                   f"{total / count}, valid loss {valid_loss}); lower train.lr (now {tp['lr']}) "
                                   f"or check the data; the checkpoint of epoch {epoch} is kept in {folder}")
        if baseline is None:
            baseline = v_base / v_tracks
        if valid_loss < best_loss:
            best_loss, best_epoch, best_state = valid_loss, epoch + 1, cpu_state(model.state_dict())
        entry = {"epoch": epoch + 1, "train": total / count, "valid": valid_loss, "best": best_loss,
                 "best_epoch": best_epoch, "seconds": time.perf_counter() - began,
                 "lr": optimizer.param_groups[0]["lr"]}
        history.append(entry)
        rng_states = dist.gather_to_all(d, rng.capture(generators))
        if d.is_main:
            save_checkpoint(checkpoint_path, {
                "format_version": FORMAT_VERSION, "experiment": params["experiment"], "params": copy.deepcopy(params),
                "params_hash": h, "epoch": epoch + 1, "model": cpu_state(model.state_dict()),
                "best_state": best_state, "best_loss": best_loss, "best_epoch": best_epoch,
                "optimizer": optimizer.state_dict(), "history": history, "baseline_valid": baseline,
                "world_size": d.world, "rng": rng_states, "sampler": sampler_state})
            write_json(folder / HISTORY, _history_doc(params, h, epochs, history, baseline, best_loss, best_epoch,
                                                      d, done=False))
            _log(f"epoch {epoch + 1:>3}/{epochs}  train {entry['train']:.4f}  valid {valid_loss:.4f}  "
                 f"best {best_loss:.4f} (epoch {best_epoch})  baseline {baseline:.4f}  {entry['seconds']:.1f}s")

    done = len(history) >= epochs
    doc = _history_doc(params, h, epochs, history, baseline, best_loss, best_epoch, d, done=done)
    if done and d.is_main:
        best = build_model(model_name, **model_kwargs)
        best.load_state_dict(best_state)
        save_model(best, folder / BEST, extra={"experiment": str(params["experiment"]),
                                               "profile": str(params["profile"]), "epoch": best_epoch,
                                               "valid_loss": best_loss, "params_hash": h})
        write_json(folder / HISTORY, doc)
    dist.barrier(d)
    return _result(folder, doc)
