"""Evaluation: BSSEval v4 per track (:mod:`.bsseval`), many tracks in parallel and resumable
(:mod:`.jobs`), the reference systems MIX and IRM2 (:mod:`.oracles`), the test-set steps of the study
(:mod:`.testset`: separate, score, collect), the SiSEC 2018 aggregation (:mod:`.aggregate`) and the
``evaluate`` command (:mod:`.cli`).
"""
