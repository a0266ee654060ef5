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
# OpenMP threads that spin while waiting slow torch down badly when the 2 cores are shared (measured here:
# a training step 16.8 s instead of 2.3 s); PASSIVE makes them sleep. Override on a dedicated machine.
export OMP_WAIT_POLICY ?= PASSIVE

.SECONDARY:
.PHONY: env ffmpeg chromium soundfont real-music real-music-optional data train evaluate paper-results test test-fast \
        lab bench clean help remix
help:
	@echo "make paper-results [PROFILE=quick|smoke|full|extended]  run every notebook of the study (extended: seeds,"
	@echo "                                                ablations and the remix grid; params/extended/README.md)"
	@echo "make test                                       run the test suite (all of it)"
	@echo "make test-fast                                  every test but the slow ones (under a minute)"
	@echo "make lab [PROFILE=quick|smoke]                  open the explorer (notebooks/06_explore.ipynb) in JupyterLab"
	@echo "make bench                                      run benchmarks/ (installs the peers)"
	@echo "make real-music                                  install freely licensed music (Debian) into data/real-unlabeled"
	@echo "make clean                                      remove generated data, runs and smoke results"

ffmpeg:
	@bash scripts/ensure-ffmpeg.sh

# the explorer's browser test drives Debian's chromium through Playwright (pinned in pyproject.toml)
chromium:
	@bash scripts/ensure-chromium.sh

# The synthetic set renders through FluidR3_GM (Debian's fluid-soundfont-gm) when it is installed.
soundfont:
	@bash scripts/ensure-soundfont.sh

# Real music (game soundtracks, Frets on Fire songs; licences in docs/real-music.md) for the realism
# comparison of the data notebook and as unlabeled songs. The data step tries it and goes on without.
real-music: $(ENV_STAMP)
	@PY=$(PY) bash scripts/install-real-music.sh
real-music-optional: $(ENV_STAMP)
	@PY=$(PY) bash scripts/install-real-music.sh --optional

$(ENV_STAMP): pyproject.toml requirements-nodeps.txt
	@bash scripts/ensure-ffmpeg.sh
	@bash scripts/ensure-soundfont.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

env: $(ENV_STAMP) ffmpeg soundfont

# ---- the study DAG. One papermill notebook per step; a stamp per finished step in results/<profile>/.done
# holds the hash of its notebook, parameters and upstream stamps: a step whose inputs did not change is
# skipped, and the work inside a step resumes (checkpoints, per-track JSON), so an interrupted
# `make paper-results` continues where it stopped. Experiments: every params/<profile>/*.yaml but
# defaults.yaml and data.yaml (params/extended/ is generated: python -m demucs_study grid extended).
RESULTS_ROOT := $(or $(DEMUCS_STUDY_RESULTS),results)
RESULTS := $(RESULTS_ROOT)/$(PROFILE)
DONE := $(RESULTS)/.done
EXPERIMENTS ?= $(sort $(filter-out defaults data,$(basename $(notdir $(wildcard params/$(PROFILE)/*.yaml)))))
NB = $(PY) -m demucs_study run-notebook

# The smoke profiles (smoke and its twins, e.g. extended-smoke: the test suite) compare with real music only if
# it is already there (it is 230 MB).
REAL_MUSIC_STEP := $(if $(findstring smoke,$(PROFILE)),,real-music-optional)
$(DONE)/01_data: $(ENV_STAMP) notebooks/01_data.ipynb params/$(PROFILE)/data.yaml | ffmpeg $(REAL_MUSIC_STEP)
	$(NB) notebooks/01_data.ipynb params/$(PROFILE)/data.yaml --output 01_data --stamp $@

$(DONE)/02_train-%: $(DONE)/01_data notebooks/02_train.ipynb params/$(PROFILE)/%.yaml params/$(PROFILE)/defaults.yaml
	$(NB) notebooks/02_train.ipynb params/$(PROFILE)/$*.yaml --output 02_train-$* --stamp $@ --after $<

$(DONE)/03_evaluate-%: $(DONE)/02_train-% notebooks/03_evaluate.ipynb
	$(NB) notebooks/03_evaluate.ipynb params/$(PROFILE)/$*.yaml --output 03_evaluate-$* --stamp $@ --after $<

# the remix scheme (notebook 04): the gain of the remix runs over their twins without remix, the silence classifier,
# the extraction's yield per excerpt length and its true precision on the hidden stems; after every evaluation
$(DONE)/04_remix: $(foreach e,$(EXPERIMENTS),$(DONE)/03_evaluate-$(e)) notebooks/04_remix.ipynb
	$(NB) notebooks/04_remix.ipynb params/$(PROFILE)/defaults.yaml --output 04_remix --stamp $@ \
	  --after $(filter $(DONE)/%,$^)

$(DONE)/05_paper: $(foreach e,$(EXPERIMENTS),$(DONE)/03_evaluate-$(e)) $(DONE)/04_remix notebooks/05_paper.ipynb
	$(NB) notebooks/05_paper.ipynb params/$(PROFILE)/defaults.yaml --output 05_paper --stamp $@ \
	  --after $(filter $(DONE)/%,$^)

# the students' explorer, executed headless: its HTML shows the app's first choices (a static snapshot)
$(DONE)/06_explore: $(DONE)/05_paper notebooks/06_explore.ipynb
	$(NB) notebooks/06_explore.ipynb params/$(PROFILE)/defaults.yaml --output 06_explore --stamp $@ --after $<

data: $(DONE)/01_data
train: $(foreach e,$(EXPERIMENTS),$(DONE)/02_train-$(e))
evaluate: $(foreach e,$(EXPERIMENTS),$(DONE)/03_evaluate-$(e))
remix: $(DONE)/04_remix

paper-results: $(DONE)/06_explore
	@echo "results of profile $(PROFILE) in $(RESULTS)/ (tables/, figures/, notebooks/, provenance.json)"

test: $(ENV_STAMP) | ffmpeg chromium
	$(PY) -m pytest -q -x --durations=15 tests

test-fast: $(ENV_STAMP) | ffmpeg
	$(PY) -m pytest -q -x -m "not slow" tests

# JupyterLab at the explorer; the notebook explores $(PROFILE) (DEMUCS_STUDY_PROFILE), whose results must exist
lab: $(ENV_STAMP) | ffmpeg
	@echo "the explorer of profile $(PROFILE): JupyterLab opens it; without a browser here, open the printed" \
	  "http://.../lab?token=... address with /lab/tree/06_explore.ipynb in place of /lab"
	DEMUCS_STUDY_PROFILE=$(PROFILE) $(VENV)/bin/jupyter lab notebooks/06_explore.ipynb \
	  $(if $(filter 0,$(shell id -u)),--allow-root,)

bench: $(ENV_STAMP) | ffmpeg
	$(PY) -m pip install --quiet --no-deps demucs==4.1.0 julius==0.2.8 einops==0.8.2
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf data runs results/smoke results/extended-smoke
