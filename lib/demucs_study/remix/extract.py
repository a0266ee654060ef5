"""Extraction: slide over every unlabeled mixture and keep the excerpts where a source is judged silent.

For each file of the unlabeled folder (decoded once into the :class:`~demucs_study.data.unlabeled.
UnlabeledAudio` cache, raw levels) the classifier scores windows every ``hop`` seconds, excerpts
of ``length`` L seconds starting every ``hop`` get the minimum over their windows (:mod:`.scoring`),
and excerpt e is **accepted for source j** when that score is ``>= thresholds[j]`` and the excerpt's
mixture is at least ``min_mix_db`` dBFS. Sources: drums, bass and vocals by default (the paper's
D0, D1, D3); ``other`` on request.

What is written: a JSON **manifest** (an index, not audio: the excerpts are read from the same
cache when training, so nothing is copied and a manifest costs a few kB), atomically. Each row is
``{"track", "source", "start", "length", "probability", "excerpts"}`` (samples at the manifest's
``samplerate``; ``track`` is the file's path relative to the folder). With ``merge`` (default)
consecutive accepted excerpts of one source become one row (a *region* of length >= L, from which
the remix dataset draws L-long crops at any offset: every L-crop of it is covered by accepted
windows, see :mod:`.scoring`); without it every accepted excerpt is its own row and rows overlap
(the paper's "potential overlap due to our extraction procedure"). ``excerpts`` counts the accepted
hop-aligned L-excerpts of a row.

Yield, per source: ``minutes`` (distinct audio: the union of the accepted excerpts), ``excerpts``
and ``excerpt_minutes`` (their count and total duration, overlap included: the paper's 1.5 days
is of this kind).

The hidden true stems of synthetic unlabeled songs are never read here: see :mod:`.truth`.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import SOURCES
from ..errors import DatasetError, ParamsError
from ..utils import read_json, write_json
from .calibrate import MIN_MIX_DB
from .classifier import SilenceClassifier, load_classifier, score_mixture
from .errors import RemixError, RemixWarning, describe
from .scoring import excerpt_frames, excerpt_levels, excerpt_scores, runs

MANIFEST_FORMAT = 1
#: The paper's D0, D1, D3 (``remix.sources``).
DEFAULT_SOURCES = ("drums", "bass", "vocals")
#: Default excerpt length L in seconds (``remix.excerpt``).
EXCERPT = 3.0


def _classifier(classifier) -> tuple[SilenceClassifier, dict, str | None]:
    if isinstance(classifier, (str, os.PathLike)):
        model, extra = load_classifier(classifier)
        return model, extra, str(classifier)
    if isinstance(classifier, SilenceClassifier):
        return classifier, {}, None
    model, extra = classifier
    return model, dict(extra), None


def open_unlabeled(folder, length: float, samplerate: int, cache_dir=None):
    """The :class:`~demucs_study.data.unlabeled.UnlabeledAudio` of ``folder`` (decoded and cached), with
    its errors (missing or empty folder, every file shorter than L) as :class:`RemixError` naming
    the remix parameters to change. Only its decoded files (``entries``: file, raw array, length,
    mean, std) are used; its windows are laid every L (fewest objects), not used."""
    from ..data.unlabeled import UnlabeledAudio

    try:
        return UnlabeledAudio(folder, segment=length, stride=length, samplerate=samplerate, cache_dir=cache_dir)
    except (DatasetError, ParamsError) as exc:
        raise RemixError(f"remix extraction cannot use the unlabeled folder: {exc}. The excerpt length is "
                         f"remix.excerpt = {length:g} s and the folder is remix.unlabeled_data") from None


def window_scores(classifier, folder, hop: float | None = None, cache_dir=None, batch_size: int = 64) -> dict:
    """The classifier's window probabilities ``(n, S)`` of every unlabeled file, keyed by its path
    relative to ``folder``, every ``hop`` seconds (default the classifier's): what :func:`extract`
    computes first, kept so that several extractions (excerpt lengths) share one scan (``scores=``)."""
    model, extra, _ = _classifier(classifier)
    hop = float(hop if hop is not None else extra.get("hop", model.window / 2))
    audio = open_unlabeled(folder, model.window, model.samplerate, cache_dir)
    n_hop = int(round(hop * model.samplerate))
    return {e.file.relative_to(audio.folder).as_posix(): score_mixture(model, np.load(e.array, mmap_mode="r"), n_hop,
                                                                       batch_size)
            for e in audio.entries}


def extract(classifier, folder, manifest_path, *, length: float = EXCERPT, sources: Sequence[str] = DEFAULT_SOURCES,
            thresholds: dict | None = None, hop: float | None = None, min_mix_db: float = MIN_MIX_DB,
            merge: bool = True, cache_dir=None, batch_size: int = 64, progress: bool = False,
            scores: dict | None = None) -> dict:
    """Extract the silent-source excerpts of the unlabeled ``folder`` and write the manifest.

    ``classifier``: a ``classifier.th`` path, a :class:`SilenceClassifier`, or ``(model, extra)``.
    ``thresholds``: ``{source: threshold or None}`` (e.g. :func:`.calibrate.calibrate` for this
    ``length``); default the classifier's own (chosen on single windows). ``hop`` (seconds): default
    the classifier's training hop. Returns the manifest (also written to ``manifest_path``,
    atomically, only when complete). Raises :class:`RemixError` if the folder is missing, empty or
    too short, or if no excerpt of any source passes its threshold; warns for a source without any.
    ``scores``: the files' window probabilities at this ``hop`` (:func:`window_scores`), else computed.
    """
    model, extra, model_path = _classifier(classifier)
    sources = list(sources)
    unknown = [s for s in sources if s not in model.sources]
    if unknown or not sources:
        raise ParamsError(f"remix.sources = {sources}: choose among the classifier's sources {model.sources}")
    if thresholds is None:
        thresholds = extra.get("thresholds")
        if thresholds is None:
            raise ParamsError("the classifier carries no thresholds (not saved by train_classifier): give "
                              "thresholds={source: value}, e.g. from remix.calibrate")
    hop = float(hop if hop is not None else extra.get("hop", model.window / 2))
    sr = model.samplerate
    n_len, n_hop, n_win = int(round(length * sr)), int(round(hop * sr)), model.window_samples
    excerpt_frames(n_win, n_hop, n_len)  # checks that L is the window plus whole hops
    audio = open_unlabeled(folder, length, sr, cache_dir)

    rows: list[dict] = []
    tracks: list[dict] = []
    accepted_counts = {s: 0 for s in sources}
    entries = audio.entries
    if progress:
        from tqdm.auto import tqdm

        entries = tqdm(entries, desc="extracting", unit="file")
    for entry in entries:
        rel = entry.file.relative_to(audio.folder).as_posix()
        tracks.append({"track": rel, "samples": int(entry.length), "mean": entry.mean, "std": entry.std})
        if entry.length < n_len:
            continue
        mixture = np.load(entry.array, mmap_mode="r")
        probs = scores[rel] if scores is not None else score_mixture(model, mixture, n_hop, batch_size)
        excerpt = excerpt_scores(probs, n_win, n_hop, n_len)
        loud = excerpt_levels(mixture, n_len, n_hop) >= min_mix_db
        for s in sources:
            t = thresholds.get(s)
            if t is None:
                continue
            k = model.sources.index(s)
            accepted = (excerpt[:, k] >= float(t)) & loud
            accepted_counts[s] += int(accepted.sum())
            groups = runs(accepted) if merge else [(e, e) for e in np.flatnonzero(accepted).tolist()]
            for first, last in groups:
                rows.append({"track": rel, "source": s, "start": first * n_hop,
                             "length": (last - first) * n_hop + n_len,
                             "probability": float(excerpt[first:last + 1, k].min()), "excerpts": last - first + 1})
    scanned = sum(t["samples"] for t in tracks) / sr / 60
    yields = {s: _yield(rows, s, sr, accepted_counts[s], n_len) for s in sources}
    if not rows:
        used = {s: thresholds.get(s) for s in sources}
        raise RemixError(f"the silence classifier found no excerpt of {length:g} s above its thresholds {used} for "
                         f"{sources} in {scanned:.1f} min of unlabeled audio ({describe(audio.folder)}); no manifest written. "
                         "Use shorter excerpts (remix.excerpt), a lower remix.classifier.target_precision, a better "
                         "classifier (more epochs, more labeled data), or more unlabeled audio")
    for s in sources:
        if yields[s]["excerpts"] == 0:
            reason = ("it has no threshold (none reached the target precision on validation)"
                      if thresholds.get(s) is None else f"none scored above its threshold {thresholds[s]:.3f}")
            warnings.warn(RemixWarning(f"remix extraction: no {length:g} s excerpt without {s} in {describe(audio.folder)}: "
                                       f"{reason}; the remixed examples will have no silent-{s} excerpt (D for {s} "
                                       "is empty). Shorter excerpts or more unlabeled audio may help"), stacklevel=2)
    manifest = {
        "format": MANIFEST_FORMAT, "folder": str(Path(audio.folder).expanduser().absolute()), "samplerate": sr,
        "length": n_len, "length_seconds": float(length), "hop": n_hop, "window": n_win,
        "sources": sources, "thresholds": {s: thresholds.get(s) for s in sources}, "min_mix_db": float(min_mix_db),
        "merge": bool(merge),
        "classifier": {"path": model_path, "params_hash": extra.get("params_hash")},
        "scanned_minutes": scanned, "tracks": tracks, "yield": yields, "excerpts": rows,
    }
    write_json(manifest_path, manifest)
    return manifest


def _yield(rows: list[dict], source: str, sr: int, accepted: int, n_len: int) -> dict:
    mine = sorted((r for r in rows if r["source"] == source), key=lambda r: (r["track"], r["start"]))
    union, track, end = 0, None, -1
    for r in mine:  # union of [start, start + length) per track
        a, b = r["start"], r["start"] + r["length"]
        if r["track"] != track:
            track, end = r["track"], -1
        if b > end:
            union += b - max(a, end)
            end = b
    return {"minutes": union / sr / 60, "excerpts": accepted, "excerpt_minutes": accepted * n_len / sr / 60,
            "rows": len(mine)}


def load_manifest(path) -> dict:
    """Read a manifest written by :func:`extract`; :class:`RemixError` names the file and the fix."""
    path = Path(path)
    try:
        manifest = read_json(path)
    except (OSError, ValueError) as exc:
        raise RemixError(f"cannot read the remix manifest {path} ({type(exc).__name__}); run the extraction "
                         "(remix.extract) again") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT or "excerpts" not in manifest:
        raise RemixError(f"{path} is not a remix manifest of format {MANIFEST_FORMAT}; run the extraction again")
    return manifest


def manifest_sources(manifest: dict) -> list[str]:
    """The sources that have at least one excerpt in ``manifest``, in :data:`SOURCES` order."""
    present = {r["source"] for r in manifest["excerpts"]}
    return [s for s in SOURCES if s in present]
