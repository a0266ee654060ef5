"""The set-up of a remix experiment, from its parameters: what ``training.experiment`` calls before
its first epoch when ``remix.rho`` > 0 (and what the remix notebook reads back).

1. **Labeled budget**: :func:`budget_tracks` = ``labeled_subset(train tracks, train.labeled_fraction,
   seed)``.
2. **Silence classifier** (:func:`prepare_classifier`): trained on the budget's tracks, validated and
   thresholded on the whole validation split, in a folder shared by every experiment of the
   profile with the same budget and classifier parameters::

       runs/<profile>/_remix/classifier-<key>/{checkpoint.th, history.json, classifier.th}

   ``<key>`` hashes what the weights and thresholds depend on (``remix.classifier.*``,
   ``remix.labels.*``, ``seed``, the budget's and the validation split's track names, the dataset
   folder): the 25 % runs with and without other remix options share one classifier. It resumes
   after an interruption (per-epoch checkpoint) and returns at once when finished.
3. **Extraction** (:func:`prepare_extraction`): thresholds calibrated on validation excerpts of
   length L (``remix.extract.calibrate``), then the scan of the unlabeled folder, in::

       runs/<profile>/_remix/extract-<key>/{calibration.json, manifest.json}

   ``<key>`` adds L, the sources, ``remix.extract.*`` and the unlabeled folder (its path and the
   name and size of every audio file). Both files are written atomically, the manifest only when
   the extraction succeeded; an existing one is reused.

   With ``runs_from`` (a profile whose finished runs are reused, e.g. ``extended`` -> ``quick``), a classifier
   or extraction that the other profile finished under the same key is copied (:func:`reuse_shared`).
4. **Remixed examples** (:func:`remix_data`): the :class:`~.dataset.RemixDataset` of the manifest and
   the budget's tracks, at the length the training loop feeds the model.

``remix.unlabeled_data`` (:func:`unlabeled_folder`): ``synthetic`` = ``<dataset root>/unlabeled``
(our generator's unlabeled songs; their hidden stems are never read here), ``real`` =
``<data>/real-unlabeled`` (``make real-music``), or any folder of mixtures.

Bad input is one :class:`~.errors.RemixError` or ``ParamsError`` naming the cause and the fix (an
empty or too short unlabeled folder, a classifier that finds nothing, a labeled budget lacking a
stem, a model whose training target is not waveforms); nothing is half-written.
"""
from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from .. import SOURCES, paths
from ..config import params_hash, require
from ..errors import ParamsError
from ..utils import read_json, write_json
from .errors import RemixError, RemixWarning

#: Folder of the shared remix artefacts, under ``runs/<profile>/``.
SHARED = "_remix"
CALIBRATION = "calibration.json"
MANIFEST = "manifest.json"
#: Values of ``remix.unlabeled_data`` that are not folders.
UNLABELED_CHOICES = ("synthetic", "real")
REAL_FOLDER = "real-unlabeled"


def enabled(params: dict) -> bool:
    """True when the experiment remixes (``remix.rho`` > 0)."""
    return float(require(params, "remix.rho")) > 0


def _where(params: dict) -> str:
    return str(params.get("params_file", "the parameters"))


def unlabeled_folder(params: dict, root: Path) -> Path:
    """The folder of unlabeled mixtures of ``remix.unlabeled_data`` (``root``: the dataset root)."""
    choice = str(require(params, "remix.unlabeled_data"))
    if choice == "synthetic":
        folder = Path(root) / "unlabeled"
        if not folder.is_dir():
            raise RemixError(f"remix.unlabeled_data = synthetic, but the dataset {_display(root)} has no unlabeled/ "
                             "folder (only our synthetic sets have one; MUSDB18 has none); set remix.unlabeled_data to "
                             f"real (make real-music) or to a folder of mixtures in {_where(params)}")
        return folder
    if choice == "real":
        folder = paths.data_dir() / REAL_FOLDER
        if not folder.is_dir():
            raise RemixError(f"remix.unlabeled_data = real, but {_display(folder)} does not exist: install the freely "
                             "licensed real music with make real-music (Debian packages), or choose "
                             f"remix.unlabeled_data = synthetic in {_where(params)}")
        return folder
    folder = Path(choice).expanduser()
    if not folder.is_dir():
        raise RemixError(f"remix.unlabeled_data = {choice!r} is neither synthetic, real nor an existing folder of "
                         f"mixtures ({_where(params)})")
    return folder.absolute()


