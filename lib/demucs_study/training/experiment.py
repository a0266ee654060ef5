"""Train one experiment: :func:`train_experiment`, a short sequence of named steps.

One loop for every model of ``demucs_study.models`` (``models.base.Separator``): L1 (or MSE) loss
between ``model(mix)`` and ``model.target(stems, output)``, Adam, ``train.epochs`` epochs of
``train.repeat`` passes over the training windows, the augmentations (train only) with the mixture
re-made as the sum of the augmented stems (docs/paper.md, section "Training"), validation on whole
tracks after every epoch, the best model (lowest validation loss) kept. The run's files are
described in :mod:`.runs`.

Labeled budget and remix (:mod:`demucs_study.remix`): ``train.labeled_fraction`` < 1 trains on a
seeded subset of the training tracks, with as many steps per epoch as the whole set gives
(:func:`.batches.epoch_steps`); ``remix.rho`` > 0 adds the step :func:`_remix_data` (silence
classifier, extraction and remixed examples, shared and cached under ``runs/<profile>/_remix``,
see :mod:`demucs_study.remix.prepare`) and replaces ``round(rho x batch_size)`` items of every
batch by remixed examples (:mod:`demucs_study.remix.batches`; weak loss
:func:`demucs_study.remix.loss.batch_loss`). A run with ``rho = 0`` and ``labeled_fraction = 1`` is
exactly the run without these keys (same batches, same loss, same :func:`train_hash`).

Reuse (``runs_from``, :func:`reuse_run`): a profile may name another profile whose finished runs it reuses;
a run there with the same :func:`train_hash` and epoch count is copied into this profile's run folder
instead of trained again (the extended profile reuses the quick profile's seed-42 runs).

Lengths: training windows hold ``segment + shift`` seconds; the Shift augmentation crops ``segment``
seconds, which are then centre-cropped to the longest input the model accepts
(:func:`.batches.input_length`). Validation separates each whole track with
``separation.apply_model`` (no shift trick, chunks of ``separate.segment`` s with
``separate.overlap``) and measures the training loss against the stems, both normalised as the
training windows (``data.datasets.normalize``).

Reproducibility: the model is built after ``seed_everything(seed)``; the augmentations of rank r
draw from generators seeded by ``seed * 256 + r``; the windows of epoch e are shuffled by a
generator seeded from (seed, e) (:mod:`.batches`). The checkpoint stores every generator's state
(per rank), so a run stopped after epoch k and resumed ends with the same weights, bit for bit, as
one that never stopped (same device, thread count and number of processes). Under ``torchrun`` it
trains with DistributedDataParallel (``train.batch_size`` is the global batch); only rank 0 writes.
"""
from __future__ import annotations

import copy
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from .. import paths
from ..config import NAME_EXCLUDED, NOT_OWN, flatten, params_hash, require
from ..errors import ParamsError, StudyError
from ..utils import copy_file, read_json, seed_everything, write_json
from . import batches as B
from . import dist, rng
from .checkpoint import FORMAT_VERSION, cpu_state, load_checkpoint, save_checkpoint
from .loop import loss_function, train_epoch, validate
from .runs import BEST, CHECKPOINT, HISTORY, run_dir, safe_name

#: Parameters that do not change what is learnt, so a checkpoint made with other values still resumes:
#: those that never enter the experiment's name, where the evaluation happens, and the number of epochs
#: (a run given more epochs continues from its last checkpoint).
HASH_EXCLUDED = (*NAME_EXCLUDED, *NOT_OWN, "experiment", "params_file", "separate", "eval", "report", "train.epochs")
#: Keys left out of the hash at their neutral value (they then change nothing): a run without remix and
#: on the whole labeled set keeps the hash it had before these keys existed.
NEUTRAL = {"train.labeled_fraction": 1.0}


class TrainingDiverged(StudyError, RuntimeError):
    """The loss became NaN or infinite."""


