"""``python -m demucs_study separate``: formats, rates, mono, bad files, output formats, clipping, atomicity."""
import re
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import torch

from demucs_study import SOURCES
from demucs_study.audio import read_audio
from demucs_study.errors import AudioError
from demucs_study.cli import main as cli_main
from demucs_study.models import MODELS, Demucs
from demucs_study.models.io import save_model
from demucs_study.separation.cli import track_name
from separate_helpers import IdentityModel

SR = 44100


def tones(seconds, sr, channels=2, amp=0.3):
    """A few low tones (well inside every rate's band, so resampling there and back is near exact)."""
    t = np.arange(int(round(seconds * sr))) / sr
    x = np.stack([amp * np.sin(2 * np.pi * f * t + c) for c, f in enumerate([220.0, 331.0][:channels])])
    return (x + 0.05 * np.sin(2 * np.pi * 97.0 * t)).astype(np.float32)


def ffmpeg(src, dst):
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), str(dst)], check=True)
    return dst


def run(capsys, *argv):
    code = cli_main(["separate", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def stems_of(folder, suffix=".wav"):
    """{source: (array (C, T), samplerate, subtype)} of an output folder; checks it holds exactly the 4 stems."""
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{s}{suffix}" for s in SOURCES)
    result = {}
    for source in SOURCES:
        x, sr = read_audio(folder / f"{source}{suffix}")
        result[source] = (x, sr, sf.info(str(folder / f"{source}{suffix}")).subtype)
    return result


@pytest.fixture(scope="module")
def demucs_file(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "demucs.th"
    return save_model(Demucs(channels=4, depth=3, lstm_layers=0), path)


@pytest.fixture
def identity_file(tmp_path, monkeypatch):
    """Saves an identity-like model (stems = mixture / 4) made loadable by registering its class."""
    monkeypatch.setitem(MODELS, "identity", IdentityModel)

    def make(**kwargs):
        return save_model(IdentityModel(**kwargs), tmp_path / f"identity{len(kwargs)}.th")
    return make


def test_wav_flac_ogg_mp3_inputs_give_stems_at_their_rate_and_length(tmp_path, demucs_file, capsys):
    src = tmp_path / "in"
    src.mkdir()
    sf.write(str(src / "a_wav.wav"), tones(0.5, SR).T, SR, subtype="PCM_16")
    sf.write(str(src / "b_flac.flac"), tones(0.5, SR).T, SR)
    inputs = [src / "a_wav.wav", src / "b_flac.flac", ffmpeg(src / "a_wav.wav", src / "c_ogg.ogg"),
              ffmpeg(src / "a_wav.wav", src / "d_mp3.mp3")]
    code, out, err = run(capsys, *inputs, "-m", demucs_file, "-o", tmp_path / "out")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_wav", "b_flac", "c_ogg", "d_mp3"]
    for path in inputs:
        mix, _ = read_audio(path)
        assert f"wrote {tmp_path / 'out' / path.stem}" in out
        for x, sr, subtype in stems_of(tmp_path / "out" / path.stem).values():
            assert sr == SR and x.shape == mix.shape and subtype == "FLOAT"
            assert np.all(np.isfinite(x)) and np.abs(x).max() > 0


def test_float_stems_sum_to_the_mixture(tmp_path, identity_file, capsys):
    mix = np.random.default_rng(0).uniform(-0.9, 0.9, (2, 30001)).astype(np.float32)
    sf.write(str(tmp_path / "song.wav"), mix.T, SR, subtype="FLOAT")
    code, _, err = run(capsys, tmp_path / "song.wav", "-m", identity_file(), "-o", tmp_path / "out",
                       "--segment", "0.3", "--shifts", "2")
    assert code == 0, err
    stems = stems_of(tmp_path / "out" / "song")
    np.testing.assert_allclose(sum(x for x, _, _ in stems.values()), mix, atol=1e-6)
    np.testing.assert_allclose(stems["vocals"][0], mix / 4, atol=1e-6)


def test_22khz_input_gives_22khz_stems_that_sum_to_the_resampled_back_mixture(tmp_path, identity_file, capsys):
    mix = tones(1.2345, 22050)
    sf.write(str(tmp_path / "low.wav"), mix.T, 22050, subtype="FLOAT")
    code, _, err = run(capsys, tmp_path / "low.wav", "-m", identity_file(), "-o", tmp_path / "out")
    assert code == 0, err
    stems = stems_of(tmp_path / "out" / "low")
    for x, sr, _ in stems.values():
        assert sr == 22050 and x.shape == mix.shape
    total = sum(x for x, _, _ in stems.values())
    inner = slice(200, -200)  # the resampling filters' edge transients
    np.testing.assert_allclose(total[:, inner], mix[:, inner], atol=2e-3)


def test_mono_input_gives_mono_stems(tmp_path, identity_file, capsys):
    mix = tones(0.5, SR, channels=1)
    sf.write(str(tmp_path / "mono.wav"), mix.T, SR, subtype="FLOAT")
    code, _, err = run(capsys, tmp_path / "mono.wav", "-m", identity_file(), "-o", tmp_path / "out")
    assert code == 0, err
    stems = stems_of(tmp_path / "out" / "mono")
    assert all(x.shape == (1, mix.shape[1]) for x, _, _ in stems.values())
    np.testing.assert_allclose(sum(x for x, _, _ in stems.values()), mix, atol=1e-6)


def test_bad_files_get_a_clear_error_and_the_good_file_is_still_written(tmp_path, identity_file, capsys):
    src = tmp_path / "in"
    src.mkdir()
    sf.write(str(src / "good.wav"), tones(0.3, SR).T, SR)
    sf.write(str(src / "six.wav"), np.tile(tones(0.3, SR)[:1], (6, 1)).T, SR)
    (src / "empty.wav").write_bytes(b"")
    sf.write(str(src / "silent.wav"), np.zeros((SR // 4, 2)), SR)
    sf.write(str(src / "quiet.wav"), (tones(0.3, SR) * 1e-3).T, SR, subtype="FLOAT")  # about -69 dBFS
    (src / "corrupt.wav").write_bytes(b"RIFF\x00\x10\x00\x00WAVEfmt " + bytes(range(256)) * 8)
    names = ["six", "good", "empty", "silent", "quiet", "corrupt"]
    code, out, err = run(capsys, *(src / f"{n}.wav" for n in names), "-m", identity_file(), "-o", tmp_path / "out")
    assert code == 1
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    expected = [
        rf"error: {src}/six.wav is 5.1 \(6 channels\) audio; only mono and stereo are supported: downmix",
        rf"error: audio file {src}/empty.wav is empty \(0 bytes\)",
        rf"error: {src}/silent.wav is silent \(digital silence \(all samples are zero\), below -60 dBFS\): "
        r"there is nothing to separate",
        rf"error: {src}/quiet.wav is silent \(RMS -[67]\d\.\d dBFS, below -60 dBFS\)",
        rf"error: cannot decode {src}/corrupt.wav: .*the file is corrupt",
        r"error: 5 of 6 file\(s\) failed \(see above\); the others were written",
    ]
    assert len(errors) == len(expected), err
    for line, pattern in zip(errors, expected):
        assert re.match(pattern, line), (line, pattern)
    assert out.splitlines() == [f"wrote {tmp_path / 'out' / 'good'}"]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["good"]  # no folder, no temp left for the others
    stems_of(tmp_path / "out" / "good")


@pytest.fixture
def loud_model(identity_file):
    return identity_file(gain=8.0)  # stems = 2 x mixture: peak 1.6 for a 0.8 peak input


def loud_stem(path):
    """Each stem of the gain-8 identity model: 8 / 4 x the centred mixture + mean / 4 (de-normalisation)."""
    mix, _ = read_audio(path)
    mean = mix.mean(0, dtype=np.float64).mean()
    return 2 * (mix - mean) + mean / 4


@pytest.fixture
def loud_input(tmp_path):
    mix = tones(0.3, SR, amp=0.75)
    sf.write(str(tmp_path / "loud.wav"), mix.T, SR, subtype="FLOAT")
    return tmp_path / "loud.wav"


def test_int16_clips_by_default_with_a_warning(tmp_path, loud_model, loud_input, capsys):
    code, _, err = run(capsys, loud_input, "-m", loud_model, "-o", tmp_path / "out", "--int16")
    assert code == 0, err
    assert re.search(r"warning: .*loud.wav: \d+ of \d+ samples of the stems are beyond \[-1, 1\] "
                                   r"\(peak 1\.\d+, \+\d\.\d dBFS\); clipped them \(--clip clip\)", err), err
    for x, sr, subtype in stems_of(tmp_path / "out" / "loud").values():
        assert subtype == "PCM_16" and np.abs(x).max() <= 1.0 and np.abs(x).max() > 0.99


def test_clip_error_writes_nothing(tmp_path, loud_model, loud_input, capsys):
    code, out, err = run(capsys, loud_input, "-m", loud_model, "-o", tmp_path / "out", "--int24", "--clip", "error")
    assert code == 1 and out == ""
    assert "samples of the stems are beyond [-1, 1]" in err
    assert "cannot be stored as PCM_24 with --clip error; nothing was written: use --clip clip" in err
    assert not (tmp_path / "out").exists()


def test_clip_normalize_scales_all_stems_by_one_factor(tmp_path, loud_model, loud_input, capsys):
    code, _, err = run(capsys, loud_input, "-m", loud_model, "-o", tmp_path / "out", "--flac", "--clip", "normalize")
    assert code == 0 and "scaled all stems by 0.6" in err, err
    stems = stems_of(tmp_path / "out" / "loud", suffix=".flac")
    assert all(subtype == "PCM_24" for _, _, subtype in stems.values())
    top = max(np.abs(x).max() for x, _, _ in stems.values())
    assert 0.9999 < top <= 1.0
    expected = loud_stem(loud_input)
    np.testing.assert_allclose(stems["bass"][0], expected / np.abs(expected).max(), atol=1e-5)


def test_float_keeps_samples_beyond_one_by_default(tmp_path, loud_model, loud_input, capsys):
    code, _, err = run(capsys, loud_input, "-m", loud_model, "-o", tmp_path / "out")
    assert code == 0 and "warning" not in err
    np.testing.assert_allclose(stems_of(tmp_path / "out" / "loud")["drums"][0], loud_stem(loud_input), atol=1e-5)


def test_rerun_replaces_the_track_folder_whole(tmp_path, identity_file, capsys):
    sf.write(str(tmp_path / "t.wav"), tones(0.2, SR).T, SR)
    model = identity_file()
    assert run(capsys, tmp_path / "t.wav", "-m", model, "-o", tmp_path / "out")[0] == 0
    (tmp_path / "out" / "t" / "stale.txt").write_text("from before")
    assert run(capsys, tmp_path / "t.wav", "-m", model, "-o", tmp_path / "out", "--int16", "-q") == (0, "", "")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["t"]
    assert all(subtype == "PCM_16" for _, _, subtype in stems_of(tmp_path / "out" / "t").values())


def test_nan_file_is_named_damaged_and_truncated_file_warns(tmp_path, identity_file, capsys):
    src = tmp_path / "in"
    src.mkdir()
    damaged = tones(1.0, SR)
    damaged[0, 4410] = np.nan
    sf.write(str(src / "nan.wav"), damaged.T, SR, subtype="FLOAT")
    sf.write(str(src / "long.wav"), tones(2.0, SR).T, SR, subtype="PCM_16")
    (src / "cut.wav").write_bytes((src / "long.wav").read_bytes()[:44 + 39 * 4])
    code, _, err = run(capsys, src / "nan.wav", src / "cut.wav", "-m", identity_file(), "-o", tmp_path / "out")
    assert code == 1
    assert re.search(rf"error: audio file {src}/nan.wav holds 1 NaN or infinite sample\(s\), the first at sample 4410 "
                     r"\(0\.100 s\) of channel 0", err), err
    assert "silent" not in err
    assert re.search(rf"warning: audio file {src}/cut.wav is truncated: its header promises 88200 samples \(2\.00 s\) "
                     r"but it holds 39", err), err
    assert not (tmp_path / "out" / "nan").exists() and (tmp_path / "out" / "cut").is_dir()


def test_same_track_name_twice_is_an_error_for_the_second(tmp_path, identity_file, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in "ab":
        sf.write(str(tmp_path / folder / "x.wav"), tones(0.2, SR).T, SR)
    code, out, err = run(capsys, tmp_path / "a/x.wav", tmp_path / "b/x.wav", "-m", identity_file(), "-o",
                         tmp_path / "out", "--quiet")
    assert code == 1 and out == ""
    assert f"error: {tmp_path}/b/x.wav: its track name 'x' is that of {tmp_path}/a/x.wav, already written" in err


def test_progress_lines_unless_quiet(tmp_path, identity_file, capsys):
    sf.write(str(tmp_path / "p.wav"), tones(0.5, SR).T, SR)
    code, _, err = run(capsys, tmp_path / "p.wav", "-m", identity_file(), "-o", tmp_path / "out", "--segment", "0.2")
    assert code == 0
    assert err.splitlines() == [f"separating {tmp_path / 'p.wav'}"] + [f"separate: chunk {i}/3" for i in (1, 2, 3)]


@pytest.mark.parametrize("option, message", [("--overlap=1", r"is not a fraction in \[0, 1\)"),
                                             ("--segment=0", "is not a duration in seconds > 0"),
                                             ("--shifts=-2", "is not a whole number >= 0")])
def test_bad_options_are_usage_errors(tmp_path, capsys, option, message):
    with pytest.raises(SystemExit) as exit_:
        cli_main(["separate", "x.wav", "-m", "m.th", "-o", str(tmp_path), option])
    assert exit_.value.code == 2
    assert re.search(message, capsys.readouterr().err)


def test_track_names():
    assert track_name("a/Song.stem.mp4") == "Song"
    assert track_name("b/take.1.wav") == "take.1"
    assert track_name(".stem.wav") == ".stem"


def test_command_line_help():
    """The real ``python -m demucs_study separate --help`` (fast: torch is not imported)."""
    help_ = subprocess.run([sys.executable, "-m", "demucs_study", "separate", "--help"], capture_output=True, text=True)
    assert help_.returncode == 0 and "--clip {error,clip,normalize}" in help_.stdout


def test_missing_model_is_one_error_line_and_nothing_written(tmp_path, capsys):
    code, out, err = run(capsys, "x.wav", "-m", tmp_path / "no.th", "-o", tmp_path / "out")
    assert code == 1 and out == ""
    assert err.startswith(f"error: model file {tmp_path / 'no.th'} does not exist")
    assert not (tmp_path / "out").exists()


def test_read_mixture_is_what_separate_reads(tmp_path):
    from demucs_study.separation.cli import read_mixture

    path = tmp_path / "mono.wav"
    sf.write(path, tones(0.5, 22050, channels=1)[0], 22050, subtype="FLOAT")
    x, rate, mix = read_mixture(path, SR)
    assert rate == 22050 and x.shape == (1, 11025) and mix.shape == (2, SR // 2)
    assert np.array_equal(mix[0], mix[1])
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros((100, 2), np.float32), SR)
    with pytest.raises(AudioError, match=r"silent.wav is silent \(digital silence"):
        read_mixture(silent, SR)
