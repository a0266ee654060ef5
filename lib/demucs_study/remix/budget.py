"""The labeled budget: which training tracks a run may use (``train.labeled_fraction``).

``labeled_subset(tracks, fraction, seed)`` keeps ``ceil(fraction * N)`` tracks (at least 1): the
first ones of a permutation of the track names drawn from ``seed``. The subsets are nested (the
25 % run's tracks are among the 50 % run's), so budgets differ only by the tracks added, and the
choice depends on neither the order the tracks are listed in nor the other parameters. The
classifier, the stem pool of remixed examples and the supervised windows all use the subset;
validation stays the whole validation split.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..errors import ParamsError


def labeled_subset(tracks: Sequence, fraction: float, seed: int) -> list:
    """The tracks of the labeled budget ``fraction`` in (0, 1], in their original order."""
    fraction = float(fraction)
    if not 0.0 < fraction <= 1.0:
        raise ParamsError(f"train.labeled_fraction = {fraction} must be in (0, 1] (the share of labeled training "
                          "tracks used)")
    tracks = list(tracks)
    if not tracks:
        raise ParamsError("train.labeled_fraction: there are no labeled training tracks to choose from")
    names = sorted(t.name for t in tracks)
    if len(set(names)) != len(names):
        raise ParamsError("train.labeled_fraction: two training tracks share a name; names must be unique")
    order = np.random.default_rng(np.random.SeedSequence([int(seed), 0xB0D6E7])).permutation(len(names))
    keep = {names[i] for i in order[:max(1, math.ceil(fraction * len(names) - 1e-9))]}
    return [t for t in tracks if t.name in keep]