#: ``remix.classifier`` keys named apart from ``train.*``/``models.*`` leaves (experiment names use leaves)
#: -> the keys of :data:`.classifier_train.DEFAULTS`.
CLASSIFIER_KEYS = {"classifier_epochs": "epochs", "classifier_batch": "batch_size", "classifier_lr": "lr",
                   "classifier_flip": "flip", "classifier_channels": "channels"}


def classifier_config(params: dict) -> dict:
    """The configuration of :func:`~.classifier_train.train_classifier`: ``remix.classifier.*`` (renamed
    by :data:`CLASSIFIER_KEYS`) with the silence rule of ``remix.labels.*``."""
    cfg = {CLASSIFIER_KEYS.get(k, k): v for k, v in dict(require(params, "remix.classifier")).items()}
    labels = dict(require(params, "remix.labels"))
    cfg["relative_db"], cfg["absolute_db"] = float(labels["relative_db"]), float(labels["absolute_db"])
    cfg["channels"] = list(cfg["channels"])
    return cfg


def sources(params: dict) -> list[str]:
    chosen = list(require(params, "remix.sources"))
    unknown = [s for s in chosen if s not in SOURCES]
    if unknown or not chosen:
        raise ParamsError(f"remix.sources = {chosen} in {_where(params)}: choose among {list(SOURCES)}")
    return [s for s in SOURCES if s in chosen]


def budget_tracks(params: dict, cache) -> list:
    """The labeled training tracks of the run's budget (``train.labeled_fraction``, seeded by ``seed``)."""
    from .budget import labeled_subset

    return labeled_subset(cache.tracks("train"), float(require(params, "train.labeled_fraction")),
                          int(require(params, "seed")))


def shared_dir(params: dict) -> Path:
    """``runs/<profile>/_remix``: the classifiers and extractions of a profile's remix experiments."""
    return paths.runs_dir() / str(params["profile"]) / SHARED


def _classifier_key(params: dict, root: Path, train: Sequence, valid: Sequence) -> str:
    from ..data.raw import root_id

    return params_hash({"classifier": classifier_config(params), "seed": int(require(params, "seed")),
                        "train": sorted(t.name for t in train), "valid": sorted(t.name for t in valid),
                        "root": root_id(root)})


def classifier_dir(params: dict, root: Path, train: Sequence, valid: Sequence) -> Path:
    return shared_dir(params) / f"classifier-{_classifier_key(params, root, train, valid)}"


def _read(path: Path) -> dict:
    try:
        return read_json(path)
    except (OSError, ValueError):
        return {}


def reuse_shared(params: dict, out: Path, files: Sequence[str], log: Callable, finished: Callable) -> bool:
    """``runs_from`` (see ``training.experiment.reuse_run``): when the shared folder ``out``
    (``runs/<profile>/_remix/<classifier or extraction key>``) is not finished here (``finished(out)`` false)
    and the folder of the same key of the ``runs_from`` profile is, copy its ``files`` (in that order, the one
    that marks it finished last). The key hashes everything the folder depends on (the dataset folder
    included), so the same key is the same work. Returns True when it copied."""
    from ..utils import copy_file

    source = params.get("runs_from")
    if not source or str(source) == str(params.get("profile")) or finished(out):
        return False
    src = paths.runs_dir() / str(source) / SHARED / out.name
    if not finished(src):
        return False
    for name in files:
        if (src / name).is_file():
            copy_file(src / name, out / name)
    log(f"remix: reused {out.name} of profile {source} (same key: same labeled tracks, parameters and data)")
    return True


