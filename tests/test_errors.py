"""The study's errors (errors): one base class, the standard class each also is, and how the CLI shows them."""
import importlib
import pkgutil

import pytest

import demucs_study
from demucs_study import cli
from demucs_study.errors import AudioError, DatasetError, ParamsError, StudyError


def all_study_errors() -> list[type]:
    """Every subclass of StudyError defined in the library (each module imported first)."""
    for info in pkgutil.walk_packages(demucs_study.__path__, "demucs_study."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    found, todo = [], [StudyError]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("demucs_study.") and sub not in found:
                found.append(sub)
                todo.append(sub)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__name__}")


ERRORS = all_study_errors()
#: Errors of a run that went wrong rather than of bad input.
RUNTIME_ERRORS = {"TrainingDiverged"}


def test_the_known_errors_are_found():
    names = {c.__name__ for c in ERRORS}
    assert {"AudioError", "DatasetError", "ParamsError", "CheckpointError", "ModelError",
            "TrainingDiverged"} <= names


@pytest.mark.parametrize("error", ERRORS, ids=lambda c: c.__name__)
def test_every_error_is_a_study_error_and_a_standard_error(error):
    assert issubclass(error, StudyError)
    expected = RuntimeError if error.__name__ in RUNTIME_ERRORS else ValueError
    assert issubclass(error, expected), f"{error.__name__} should also be a {expected.__name__}"


def test_base_errors_of_the_errors_module():
    assert StudyError.__bases__ == (Exception,)
    for error in (AudioError, DatasetError, ParamsError):
        assert error.__bases__ == (StudyError, ValueError)
    with pytest.raises(ValueError, match="bad rate"):  # callers catching ValueError still catch ours
        raise AudioError("bad rate")


@pytest.mark.parametrize("error", ERRORS, ids=lambda c: c.__name__)
def test_the_cli_prints_each_error_as_one_line_without_traceback(error, monkeypatch, capsys):
    message = f"{error.__name__} happened in /some/file; do this instead"

    def command(argv):
        raise error(message)

    monkeypatch.setattr(cli, "command", lambda name: command)
    assert cli.main(["train"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == f"error: {message}\n"
    assert "Traceback" not in err
