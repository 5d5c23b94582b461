# Two commands for a newcomer: `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
# The newest CPython >= 3.12 on the machine (3.11 has an import-lock bug in the Temporal SDK), else python3.
PYTHON_BOOT ?= $(shell for p in python3.14 python3.13 python3.12 $$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV) python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; done)
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv demo dev test lint typecheck bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON_BOOT)" || { echo "need Python >= 3.11 on PATH"; exit 1; }
	@test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: venv
	$(VENV)/bin/omniroute demo

dev: venv
	$(VENV)/bin/omniroute dev

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy models sourcing workflows store activities integrations gateway workers omniroute

# pytest runs on PYTEST_WORKERS pytest-xdist workers (most tests wait on Temporal timers, servers and I/O, so
# three workers fill two cores); each worker has its own Temporal servers, sandboxes and databases. One test
# module is one unit of work, handed out in collection order, so a module's shared fixtures start once and the
# long demo (tests/e2e) starts first. PYTEST_WORKERS=0 runs the suite in one process, as plain `pytest` does.
PYTEST_WORKERS ?= 3

test: venv lint
	$(PY) -m pytest -q -n $(PYTEST_WORKERS) --dist loadscope --no-loadscope-reorder $(PYTEST_ARGS)

bench: venv
	$(VENV)/bin/omniroute bench --out bench/RESULTS.md

clean:
	rm -rf .omniroute .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
