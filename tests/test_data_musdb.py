"""demucs_study.data.musdb: layouts, splits (wav with setup.yaml, .stem.mp4 with musdb's list), checks."""
from __future__ import annotations


import numpy as np
import pytest
import soundfile as sf
import yaml

from demucs_study import SOURCES
from demucs_study.data import musdb as mdb
from demucs_study.errors import DatasetError
from fakedata import (STEM_TEST, STEM_TRAIN, STEM_VALID, WAV_TEST, WAV_TRAIN, WAV_VALID, fake_stems,
                      make_stem_dataset, make_wav_dataset, write_wav_track)


@pytest.fixture(scope="module")
def wav_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("hq")
    return root, make_wav_dataset(root, seconds=0.5)


@pytest.fixture(scope="module")
def stem_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("stems")
    return root, make_stem_dataset(root, seconds=0.5)


def one_track(root, name="Solo - Track", seconds=0.1):
    write_wav_track(root / "train" / name, fake_stems(0, int(seconds * 44100)))
    return root / "train" / name


def test_detect_layout(wav_root, stem_root):
    assert mdb.detect_layout(wav_root[0]) == "wav"
    assert mdb.detect_layout(stem_root[0]) == "stem"


def test_detect_layout_errors(tmp_path):
    with pytest.raises(DatasetError, match=r"dataset folder .*nowhere does not exist; set MUSDB_ROOT \(or "
                                           r"dataset\.root\).*generate-data"):
        mdb.detect_layout(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"dataset folder .*empty is empty; set MUSDB_ROOT"):
        mdb.detect_layout(tmp_path / "empty")
    (tmp_path / "other" / "train").mkdir(parents=True)
    (tmp_path / "other" / "train" / "song.mp3").write_bytes(b"x")
    with pytest.raises(DatasetError, match=r"other is not a MUSDB dataset; expected one of these layouts: "
                                           r"MUSDB18-HQ .*mixture\.wav, drums\.wav.*MUSDB18: .*\*\.stem\.mp4"):
        mdb.detect_layout(tmp_path / "other")
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatasetError, match="is a file, not a folder"):
        mdb.detect_layout(tmp_path / "file")


def test_wav_splits_follow_setup_yaml(wav_root):
    root, audio = wav_root
    train = mdb.list_tracks(root, "train")
    valid = mdb.list_tracks(root, "valid")
    test = mdb.list_tracks(root, "test")
    assert [t.name for t in train] == sorted(set(WAV_TRAIN) - set(WAV_VALID))
    assert [t.name for t in valid] == list(WAV_VALID)
    assert [t.name for t in test] == sorted(WAV_TEST)
    t = valid[0]
    assert (t.split, t.subset, t.layout, t.samplerate) == ("valid", "train", "wav", 44100)
    assert t.path == root / "train" / t.name
    assert [f.name for f in t.files] == ["mixture.wav", *(f"{s}.wav" for s in SOURCES)]
    mix, stems, sr = t.load()
    assert sr == 44100 and mix.dtype == np.float32 and stems.shape == (4, 2, 22050)
    np.testing.assert_array_equal(mix, audio[t.name][0])  # exact: wav read with soundfile, not 16-bit
    np.testing.assert_array_equal(stems, audio[t.name][1:])


def test_complete_setup_file_is_used_as_given(tmp_path):
    for name in ("A - a", "B - b"):
        write_wav_track(tmp_path / "train" / name, fake_stems(1, 2000))
    setup = mdb.default_setup()
    setup["validation_tracks"] = ["A - a"]
    (tmp_path / "setup.yaml").write_text(yaml.safe_dump(setup))
    assert [t.name for t in mdb.list_tracks(tmp_path, "valid")] == ["A - a"]
    assert [t.name for t in mdb.list_tracks(tmp_path, "train")] == ["B - b"]


def test_load_resamples_when_asked(wav_root):
    root, _ = wav_root
    mix, stems, sr = mdb.list_tracks(root, "test")[0].load(samplerate=22050)
    assert sr == 22050 and mix.shape == (2, 11025) and stems.shape == (4, 2, 11025)


def test_stem_splits_use_musdb_builtin_validation(stem_root):
    root, audio = stem_root
    assert [t.name for t in mdb.list_tracks(root, "valid")] == sorted(STEM_VALID)
    assert [t.name for t in mdb.list_tracks(root, "train")] == sorted(set(STEM_TRAIN) - set(STEM_VALID))
    test = mdb.list_tracks(root, "test")
    assert [t.name for t in test] == sorted(STEM_TEST)
    t = test[0]
    assert t.layout == "stem" and t.path == root / "test" / f"{t.name}.stem.mp4" and t.files == (t.path,)
    mix, stems, sr = t.load()
    ref = audio[t.name]
    n = ref.shape[-1]
    assert sr == 44100 and mix.dtype == np.float32 and stems.shape[:2] == (4, 2) and stems.shape[-1] >= n
    # AAC is lossy (ffmpeg trims its priming samples): each stem is close to its own source, not to another
    def rel_err(a, b):
        return float(np.sqrt(np.mean((a[:, :n] - b) ** 2)) / np.sqrt(np.mean(b ** 2)))

    for k in range(4):
        assert rel_err(stems[k], ref[k + 1]) < 0.35
        assert rel_err(stems[k], ref[(k + 1) % 4 + 1]) > 0.9
    assert rel_err(mix, ref[0]) < 0.35


