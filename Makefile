# Two commands on a fresh clone: `make demo` and `make test`. Each creates .venv
# (with nothing but Python 3.10+ installed), installs what it needs, and runs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test test-fast fuzz lint bench clean venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	rm -f $(VENV)/.installed-*
	touch $@

venv: $(STAMP)

demo: $(STAMP)
	@echo "== lockdown lock: examples/webapp -> pylock.toml (6 platforms, every artifact hashed)"
	$(BIN)/lockdown lock --project examples/webapp
	@echo "== lockdown lock --check: is the lock current with pyproject.toml? (no network)"
	$(BIN)/lockdown lock --check --project examples/webapp
	@echo "== lockdown export: requirements.txt for this machine, for pip --require-hashes"
	$(BIN)/lockdown export --project examples/webapp --extra postgres --format requirements | head -n 12
	@echo "== the lock itself (first lines):"
	@head -n 24 examples/webapp/pylock.toml
	@echo "== lockdown install: a venv exactly as locked (every artifact verified first)"
	$(BIN)/lockdown install --project examples/webapp --venv examples/webapp/.venv-demo --extra postgres
	@echo "== lockdown check: the venv against its lock, file by file"
	$(BIN)/lockdown check --project examples/webapp --venv examples/webapp/.venv-demo --extra postgres --level files

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider --cov=lockdown --cov-branch --cov-report=term:skip-covered

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider -m "not online and not slow"

# The hostile-input properties with many more examples than `make test` runs.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -n 2 -p no:cacheprovider tests/hardening

lint: $(STAMP)
	$(BIN)/ruff check lockdown tests benchmarks
	$(BIN)/ruff format --check lockdown tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/lock.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
