"""Separation of whole tracks: the chunk grid (:mod:`.chunks`), :func:`~.apply.apply_model` (normalisation,
padding, shift trick, overlap-add) and the ``separate`` command (:mod:`.cli`).
"""
