"""Reporting: comparison tables (:mod:`.tables`: rows, aggregation, CSV/Markdown/LaTeX), which rows a
profile shows (:mod:`.paper`), figures (:mod:`.figures`), provenance (:mod:`.provenance`), the notebook
runner of the DAG (:mod:`.runner`), the entry page of a profile's results (:mod:`.index`) and the
``table`` and ``run-notebook`` commands (:mod:`.cli`).
"""