def train_hash(params: dict) -> str:
    """Hash of the parameters that change what is learnt (all but :data:`HASH_EXCLUDED`; the
    ``remix`` keys only when ``remix.rho`` > 0, ``train.labeled_fraction`` only when it is not 1)."""
    flat = flatten(params)
    excluded = HASH_EXCLUDED if float(flat.get("remix.rho") or 0) > 0 else (*HASH_EXCLUDED, "remix")
    kept = {k: v for k, v in flat.items()
            if not any(k == e or k.startswith(e + ".") for e in excluded)
            and not (k in NEUTRAL and v == NEUTRAL[k])}
    return params_hash(kept)


@dataclass
class Run:
    """What one process trains with (built once per call)."""
    params: dict
    folder: Path
    hash: str
    epochs: int
    seed: int
    d: dist.Dist
    windows: object
    cache: object
    model: torch.nn.Module
    augment: torch.nn.Module
    generators: dict
    optimizer: torch.optim.Optimizer
    loss_fn: Callable
    length: int
    steps: int                   # per epoch: those of the whole training split (same budget for every fraction)
    remix: object | None = None  # remix.prepare.RemixData of a remix run (rho > 0), else None


@dataclass
class State:
    """What changes from epoch to epoch (all of it goes into the checkpoint)."""
    epoch: int = 0
    history: list = field(default_factory=list)
    best_state: dict | None = None
    best_loss: float = math.inf
    best_epoch: int = 0
    baseline: float | None = None
    shuffle_state: torch.Tensor | None = None   # the shuffle generator after the last epoch drew from it


def train_experiment(params: dict, stop_after_epochs: int | None = None, progress: bool = True,
                     device: str | None = None, threads: int | None = None) -> dict:
    """Train (or resume, or return at once if finished) the experiment of ``params``.

    ``params``: from :func:`demucs_study.config.load_params`. ``stop_after_epochs``: stop once that
    many epochs are done in total (the run resumes later with the same call without it).
    ``progress``: a tqdm bar per epoch when stderr is a terminal (never in notebooks or CI logs);
    one line per epoch is printed either way. ``device``: "cpu"/"cuda" (default: cuda if any).
    ``threads``: torch CPU threads (default: torch's, or cores / processes under torchrun).

    Returns ``{"run_dir", "checkpoint", "best" (None until done), "history" (list of epoch dicts),
    "baseline_valid", "best_valid", "epochs_done", "done", "experiment"}``.
    """
    folder, h, epochs = run_dir(params), train_hash(params), _epochs(params)
    finished = _finished(folder, h, epochs)
    if finished is None:
        finished = reuse_run(params, folder, h, epochs)
    if finished is not None:
        return _result(folder, finished)
    d = _start(device, threads)
    run = _build(params, folder, h, epochs, d)
    _remix_data(run, progress)
    state = _resume(run)
    net = _distributed(run.model, d)
    stop = epochs if stop_after_epochs is None else min(epochs, int(stop_after_epochs))
    show_bar = bool(progress) and d.is_main and sys.stderr.isatty()
    for epoch in range(state.epoch, stop):
        _one_epoch(run, net, state, epoch, show_bar)
        _save_epoch(run, state)
    return _finish(run, state)


def _epochs(params: dict) -> int:
    epochs = int(require(params, "train.epochs"))
    if epochs < 1:
        raise ParamsError(f"train.epochs={epochs} must be >= 1 ({params.get('params_file', 'the parameters')})")
    return epochs


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


