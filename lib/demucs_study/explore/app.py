"""The explorer's widgets (ipywidgets): controls wired to the pure functions of :mod:`.views`.

:class:`ExplorerApp` builds the controls (track, system, stem, time range, frequency axis; per-stem gain,
mute and solo; a second system; a song of your own) and four tabs: *Listen & look*, *Remix*, *Compare*,
*Your own song*. Each output is a *view* that depends on named controls (:data:`VIEWS`): a change recomputes
only the views that depend on it, only in the visible tab (the others when their tab is opened), and a
view whose inputs did not change is not recomputed. Players encode in parallel and are memoised.

Errors never escape a callback (ipywidgets would only log them): each view's error is shown as one message
in the error area (:attr:`ExplorerApp.errors`) and the other views still update. Long work (separating a
track or a song) drives the progress bar.

In a notebook, the app displays as the live widget and, for exports without a kernel (the executed HTML of
the DAG), as a static snapshot of its current state (:meth:`ExplorerApp.snapshot_html`).
"""
from __future__ import annotations

import base64
import html
import time
from collections import Counter, OrderedDict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from ..errors import StudyError
from . import views
from .audio import EXPLORER_BITRATE, OPUS_COMPLEXITY, encode_ogg, player_html
from .data import ExploreError, ProfileData, TrackAudio, reference_estimates, stem_index

#: Tabs, in order.
TABS = ("Listen & look", "Remix", "Compare", "Your own song")
LISTEN, REMIX, COMPARE, OWN = range(4)
#: Control keys.
TRACK, SYSTEM, STEM, RANGE, FREQ, GAINS, OTHER = "track", "system", "stem", "range", "freq", "gains", "compare"
EVERYTHING = frozenset({TRACK, SYSTEM, STEM, RANGE, FREQ, GAINS, OTHER})


@dataclass(frozen=True)
class View:
    """An output: the controls it depends on and its tab (None: always visible)."""

    depends: frozenset
    tab: int | None


#: Every view of the app.
VIEWS = {
    "status": View(frozenset({TRACK, SYSTEM, STEM, RANGE}), None),
    "players": View(frozenset({TRACK, SYSTEM, STEM, RANGE}), LISTEN),
    "scores": View(frozenset({TRACK, SYSTEM, STEM, RANGE}), LISTEN),
    "signals": View(frozenset({TRACK, SYSTEM, STEM, RANGE, FREQ}), LISTEN),
    "frames": View(frozenset({TRACK, SYSTEM, STEM, RANGE}), LISTEN),
    "remix": View(frozenset({TRACK, SYSTEM, RANGE, GAINS}), REMIX),
    "compare": View(frozenset({TRACK, SYSTEM, OTHER, STEM, RANGE}), COMPARE),
    "compare_signals": View(frozenset({TRACK, SYSTEM, OTHER, STEM, RANGE, FREQ}), COMPARE),
}
#: Player memo size (encoded excerpts kept) and figure memo size.
PLAYER_MEMO = 48
FIGURE_MEMO = 16
#: ffmpeg processes encoding players at once (they run while the figures are drawn).
ENCODERS = 3
#: Figure resolution in the app.
DPI = 72


def error_message(exc: BaseException) -> str:
    """One line for the UI: a study error's own message; anything else its type and text, flagged as a bug."""
    if isinstance(exc, StudyError):
        return str(exc)
    text = " ".join(str(exc).split())[:300] or "no details"
    return f"unexpected {type(exc).__name__}: {text} (a bug of the explorer: please report it with the choices above)"


