# Two commands: `make run` brings the platform up on embedded defaults; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test venv lint typecheck bench-api clean

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## venv: create .venv and install the platform with its dev tools
venv: $(STAMP)

## run: migrate, load demo data if empty, start the API (:8000) and Dagster (:3000)
run: venv
	bash scripts/run.sh

## test: start what the tests need (Postgres, Slurm, sshd) and run the suite
test: venv
	bash scripts/test.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	# The django-stubs plugin imports the settings: debug allows them without secrets.
	EMG_DJANGO__DEBUG=true $(VENV)/bin/mypy emg_django emg_assets slurm_resource sensors

clean:
	rm -rf var/ .pytest_cache
