"""The remix scheme's error and warning: each names the cause (file, source, value) and the fix."""
from __future__ import annotations

from ..errors import StudyError


class RemixError(StudyError, ValueError):
    """Input the remix scheme cannot use: no unlabeled audio long enough, no excerpt found, a labeled
    set lacking a stem, a manifest that does not match its audio."""


class RemixWarning(UserWarning):
    """Something the study should look at but that does not stop it (e.g. one source yields nothing)."""
