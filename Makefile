# Secure AI Data Pipelines — the two commands are `make demo` and `make test`.
# Every target ensures set-up first; set-up is idempotent (a stamp file records
# what was installed, and it re-runs only when a lock file changes).

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.lab-installed

.DEFAULT_GOAL := help
.PHONY: help setup demo test test-fast up down status bench bench-poison clean fl grade case-study student-release bench-grade

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

$(STAMP): requirements.txt infra/requirements-checkov.txt pyproject.toml federated-learning/pyproject.toml package.json package-lock.json scripts/setup.sh
	@PYTHON=$(PYTHON) bash scripts/setup.sh
	@touch $(STAMP)

setup: $(STAMP) ## create the venv, install pinned packages, npm tools and local certificates

demo: setup ## set up, then run the main job (end-to-end scenario on the local cloud)
	$(PY) -m course.scenario

test: setup ## run the whole test suite (what CI runs)
	$(PY) -m pytest

test-fast: setup ## the suite without the slow end-to-end tests
	$(PY) -m pytest -m "not slow"

up: setup ## start the local cloud emulators and leave them running
	$(PY) -m lab up

down: setup ## stop the emulators started by `make up`
	$(PY) -m lab down

status: setup ## show which emulators run, and where
	$(PY) -m lab status

bench: setup ## ingestion and encryption benchmark (prints figures, last line JSON)
	$(PY) ingestion/bench.py

fl: setup ## federated learning: default secure simulation (SecAgg+, DP-SGD noise on the clients, eps <= 8), writes models/
	$(PY) federated-learning/run.py

bench-poison: setup ## poisoning detectors vs stock ART: every attack family on digits, MNIST subset, breast cancer (seeds 0-2; tables in reports/; --quick for one seed)
	$(PY) poisoning-detection/bench.py --datasets digits mnist cancer --seeds 0 1 2 --out reports/bench-poison.md

grade: setup ## grade a copy black-box (REPO=path, default this one; QUICK=1 for the fast subset); rubric: docs/RUBRIC.md
	$(PY) -m course.grade $(if $(REPO),--repo $(REPO)) $(if $(QUICK),--quick) --json reports/grade.json --review reports/review.md

student-release: setup ## write the students' starter repository (OUT=path): solution regions become TODOs
	@test -n "$(OUT)" || { echo "usage: make student-release OUT=../starter" >&2; exit 2; }
	$(PY) -m course.release --out $(OUT)

bench-grade: setup ## prove the grader: reference, starter, faker and one planted bug per exercise (figures + JSON)
	$(PY) -m course.grading.bench --out reports/bench-grade.json

case-study: setup ## reproduce a case study: make case-study NAME=kinesis-poisoning (python -m course.case_studies --list)
	$(PY) -m course.case_studies $(NAME)

clean: ## remove run-time state (.lab/), reports; keeps the venv
	rm -rf .lab reports
