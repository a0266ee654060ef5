"""The errors the study raises for bad input. Each message names the file or value and the fix."""


class StudyError(Exception):
    """Base class: a problem with the user's input, reported as one clear message (no traceback in the CLI)."""


class AudioError(StudyError, ValueError):
    """An audio file that cannot be used: unreadable, empty, wrong rate or channel count, silent."""


class DatasetError(StudyError, ValueError):
    """A dataset folder that is missing, empty, or not in a layout we know."""


class ParamsError(StudyError, ValueError):
    """A parameter file or override that is malformed or names an unknown key."""
