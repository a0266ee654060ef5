"""The hidden true stems of unlabeled songs (``<root>/unlabeled_truth``) are read by the ground-truth
measurement only: classifier training, calibration, extraction, the remixed dataset and the loss
never open, list or decode anything in that folder.

Every access is watched (tests/watch_helpers.py: Python's audit hook and soundfile). A positive control
shows the watch sees the measurement's reads. (The whole training step of a remix experiment:
test_training_remix.py.)
"""
import warnings
from pathlib import Path

import pytest
import torch

from demucs_study.remix.calibrate import calibrate
from demucs_study.remix.classifier import load_classifier
from demucs_study.remix.classifier_train import train_classifier
from demucs_study.remix.dataset import RemixDataset, collate
from demucs_study.remix.errors import RemixWarning
from demucs_study.remix.extract import extract
from demucs_study.remix.loss import batch_loss
from demucs_study.remix.truth import measure_extraction
from demucs_study.models import Demucs

from remix_helpers import SR, TINY_CLASSIFIER, cached_tracks, labeled_songs, song, unlabeled_root, valid_songs
from watch_helpers import touched, watching


@pytest.mark.slow
def test_training_extraction_and_remixed_batches_never_touch_the_hidden_stems(tmp_path):
    root = tmp_path / "synth"
    folder = unlabeled_root(root, {"Song X": song(6.0, {"bass": [(2.0, 4.0)]}, seed=9), "Song Y": song(3.0, seed=1)})
    truth = root / "unlabeled_truth"
    assert (truth / "Song X" / "bass.wav").is_file()
    train = cached_tracks(tmp_path / "cache", labeled_songs(), "train")
    valid = cached_tracks(tmp_path / "cache", valid_songs(), "valid")

    with watching() as seen, warnings.catch_warnings():
        warnings.simplefilter("ignore", RemixWarning)
        result = train_classifier(train, valid, tmp_path / "clf", config=TINY_CLASSIFIER, seed=0, log=lambda m: None)
        model, extra = load_classifier(result["classifier"])
        thresholds = calibrate(model, valid, length=1.0, hop=0.25)["thresholds"]
        manifest = extract((model, extra), folder, tmp_path / "manifest.json", length=1.0,
                           thresholds={**thresholds, "bass": 0.5}, cache_dir=tmp_path / "ucache")
        ds = RemixDataset(tmp_path / "manifest.json", train, SR // 2, seed=0, cache_dir=tmp_path / "ucache")
        torch.manual_seed(0)
        separator = Demucs(channels=2, depth=2, lstm_layers=1)
        remixed = collate([ds[i] for i in range(len(ds))])
        length = separator.valid_length(300)
        remixed = remixed._replace(rest=remixed.rest[..., :length], stem=remixed.stem[..., :length])
        batch_loss(separator, None, remixed).backward()
    assert manifest["yield"]["bass"]["excerpts"] == 5 and len(ds) == 5

    assert any("ucache" in args for _, args in seen)               # the watch saw the decoding and the crops,
    assert any(event == "soundfile" and "Song X.wav" in args for event, args in seen)   # the unlabeled mixtures
    assert any("stems.npy" in args for _, args in seen)            # and the labeled stems,
    assert touched(seen, truth) == []                              # but nothing in unlabeled_truth/

    # positive control: the measurement reads them, and the watch sees it
    with watching() as seen:
        truth_result = measure_extraction(manifest)
    assert truth_result["sources"]["bass"]["precision"] == 1.0
    assert any(event == "soundfile" and "bass.wav" in args for event, args in touched(seen, truth))


@pytest.mark.slow
def test_only_the_truth_module_names_the_hidden_folder():
    """Besides the synthetic generator (which writes it), no module of the package names the folder of
    hidden stems but remix/truth.py."""
    import demucs_study

    package = Path(demucs_study.__file__).parent
    naming = sorted(p.relative_to(package).as_posix() for p in package.rglob("*.py")
                    if "unlabeled_truth" in p.read_text() and not p.relative_to(package).as_posix().startswith("data/synth/"))
    assert naming == ["remix/truth.py"]
    # the remix notebook reaches the hidden stems through remix.truth only
    notebook = (Path(__file__).resolve().parents[1] / "notebooks" / "04_remix.ipynb").read_text()
    assert "unlabeled_truth" not in notebook