class ExplorerApp:
    """The explorer of ``profile`` (or of ``data``, a :class:`~.data.ProfileData`).

    ``track``/``system``/``stem``: the first choices (default: the first test track, the first experiment, vocals).
    Read the state from the widgets (:attr:`track`, :attr:`system`, :attr:`stem`, :attr:`range`, ...) and the
    outputs from :attr:`outputs`; :attr:`renders` counts how often each view was computed, :attr:`timings`
    holds the seconds of its last computation.
    """

    def __init__(self, profile: str | None = None, data: ProfileData | None = None, track: str | None = None,
                 system: str | None = None, stem: str = "vocals", compare: str | None = None):
        import ipywidgets as w

        if data is None:
            if profile is None:
                raise ExploreError("give a profile (e.g. 'quick') or its ProfileData")
            data = ProfileData(profile)
        self.data, self.profile = data, data.profile
        self.songs: dict[str, TrackAudio] = {}
        self.song_estimates: dict[tuple[str, str], np.ndarray] = {}
        self.renders: Counter = Counter()
        self.timings: dict[str, float] = {}
        self.outputs: dict[str, object] = {}
        self.view_errors: dict[str, str] = {}
        self._players: OrderedDict = OrderedDict()
        self._figures: OrderedDict = OrderedDict()
        self._excerpts: OrderedDict = OrderedDict()
        self._pool = ThreadPoolExecutor(ENCODERS, thread_name_prefix="explore-encode")
        self._keys: dict[str, tuple] = {}
        self._dirty: set[str] = set(VIEWS)
        self._holding = False
        self._cut = False                   # the last range asked for was longer than views.MAX_SECONDS
        #: wall seconds of the last :meth:`refresh` (what a control change costs)
        self.last_refresh = 0.0

        systems = [s.name for s in data.systems()]
        if not systems:
            raise ExploreError(f"profile {self.profile!r} has nothing to explore: no trained experiment, no stored "
                               f"estimates; run make paper-results PROFILE={self.profile}")
        experiments = [s.name for s in data.systems() if s.kind == "experiment"]
        system = system or (experiments[0] if experiments else systems[0])
        track = track or data.tracks[0]
        if system not in systems:
            raise ExploreError(f"system {system!r} cannot be shown in profile {self.profile!r}; choose one of "
                               f"{', '.join(systems)}")
        stem_index(data.track(track).sources, stem)
        others = [s for s in systems if s != system]
        compare = compare or ("IRM2" if "IRM2" in others else (others[0] if others else system))
        wide = {"description_width": "initial"}

        # ---- the selection (always visible)
        self.track = w.Dropdown(options=data.tracks, value=track, description="track", style=wide,
                                layout=w.Layout(width="28em"))
        self.system = w.Dropdown(options=systems, value=system, description="system", style=wide,
                                 layout=w.Layout(width="20em"))
        self.stem = w.ToggleButtons(options=list(data.track(track).sources), value=stem, description="stem",
                                    style={"button_width": "5.5em", **wide})
        self.range = w.FloatRangeSlider(value=(0.0, 1.0), min=0.0, max=1.0, step=0.1, description="range (s)",
                                        continuous_update=False, readout_format=".1f", style=wide,
                                        layout=w.Layout(width="44em"))
        self.freq = w.ToggleButtons(options=list(views.FREQ_SCALES), value="log", description="frequency axis",
                                    style={"button_width": "4.5em", **wide})
        self.status = w.HTML()
        self.progress = w.FloatProgress(value=0.0, min=0.0, max=1.0, description="", layout=w.Layout(width="20em"))
        self.progress_label = w.HTML()
        self.progress_box = w.HBox([self.progress, self.progress_label], layout=w.Layout(display="none"))
        self.errors = w.HTML(layout=w.Layout(display="none"))
        for widget, name in ((self.status, "explore-status"), (self.errors, "explore-errors"),
                             (self.range, "explore-range"), (self.stem, "explore-stem")):
            widget.add_class(name)

        # ---- listen & look
        self.players_html = w.HTML()
        self.players_html.add_class("explore-players")
        self.scores_html = w.HTML()
        self.signals_image = w.Image(format="jpeg", layout=w.Layout(width="100%", max_width="1000px"))
        self.signals_image.add_class("explore-signals")
        self.frames_html = w.HTML()
        self.scores_html.layout.margin = "0 0 0 1.5em"
        listen = w.VBox([w.HBox([self.players_html, self.scores_html], layout=w.Layout(flex_flow="row wrap")),
                         self.signals_image, self.frames_html])

        # ---- remix
        self.preset = w.Dropdown(options=list(views.PRESETS), value="all stems", description="preset", style=wide)
        self.gains, self.mutes, self.solos, rows = {}, {}, {}, []
        for source in data.track(track).sources:
            self.gains[source] = w.FloatSlider(value=0.0, min=-30.0, max=12.0, step=1.0, description=source,
                                               continuous_update=False, readout_format="+.0f", style=wide,
                                               layout=w.Layout(width="26em"))
            self.mutes[source] = w.ToggleButton(value=False, description="mute", layout=w.Layout(width="5em"))
            self.solos[source] = w.ToggleButton(value=False, description="solo", layout=w.Layout(width="5em"))
            rows.append(w.HBox([self.gains[source], w.HTML("dB"), self.mutes[source], self.solos[source]]))
        self.remix_html = w.HTML()
        remix = w.VBox([w.HTML("Gain per estimated stem (dB); <i>mute</i> silences a stem, <i>solo</i> keeps only "
                               "the soloed ones (mute wins). The remix plays at true loudness: beyond full scale it "
                               "is clipped, and the note says so."), self.preset, *rows, self.remix_html])

        # ---- compare
        self.other = w.Dropdown(options=systems, value=compare, description="compare with", style=wide,
                                layout=w.Layout(width="22em"))
        self.compare_html = w.HTML()
        self.compare_image = w.Image(format="jpeg", layout=w.Layout(width="100%", max_width="1000px"))
        self.compare_frames = w.HTML()
        compare_tab = w.VBox([self.other, self.compare_html, self.compare_image, self.compare_frames])

        # ---- your own song
        models = [s.name for s in data.models()]
        self.upload = w.FileUpload(accept="audio/*," + ",".join(_suffixes()), multiple=False,
                                   description="upload a song")
        self.song_path = w.Text(value="", placeholder="or the path of an audio file on this machine",
                                layout=w.Layout(width="36em"))
        self.model = w.Dropdown(options=models, value=models[0] if models else None, description="model",
                                style=wide, disabled=not models)
        self.separate_button = w.Button(description="separate", button_style="primary", icon="play",
                                        disabled=not models)
        self.own_html = w.HTML(_own_intro(models, self.profile))
        own = w.VBox([self.own_html, w.HBox([self.upload, self.song_path]), w.HBox([self.model, self.separate_button]),
                      w.HTML(_status_html(data))])

        self.tabs = w.Tab(children=[listen, remix, compare_tab, own], titles=list(TABS))
        header = w.HTML("<h3 style='margin:.2em 0'>Explore the separations of profile "
                        f"<code>{html.escape(self.profile)}</code></h3>")
        self.widget = w.VBox([header, w.HBox([self.track, self.system]), w.HBox([self.stem, self.freq]), self.range,
                              self.status, self.progress_box, self.errors, self.tabs])
        self.widget.add_class("explore-app")

        self._wire()
        self._guard("open", lambda: (self._open_track(track), self.refresh(EVERYTHING)))

    # ---- wiring
    def _wire(self) -> None:
        self.track.observe(self._handler(self._track_changed), names="value")
        self.system.observe(self._handler(lambda: self.refresh({SYSTEM})), names="value")
        self.stem.observe(self._handler(lambda: self.refresh({STEM})), names="value")
        self.range.observe(self._handler(self._range_changed), names="value")
        self.freq.observe(self._handler(lambda: self.refresh({FREQ})), names="value")
        self.other.observe(self._handler(lambda: self.refresh({OTHER})), names="value")
        self.preset.observe(self._handler(self._preset_changed), names="value")
        for widgets in (self.gains, self.mutes, self.solos):
            for widget in widgets.values():
                widget.observe(self._handler(lambda: self.refresh({GAINS})), names="value")
        self.tabs.observe(self._handler(lambda: self.refresh(set())), names="selected_index")
        self.separate_button.on_click(lambda _: self._guard("your own song", self.separate_song))

    def _handler(self, action):
        def handle(change):
            if not self._holding:
                self._guard("update", action)
        return handle

    def _guard(self, what: str, action) -> None:
        """Run ``action``; an exception becomes a message in the error area instead of escaping."""
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - every error must reach the UI
            self._hide_progress()
            self.view_errors[what] = error_message(exc)
            self._show_errors()

    @contextmanager
    def hold(self):
        """A context in which control changes made by code do not trigger updates."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    # ---- the selection
    @property
    def selection(self) -> dict:
        start, stop = self.range.value
        return {TRACK: self.track.value, SYSTEM: self.system.value, STEM: self.stem.value, RANGE: (start, stop),
                FREQ: self.freq.value, OTHER: self.other.value, GAINS: self.gain_state()}

    def gain_state(self) -> tuple:
        """``(gains in dB, muted, soloed)`` of the remix controls, hashable."""
        return (tuple((s, float(g.value)) for s, g in self.gains.items()),
                tuple(s for s, b in self.mutes.items() if b.value), tuple(s for s, b in self.solos.items() if b.value))

    def current_track(self) -> TrackAudio:
        name = self.track.value
        return self.songs[name] if name in self.songs else self.data.track(name)

    def estimates(self, system: str, track: str | None = None) -> np.ndarray:
        """``(S, C, T)`` estimates of ``track`` (default: the selected one) by ``system``: for a song of your own
        those separated in the *Your own song* tab (or MIX), else :meth:`ProfileData.estimates` (a missing one
        is separated with the progress bar)."""
        track = track or self.track.value
        if track in self.songs:
            if (track, system) in self.song_estimates:
                return self.song_estimates[(track, system)]
            if system == "MIX":
                return reference_estimates("MIX", self.songs[track])
            raise ExploreError(f"{track!r} was not separated with {system!r}: separate it with that model in the "
                               "'Your own song' tab")
        return self.data.estimates(system, track, progress=self._progress_callback(f"separating {track} with {system}"))

    def frame_scores(self, system: str, stem: str, track: str | None = None):
        track = track or self.track.value
        return None if track in self.songs else self.data.frame_scores(system, track, stem)

    def _open_track(self, name: str) -> None:
        """Range, stems and systems for the track ``name`` (under :meth:`hold`)."""
        track = self.current_track()
        with self.hold():
            if name in self.songs:
                systems = [s for (song, s) in self.song_estimates if song == name] + ["MIX"]
            else:
                systems = [s.name for s in self.data.systems()]
            keep = self.system.value if self.system.value in systems else systems[0]
            self.system.options = systems
            self.system.value = keep
            other = self.other.value if self.other.value in systems else (
                [s for s in systems if s != keep] or [keep])[0]
            self.other.options = systems
            self.other.value = other
            if tuple(self.stem.options) != tuple(track.sources):
                self.stem.options = list(track.sources)
            stem = self.stem.value or track.sources[-1]
            reference = track.reference(stem)
            start, stop = views.loudest_window(reference if reference is not None and np.any(reference)
                                               else track.mixture, track.samplerate)
            duration = round(track.duration, 1) if track.duration >= 0.1 else track.duration
            if self.range.min > 0:
                self.range.min = 0.0
            self.range.max = max(duration, 0.1)
            self.range.value = (round(start, 1), min(round(stop, 1), self.range.max))

    def _track_changed(self) -> None:
        self._open_track(self.track.value)
        self.refresh(EVERYTHING)

    def _range_changed(self) -> None:
        start, stop = self.range.value
        track = self.current_track()
        fixed = views.clamp_range(start, stop, track.duration)
        self._cut = stop - start > views.MAX_SECONDS + 1e-6
        if (round(fixed[0], 1), round(fixed[1], 1)) != (round(start, 1), round(stop, 1)):
            with self.hold():
                self.range.value = (round(fixed[0], 1), round(fixed[1], 1))
        self.refresh({RANGE})

    def _preset_changed(self) -> None:
        preset = views.PRESETS[self.preset.value]
        with self.hold():
            for source in self.gains:
                self.gains[source].value = 0.0
                self.mutes[source].value = source in preset.get("mute", ())
                self.solos[source].value = source in preset.get("solo", ())
        self.refresh({GAINS})

    def excerpt_range(self) -> tuple[float, float]:
        start, stop = self.range.value
        return views.clamp_range(start, stop, self.current_track().duration)

    # ---- refreshing
    def refresh(self, changed=EVERYTHING, everything: bool = False) -> None:
        """Recompute the views that depend on the ``changed`` controls (or were left out of date) and are
        visible (every view with ``everything``). A view whose inputs did not change is not recomputed.

        A view may return a function that completes it (players: their encoding runs in ffmpeg processes
        while the figures of the other views are drawn); those run last."""
        begin = time.perf_counter()
        for name, view in VIEWS.items():
            if view.depends & set(changed):
                self._dirty.add(name)
        visible = self.tabs.selected_index
        todo = [n for n in VIEWS if n in self._dirty and (everything or VIEWS[n].tab in (None, visible))]
        finish = []
        for name in todo:
            self._dirty.discard(name)
            key = tuple(self.selection[k] for k in sorted(VIEWS[name].depends))
            if self._keys.get(name) == key and name not in self.view_errors:
                continue
            done = self._run(name, lambda name=name: getattr(self, f"_view_{name}")())
            if callable(done):
                finish.append((name, done))
            elif done is not False:
                self._keys[name] = key
        for name, done in finish:
            if self._run(name, done, add=True) is not False:
                self._keys[name] = tuple(self.selection[k] for k in sorted(VIEWS[name].depends))
        for what in ("open", "update"):      # the update went through: earlier failures of it are gone
            self.view_errors.pop(what, None)
        self._show_errors()
        self.last_refresh = time.perf_counter() - begin

    def _run(self, name: str, action, add: bool = False):
        """Run one step of view ``name``, timed and counted; an error is recorded for the UI (returns False)."""
        start = time.perf_counter()
        try:
            result = action()
            self.view_errors.pop(name, None)
        except Exception as exc:  # noqa: BLE001 - shown in the UI
            self._keys.pop(name, None)
            self.view_errors[name] = error_message(exc)
            self._hide_progress()
            result = False
        self.timings[name] = (self.timings.get(name, 0.0) if add else 0.0) + time.perf_counter() - start
        if not callable(result):
            self.renders[name] += 1
        return result

    def _show_errors(self) -> None:
        if self.view_errors:
            items = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v, quote=False)}</li>"
                            for k, v in self.view_errors.items())
            self.errors.value = ("<div style='color:#b00020;border:1px solid #b00020;padding:.3em .6em;"
                                 "border-radius:4px'>Could not show everything:"
                                 f"<ul style='margin:0'>{items}</ul></div>")
            self.errors.layout.display = None
        else:
            self.errors.value = ""
            self.errors.layout.display = "none"

    # ---- progress
    def _progress_callback(self, what: str):
        started = time.perf_counter()

        def report(done: int, total: int) -> None:
            self.progress_box.layout.display = None
            self.progress.value = done / max(total, 1)
            self.progress_label.value = (f"{html.escape(what)}: chunk {done}/{total}, "
                                         f"{time.perf_counter() - started:.0f} s")
            if done >= total:
                self._hide_progress()
        return report

    def _hide_progress(self) -> None:
        self.progress_box.layout.display = "none"

    # ---- views
    def _player_htmls(self, items: list[tuple[tuple, str, object]]):
        """Start the players of ``(memo key, label, signal or callable returning it)``: the missing ones are
        encoded by ffmpeg processes in the background, the others come from the memo. Returns a function that
        waits for them and returns their HTML, in order."""
        rate = self.current_track().samplerate
        pending = {}
        for key, label, make in items:
            if key not in self._players and key not in pending:
                x = make() if callable(make) else make
                job = self._pool.submit(encode_ogg, x, rate, EXPLORER_BITRATE, OPUS_COMPLEXITY)
                pending[key] = (label, x, job)

        def collect() -> list[str]:
            for key, (label, x, job) in pending.items():
                self._players[key] = player_html(x, rate, label, encoded=job.result())
            for key, _, _ in items:
                self._players.move_to_end(key)
            out = [self._players[key] for key, _, _ in items]
            while len(self._players) > PLAYER_MEMO:
                self._players.popitem(last=False)
            return out
        return collect

    def _figure(self, key: tuple, draw) -> bytes:
        """PNG of the figure ``draw()`` makes, memoised by ``key``."""
        if key not in self._figures:
            self._figures[key] = views.figure_bytes(draw(), DPI, "png")
            while len(self._figures) > FIGURE_MEMO:
                self._figures.popitem(last=False)
        self._figures.move_to_end(key)
        return self._figures[key]

    def _listen_signals(self, system: str) -> dict[str, np.ndarray]:
        """The excerpts of :func:`views.listen_signals` for ``system`` (the last few kept: several views use them)."""
        start, stop = self.excerpt_range()
        key = (self.track.value, system, self.stem.value, start, stop)
        if key not in self._excerpts:
            self._excerpts[key] = views.listen_signals(self.current_track(), self.estimates(system), self.stem.value,
                                                       start, stop)
            while len(self._excerpts) > 4:
                self._excerpts.popitem(last=False)
        return self._excerpts[key]

    def _view_status(self) -> None:
        start, stop = self.excerpt_range()
        note = ""
        if self._cut:
            note = f" (cut to {views.MAX_SECONDS:.0f} s: the longest excerpt shown at once)"
        self.status.value = (f"<div class='explore-selection'><b>{html.escape(self.track.value)}</b> · "
                             f"{html.escape(self.system.value)} · <b>{html.escape(self.stem.value)}</b> · "
                             f"{start:.1f}–{stop:.1f} s{note}</div>")
        self.outputs["status"] = self.status.value

    def _view_players(self) -> None:
        track, system, stem = self.track.value, self.system.value, self.stem.value
        span = self.excerpt_range()
        cache = {}

        def signals():
            if not cache:
                cache.update(self._listen_signals(system))
            return cache

        items = [((TRACK, track, span), "mixture", lambda: signals()["mixture"])]
        if self.current_track().references is not None:
            items.append(((STEM, track, stem, span), f"reference ({stem})", lambda: signals()["reference"]))
        items.append(((SYSTEM, track, system, stem, span), f"estimate ({system})", lambda: signals()["estimate"]))
        if self.current_track().references is not None:
            items.append((("residual", track, system, stem, span), "residual (reference − estimate)",
                          lambda: signals()["residual"]))
        collect = self._player_htmls(items)

        def finish():
            self.players_html.value = "".join(collect())
            self.outputs["players"] = self.players_html.value
        return finish

    def _view_scores(self) -> None:
        track = self.current_track()
        system, stem = self.system.value, self.stem.value
        start, stop = self.excerpt_range()
        if track.references is None:
            self.scores_html.value = ("<i>Your own song has no true stems: no reference, residual or SDR; listen to "
                                      "the estimates and remix them.</i>")
        else:
            table = views.selection_scores(track, {system: self.estimates(system)}, stem, start, stop,
                                           {system: self.frame_scores(system, stem)})
            self.scores_html.value = (views.scores_html(table)
                                      + "<div style='font-size:80%;color:#666;max-width:32em;line-height:1.3'>"
                                      "SDR of the excerpt: the new SDR of the whole excerpt. Frame SDR: the stored "
                                      "BSSEval v4 evaluation over 1 s frames (the paper's number is the track "
                                      "median).</div>")
        self.outputs["scores"] = self.scores_html.value

    def _view_signals(self) -> None:
        start, _ = self.excerpt_range()
        signals = self._listen_signals(self.system.value)
        title = f"{self.track.value} · {self.system.value} · {self.stem.value}"
        fig = views.signals_figure(signals, self.current_track().samplerate, start, title, self.freq.value)
        self.signals_image.value = views.figure_bytes(fig, DPI, "jpeg")
        self.outputs["signals"] = self.signals_image.value

    def _frames_html(self, systems: list[str]) -> str:
        """The per-frame SDR of the selected stem for ``systems`` (the first drawn thick), the selection shaded."""
        from ..reporting.figures import system_colors

        track, stem = self.current_track(), self.stem.value
        start, stop = self.excerpt_range()
        frames = {s: self.frame_scores(s, stem) for s in systems}
        png = self._figure(("frames", track.name, stem, tuple(systems)),
                           lambda: views.frames_figure(frames, stem, track.duration, system_colors(frames)))
        return views.frames_html(png, start, stop, track.duration)

    def _view_frames(self) -> None:
        system = self.system.value
        systems = [system]
        if self.current_track().references is not None:
            systems += [r for r in ("MIX", "IRM2") if r != system and self.frame_scores(r, self.stem.value) is not None]
        self.frames_html.value = self._frames_html(systems)
        self.outputs["frames"] = self.frames_html.value

    def _view_remix(self) -> None:
        track, system = self.current_track(), self.system.value
        start, stop = self.excerpt_range()
        gains_db, mute, solo = self.gain_state()
        gains = views.stem_gains(track.sources, dict(gains_db), mute, solo)
        signals = views.remix_signals(track, self.estimates(system), gains, start, stop)
        key = (track.name, system, (start, stop), tuple(gains.tolist()))
        items = [(("remix",) + key, f"remix of the estimates ({system})", signals["remix"])]
        if "true remix" in signals:
            items.append((("true remix", track.name, (start, stop), tuple(gains.tolist())),
                          "the same remix of the true stems", signals["true remix"]))
        collect = self._player_htmls(items)
        text = ""
        if "true remix" in signals:
            value = views.sdr(signals["true remix"], signals["remix"])
            text += (f"<div class='explore-remix-sdr'>SDR of the remix against the same remix of the true stems "
                     f"(this excerpt): <b>{views.fmt_db(value)}</b></div>")
        if not gains.any():
            text += "<div><i>Every stem is muted or left out by solo: the remix is silent.</i></div>"

        def finish():
            self.remix_html.value = "".join(collect()) + text
            self.outputs["remix"] = self.remix_html.value
        return finish

    def _view_compare(self) -> None:
        track, stem = self.current_track(), self.stem.value
        a, b = self.system.value, self.other.value
        start, stop = self.excerpt_range()
        columns = []
        for system in (a, b):
            signals = self._listen_signals(system)
            items = [((SYSTEM, track.name, system, stem, (start, stop)), f"estimate ({system})", signals["estimate"])]
            if "residual" in signals:
                items.append((("residual", track.name, system, stem, (start, stop)),
                              "residual (reference − estimate)", signals["residual"]))
            score = ""
            if track.references is not None:
                table = views.selection_scores(track, {system: self.estimates(system)}, stem, start, stop,
                                               {system: self.frame_scores(system, stem)})
                score = views.scores_html(table)
            columns.append((system, self._player_htmls(items), score))
        frames = self._frames_html([a, b] if a != b else [a]) if track.references is not None else ""

        def finish():
            cells = [f"<div style='flex:1;min-width:24em'><h4 style='margin:.2em 0'>{html.escape(system)}</h4>"
                     f"{''.join(collect())}{score}</div>" for system, collect, score in columns]
            self.compare_html.value = f"<div style='display:flex;gap:1.5em;flex-wrap:wrap'>{''.join(cells)}</div>"
            self.compare_frames.value = frames
            self.outputs["compare"] = self.compare_html.value + frames
            # the snapshot shows the first system in its listen section already: only the second here
            self.outputs["compare_second"] = cells[1] + frames
        return finish

    def _view_compare_signals(self) -> None:
        track, stem = self.current_track(), self.stem.value
        a, b = self.system.value, self.other.value
        start, _ = self.excerpt_range()
        first, second = self._listen_signals(a), self._listen_signals(b)
        signals = {}
        if "reference" in first:
            signals["reference"] = first["reference"]
        signals[f"estimate: {a}"] = first["estimate"]
        signals[f"estimate: {b}"] = second["estimate"]
        if "residual" in first:
            signals[f"residual: {a}"] = first["residual"]
            signals[f"residual: {b}"] = second["residual"]
        fig = views.signals_figure(signals, track.samplerate, start, f"{track.name} · {stem}: {a} vs {b}",
                                   self.freq.value)
        self.compare_image.value = views.figure_bytes(fig, DPI, "jpeg")
        self.outputs["compare_signals"] = self.compare_image.value

    # ---- your own song
    def separate_song(self, content: bytes | None = None, filename: str | None = None) -> str:
        """Separate the uploaded file (or ``content`` named ``filename``, or the path typed in the tab) with the
        chosen model, then select it. Returns the song's name."""
        from . import own

        if content is None:
            if self.upload.value:
                item = self.upload.value[0]
                content, filename = bytes(item["content"]), item["name"]
            elif self.song_path.value.strip():
                filename = self.song_path.value.strip()
        if not filename:
            raise ExploreError("choose a file with 'upload a song' (or type the path of an audio file) first")
        if not self.model.value:
            raise ExploreError(f"profile {self.profile!r} has no trained model to separate with; run make train "
                               f"PROFILE={self.profile}")
        system = self.data.system(self.model.value)
        model = self.data.model(system)
        progress = self._progress_callback(f"separating {filename} with {system.name}")
        progress(0, 1)
        begin = time.perf_counter()
        self.view_errors.pop("your own song", None)
        if content is not None:
            song, estimates = own.separate_upload(model, content, filename, system.params, progress)
        else:
            song, estimates = own.separate_song(model, filename, system.params, progress)
        self._hide_progress()
        self.songs[song.name] = song
        self.song_estimates[(song.name, system.name)] = estimates
        for memo in (self._players, self._figures, self._excerpts, self._keys):   # a song may come back changed
            memo.clear()
        self.own_html.value = (_own_intro([m.name for m in self.data.models()], self.profile)
                               + f"<p class='explore-own-done'>Separated <b>{html.escape(song.name)}</b> "
                               f"({song.duration:.1f} s) with <b>{html.escape(system.name)}</b> in "
                               f"{time.perf_counter() - begin:.1f} s: it is now the selected track.</p>")
        with self.hold():
            if song.name not in self.track.options:
                self.track.options = [*self.track.options, song.name]
            self.track.value = song.name
        self._open_track(song.name)
        with self.hold():
            self.system.value = system.name
            self.tabs.selected_index = LISTEN
        self._show_errors()
        self.refresh(EVERYTHING)
        return song.name

    # ---- display
    def snapshot_html(self) -> str:
        """The current state as static HTML (players, tables, figures): what an export without a kernel shows."""
        self.refresh(set(), everything=True)

        def image(name: str) -> str:
            data = self.outputs.get(name)
            if not data:
                return ""
            return (f"<img style='max-width:100%' alt='{name}' "
                    f"src='data:image/jpeg;base64,{base64.b64encode(data).decode()}'>")

        out = self.outputs.get
        parts = [f"<h3>Explore the separations of profile <code>{html.escape(self.profile)}</code> (a snapshot: run "
                 "the notebook in JupyterLab to change the choices)</h3>", out("status", ""), self.errors.value,
                 f"<h4>{TABS[LISTEN]}</h4><div style='display:flex;gap:1.5em;flex-wrap:wrap'>"
                 f"<div>{out('players', '')}</div><div>{out('scores', '')}</div></div>",
                 image("signals"), out("frames", ""),
                 f"<h4>{TABS[REMIX]}: preset {html.escape(self.preset.value)}</h4>", out("remix", ""),
                 f"<h4>{TABS[COMPARE]}: {html.escape(self.system.value)} and {html.escape(self.other.value)}</h4>",
                 out("compare_second", ""), image("compare_signals")]
        return "<div class='explore-snapshot'>" + "\n".join(p for p in parts if p) + "</div>"

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/html"] = self.snapshot_html()
        return bundle


def _suffixes() -> list[str]:
    from .own import AUDIO_SUFFIXES

    return list(AUDIO_SUFFIXES)


def _own_intro(models: list[str], profile: str) -> str:
    if not models:
        return (f"<p>No trained model in profile <code>{html.escape(profile)}</code>: train one with <code>make train "
                f"PROFILE={html.escape(profile)}</code> to separate a song of your own.</p>")
    return ("<p>Upload a song (wav, flac, mp3, ogg, opus, m4a...: what the <code>separate</code> command reads; "
            "uploads above about 10 MB may be refused by the server, give a path on this machine instead), pick a "
            "trained model and press <i>separate</i>. The song becomes a track: every tab then works on it (without "
            "true stems: no reference, residual or SDR). Separate it again with another model to compare them.</p>")


def _status_html(data: ProfileData) -> str:
    table = data.status()
    return "<details><summary>Systems of this profile</summary>" + table.to_html(index=False, border=0) + "</details>"
