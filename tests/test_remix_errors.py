"""The remix scheme's error is a study error (the CLI prints its one message and exits 1); its warning is a
UserWarning that does not stop the run."""
import warnings

import pytest

from demucs_study.errors import StudyError
from demucs_study.remix.errors import RemixError, RemixWarning


def test_remix_error_is_a_study_error_with_its_message():
    error = RemixError("the labeled training set has no vocals stem; remove vocals from remix.sources")
    assert isinstance(error, StudyError) and isinstance(error, ValueError)
    with pytest.raises(StudyError, match="remove vocals from remix.sources"):
        raise error


def test_the_cli_prints_the_message_and_exits_1(monkeypatch, capsys):
    from demucs_study import cli

    def failing(argv):
        raise RemixError("remix.unlabeled_data = real, but data/real-unlabeled does not exist: run make real-music")

    monkeypatch.setattr(cli, "command", lambda name: failing)
    assert cli.main(["train"]) == 1
    assert capsys.readouterr().err.strip() == ("error: remix.unlabeled_data = real, but data/real-unlabeled does not "
                                               "exist: run make real-music")


def test_remix_warning_is_a_user_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn(RemixWarning("no 3 s excerpt without vocals"))
    assert issubclass(caught[0].category, UserWarning) and "without vocals" in str(caught[0].message)


def test_folders_are_named_without_the_machines_paths(tmp_path, monkeypatch):
    from demucs_study.paths import repo_root
    from demucs_study.remix.errors import describe

    monkeypatch.setenv("DEMUCS_STUDY_DATA", str(tmp_path / "d"))
    monkeypatch.setenv("DEMUCS_STUDY_RUNS", str(tmp_path / "r"))
    assert describe(tmp_path / "d" / "synth-quick-fluidr3" / "unlabeled") == "data/synth-quick-fluidr3/unlabeled"
    assert describe(tmp_path / "r" / "quick" / "_remix") == "runs/quick/_remix"
    assert describe(repo_root() / "params" / "quick") == "params/quick"
    assert describe(tmp_path / "elsewhere") == str(tmp_path / "elsewhere")
