"""The ``real-music`` command: unknown packages are refused with the list; a tree without the packages
gives an empty gathering that says what is missing."""
import json

from demucs_study.cli import main as cli_main
from demucs_study.data import realmusic


def test_unknown_package_is_refused_with_the_known_ones(tmp_path, capsys):
    assert cli_main(["real-music", "--out", str(tmp_path / "out"), "no-such-music"]) == 2
    err = capsys.readouterr().err
    assert "unknown package(s) no-such-music; known: " in err and "singularity-music" in err
    assert not (tmp_path / "out").exists()


def test_a_tree_without_the_packages_reports_them_missing(tmp_path, capsys):
    out = tmp_path / "out"
    assert cli_main(["real-music", "--out", str(out), "--root", str(tmp_path / "empty"), "singularity-music"]) == 0
    printed = capsys.readouterr().out
    assert f"real music in {out}: 0 files from" in printed and "not installed: singularity-music" in printed
    manifest = json.loads((out / realmusic.MANIFEST).read_text())
    assert manifest["files"] == [] and manifest["missing"] == ["singularity-music"]
