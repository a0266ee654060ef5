"""The ground truth the paper never had: precision, leaked energy and recall of an extraction against the
hidden true stems of the unlabeled songs, and a clear error where there are none."""
import copy
import math

import numpy as np
import pytest

from demucs_study import SOURCES
import demucs_study.models  # noqa: F401  (imports the registry first, as the library does)
from demucs_study.remix import labels as L
from demucs_study.remix.errors import RemixError
from demucs_study.remix.truth import TRUTH_DIR, measure_extraction, truth_folder

from remix_helpers import SR, UNLABELED_SONGS as SONGS, extraction_setup, run_extract as run


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return extraction_setup(tmp_path_factory)


def test_ground_truth_precision_and_leak(setup):
    manifest, _, _ = run(setup, "m4", length=1.0)
    truth = measure_extraction(manifest)
    bass = truth["sources"]["bass"]
    assert (bass["excerpts"], bass["truly_silent"], bass["precision"], bass["recall"]) == (5, 5, 1.0, 1.0)
    assert bass["silent_excerpts"] == 5 and bass["leak_db_max"] < -150          # digital silence (floored)
    assert truth["sources"]["drums"]["excerpts"] == 0 and math.isnan(truth["sources"]["drums"]["precision"])
    # a wrong excerpt (bass plays in Song Y's first second) lowers the precision and shows its leak
    wrong = copy.deepcopy(manifest)
    wrong["excerpts"].append({"track": "Song Y.wav", "source": "bass", "start": 0, "length": SR,
                              "probability": 0.99, "excerpts": 1})
    measured = measure_extraction(wrong, with_excerpts=True)
    bass = measured["sources"]["bass"]
    stems = SONGS["Song Y"][..., :SR]
    expected = L.power_db(stems[SOURCES.index("bass")]) - L.power_db(stems.sum(0))
    assert bass["excerpts"] == 6 and bass["precision"] == pytest.approx(5 / 6)
    assert bass["leak_db_max"] == pytest.approx(expected, abs=1e-4) and -10 < expected < 0
    assert bass["leak_db_mean"] == pytest.approx(10 * np.log10(10 ** (expected / 10) / 6), abs=1e-3)
    rows = [e for e in measured["excerpts"] if e["track"] == "Song Y.wav"]
    assert rows == [{"track": "Song Y.wav", "source": "bass", "start": 0, "leak_db": pytest.approx(expected, abs=1e-4),
                     "truly_silent": False}]


def test_missing_ground_truth_is_named(setup, tmp_path):
    manifest, _, _ = run(setup, "m5", length=1.0)
    with pytest.raises(RemixError, match=r"no ground truth for the unlabeled folder .*: .*nowhere does not exist"):
        measure_extraction(manifest, truth_dir=tmp_path / "nowhere")
    (tmp_path / "partial" / "Song X").mkdir(parents=True)
    with pytest.raises(RemixError, match=r"no true drums stem for unlabeled track 'Song X.wav': .*drums.wav is missing"):
        measure_extraction(manifest, truth_dir=tmp_path / "partial")


def test_the_truth_folder_sits_next_to_the_unlabeled_folder(setup):
    manifest, _, _ = run(setup, "m6", length=1.0)
    assert truth_folder(manifest) == setup["root"].absolute() / TRUTH_DIR
    assert (setup["root"] / TRUTH_DIR / "Song X" / "bass.wav").is_file()