def reuse_run(params: dict, folder: Path | None = None, expected_hash: str | None = None,
              epochs: int | None = None) -> dict | None:
    """``runs_from``: the finished run of another profile with the same training parameters, copied here.

    When ``params["runs_from"]`` names a profile, its runs folder (``<runs>/<runs_from>/``) is searched for a
    finished run (``history.json`` done, ``best.th`` there) whose :func:`train_hash` and epoch count equal this
    experiment's: the folder of the same experiment name first, then every other. The first found is copied
    into ``folder`` (default :func:`~.runs.run_dir`): ``checkpoint.th`` and ``best.th`` (hard links when
    possible), then ``history.json`` with this experiment's ``profile``, ``experiment`` and ``params`` and
    ``reused_from`` = ``{"profile", "experiment"}`` of the source (written last: with ``best.th`` it marks the
    run finished). Returns the new history, or None when ``runs_from`` is null or nothing matches (the
    experiment then trains as usual). The hash leaves out what does not change learning (the profile,
    ``dataset.synth_folder``, ``runs_from``, evaluation and report keys), so a profile that reads another
    profile's synthetic set (``extended`` reads ``quick``'s) finds its runs."""
    source = params.get("runs_from")
    if not source:
        return None
    source = str(source)
    if source == str(params.get("profile")):
        raise ParamsError(f"runs_from = {source!r} is the experiment's own profile "
                          f"({params.get('params_file', 'the parameters')}); name another profile (e.g. quick) or null")
    folder = run_dir(params) if folder is None else Path(folder)
    expected_hash = train_hash(params) if expected_hash is None else expected_hash
    epochs = _epochs(params) if epochs is None else int(epochs)
    root = paths.runs_dir() / source
    same = root / safe_name(str(params["experiment"]))
    candidates = [same] + [p.parent for p in sorted(root.glob(f"*/{HISTORY}")) if p.parent != same]
    for candidate in candidates:
        history = _finished(candidate, expected_hash, epochs)
        if history is None or candidate.resolve() == folder.resolve():
            continue
        for name in (CHECKPOINT, BEST):
            if (candidate / name).is_file():
                copy_file(candidate / name, folder / name)
        doc = {**history, "experiment": params["experiment"], "profile": params["profile"], "params": params,
               "reused_from": {"profile": source, "experiment": history["experiment"]}}
        write_json(folder / HISTORY, doc)
        _say(f"reused the finished run {history['experiment']!r} of profile {source} (same training parameters, "
              f"train_hash {expected_hash}): {doc['epochs_done']} epochs, best validation loss "
              f"{doc['best_valid']:.4f}; nothing to train")
        return doc
    _say(f"runs_from {source}: no finished run with these training parameters (train_hash {expected_hash}) in "
          f"runs/{source}; training here")
    return None


def _result(folder: Path, history: dict) -> dict:
    return {"run_dir": folder, "checkpoint": folder / CHECKPOINT,
            "best": folder / BEST if history.get("done") else None, "history": history["history"],
            "baseline_valid": history.get("baseline_valid"), "best_valid": history.get("best_valid"),
            "epochs_done": history["epochs_done"], "done": bool(history.get("done")),
            "experiment": history["experiment"]}


def _start(device: str | None, threads: int | None) -> dist.Dist:
    """Join the process group (under torchrun) and set the torch thread count."""
    d = dist.setup(device)
    if threads:
        torch.set_num_threads(int(threads))
    elif d.local_world > 1 and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // d.local_world))
    return d


def _training_data(params: dict, d: dist.Dist):
    """(train windows of the labeled budget, the raw cache, the number of windows of the whole training
    split); rank 0 fills the cache first. The dataset must exist (the data step makes it:
    ``data.roots.prepare_root``)."""
    from ..data.datasets import TrainWindows
    from ..data.raw import RawCache
    from ..data.roots import resolve_root

    samplerate = int(require(params, "dataset.samplerate"))

    def prepare():
        cache = RawCache(resolve_root(params["dataset"], str(params["profile"])), samplerate=samplerate)
        cache.prepare(["train", "valid"])
        return cache

    if d.is_main:
        cache = prepare()
    dist.barrier(d)
    if not d.is_main:
        cache = prepare()
    tp = params["train"]
    options = dict(segment=float(tp["segment"]), stride=float(tp["stride"]), shift=float(tp["shift"]),
                   samplerate=samplerate)
    windows = TrainWindows(cache, "train", **options)
    full = len(windows)
    if float(require(params, "train.labeled_fraction")) != 1.0:
        from ..remix.prepare import budget_tracks

        windows = TrainWindows(cache, budget_tracks(params, cache), **options)
    return windows, cache, full


