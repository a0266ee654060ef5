"""Training the silence classifier on labeled windows with stems dropped at random.

Data: windows of ``window`` seconds every ``hop`` seconds of the labeled training tracks (raw stems
from the :class:`~demucs_study.data.raw.RawCache`, not normalised). Each time item i is drawn in
epoch e, a generator seeded from (seed, epoch, i) (:func:`item_rng`) transforms its stems:

* **drop**: each source is replaced by zeros with probability ``drop`` (default 0.5), independently;
  if all four are dropped one of them, drawn uniformly, is kept. So "source j silent" is frequent
  for every j (about ``drop`` plus its natural rate), and the classifier sees every combination;
* **gain**: each stem is scaled by a gain uniform in +-``gain_db`` dB (default 6), so relative
  levels vary beyond those of the few training songs;
* **flip**: per stem, sign flip and left/right swap with probability 1/2 each (the usual augmentations).

The mixture is the sum of the transformed stems and the labels are
:func:`~demucs_study.remix.labels.silence_labels` of the transformed stems (a dropped stem is
silent; a kept one may be silent by nature). Loss: binary cross-entropy per source, Adam.

Validation: every window of the validation tracks, untransformed (the natural rate of silence, the
one extraction meets), after every epoch; the best epoch (lowest validation BCE) is kept. At the end
the decision threshold of each source is chosen on the validation windows for the target precision
(:func:`~demucs_study.remix.thresholds.choose_threshold`) and saved with the model.

Files in ``out_dir``: ``checkpoint.th`` after every epoch (:mod:`demucs_study.training.checkpoint`
format, atomic, every RNG state), ``history.json`` (atomic), and at the end ``classifier.th``
(:func:`demucs_study.models.io.save_model`, weights-only; ``extra`` holds the thresholds, the
validation precision/recall per source, the configuration). A run stopped after epoch k resumes
to bit-identical weights: the batches depend only on (seed, epoch), the transforms on (seed,
epoch, item), the model and Adam state come from the checkpoint.
"""
from __future__ import annotations

import bisect
import copy
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .. import SOURCES
from ..config import params_hash
from ..errors import ParamsError
from ..utils import read_json, write_json
from . import labels as L
from .classifier import NAME, SilenceClassifier
from .errors import RemixError, RemixWarning
from .thresholds import MIN_SELECTED, TARGET_PRECISION, choose_thresholds, report

CHECKPOINT = "checkpoint.th"
HISTORY = "history.json"
CLASSIFIER = "classifier.th"
_STREAM = 0x51CE  # SeedSequence stream of the classifier's item transforms

#: The classifier's parameters (``remix.classifier.*``) and their defaults.
DEFAULTS: dict = {
    "window": 1.0,          # seconds per classified window
    "hop": 0.5,             # seconds between windows (training, validation and extraction)
    "epochs": 10,
    "batch_size": 32,
    "lr": 1.0e-3,
    "drop": 0.5,            # probability of dropping each stem
    "gain_db": 6.0,         # per-stem gain range (+-dB)
    "flip": True,           # per-stem sign flip and left/right swap
    "target_precision": TARGET_PRECISION,
    "min_selected": MIN_SELECTED,
    "relative_db": L.RELATIVE_DB,
    "absolute_db": L.ABSOLUTE_DB,
    "n_mels": 64,
    "channels": [16, 32, 64],
    "batchnorm": True,
}
#: Keys that do not change the trained weights (a finished classifier with other values is reused,
#: its thresholds re-chosen).
_NOT_LEARNT = ("epochs", "target_precision", "min_selected")


def resolve_config(config: dict | None) -> dict:
    """:data:`DEFAULTS` updated by ``config``; unknown keys raise :class:`ParamsError`."""
    config = dict(config or {})
    unknown = sorted(set(config) - set(DEFAULTS))
    if unknown:
        raise ParamsError(f"unknown silence-classifier parameter(s) {unknown} (remix.classifier.*); "
                          f"known: {sorted(DEFAULTS)}")
    out = {**copy.deepcopy(DEFAULTS), **config}
    if not 0 <= float(out["drop"]) < 1:
        raise ParamsError(f"remix.classifier.drop={out['drop']} must be in [0, 1)")
    for key, name in (("window", "window"), ("hop", "hop"), ("lr", "classifier_lr")):
        if not float(out[key]) > 0:
            raise ParamsError(f"remix.classifier.{name}={out[key]} must be > 0")
    if int(out["batch_size"]) < 1 or int(out["epochs"]) < 1:
        raise ParamsError(f"remix.classifier.classifier_batch={out['batch_size']} and classifier_epochs={out['epochs']} "
                          "must be >= 1")
    return out