@contextlib.contextmanager
def logged_warnings(log: Callable):
    """Within the block, :class:`~.errors.RemixWarning` messages go to ``log`` as ``"remix warning: ..."``
    lines (a notebook shows them without the warning's file path); other warnings pass through."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RemixWarning)
        yield
    for w in caught:
        if issubclass(w.category, RemixWarning):
            log(f"remix warning: {w.message}")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def prepare_classifier(params: dict, cache, train: Sequence, log: Callable = print, progress: bool = False) -> dict:
    """Train the budget's silence classifier, or resume it, or return it at once (see the module
    docstring); returns :func:`~.classifier_train.train_classifier`'s result plus ``"dir"``. Its
    warnings (a source without threshold) go to ``log``."""
    from .classifier_train import train_classifier

    from .classifier_train import CHECKPOINT, CLASSIFIER, HISTORY

    valid = cache.tracks("valid")
    out = classifier_dir(params, cache.root, train, valid)
    reuse_shared(params, out, (CHECKPOINT, CLASSIFIER, HISTORY), log,
                 finished=lambda src: (src / CLASSIFIER).is_file() and bool(_read(src / HISTORY).get("done")))
    with logged_warnings(log):
        result = train_classifier(train, valid, out, classifier_config(params), seed=int(require(params, "seed")),
                                  required=sources(params), progress=progress, log=log)
    return {**result, "dir": out}


def _folder_listing(folder: Path) -> list:
    from ..data.unlabeled import AUDIO_SUFFIXES

    return sorted([p.relative_to(folder).as_posix(), p.stat().st_size] for p in folder.rglob("*")
                  if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def extraction_options(params: dict, length: float | None = None) -> dict:
    """What an extraction depends on besides the classifier and the folder: L, the sources, the
    silence rule, the threshold choice and ``remix.extract.*``."""
    ex = dict(require(params, "remix.extract"))
    cfg = classifier_config(params)
    return {"length": float(require(params, "remix.excerpt") if length is None else length),
            "sources": sources(params), "hop": None if ex.get("excerpt_hop") is None else float(ex["excerpt_hop"]),
            "min_mix_db": float(ex["min_mix_db"]), "merge": bool(ex["merge"]), "calibrate": bool(ex["calibrate"]),
            "target_precision": float(cfg["target_precision"]), "min_selected": int(cfg["min_selected"]),
            "relative_db": cfg["relative_db"], "absolute_db": cfg["absolute_db"]}


def extraction_dir(params: dict, classifier_dir_: Path, folder: Path, length: float | None = None) -> Path:
    key = params_hash({"classifier": Path(classifier_dir_).name, "options": extraction_options(params, length),
                       "folder": str(Path(folder).absolute()), "files": _folder_listing(Path(folder))})
    return shared_dir(params) / f"extract-{key}"


def prepare_extraction(params: dict, cache, classifier: dict, folder: Path, length: float | None = None,
                       log: Callable = print, scores: Callable | None = None) -> dict:
    """Calibrate the thresholds for excerpts of ``length`` (default ``remix.excerpt``) on validation
    and extract the excerpts of ``folder``, or read back the finished extraction. Returns
    ``{"dir", "manifest", "calibration"}`` (``calibration`` None with ``remix.extract.calibrate`` false).
    Raises :class:`RemixError` (nothing written) when the folder is unusable or nothing is found.
    ``scores``: ``hop -> window probabilities of the folder`` (:func:`.extract.window_scores`), to
    share one scan between several lengths. Its warnings (a source that yields nothing) go to ``log``."""
    from .calibrate import calibrate
    from .classifier import load_classifier
    from .extract import extract, load_manifest

    if not classifier.get("done"):
        raise RemixError(f"the silence classifier in {classifier['dir']} has not finished training; run the "
                         "experiment's training again (it resumes)")
    opts = extraction_options(params, length)
    out = extraction_dir(params, classifier["dir"], folder, length)
    reuse_shared(params, out, (CALIBRATION, MANIFEST), log, finished=lambda src: (src / MANIFEST).is_file())
    calibration = read_json(out / CALIBRATION) if (out / CALIBRATION).is_file() else None
    if (out / MANIFEST).is_file():
        return {"dir": out, "manifest": load_manifest(out / MANIFEST), "calibration": calibration}
    model, extra = load_classifier(classifier["classifier"])
    hop = opts["hop"] if opts["hop"] is not None else float(extra["hop"])
    thresholds = None
    if opts["calibrate"]:
        if calibration is None:
            calibration = calibrate(model, cache.tracks("valid"), opts["length"], hop, opts["target_precision"],
                                    opts["min_selected"], opts["relative_db"], opts["absolute_db"], opts["min_mix_db"])
            calibration["valid"] = _plain(calibration["valid"])
            write_json(out / CALIBRATION, calibration)
        thresholds = calibration["thresholds"]
    log(f"remix: extracting {opts['length']:g} s excerpts without {', '.join(opts['sources'])} from "
        f"{_display(folder)} (thresholds {_fmt_thresholds(thresholds or extra['thresholds'])})")
    with logged_warnings(log):
        manifest = extract(classifier["classifier"], folder, out / MANIFEST, length=opts["length"],
                           sources=opts["sources"], thresholds=thresholds, hop=hop, min_mix_db=opts["min_mix_db"],
                           merge=opts["merge"], scores=None if scores is None else scores(hop))
    return {"dir": out, "manifest": manifest, "calibration": calibration}


def _plain(metrics: dict) -> dict:
    return {s: {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in m.items()}
            for s, m in metrics.items()}


def _fmt_thresholds(thresholds: dict) -> str:
    return ", ".join(f"{s} {'none' if t is None else f'{t:.3f}'}" for s, t in thresholds.items())


def _display(folder: Path) -> str:
    from .errors import describe

    return describe(folder)


def check_model(model) -> None:
    """The weak loss compares waveforms: a model trained on another representation is refused."""
    from .loss import _check_waveform_target

    _check_waveform_target(model)


@dataclass
class RemixData:
    """What a remix run trains with: the dataset of remixed examples and where it came from."""
    dataset: object
    length: int
    classifier: dict
    extraction: dict
    folder: Path

    def summary(self) -> dict:
        """For the run's history: the classifier and extraction folders and the yield per source."""
        m = self.extraction["manifest"]
        return {"classifier": Path(self.classifier["dir"]).name, "extraction": Path(self.extraction["dir"]).name,
                "unlabeled": _display(self.folder), "length": self.length, "items": len(self.dataset),
                "yield": m["yield"], "thresholds": m["thresholds"]}


