# demucs-study: the only entry points. `make paper-results` and `make test` set everything up.
# The DAG: env -> data -> train -> evaluate -> tables/figures, one papermill notebook per step.
SHELL := /bin/bash
PROFILE ?= quick
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ENV_STAMP := $(VENV)/.installed
RESULTS := results/$(PROFILE)
JOBS ?= 2
export MPLBACKEND := Agg
export PYTHONHASHSEED := 0

.PHONY: env ffmpeg data paper-results test lab bench clean help
help:
	@echo "make paper-results [PROFILE=quick|smoke|full]   run every notebook of the study"
	@echo "make test                                       run the test suite"
	@echo "make lab                                        open JupyterLab on notebooks/"
	@echo "make bench                                      run benchmarks/ (installs the peers)"
	@echo "make clean                                      remove generated data, runs and smoke results"

ffmpeg:
	@bash scripts/ensure-ffmpeg.sh

$(ENV_STAMP): pyproject.toml requirements-nodeps.txt
	@bash scripts/ensure-ffmpeg.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

env: $(ENV_STAMP) ffmpeg

# ---- the study DAG (stamps live in results/<profile>/.done; steps skip work whose inputs are unchanged)
NB_RUN = $(PY) -m demucs_study run-notebook --profile $(PROFILE)

$(RESULTS)/.done/01_data: $(ENV_STAMP) notebooks/01_data.ipynb params/$(PROFILE)/data.yaml | ffmpeg
	$(NB_RUN) notebooks/01_data.ipynb params/$(PROFILE)/data.yaml

data: $(RESULTS)/.done/01_data

paper-results: $(RESULTS)/.done/01_data
	@echo "results in $(RESULTS)/"

test: $(ENV_STAMP) | ffmpeg
	$(PY) -m pytest -q -x --durations=15 tests

lab: $(ENV_STAMP) | ffmpeg
	$(VENV)/bin/jupyter lab notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

bench: $(ENV_STAMP) | ffmpeg
	$(PY) -m pip install --quiet --no-deps demucs==4.0.1 julius==0.2.7 einops==0.8.1 lameenc==1.8.1 dora-search==0.1.12 openunmix==1.3.0 || true
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf data runs results/smoke
