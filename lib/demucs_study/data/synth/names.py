"""MUSDB-style track names ("Artist - Title") drawn from a seed; letters, spaces and apostrophes only."""
from __future__ import annotations

import numpy as np

FIRST = ("Ada", "Bruno", "Carla", "Dario", "Elin", "Farah", "Gus", "Hana", "Ivo", "Jonas", "Kira", "Lior",
         "Mina", "Nils", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tove", "Umar", "Vera", "Wes", "Yara")
LAST = ("Alder", "Brook", "Castell", "Dunmore", "Ekwall", "Fontaine", "Greer", "Holm", "Ivers", "Jansen",
        "Kettle", "Lindqvist", "Moreau", "Navarro", "Okafor", "Pike", "Quarry", "Rask", "Solberg", "Thorne")
ADJ = ("Amber", "Blue", "Broken", "Crimson", "Distant", "Electric", "Empty", "Golden", "Hollow", "Silent",
       "Lucky", "Midnight", "Neon", "Paper", "Quiet", "Restless", "Silver", "Velvet", "Wild", "Young")
NOUN = ("Anchors", "Bridges", "Comets", "Dunes", "Engines", "Foxes", "Harbors", "Islands", "Lanterns",
        "Mirrors", "Orchards", "Pilots", "Rivers", "Satellites", "Tides", "Valleys", "Wolves", "Signals")
WORD = ("Summer", "Heart", "Light", "Road", "Night", "Fire", "Water", "Dream", "Home", "Rain", "Ghost",
        "Glass", "Morning", "Echo", "Gravity", "Shadow", "Garden", "Static", "Horizon", "Letter")
VERB = ("Chasing", "Leaving", "Holding", "Waiting For", "Calling", "Finding", "Burning", "Counting",
        "Dancing With", "Running From", "Building", "Forgetting")


def track_name(rng: np.random.Generator) -> str:
    """One name "Artist - Title" from ``rng``."""
    c = lambda seq: seq[int(rng.integers(len(seq)))]  # noqa: E731
    artist = [lambda: f"{c(FIRST)} {c(LAST)}", lambda: f"The {c(ADJ)} {c(NOUN)}",
              lambda: f"{c(ADJ)} {c(NOUN)}", lambda: f"{c(LAST)} And {c(FIRST)}"][int(rng.integers(4))]()
    title = [lambda: f"{c(ADJ)} {c(WORD)}", lambda: f"{c(VERB)} {c(WORD)}", lambda: c(WORD),
             lambda: f"{c(WORD)} Of {c(NOUN)}", lambda: f"{c(WORD)}'s {c(WORD)}"][int(rng.integers(5))]()
    return f"{artist} - {title}"


def unique_names(names: list[str]) -> list[str]:
    """Names made unique in order by appending " II", " III", ... to repeats."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        k = seen.get(n, 0) + 1
        seen[n] = k
        out.append(n if k == 1 else f"{n} {'I' * k if k <= 3 else k}")
    return out
