# Two commands on a fresh clone: `make demo` and `make test`. Each creates .venv
# (with nothing but Python 3.11 installed), installs what it needs, and runs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
CKSUM := $(shell cat pyproject.toml | cksum | cut -d' ' -f1)
STAMP := $(VENV)/.installed-$(CKSUM)
DEMO_STAMP := $(VENV)/.installed-demo-$(CKSUM)

.PHONY: demo test test-fast fuzz lint bench clean venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	rm -f $(VENV)/.installed-*
	touch $@ $(DEMO_STAMP)

# The demo needs lockdown alone, not the test and lint tools (a full install counts too).
$(DEMO_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	rm -f $(VENV)/.installed-demo-*
	touch $@

venv: $(STAMP)

# The life of a production lock, for real, in a scratch copy of examples/webapp:
# lock, sign, install, a caught tamper, a blocked upgrade, an approval, a cron check.
demo: $(DEMO_STAMP)
	$(BIN)/python examples/demo.py

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider --cov=lockdown --cov-branch --cov-report=term:skip-covered

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider -m "not online and not slow"

# The hostile-input properties with many more examples than `make test` runs.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -n 2 -p no:cacheprovider tests/hardening

lint: $(STAMP)
	$(BIN)/ruff check lockdown tests benchmarks examples/demo.py
	$(BIN)/ruff format --check lockdown tests benchmarks examples/demo.py
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python benchmarks/lock.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
