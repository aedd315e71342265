# The two commands that do everything on a fresh machine:
#   make demo   create .venv, install the core and every plugin, run the demo session
#   make test   same install, then run every test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
export QT_QPA_PLATFORM ?= offscreen
export NUMBA_CACHE_DIR ?= $(CURDIR)/.numba_cache
export SCOPEWEAVE_STRICT_PLUGINS ?= 1

DISTS := core $(sort $(wildcard plugins/scopeweave-*)) $(sort $(wildcard examples/plugins/*))
DEMO_SESSION ?= examples/sessions/focus-lock-sim.toml
PYTEST_ARGS ?=
# Optional extras installed for the tests, per distribution folder name
EXTRAS_scopeweave-4dstem := [gui]
EXTRAS_scopeweave-puncta := [deep]
EXTRAS_scopeweave-focuslock := [gui]

.PHONY: install demo test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python Makefile constraints-dev.txt requirements-dev.txt $(foreach d,$(DISTS),$(d)/pyproject.toml)
	$(PIP) install --quiet -c constraints-dev.txt -r requirements-dev.txt $(foreach d,$(DISTS),-e "$(d)$(EXTRAS_$(notdir $(d)))")
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/scopeweave session run $(DEMO_SESSION) --output runs

test: install
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	cd /tmp && $(CURDIR)/$(BIN)/mypy --config-file $(CURDIR)/pyproject.toml $(foreach p,$(notdir $(wildcard core/src/* plugins/*/src/* examples/plugins/*/src/*)),-p $(p))

clean:
	rm -rf $(VENV) runs .numba_cache
