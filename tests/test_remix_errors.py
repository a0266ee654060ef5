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
