"""Remixed examples (reproducible per seed, epoch and index; normalised per part; stems only where the
source plays) and their errors. (The batch composition: test_remix_batches.py.)"""
import numpy as np
import pytest
import soundfile as sf
import torch

from demucs_study import SOURCES
from demucs_study.data.datasets import EPS
from demucs_study.errors import ParamsError
from demucs_study.remix.dataset import RemixBatch, RemixDataset, collate
from demucs_study.remix.errors import RemixError
from demucs_study.utils import mono_stats, write_json

from remix_helpers import SR, cached_tracks, labeled_songs

LENGTH = SR // 2      # remixed examples of 0.5 s
SECONDS = 4.0


def ramp_file(folder, name, seconds=SECONDS):
    """An unlabeled 'mixture' whose value tells the sample index: x[c, t] = 0.5 * t / T (+ 0.1 on the right)."""
    n = int(seconds * SR)
    x = np.stack([0.5 * np.arange(n) / n, 0.5 * np.arange(n) / n + 0.1]).astype(np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    sf.write(folder / f"{name}.wav", x.T, SR, subtype="FLOAT")
    return x


def manifest_for(folder, rows, tracks, length=SR):
    return {"format": 1, "folder": str(folder), "samplerate": SR, "length": length, "length_seconds": length / SR,
            "hop": SR // 4, "window": SR // 2, "sources": ["drums", "bass", "vocals"], "thresholds": {},
            "min_mix_db": -50.0, "merge": True, "classifier": {}, "scanned_minutes": 0.0, "yield": {},
            "tracks": tracks, "excerpts": rows}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("remixds")
    labeled = cached_tracks(tmp, labeled_songs(), "train")
    folder = tmp / "unlabeled"
    ramps = {"U1": ramp_file(folder, "U1"), "U2": ramp_file(folder, "U2", 2.0)}
    rows = [{"track": "U1.wav", "source": "bass", "start": SR, "length": 2 * SR, "probability": 0.99, "excerpts": 5},
            {"track": "U2.wav", "source": "bass", "start": 0, "length": SR, "probability": 0.97, "excerpts": 1},
            {"track": "U1.wav", "source": "vocals", "start": int(3 * SR), "length": SR, "probability": 0.98,
             "excerpts": 1}]
    tracks = [{"track": f"{k}.wav", "samples": v.shape[-1]} for k, v in ramps.items()]
    manifest = manifest_for(folder, rows, tracks)
    write_json(tmp / "manifest.json", manifest)
    return {"tmp": tmp, "labeled": labeled, "folder": folder, "ramps": ramps, "manifest": manifest,
            "path": tmp / "manifest.json", "cache": tmp / "ucache"}


def dataset(data, **kwargs):
    return RemixDataset(kwargs.pop("manifest", data["path"]), kwargs.pop("tracks", data["labeled"]), LENGTH,
                        kwargs.pop("seed", 3), cache_dir=data["cache"], **kwargs)


def test_items_are_reproducible_by_seed_epoch_and_index(data):
    ds = dataset(data)
    assert len(ds) == 7 and ds.sources == ["bass", "vocals"]
    rest, stem, j = ds[4]
    assert rest.shape == stem.shape == (2, LENGTH) and rest.dtype == stem.dtype == torch.float32
    again = dataset(data)[4]
    assert torch.equal(again[0], rest) and torch.equal(again[1], stem) and again[2] == j
    ds.set_epoch(1)
    assert not torch.equal(ds[4][1], stem)
    ds.set_epoch(0)
    assert torch.equal(ds[4][1], stem)
    assert not torch.equal(dataset(data, seed=4)[4][1], stem)
    batch = collate([ds[i] for i in (0, 6, 2)])
    assert isinstance(batch, RemixBatch) and batch.rest.shape == (3, 2, LENGTH)
    assert batch.source.tolist() == [SOURCES.index("bass"), SOURCES.index("vocals"), SOURCES.index("bass")]
    assert torch.equal(batch.mixture, batch.rest + batch.stem)


def test_excerpt_crops_stay_in_their_region_and_are_normalised_by_their_file(data):
    ds = dataset(data, flip=False)
    n = int(SECONDS * SR)
    for epoch in range(3):
        ds.set_epoch(epoch)
        for i in range(len(ds)):
            rest, _, j = ds[i]
            row = ds.rows[np.searchsorted(ds.cumulative, i, side="right")]
            entry = ds.files[row["track"]]
            raw = rest.numpy() * (np.float32(entry.std) + np.float32(EPS)) + np.float32(entry.mean)
            total = data["ramps"][row["track"][:-4]].shape[-1]
            start = int(round(raw[0, 0] * 2 * total))
            assert row["start"] <= start <= row["start"] + row["length"] - LENGTH
            np.testing.assert_allclose(raw, data["ramps"][row["track"][:-4]][:, start:start + LENGTH], atol=2e-6)
            assert SOURCES[j] == row["source"]
    mean, std = mono_stats(data["ramps"]["U1"])
    assert ds.files["U1.wav"].mean == pytest.approx(mean) and ds.files["U1.wav"].std == pytest.approx(std)
    assert n == data["ramps"]["U1"].shape[-1]


def test_stems_come_from_windows_where_their_source_plays_normalised_as_training_stems(data):
    ds = dataset(data, flip=False)
    tracks = {t.name: t for t in data["labeled"]}
    for i in range(len(ds)):
        _, stem, j = ds[i]
        source = SOURCES[j]
        found = False
        for k, offset in ds.pool.candidates[source]:
            t = data["labeled"][k]
            window = t.stems()[j, :, offset:offset + LENGTH]
            expected = (window - np.float32(t.mean) / np.float32(4)) / (np.float32(t.std) + np.float32(EPS))
            if np.array_equal(stem.numpy(), expected.astype(np.float32)):
                found = True
                break
        assert found, i
    # bass is silent in Train B over [1, 2) s: no candidate window of Train B starts inside it
    b = [t.name for t in data["labeled"]].index("Train B")
    starts = [o / SR for k, o in ds.pool.candidates["bass"] if k == b]
    assert 0.75 in starts and 1.75 in starts and not [s for s in starts if 1.0 <= s <= 1.5]  # only those inside
    assert set(tracks) == {"Train A", "Train B", "Train C"}


def test_flips_and_balance(data):
    ds, plain = dataset(data), dataset(data, flip=False)
    flipped = sum(not torch.equal(ds[i][1], plain[i][1]) for i in range(len(ds)))
    assert flipped >= 3                                                 # P(no flip) = 1/4 per stem
    for i in range(len(ds)):                                            # a flip is a sign or channel change only
        a, b = ds[i][1], plain[i][1]
        assert any(torch.equal(a, c) for c in (b, -b, b.flip(0), -b.flip(0)))
    counts = [plain[i][2] for i in range(len(plain))]
    assert counts.count(SOURCES.index("bass")) == 6 and counts.count(SOURCES.index("vocals")) == 1  # by yield
    balanced = dataset(data, balance=True)
    sources = [balanced[i][2] for i in range(200)]
    assert 70 < sources.count(SOURCES.index("vocals")) < 130


def test_errors_name_the_cause_and_the_fix(data, tmp_path):
    with pytest.raises(ParamsError, match=r"remixed examples of 88200 samples are longer than the extracted excerpts "
                                          r"\(44100 samples, remix.excerpt = 1 s\)"):
        RemixDataset(data["path"], data["labeled"], 2 * SR, 0, cache_dir=data["cache"])
    no_vocals = {name: s.copy() for name, s in labeled_songs().items()}
    for s in no_vocals.values():
        s[SOURCES.index("vocals")] = 0.0
    with pytest.raises(RemixError, match=r"the labeled training set has no vocals stem to remix: vocals is silent in "
                                         r"every 22050-sample window of its 3 track\(s\); use a labeled set with vocals "
                                         r"stems, or remove vocals from remix.sources"):
        dataset(data, tracks=cached_tracks(tmp_path, no_vocals))
    assert dataset(data, tracks=cached_tracks(tmp_path, no_vocals), sources=["bass"]).sources == ["bass"]
    with pytest.raises(RemixError, match=r"the extraction manifest has no excerpt for \['drums'\]"):
        dataset(data, sources=["drums"])
    changed = dict(data["manifest"], tracks=[{"track": "U1.wav", "samples": 5}, data["manifest"]["tracks"][1]])
    with pytest.raises(RemixError, match=r"does not match the unlabeled folder .*: 'U1.wav' is changed; run the "
                                         "extraction again"):
        dataset(data, manifest=changed)
    with pytest.raises(RemixError, match="no labeled training track to draw stems from"):
        dataset(data, tracks=[])
