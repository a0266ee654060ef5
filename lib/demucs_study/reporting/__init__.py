"""Reporting: comparison tables (:mod:`.tables`), figures, provenance and the notebook runner.

Submodules are imported on use; nothing is imported here so that ``python -m demucs_study`` stays
fast.
"""