def _build(params: dict, folder: Path, h: str, epochs: int, d: dist.Dist) -> Run:
    """Data, model (after seeding), augmentations, optimizer, loss and input length."""
    from ..augment import generators_of, make_augmentations
    from ..models import build_model

    seed = int(require(params, "seed"))
    samplerate = int(require(params, "dataset.samplerate"))
    batch_size = int(require(params, "train.batch_size"))
    remix_group = int(require(params, "train.remix_group") or 0)
    shift = int(round(float(require(params, "train.shift")) * samplerate))
    loss_fn = loss_function(str(require(params, "train.loss")))
    windows, cache, full = _training_data(params, d)
    where = params.get("params_file", "the parameters")
    B.check_batching(full, batch_size, d.world, remix_group, where)
    if float(require(params, "remix.rho")) > 0:
        from ..remix.batches import check_plan

        check_plan(full, batch_size, float(params["remix"]["rho"]), d.world, remix_group, where)

    model_name = str(require(params, "model"))
    seed_everything(seed)
    model = build_model(model_name, **dict(require(params, f"models.{model_name}"))).to(d.device)
    scale = require(params, "train.scale")
    augment = make_augmentations(shift=shift, flip=bool(require(params, "train.flip")), remix_group=remix_group,
                                 generator_seed=seed * 256 + d.rank, scale=tuple(scale) if scale else None)
    optimizer = torch.optim.Adam(model.parameters(), lr=float(require(params, "train.lr")))
    length = B.input_length(model, windows[0].shape[-1] - shift)
    return Run(params=params, folder=folder, hash=h, epochs=epochs, seed=seed, d=d, windows=windows, cache=cache,
               model=model, augment=augment, generators=generators_of(augment), optimizer=optimizer,
               loss_fn=loss_fn, length=length,
               steps=B.epoch_steps(full, batch_size, int(require(params, "train.repeat"))))


def _remix_data(run: Run, progress: bool = False) -> None:
    """A remix run's set-up (``remix.rho`` > 0; see :mod:`demucs_study.remix.prepare`): the budget's
    silence classifier (trained once per budget and classifier parameters, else reused), the
    calibrated extraction of the unlabeled folder (cached), and the remixed examples at the model's
    input length. Rank 0 first, the others after a barrier (they find everything made). Every global
    random state is put back afterwards, so a run draws the same whether or not the classifier was
    already there."""
    from ..remix.prepare import check_model, enabled, remix_data, remix_length

    params, d = run.params, run.d
    if not enabled(params):
        return
    check_model(run.model)
    length = remix_length(run.model, float(require(params, "remix.excerpt")), run.length,
                          int(require(params, "dataset.samplerate")))
    tracks = run.windows.tracks

    def prepare():
        saved = rng.capture()
        try:
            return remix_data(params, run.cache, tracks, length, log=lambda m: _log(d, m),
                              progress=progress and d.is_main)
        finally:
            rng.restore(saved)

    if d.is_main:
        run.remix = prepare()
    dist.barrier(d)
    if not d.is_main:
        run.remix = prepare()
    info = run.remix.summary()
    found = ", ".join(f"{s} {y['minutes']:.1f} min" for s, y in info["yield"].items())
    _log(d, f"remix: {info['items']} remixed excerpts of {length / run.windows.samplerate:.2f} s from "
            f"{info['unlabeled']} ({found}); {len(tracks)} labeled track(s)")


def _resume(run: Run) -> State:
    """The state after the last checkpointed epoch (model, optimizer and RNG states restored), or a
    fresh state; a checkpoint of other parameters is ignored."""
    d, path = run.d, run.folder / CHECKPOINT
    state = State()
    if path.is_file():
        ck = load_checkpoint(path)
        if ck["params_hash"] != run.hash or ck["epoch"] > run.epochs:
            _log(d, f"{path}: made with other parameters (or more epochs); training from the start")
        else:
            run.model.load_state_dict(ck["model"])
            run.optimizer.load_state_dict(ck["optimizer"])
            state = State(epoch=int(ck["epoch"]), history=list(ck["history"]), best_state=ck["best_state"],
                          best_loss=float(ck["best_loss"]), best_epoch=int(ck["best_epoch"]),
                          baseline=ck["baseline_valid"])
            if ck["world_size"] == d.world:
                rng.restore(ck["rng"][d.rank], run.generators)
            else:
                _log(d, f"resuming with {d.world} process(es) from a checkpoint of {ck['world_size']}: the random "
                        "streams restart, so the result will differ from an uninterrupted run")
            if state.epoch < run.epochs:
                _log(d, f"resuming {run.params['experiment']!r} after epoch {state.epoch}/{run.epochs}")
    if state.epoch == 0 and d.is_main:
        (run.folder / BEST).unlink(missing_ok=True)  # a best model of other parameters must not pass for this run's
    return state


