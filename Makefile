# deqtheory — two commands do everything on a fresh machine:
#   make demo   creates .venv, installs, runs `deqtheory check` on a bundled model
#   make test   creates .venv if missing, installs, runs tests/ and property_tests/
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip
PIP_FLAGS := --disable-pip-version-check --no-input -q

.PHONY: all install demo test thorough theorems-doc clean

all: test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install whenever the project metadata changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install $(PIP_FLAGS) --upgrade pip
	$(PIP) install $(PIP_FLAGS) 'torch==2.13.0'   # the CPU wheel; an unpinned torch pulls a CUDA build
	$(PIP) install $(PIP_FLAGS) -e '.[test,train]'
	@touch $@

install: $(STAMP)

demo: install
	@echo "== deqtheory check on the bundled MonDEQ example (examples/mondeq_small.npz) =="
	$(BIN)/deqtheory check examples/mondeq_small.npz

test: install
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests property_tests

thorough: install
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 DEQTHEORY_HYPOTHESIS_PROFILE=thorough $(BIN)/python -m pytest -q -p no:cacheprovider property_tests

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis
