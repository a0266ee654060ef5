"""The produced synthetic set: SoundFont choice, deterministic effects, the mix bus, humanised and sung
parts, hidden stems of the unlabeled songs, dataset folders."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from demucs_study import SAMPLERATE, SOURCES
from demucs_study.data import realism
from demucs_study.data.synth import fx, generate, humanize, mixbus, render, voice
from demucs_study.data.synth import generate as synth
from demucs_study.data.synth.plan import plan_song
from demucs_study.errors import ParamsError

SR = SAMPLERATE
FLUID = render.system_soundfont()
needs_fluid = pytest.mark.skipif(FLUID is None, reason="FluidR3_GM (Debian fluid-soundfont-gm) is not installed")


def _read(path: Path) -> np.ndarray:
    x, sr = sf.read(path, dtype="float32", always_2d=True)
    assert sr == SR
    return x.T


def _noise(seconds: float, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal((2, int(seconds * SR)))).astype(np.float32)


# ------------------------------------------------------------------ SoundFont
@pytest.mark.parametrize("font", [render.small_soundfont(), pytest.param(FLUID, marks=needs_fluid)],
                         ids=["timgm6mb", "fluidr3"])
def test_a_part_renders_the_same_whatever_was_rendered_before(font):
    """The synth is shared within a process: after a part it is silenced and reset, so the next part's
    audio does not depend on it (what makes the data the same for any --jobs)."""
    rng = generate.track_rng(5, "train", 0)
    plan = plan_song(rng, 6.0)
    from demucs_study.data.synth.parts import build_midi

    pm = build_midi(rng, plan, generate.track_rng(5, "train", 0, stream=2))
    n = 6 * SR
    settings = [{"tuning": p.tuning, "bend_range": p.bend_range, "key_pans": p.key_pans} for p in plan.parts]
    first = [render.render_instruments([i], np.empty((n, 2), np.float32), font, SR, [s]).copy()
             for i, s in zip(pm.instruments, settings)]
    render._FONTS.clear()  # a fresh process, parts in the opposite order
    for inst, s, ref in reversed(list(zip(pm.instruments, settings, first))):
        again = render.render_instruments([inst], np.empty((n, 2), np.float32), font, SR, [s])
        np.testing.assert_array_equal(again, ref)
    assert sum(np.abs(x).max() > 0 for x in first) >= 3  # a part may have no note in 6 s


def test_default_soundfont_is_fluidr3_when_installed_and_recorded(tmp_path, monkeypatch):
    assert render.default_soundfont() == (FLUID or render.small_soundfont())
    assert render.soundfont_tag(None) == ("fluidr3" if FLUID else "timgm6mb")
    assert render.soundfont_tag(render.small_soundfont()) == "timgm6mb"
    monkeypatch.setattr(render, "SYSTEM_SOUNDFONTS", (tmp_path / "absent.sf2",))
    assert render.default_soundfont() == render.small_soundfont()
    m = synth.generate_dataset(tmp_path / "d", seed=1, train=1, valid=0, test=0, unlabeled=0, duration=2.0)
    assert m["soundfont"]["tag"] == "timgm6mb" and m["soundfont"]["default"] is True
    assert m["soundfont"]["file"] == "TimGM6mb.sf2" and m["soundfont_sha256"] == m["soundfont"]["sha256"]
    assert m["production"] is True and m["version"] == synth.GENERATOR_VERSION


@needs_fluid
def test_fluidr3_is_the_default_and_named_in_the_manifest(tmp_path):
    m = synth.generate_dataset(tmp_path / "f", seed=1, train=1, valid=0, test=0, unlabeled=0, duration=2.0)
    assert m["soundfont"]["tag"] == "fluidr3" and m["soundfont"]["path"] == str(FLUID)


def test_dataset_dir_tells_soundfonts_and_production_apart(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMUCS_STUDY_DATA", str(tmp_path / "data"))
    small = str(render.small_soundfont())
    base = tmp_path / "data"
    assert synth.dataset_dir("quick", {"soundfont": small}) == base / "synth-quick-timgm6mb"
    assert synth.dataset_dir("quick", {"soundfont": small, "production": False}) == base / "synth-quick-timgm6mb-dry"
    assert synth.dataset_dir("smoke", {"soundfont": None}).name == f"synth-smoke-{render.soundfont_tag(None)}"
    copy = tmp_path / "My Font!.sf2"
    copy.write_bytes(render.small_soundfont().read_bytes() + b"\0")
    name = synth.dataset_dir("quick", {"soundfont": str(copy)}).name
    assert name == f"synth-quick-my-font-{render.soundfont_sha256(copy)[:8]}"
    assert synth.dataset_dir("quick", {}).parent == base
    with pytest.raises(ParamsError, match="profile"):
        synth.dataset_dir("../x", {})


# ------------------------------------------------------------------ effects
def test_pedalboard_effects_are_deterministic():
    import pedalboard as pb

    x = _noise(3.0)
    for make in (lambda: pb.Reverb(room_size=0.7, width=1.0), lambda: pb.Chorus(rate_hz=1.3, depth=0.4, mix=0.5),
                 lambda: pb.Phaser(rate_hz=0.5, mix=0.5), lambda: pb.Delay(0.25, 0.4, 0.3),
                 lambda: pb.Compressor(-20, 4, 5, 100)):
        a, b = make()(x, SR), make()(x, SR)
        plugin = make()
        c, d = plugin(x, SR), plugin(x, SR)  # pedalboard resets a plugin between calls
        assert np.array_equal(a, b) and np.array_equal(a, c) and np.array_equal(c, d)
    settings = {"chain": [["HighpassFilter", {"cutoff_frequency_hz": 80}], ["Chorus", {"mix": 0.4}],
                          ["Reverb", {"room_size": 0.6, "wet_level": 1.0, "dry_level": 0.0}],
                          ["Doubler", {"delay_ms": 15, "depth": 0.1, "rate_hz": 0.7, "spread": 0.8}]],
                "parallel": {"mix": 0.3, "chain": [["Distortion", {"drive_db": 20}]]}, "send": 0.2}
    assert np.array_equal(fx.process(settings, x, SR), fx.process(settings, x, SR))


@pytest.mark.parametrize("name,params", [
    ("HighpassFilter", {"cutoff_frequency_hz": 100.0}), ("LowpassFilter", {"cutoff_frequency_hz": 3000.0}),
    ("PeakFilter", {"cutoff_frequency_hz": 1000.0, "gain_db": 4.0, "q": 1.2}),
    ("HighShelfFilter", {"cutoff_frequency_hz": 8000.0, "gain_db": -3.0, "q": 0.7}),
    ("LowShelfFilter", {"cutoff_frequency_hz": 200.0, "gain_db": 3.0, "q": 0.7}),
    ("Distortion", {"drive_db": 20.0})])
def test_fast_stages_match_pedalboard_plugins(name, params):
    import pedalboard as pb

    x = _noise(1.0, seed=1)
    ours = fx.run_chain([[name, params]], x, SR)
    theirs = getattr(pb, name)(**params)(x, SR)
    np.testing.assert_allclose(ours, theirs, atol=1e-4)  # JUCE's float32 coefficients: -80 dB of the signal


def test_doubler_widens_a_mono_part():
    mono = np.repeat(_noise(2.0)[:1], 2, axis=0)
    out = fx.double(mono, SR, delay_ms=15.0, depth=0.1, rate_hz=0.7, spread=1.0)
    assert out.shape == mono.shape and out.dtype == np.float32
    assert realism.stereo_width(mono) == 0.0 and realism.stereo_width(out) > 0.3


def test_limiter_keeps_every_sample_under_the_ceiling_smoothly():
    x = _noise(4.0, seed=2).T * 3
    x[SR:SR + 10] = 4.0  # a burst far over the ceiling
    g = mixbus.limiter_gain(x, SR, ceiling=0.5, lookahead_ms=1.5, release_ms=40)
    assert g.shape == (x.shape[0],) and g.max() <= 1.0
    assert np.abs(x * g[:, None]).max() <= 0.5 * (1 + 1e-9)
    assert np.abs(np.diff(g)).max() < 0.05  # ramps, no steps


def test_bus_gain_compresses_and_is_one_curve():
    rng = np.random.default_rng(3)
    loud = np.concatenate([_noise(2.0, seed=4) * 0.1, _noise(2.0, seed=5) * 3]).T  # quiet then loud
    g, info = mixbus.bus_gain(loud.reshape(-1, 2)[: 4 * SR], SR, mixbus.draw_bus(rng))
    assert g.dtype == np.float32 and g.shape == (4 * SR,)
    assert info["comp_max_gr_db"] > 0 and info["limiter_max_gr_db"] >= 0


# ------------------------------------------------------------------ performance
def test_humanize_swings_offbeats_and_keeps_notes_in_the_song():
    plan = plan_song(np.random.default_rng(0), 12.0)
    from demucs_study.data.synth.plan import Part

    feel = humanize.Feel(swing=0.2, swing_step=0.5, tightness_ms=0.0)
    part = Part("drums", "drums", 0, True, 0.0, "rock", [0])
    eighths = [(42, plan.time(0, k * 0.5), plan.time(0, k * 0.5) + 0.1, 80) for k in range(8)]
    out = humanize.humanize(np.random.default_rng(1), plan, part, eighths, feel)
    shifts = [o[1] - e[1] for o, e in zip(out, eighths)]
    off = shifts[1::2]
    on = shifts[0::2]
    assert np.allclose(np.array(off) - np.array(on), 0.2 * 0.5 * plan.beat, atol=1e-9)
    assert all(0 <= s < plan.duration and 1 <= v <= 127 for _, s, _, v in out)
    again = humanize.humanize(np.random.default_rng(1), plan, part, eighths, feel)
    assert again == out


def test_sung_phrases_glide_within_the_bend_range():
    plan = plan_song(np.random.default_rng(0), 12.0)
    from demucs_study.data.synth.parts import Notes
    from demucs_study.data.synth.plan import Part

    part = Part("vocals", "lead-vocal", 52, False, 0.0, "low", [0], bend_range=12.0)
    notes = Notes(plan)
    for k, p in enumerate([60, 62, 64, 65, 67]):  # one legato phrase, then a rest and a new one
        notes.add(p, 1.0 + 0.4 * k, 1.0 + 0.4 * (k + 1), 90)
    notes.add(72, 4.0, 5.0, 80)
    voice.sing(np.random.default_rng(2), plan, part, notes)
    assert [n[0] for n in notes.items] == [63, 72] and notes.items[0][1:3] == (1.0, 3.0)
    bends = np.array([b for _, b in notes.bends])
    assert bends.min() >= -8192 and bends.max() <= 8191 and len(bends) > 50
    cents = bends * 1200 / 8192
    assert cents.max() > 350 and cents.min() < -250  # it reaches 67 and 60 from the anchor 63
    assert all(cc in (11, voice.VOWEL_CC, voice.FORMANT_GAIN_CC) and 0 <= v <= 127 for _, cc, v in notes.ccs)
    vowels = [(t, v) for t, cc, v in notes.ccs if cc == voice.VOWEL_CC]
    assert [t for t, _ in vowels] == [1.0, 1.4, 1.8, 2.2, 2.6, 4.0] and all(v < len(voice.VOWELS) for _, v in vowels)


def test_formants_follow_the_vowels():
    x = _noise(2.0, seed=7).T.copy()  # (T, 2)
    half = SR
    out = voice.formants(x, SR, [(0, list(voice.VOWELS).index("i")), (half, list(voice.VOWELS).index("o"))], 9.0)
    assert out.shape == x.shape and np.all(np.isfinite(out))

    def band(y, lo, hi):
        spec = np.abs(np.fft.rfft(y[:, 0])) ** 2
        f = np.fft.rfftfreq(len(y), 1 / SR)
        return spec[(f >= lo) & (f < hi)].mean()
    first, second = out[2000:half], out[half + 2000:]
    # "i" has F2 near 2290 Hz, "o" F1/F2 near 570/840 Hz
    assert band(first, 2250, 2330) / band(first, 800, 880) > 2
    assert band(second, 800, 880) / band(second, 2250, 2330) > 2
    assert voice.formants(x, SR, [], 9.0) is x


# ------------------------------------------------------------------ songs and datasets
@pytest.mark.slow
def test_produced_songs_are_clean_and_differ_from_dry_ones():
    for i in range(3):
        stems, meta = synth.render_song(11, 8.0, split="test", index=i)
        mix = ((stems[0] + stems[1]) + stems[2]) + stems[3]
        assert np.abs(mix).max() < 0.99 and np.abs(stems).max() < 0.99 and np.all(np.isfinite(stems))
        for k, s in enumerate(SOURCES):
            assert np.sqrt(np.mean(stems[k] ** 2)) > 1e-3, (i, s)
        assert meta["production"] is True and "limiter_max_gr_db" in meta["bus"]
        assert all("fx" in p for p in meta["parts"]) and set(meta["reverbs"]) == set(SOURCES)
        dry, dmeta = synth.render_song(11, 8.0, split="test", index=i, production=False)
        assert dmeta["production"] is False and "bus" not in dmeta
        assert dmeta["sections"] == meta["sections"]  # the same song, only its production differs
        assert [p["notes"] for p in dmeta["parts"]] == [p["notes"] for p in meta["parts"]]
        assert np.abs(dry - stems).max() > 0.01

@pytest.mark.slow
def test_unlabeled_songs_have_hidden_true_stems(tmp_path):
    out = tmp_path / "u"
    m = synth.generate_dataset(out, seed=4, train=0, valid=0, test=0, unlabeled=3, duration=8.0)
    assert m["hidden_truth"] == synth.HIDDEN_TRUTH == "unlabeled_truth"
    silent_sections = 0
    for t in m["tracks"]:
        assert t["truth"] == f"unlabeled_truth/{t['name']}"
        stems = [_read(out / t["truth"] / f"{s}.wav") for s in SOURCES]
        assert sorted(p.name for p in (out / t["truth"]).iterdir()) == sorted(f"{s}.wav" for s in SOURCES)
        total = ((stems[0] + stems[1]) + stems[2]) + stems[3]
        np.testing.assert_array_equal(_read(out / t["path"]), total)
        assert all(np.sqrt(np.mean(x ** 2)) > 1e-3 for x in stems)
        silent_sections += sum(not v for sec in t["sections"] for v in sec["active"].values())
    assert silent_sections >= 1
    assert sorted(p.name for p in (out / "unlabeled").iterdir()) == sorted(f"{n}.wav" for n in m["splits"]["unlabeled"])
    assert json.loads((out / "manifest.json").read_text())["hidden_truth"] == "unlabeled_truth"
    # the truth folder is part of a complete dataset: removing it regenerates
    import shutil

    shutil.rmtree(out / m["tracks"][0]["truth"])
    synth.ensure_dataset(out, seed=4, train=0, valid=0, test=0, unlabeled=3, duration=8.0)
    assert (out / m["tracks"][0]["truth"] / "vocals.wav").is_file()


def test_production_flag_is_an_argument(tmp_path):
    with pytest.raises(ParamsError, match="production='yes' must be true or false"):
        synth.generate_dataset(tmp_path / "p", production="yes")
    m = synth.generate_dataset(tmp_path / "dry", seed=2, train=1, valid=0, test=0, unlabeled=0, duration=2.0,
                               production=False)
    assert m["args"]["production"] is False and m["production"] is False
    assert m["tracks"][0]["production"] is False


def test_cli_dry_flag(tmp_path, capsys):
    from demucs_study.data.synth import cli

    out = tmp_path / "cli"
    assert cli.generate_data(["--out", str(out), "--seed", "1", "--train", "1", "--valid", "0", "--test", "0",
                     "--unlabeled", "0", "--duration", "1.5", "--dry"]) == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["production"] is False and m["args"]["production"] is False