def _distributed(model, d: dist.Dist):
    if not d.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[d.local_rank] if d.device.startswith("cuda") else None)


def _separator(params: dict):
    """Validation separates each whole track with ``separation.apply_model`` (no shift trick), in chunks
    of ``separate.segment`` seconds with ``separate.overlap`` (bounded memory on long tracks)."""
    from ..separation.apply import apply_model

    segment = float(require(params, "separate.segment"))
    overlap = float(require(params, "separate.overlap"))

    def run(model, mix):
        return apply_model(model, mix, shifts=0, split=True, segment=segment, overlap=overlap)

    return run


def _one_epoch(run: Run, net, state: State, epoch: int, show_bar: bool) -> None:
    """Train one epoch (this rank's share of every global batch), validate, update ``state``."""
    d, params = run.d, run.params
    began = time.perf_counter()
    batch_size, repeat = int(params["train"]["batch_size"]), int(params["train"]["repeat"])
    shuffle = B.epoch_generator(run.seed, epoch)
    batches = B.epoch_batches(len(run.windows), batch_size, repeat, shuffle, run.steps)
    state.shuffle_state = shuffle.get_state()
    remix, parts = _remix_steps(run, epoch, batches), {}
    local = [B.shard(b, d.rank, d.world) for b in batches]
    total, count = train_epoch(net, run.windows, local, run.augment, run.optimizer, run.loss_fn, run.length,
                               d.device, workers=int(params["train"].get("workers") or 0), progress=show_bar,
                               desc=f"epoch {epoch + 1}/{run.epochs}", remix=remix,
                               parts=parts if remix is not None else None)
    total, count = dist.all_sum(d, [total, count])

    tracks = run.cache.tracks("valid")[d.rank::d.world]   # this rank's share, loaded one at a time
    from ..data.datasets import iter_tracks

    v = validate(run.model, iter_tracks(run.cache, tracks), run.loss_fn, d.device, separate=_separator(params),
                 baseline=state.baseline is None)
    v_loss, v_base, v_tracks = dist.all_sum(d, [v["loss"], v["baseline"], v["tracks"]])
    valid_loss = v_loss / v_tracks
    if not (math.isfinite(total / count) and math.isfinite(valid_loss)):
        raise TrainingDiverged(f"{params['experiment']!r} diverged at epoch {epoch + 1} (train loss "
                               f"{total / count}, valid loss {valid_loss}); lower train.lr (now "
                               f"{params['train']['lr']}) or check the data; the checkpoint of epoch {epoch} is "
                               f"kept in {run.folder}")
    if state.baseline is None:
        state.baseline = v_base / v_tracks
    if valid_loss < state.best_loss:
        state.best_loss, state.best_epoch, state.best_state = valid_loss, epoch + 1, cpu_state(run.model.state_dict())
    state.epoch = epoch + 1
    entry = {"epoch": epoch + 1, "train": total / count, "valid": valid_loss, "best": state.best_loss,
             "best_epoch": state.best_epoch, "steps": len(local), "seconds": time.perf_counter() - began,
             "lr": run.optimizer.param_groups[0]["lr"]}
    if remix is not None:
        sums = dist.all_sum(d, [parts.get("supervised", 0.0), parts.get("supervised_steps", 0),
                                parts.get("weak", 0.0), parts.get("weak_steps", 0)])
        entry["train_supervised"] = sums[0] / sums[1] if sums[1] else None
        entry["train_weak"] = sums[2] / sums[3] if sums[3] else None
    state.history.append(entry)


