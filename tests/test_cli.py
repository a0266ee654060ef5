"""``python -m demucs_study``: the command table, usage, dispatch and the error policy (cli)."""
import subprocess
import sys

import pytest

from demucs_study import cli
from demucs_study.errors import DatasetError, StudyError


def test_usage_lists_every_command_with_its_help():
    text = cli.usage()
    assert text.startswith("usage: python -m demucs_study <command> [options]")
    for name, (_, help_) in cli.COMMANDS.items():
        assert f"  {name:<14} {help_}" in text.splitlines()
    assert len(text.splitlines()) == 3 + len(cli.COMMANDS)


@pytest.mark.parametrize("argv", [[], ["-h"], ["--help"]])
def test_no_command_or_help_prints_the_usage(argv, capsys):
    assert cli.main(argv) == 0
    assert capsys.readouterr().out == cli.usage() + "\n"


def test_unknown_command_exits_2_with_the_usage(capsys):
    assert cli.main(["trian", "--params", "x"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"error: unknown command 'trian'\n\n{cli.usage()}\n"


def test_unknown_command_through_the_interpreter():
    """The real ``python -m demucs_study`` (fast: no command module is imported)."""
    proc = subprocess.run([sys.executable, "-m", "demucs_study", "nope"], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: unknown command 'nope'") and "run-notebook" in proc.stderr


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_every_command_resolves_to_a_callable(name):
    function = cli.command(name)
    assert callable(function)
    module, attr = cli.COMMANDS[name][0].split(":")
    assert function.__module__ == module and function.__name__ == attr


@pytest.fixture
def fake_command(monkeypatch):
    """Makes ``cli.command`` return the function stored in ``box["fn"]`` for any name, and records argv."""
    box = {"argv": []}

    def fake(name):
        def run(argv):
            box["argv"].append((name, argv))
            return box["fn"](argv)
        return run

    monkeypatch.setattr(cli, "command", fake)
    return box


def test_arguments_after_the_command_are_passed_on_and_its_code_returned(fake_command):
    fake_command["fn"] = lambda argv: 3
    assert cli.main(["evaluate", "--out", "x", "-h"]) == 3
    assert fake_command["argv"] == [("evaluate", ["--out", "x", "-h"])]
    fake_command["fn"] = lambda argv: None  # a command returning nothing succeeded
    assert cli.main(["table"]) == 0


def test_a_study_error_prints_one_line_and_exits_1(fake_command, capsys):
    def fail(argv):
        raise DatasetError("dataset folder /x is empty; run make data")

    fake_command["fn"] = fail
    assert cli.main(["train"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == "error: dataset folder /x is empty; run make data\n"


def test_other_exceptions_are_not_hidden(fake_command):
    def bug(argv):
        raise KeyError("a bug, not a user error")

    fake_command["fn"] = bug
    with pytest.raises(KeyError, match="a bug"):
        cli.main(["train"])


def test_main_reads_sys_argv_by_default(fake_command, monkeypatch):
    fake_command["fn"] = lambda argv: 0
    monkeypatch.setattr(sys, "argv", ["demucs-study", "separate", "a.wav"])
    assert cli.main() == 0
    assert fake_command["argv"] == [("separate", ["a.wav"])]


def test_study_error_subclass_from_elsewhere_is_caught(fake_command, capsys):
    class Custom(StudyError):
        pass

    def fail(argv):
        raise Custom("custom problem")

    fake_command["fn"] = fail
    assert cli.main(["evaluate"]) == 1
    assert capsys.readouterr().err == "error: custom problem\n"
