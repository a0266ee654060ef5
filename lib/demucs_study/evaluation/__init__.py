"""Evaluation: museval BSSEval v4 per track (:mod:`.bsseval`), many tracks in parallel and
resumable (:mod:`.jobs`), and the SiSEC 2018 aggregation (:mod:`.aggregate`).

:mod:`demucs_study.evaluate` re-exports the public API and holds the CLI.
"""