def item_rng(seed: int, epoch: int, index: int, stream: int = _STREAM) -> np.random.Generator:
    """The generator of item ``index`` in ``epoch``: depends on nothing else (not on batches or ranks)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(stream), int(epoch), int(index)]))


def _draw_transform(sources: int, rng: np.random.Generator, drop: float, gain_db: float,
                    flip: bool) -> tuple[np.ndarray, np.ndarray]:
    """(per-source factor: 0 if dropped, else sign x gain; per-source left/right swap)."""
    dropped = rng.random(sources) < drop
    if dropped.all():
        dropped[int(rng.integers(sources))] = False
    gains = 10.0 ** (rng.uniform(-gain_db, gain_db, sources) / 20.0) if gain_db > 0 else np.ones(sources)
    signs = np.where(rng.random(sources) < 0.5, -1.0, 1.0) if flip else np.ones(sources)
    swaps = rng.random(sources) < 0.5 if flip else np.zeros(sources, bool)
    return np.where(dropped, 0.0, gains * signs), swaps


def _apply_transform(stems: np.ndarray, factors: np.ndarray, swaps: np.ndarray) -> np.ndarray:
    out = stems * factors.astype(np.float32)[:, None, None]
    if stems.shape[1] == 2 and swaps.any():
        out[swaps] = out[swaps][:, ::-1]
    return out


def transform_stems(stems: np.ndarray, rng: np.random.Generator, drop: float, gain_db: float,
                    flip: bool) -> np.ndarray:
    """Drop, gain and flip stems ``(S, C, T)`` as described in the module docstring (a new float32 array)."""
    factors, swaps = _draw_transform(stems.shape[0], rng, drop, gain_db, flip)
    return _apply_transform(np.asarray(stems, dtype=np.float32), factors, swaps)


class ClassifierWindows:
    """Windows ``(mix (C, W), silence labels (S,))`` of labeled tracks for the classifier.

    ``tracks``: :class:`~demucs_study.data.raw.CachedTrack` (raw stems); ``window``/``hop`` in
    samples. With ``augment`` each item is transformed by :func:`transform_stems` with the
    generator of (seed, epoch, index); without it items are the natural windows.
    """

    def __init__(self, tracks: Sequence, window: int, hop: int, seed: int = 0, augment: bool = False,
                 drop: float = 0.5, gain_db: float = 6.0, flip: bool = True, relative_db: float = L.RELATIVE_DB,
                 absolute_db: float = L.ABSOLUTE_DB):
        self.tracks = list(tracks)
        self.window, self.hop = int(window), int(hop)
        self.seed, self.augment = int(seed), bool(augment)
        self.drop, self.gain_db, self.flip = float(drop), float(gain_db), bool(flip)
        self.relative_db, self.absolute_db = float(relative_db), float(absolute_db)
        counts = [len(L.window_starts(t.length, self.window, self.hop)) for t in self.tracks]
        self.starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._arrays: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return int(self.starts[-1])

    def locate(self, index: int):
        k = bisect.bisect_right(self.starts, index) - 1
        return self.tracks[k], int(index - self.starts[k]) * self.hop

    def stems(self, index: int) -> np.ndarray:
        track, offset = self.locate(index)
        key = track.dir.as_posix()
        if key not in self._arrays:
            self._arrays[key] = track.stems()
        return np.array(self._arrays[key][..., offset:offset + self.window], dtype=np.float32)

    def item(self, index: int, epoch: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(mixture (C, W) float32, silence (S,) bool) of window ``index`` as drawn in ``epoch``.

        The labels are those of :func:`~demucs_study.remix.labels.silence_labels` on the transformed
        stems, computed faster: a stem's power scales with its gain squared (sign and channel swap
        keep it), so only the mixture's power is measured after the transform (float32 dot products).
        """
        stems = self.stems(index)
        width = stems.shape[1] * stems.shape[2]
        flat = stems.reshape(stems.shape[0], -1)
        power = np.einsum("st,st->s", flat, flat).astype(np.float64) / width
        if self.augment:
            factors, swaps = _draw_transform(stems.shape[0], item_rng(self.seed, epoch, index), self.drop,
                                             self.gain_db, self.flip)
            stems = _apply_transform(stems, factors, swaps)
            power = power * np.square(factors)
        mix = stems.sum(axis=0, dtype=np.float32)
        mix_power = float(np.dot(mix.ravel(), mix.ravel())) / width
        silent = L.is_silent(L._db(power), L._db(np.float64(mix_power)), self.relative_db, self.absolute_db)
        return mix, silent

    def batch(self, indices: Sequence[int], epoch: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        items = [self.item(i, epoch) for i in indices]
        mix = torch.from_numpy(np.stack([m for m, _ in items]))
        silent = torch.from_numpy(np.stack([s for _, s in items]).astype(np.float32))
        return mix, silent

    def natural_activity(self) -> np.ndarray:
        """Per source, the number of windows where it plays (untransformed): ``(S,)`` int."""
        active = np.zeros(0)
        for t in self.tracks:
            _, silent = L.window_labels(np.asarray(t.stems()), self.window, self.hop, self.relative_db,
                                        self.absolute_db)
            active = (~silent).sum(axis=0) + (active if active.size else 0)
        return np.asarray(active, dtype=np.int64)


def check_labeled_sources(windows: ClassifierWindows, required: Sequence[str], sources: Sequence[str] = SOURCES) -> np.ndarray:
    """Raise :class:`RemixError` if a ``required`` source never plays in the labeled windows; warn for
    the others. Returns the per-source count of windows where it plays."""
    if len(windows) == 0:
        raise RemixError(f"no labeled window of {windows.window} samples in the {len(windows.tracks)} training "
                         "track(s); use longer tracks or a shorter remix.classifier.window")
    active = windows.natural_activity()
    for k, s in enumerate(sources):
        if active[k] == 0:
            message = (f"the labeled training set has no {s} stem: {s} is silent in all {len(windows)} windows of its "
                       f"{len(windows.tracks)} track(s), so the classifier cannot learn when {s} plays and no {s} "
                       "stem can be remixed")
            if s in required:
                raise RemixError(f"{message}; use a labeled set with {s} stems, or remove {s} from remix.sources")
            warnings.warn(RemixWarning(message + f" ({s} is not in remix.sources, so the scheme goes on)"), stacklevel=3)
    return active


def _predict(model: SilenceClassifier, windows: ClassifierWindows, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, labels) ``(n, S)`` of every natural window."""
    probs, labels = [], []
    for i in range(0, len(windows), batch_size):
        mix, silent = windows.batch(range(i, min(len(windows), i + batch_size)))
        probs.append(model.probabilities(mix).double().numpy())
        labels.append(silent.numpy().astype(bool))
    return np.concatenate(probs), np.concatenate(labels)


def _bce(probs: np.ndarray, labels: np.ndarray) -> float:
    p = np.clip(probs, 1e-7, 1 - 1e-7)
    return float(-np.mean(labels * np.log(p) + (~labels) * np.log(1 - p)))


def _run_hash(config: dict, seed: int, train_tracks, valid_tracks) -> str:
    learnt = {k: v for k, v in config.items() if k not in _NOT_LEARNT}
    return params_hash({"classifier": learnt, "seed": int(seed), "format": NAME,
                        "train": [t.name for t in train_tracks], "valid": [t.name for t in valid_tracks]})


def _finished(out: Path, h: str, epochs: int) -> dict | None:
    try:
        history = read_json(out / HISTORY)
    except (OSError, ValueError):
        return None
    if history.get("done") and history.get("params_hash") == h and history.get("epochs_done") == epochs \
            and (out / CLASSIFIER).is_file():
        return history
    return None


def train_classifier(train_tracks: Sequence, valid_tracks: Sequence, out_dir, config: dict | None = None,
                     seed: int = 0, required: Sequence[str] = ("drums", "bass", "vocals"),
                     stop_after_epochs: int | None = None, progress: bool = False, log=print) -> dict:
    """Train (or resume, or return at once if finished) the silence classifier.

    ``train_tracks``/``valid_tracks``: :class:`~demucs_study.data.raw.CachedTrack` lists (e.g.
    ``RawCache.tracks("train")``, or the labeled-budget subset); ``config``: ``remix.classifier.*``
    (see :data:`DEFAULTS`); ``required``: the sources the remix scheme needs (``remix.sources``): one
    that never plays in the labeled windows is an error. ``stop_after_epochs``: stop once that many
    epochs are done (a later call resumes).

    Returns ``{"classifier": path or None until done, "checkpoint", "history" (per-epoch dicts),
    "thresholds", "valid" (precision/recall per source at the thresholds), "done", "best_epoch"}``.
    """
    from ..training import checkpoint as C
    from ..training import rng
    from ..training.batches import epoch_batches, epoch_generator
    from ..models.io import save_model

    cfg = resolve_config(config)
    out = Path(out_dir)
    train_tracks, valid_tracks = list(train_tracks), list(valid_tracks)
    if not valid_tracks:
        raise RemixError("the silence classifier needs validation tracks to choose its thresholds; give the "
                         "validation split (RawCache(...).tracks('valid'))")
    epochs = int(cfg["epochs"])
    h = _run_hash(cfg, seed, train_tracks, valid_tracks)
    done = _finished(out, h, epochs)
    if done is not None and done["target_precision"] == cfg["target_precision"] \
            and done["min_selected"] == cfg["min_selected"]:
        return _result(out, done)

    samplerate = int(train_tracks[0].samplerate) if train_tracks else 44100
    window, hop = int(round(cfg["window"] * samplerate)), int(round(cfg["hop"] * samplerate))
    common = dict(window=window, hop=hop, relative_db=cfg["relative_db"], absolute_db=cfg["absolute_db"])
    train = ClassifierWindows(train_tracks, seed=seed, augment=True, drop=cfg["drop"], gain_db=cfg["gain_db"],
                              flip=cfg["flip"], **common)
    valid = ClassifierWindows(valid_tracks, **common)
    check_labeled_sources(train, required)
    if len(valid) == 0:
        raise RemixError(f"the {len(valid_tracks)} validation track(s) are shorter than one classifier window "
                         f"({cfg['window']} s); lower remix.classifier.window")
    batch_size = min(int(cfg["batch_size"]), len(train))

    with torch.random.fork_rng(devices=[]):  # the initial weights depend on seed only; global RNG untouched
        torch.manual_seed(int(seed))
        model = SilenceClassifier(window=float(cfg["window"]), samplerate=samplerate, n_mels=int(cfg["n_mels"]),
                                  channels=list(cfg["channels"]), batchnorm=bool(cfg["batchnorm"]))
    optimizer = torch.optim.Adam(model.parameters(), lr=float(cfg["lr"]))
    history: list[dict] = []
    best_state, best_loss, best_epoch, start = None, math.inf, 0, 0
    baseline = None
    ck_path = out / CHECKPOINT
    if ck_path.is_file():
        ck = C.load_checkpoint(ck_path)
        if ck["params_hash"] == h and ck["epoch"] <= epochs:
            model.load_state_dict(ck["model"])
            optimizer.load_state_dict(ck["optimizer"])
            best_state, best_loss, best_epoch = ck["best_state"], float(ck["best_loss"]), int(ck["best_epoch"])
            history, baseline, start = list(ck["history"]), ck["baseline_valid"], int(ck["epoch"])
            rng.restore(ck["rng"][0])
            if start < epochs:
                log(f"silence classifier: resuming after epoch {start}/{epochs}")
        else:
            log(f"{ck_path}: made with other parameters or data; training the classifier from the start")

    stop = epochs if stop_after_epochs is None else min(epochs, int(stop_after_epochs))
    for epoch in range(start, stop):
        began = time.perf_counter()
        model.train()
        batches = epoch_batches(len(train), batch_size, 1, epoch_generator(seed, epoch))
        total = 0.0
        bar = None
        if progress and sys.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(total=len(batches), desc=f"classifier epoch {epoch + 1}/{epochs}", leave=False)
        for indices in batches:
            mix, silent = train.batch(indices, epoch)
            loss = F.binary_cross_entropy_with_logits(model(mix), silent)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach())
            if bar is not None:
                bar.update()
        if bar is not None:
            bar.close()
        probs, truth = _predict(model, valid, batch_size)
        valid_loss = _bce(probs, truth)
        if baseline is None:
            baseline = _bce(np.broadcast_to(truth.mean(axis=0), truth.shape), truth)
        if not math.isfinite(valid_loss) or not math.isfinite(total):
            raise RemixError(f"the silence classifier diverged at epoch {epoch + 1}; lower "
                             "remix.classifier.classifier_lr "
                             f"(now {cfg['lr']})")
        if valid_loss < best_loss:
            best_loss, best_epoch, best_state = valid_loss, epoch + 1, C.cpu_state(model.state_dict())
        at_half = report(probs, truth, {s: 0.5 for s in SOURCES})
        entry = {"epoch": epoch + 1, "train": total / len(batches), "valid": valid_loss, "best": best_loss,
                 "best_epoch": best_epoch, "seconds": time.perf_counter() - began,
                 "precision@0.5": {s: _nan_none(at_half[s]["precision"]) for s in SOURCES},
                 "recall@0.5": {s: _nan_none(at_half[s]["recall"]) for s in SOURCES}}
        history.append(entry)
        C.save_checkpoint(ck_path, {
            "format_version": C.FORMAT_VERSION, "experiment": NAME, "params": {"classifier": cfg, "seed": int(seed)},
            "params_hash": h, "epoch": epoch + 1, "model": C.cpu_state(model.state_dict()), "best_state": best_state,
            "best_loss": best_loss, "best_epoch": best_epoch, "optimizer": optimizer.state_dict(),
            "history": history, "baseline_valid": baseline, "world_size": 1, "rng": [rng.capture()],
            "sampler": {"scheme": "training.batches.epoch_generator(seed, epoch); items: remix.classifier_train.item_rng",
                        "seed": int(seed), "epoch": epoch + 1}})
        write_json(out / HISTORY, _history_doc(cfg, h, seed, history, baseline, best_loss, best_epoch, False, None, None))
        log(f"classifier epoch {epoch + 1:>2}/{epochs}  train BCE {entry['train']:.4f}  valid BCE {valid_loss:.4f}  "
            f"(prior {baseline:.4f})  {entry['seconds']:.1f}s")

    if len(history) < epochs:
        doc = _history_doc(cfg, h, seed, history, baseline, best_loss, best_epoch, False, None, None)
        return _result(out, doc)

    model.load_state_dict(best_state)
    probs, truth = _predict(model, valid, batch_size)
    thresholds = choose_thresholds(probs, truth, SOURCES, float(cfg["target_precision"]), int(cfg["min_selected"]))
    metrics = report(probs, truth, thresholds)
    for s in required:
        if thresholds.get(s) is None:
            m = metrics[s]
            warnings.warn(RemixWarning(
                f"silence classifier: no threshold reaches precision {cfg['target_precision']} for {s} on the "
                f"{m['windows']} validation windows ({m['positives']} truly silent); nothing will be extracted for "
                f"{s}. Lower remix.classifier.target_precision, train longer "
                f"(remix.classifier.classifier_epochs), or use "
                "more validation tracks"), stacklevel=2)
    save_model(model, out / CLASSIFIER, extra={
        "thresholds": thresholds, "valid": _plain_metrics(metrics), "config": cfg, "seed": int(seed),
        "params_hash": h, "epoch": best_epoch, "valid_loss": best_loss, "window": float(cfg["window"]),
        "hop": float(cfg["hop"])})
    doc = _history_doc(cfg, h, seed, history, baseline, best_loss, best_epoch, True, thresholds, _plain_metrics(metrics))
    write_json(out / HISTORY, doc)
    return _result(out, doc)


def _nan_none(value):
    """NaN (precision of nothing selected, recall of nothing silent) -> None: valid JSON, comparable."""
    return None if isinstance(value, float) and math.isnan(value) else value


def _plain_metrics(metrics: dict) -> dict:
    return {s: {k: _nan_none(v) for k, v in m.items()} for s, m in metrics.items()}


def _history_doc(cfg, h, seed, history, baseline, best_loss, best_epoch, done, thresholds, metrics) -> dict:
    clean = list(history)
    return {"model": NAME, "params_hash": h, "seed": int(seed), "config": cfg, "epochs": int(cfg["epochs"]),
            "epochs_done": len(history), "done": done, "baseline_valid": baseline,
            "best_valid": best_loss if math.isfinite(best_loss) else None, "best_epoch": best_epoch,
            "target_precision": cfg["target_precision"], "min_selected": cfg["min_selected"],
            "thresholds": thresholds, "valid": metrics,
            "total_seconds": sum(e["seconds"] for e in history), "history": clean}


def _result(out: Path, doc: dict) -> dict:
    return {"classifier": out / CLASSIFIER if doc["done"] else None, "checkpoint": out / CHECKPOINT,
            "history": doc["history"], "thresholds": doc["thresholds"], "valid": doc["valid"], "done": doc["done"],
            "best_epoch": doc["best_epoch"], "epochs_done": doc["epochs_done"], "total_seconds": doc["total_seconds"]}
