"""Separation of whole tracks: the chunk grid (:mod:`.chunks`), :func:`~.apply.apply_model` (padding,
shift trick, overlap-add) and the ``separate`` command (:mod:`.cli`). The public entry point is
:mod:`demucs_study.separate`. Nothing is imported here: torch loads only when a function runs.
"""