def _remix_steps(run: Run, epoch: int, batches: list[list[int]]):
    """This process's remixed part of the epoch's steps (None without remix): the plan of
    :mod:`demucs_study.remix.batches`, whose supervised part is ``batches`` (checked)."""
    if run.remix is None:
        return None
    from ..remix.batches import epoch_plan, shard_plan, supervised_kept
    from .loop import RemixSteps

    p, d = run.params, run.d
    rho, batch_size = float(p["remix"]["rho"]), int(p["train"]["batch_size"])
    plan = epoch_plan(len(run.windows), len(run.remix.dataset), batch_size, int(p["train"]["repeat"]), rho,
                      run.seed, epoch, run.steps)
    if [s for s, _ in plan] != batches:
        raise RuntimeError("the remix plan's supervised batches differ from the epoch's batches")
    run.remix.dataset.set_epoch(epoch)
    return RemixSteps(dataset=run.remix.dataset, batches=[m for _, m in shard_plan(plan, d.rank, d.world)],
                      keep=supervised_kept(batch_size, rho, d.world), weight=float(p["remix"]["weight"]),
                      unlabeled_weight=float(p["remix"]["loss"]["unlabeled_weight"]),
                      reduction=str(p["remix"]["loss"]["reduction"]))


def _save_epoch(run: Run, state: State) -> None:
    """The checkpoint (every rank's RNG states gathered to rank 0) and the history, atomically."""
    d = run.d
    rng_states = dist.gather_to_all(d, rng.capture(run.generators))
    if not d.is_main:
        return
    sampler = {"scheme": "torch.Generator seeded by batches.epoch_seed(seed, epoch)", "seed": run.seed,
               "epoch": state.epoch, "state": state.shuffle_state}
    save_checkpoint(run.folder / CHECKPOINT, {
        "format_version": FORMAT_VERSION, "experiment": run.params["experiment"],
        "params": copy.deepcopy(run.params), "params_hash": run.hash, "epoch": state.epoch,
        "model": cpu_state(run.model.state_dict()), "best_state": state.best_state, "best_loss": state.best_loss,
        "best_epoch": state.best_epoch, "optimizer": run.optimizer.state_dict(), "history": state.history,
        "baseline_valid": state.baseline, "world_size": d.world, "rng": rng_states, "sampler": sampler})
    write_json(run.folder / HISTORY, _history_doc(run, state, done=False))
    e = state.history[-1]
    parts = "".join(f" {k[6:]} {e[k]:.4f}" for k in ("train_supervised", "train_weak") if e.get(k) is not None)
    _log(d, f"epoch {e['epoch']:>3}/{run.epochs}  train {e['train']:.4f}{f' ({parts.strip()})' if parts else ''}  "
            f"valid {e['valid']:.4f}  best {state.best_loss:.4f} (epoch {state.best_epoch})  baseline "
            f"{state.baseline:.4f}  {e['seconds']:.1f}s")


def _history_doc(run: Run, state: State, done: bool) -> dict:
    return {"experiment": run.params["experiment"], "profile": run.params["profile"], "params_hash": run.hash,
            "epochs": run.epochs, "epochs_done": len(state.history), "done": done, "baseline_valid": state.baseline,
            "best_valid": state.best_loss if math.isfinite(state.best_loss) else None,
            "best_epoch": state.best_epoch, "world_size": run.d.world, "device": run.d.device,
            "threads": torch.get_num_threads(), "total_seconds": sum(e["seconds"] for e in state.history),
            "history": state.history, "params": run.params,
            **({"remix": run.remix.summary()} if run.remix is not None else {})}


def _finish(run: Run, state: State) -> dict:
    """Once every epoch is done: save the best model and the final history (rank 0)."""
    from ..models import build_model
    from ..models.io import save_model

    done = len(state.history) >= run.epochs
    doc = _history_doc(run, state, done=done)
    if done and run.d.is_main:
        name = str(run.params["model"])
        best = build_model(name, **dict(run.params["models"][name]))
        best.load_state_dict(state.best_state)
        save_model(best, run.folder / BEST, extra={"experiment": str(run.params["experiment"]),
                                                   "profile": str(run.params["profile"]), "epoch": state.best_epoch,
                                                   "valid_loss": state.best_loss, "params_hash": run.hash})
        write_json(run.folder / HISTORY, doc)
    dist.barrier(run.d)
    return _result(run.folder, doc)


def _say(message: str) -> None:
    """A log line before the process group exists: printed by the first process only (RANK 0 or no torchrun)."""
    if os.environ.get("RANK", "0") == "0":
        print(message, flush=True)


def _log(d: dist.Dist, message: str) -> None:
    if d.is_main:
        print(message, flush=True)
