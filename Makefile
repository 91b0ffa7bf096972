# The two set-up commands: `make demo` (main job) and `make test` (every test).
# Both create .venv from the repo's own files; nothing installed by hand is assumed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: demo test test-fast lint bench bench-service bench-analytics bench-coldstart install install-dev clean

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "wavekit needs Python 3.11+")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) -e '.[service,analytics,reports]'
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP) -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(VENV)/bin/wavekit demo

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: lint
	$(PY) -m pytest -n 2

test-fast: lint
	$(PY) -m pytest -n 2 -m "not slow and not browser" -x -q

bench: install-dev
	$(PY) benchmarks/bench_synth.py
	$(PY) benchmarks/bench_studio.py

bench-service: install-dev
	$(PY) benchmarks/bench_service.py

bench-analytics: install-dev
	$(PY) benchmarks/bench_analytics.py

bench-coldstart: install-dev
	$(PY) benchmarks/bench_coldstart.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache out
