# `make run` / `make test` work from a fresh clone: the virtualenv is created on first use and
# re-installed only when pyproject.toml changes (the stamp file records the last install).
VENV  := .venv
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck

run: $(STAMP)
	$(VENV)/bin/rouptimize serve

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

$(VENV)/bin/python:
	python3 -m venv $(VENV)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install -e '.[dev]'
	touch $@
