"""The remix scheme's error and warning: each names the cause (file, source, value) and the fix."""
from __future__ import annotations

from pathlib import Path

from ..errors import StudyError


class RemixError(StudyError, ValueError):
    """Input the remix scheme cannot use: no unlabeled audio long enough, no excerpt found, a labeled
    set lacking a stem, a manifest that does not match its audio."""


class RemixWarning(UserWarning):
    """Something the study should look at but that does not stop it (e.g. one source yields nothing)."""


def describe(path) -> str:
    """A folder as messages and notebooks name it, without the machine's paths: ``data/...`` inside the
    data folder (:func:`demucs_study.paths.data_dir`), ``runs/...`` inside the runs folder, relative
    inside the repository, else as given."""
    from .. import paths

    p = Path(path).expanduser().absolute()
    for base, name in ((paths.data_dir(), "data"), (paths.runs_dir(), "runs")):
        base = Path(base).expanduser().absolute()
        if p == base or p.is_relative_to(base):
            return "/".join([name, *p.relative_to(base).parts])
    repo = paths.repo_root().absolute()
    return p.relative_to(repo).as_posix() if p.is_relative_to(repo) else str(path)