def remix_data(params: dict, cache, tracks: Sequence, length: int, log: Callable = print,
               progress: bool = False) -> RemixData:
    """Steps 2-4 of the module docstring for a run whose labeled budget is ``tracks``; ``length``: the
    remixed examples' length in samples (a valid model input)."""
    from .dataset import RemixDataset

    folder = unlabeled_folder(params, cache.root)
    classifier = prepare_classifier(params, cache, tracks, log=log, progress=progress)
    extraction = prepare_extraction(params, cache, classifier, folder, log=log)
    ds = dict(require(params, "remix.dataset"))
    labels = dict(require(params, "remix.labels"))
    dataset = RemixDataset(extraction["manifest"], tracks, length=int(length), seed=int(require(params, "seed")),
                           sources=None, flip=bool(ds["flip_parts"]), balance=bool(ds["balance"]),
                           stem_stride=float(ds["stem_stride"]), relative_db=float(labels["relative_db"]),
                           absolute_db=float(labels["absolute_db"]))
    return RemixData(dataset=dataset, length=int(length), classifier=classifier, extraction=extraction, folder=folder)


def remix_length(model, excerpt: float, segment_length: int, samplerate: int) -> int:
    """The model input length of the remixed items: the longest valid input within L when L is shorter
    than the supervised input (``segment_length`` samples; two forward passes per step), else the
    supervised input length itself (one forward pass)."""
    from ..training.batches import input_length

    n = int(round(float(excerpt) * samplerate))
    if n >= segment_length:
        return int(segment_length)
    return input_length(model, n)