def test_missing_stem(tmp_path):
    folder = one_track(tmp_path)
    (folder / "bass.wav").unlink()
    with pytest.raises(DatasetError, match=r"track .*Solo - Track has no bass\.wav \(found: drums\.wav, "
                                           r"mixture\.wav, other\.wav, vocals\.wav\).*add the missing file"):
        mdb.list_tracks(tmp_path, "train")
    [track] = mdb.list_tracks(tmp_path, "train", check=False)  # unchecked listing: the load still refuses
    with pytest.raises(DatasetError, match=r"Solo - Track: bass\.wav cannot be read \(.*does not exist"):
        track.load()


def test_stems_of_different_lengths(tmp_path):
    folder = one_track(tmp_path)
    sf.write(folder / "drums.wav", np.zeros((4000, 2), np.float32), 44100, subtype="FLOAT")
    with pytest.raises(DatasetError, match=r"Solo - Track: the mixture and stems differ in length \(mixture\.wav "
                                           r"4410 samples, drums\.wav 4000 samples.*same length"):
        mdb.list_tracks(tmp_path, "train")


def test_stems_of_different_rates(tmp_path):
    folder = one_track(tmp_path)
    sf.write(folder / "vocals.wav", np.zeros((4410, 2), np.float32), 22050, subtype="FLOAT")
    with pytest.raises(DatasetError, match=r"different sample rates \(.*vocals\.wav 22050 Hz\); resample"):
        mdb.list_tracks(tmp_path, "train")


def test_mono_stem(tmp_path):
    folder = one_track(tmp_path)
    sf.write(folder / "other.wav", np.zeros(4410, np.float32), 44100, subtype="FLOAT")
    with pytest.raises(DatasetError, match=r"other\.wav has 1 channel\(s\) but MUSDB tracks are stereo; convert"):
        mdb.list_tracks(tmp_path, "train")


@pytest.mark.parametrize("content,reason", [(b"", r"empty \(0 bytes\)"), (b"RIFF garbage" * 20, "cannot decode"),
                                            (None, "holds no samples")])
def test_empty_or_corrupt_wav(tmp_path, content, reason):
    folder = one_track(tmp_path)
    if content is None:
        sf.write(folder / "mixture.wav", np.zeros((0, 2), np.float32), 44100, subtype="FLOAT")
    else:
        (folder / "mixture.wav").write_bytes(content)
    with pytest.raises(DatasetError, match=rf"track .*Solo - Track: mixture\.wav cannot be read \(.*{reason}.*"
                                           r"replace the file"):
        mdb.list_tracks(tmp_path, "train")


def test_check_at_load_time_too(tmp_path):
    folder = one_track(tmp_path)
    [track] = mdb.list_tracks(tmp_path, "train")
    (folder / "drums.wav").write_bytes(b"broken since listing" * 5)
    with pytest.raises(DatasetError, match=r"Solo - Track: drums\.wav cannot be read"):
        track.load()


def test_bad_stem_files(tmp_path, stem_root):
    src, _ = stem_root
    root = tmp_path / "s"
    (root / "test").mkdir(parents=True)
    good = sorted((src / "test").iterdir())[0]
    (root / "test" / good.name).write_bytes(good.read_bytes())
    (root / "test" / "Broken - Song.stem.mp4").write_bytes(b"")
    with pytest.raises(DatasetError, match=r"stem file .*Broken - Song\.stem\.mp4 cannot be read \(the file is "
                                           r"empty \(0 bytes\)\); replace it"):
        mdb.list_tracks(root, "test")
    (root / "test" / "Broken - Song.stem.mp4").write_bytes(b"not an mp4 at all" * 50)
    with pytest.raises(DatasetError, match=r"stem file .*Broken - Song\.stem\.mp4 cannot be read"):
        mdb.list_tracks(root, "test")


def test_stem_file_with_wrong_stream_count(tmp_path):
    import stempeg

    path = tmp_path / "test" / "Two - Streams.stem.mp4"
    stempeg.write_stems(str(path), np.zeros((2, 2048, 2), np.float32), sample_rate=44100,
                        writer=stempeg.StreamsWriter(codec="aac", stem_names=["a", "b"]))
    with pytest.raises(DatasetError, match=r"Two - Streams\.stem\.mp4 holds 2 audio stream\(s\); a MUSDB18 "
                                           r"\.stem\.mp4 holds 5 \(mixture, drums, bass, other, vocals\)"):
        mdb.list_tracks(tmp_path, "test")


def test_split_errors(tmp_path, wav_root):
    with pytest.raises(DatasetError, match=r"unknown split 'validation'; use one of train, valid, test"):
        mdb.list_tracks(wav_root[0], "validation")
    one_track(tmp_path)
    with pytest.raises(DatasetError, match=r"no validation track in .*train: none of the validation_tracks of "
                                           r"musdb's built-in list"):
        mdb.list_tracks(tmp_path, "valid")
    with pytest.raises(DatasetError, match=r"has no test/ folder"):
        mdb.list_tracks(tmp_path, "test")
