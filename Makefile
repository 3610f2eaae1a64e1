# The two README commands are `make demo` and `make test`; everything else supports them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# Which torch: "cpu" (the CPU-only wheel from PyTorch's own index, about 190 MB to download)
# unless an NVIDIA GPU is visible, then "gpu" (plain pip: on Linux the CUDA build, about 20
# nvidia/cuda packages and several GB). Choose yourself with `make demo TORCH=gpu` (or cpu).
# Skipped when the venv already imports a torch (e.g. a CUDA build you installed, see README).
TORCH         ?= $(if $(shell nvidia-smi -L 2>/dev/null),gpu,cpu)
TORCH_VERSION ?= 2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: demo test lint bench bench-peers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# CPU: the pin "+cpu" matches only PyTorch's CPU wheel (PyPI has no such version, so pip can
# never fall back to the CUDA build silently); --no-deps keeps that index to torch alone,
# and the second call takes torch's small dependencies from your usual index.
$(VENV)/.torch: | $(BIN)/python
	@if $(BIN)/python -c "import torch" 2>/dev/null; then \
	  echo "torch $$($(BIN)/python -c 'import torch; print(torch.__version__)') already installed; keeping it."; \
	elif [ "$(TORCH)" = cpu ]; then \
	  echo "Installing the CPU build of torch $(TORCH_VERSION) (about 190 MB download, 750 MB on disk; TORCH=gpu for CUDA)"; \
	  $(PIP) install --no-deps --index-url $(TORCH_CPU_INDEX) "torch==$(TORCH_VERSION)+cpu" && \
	  $(PIP) install "torch==$(TORCH_VERSION)+cpu"; \
	else \
	  echo "Installing torch $(TORCH_VERSION) with CUDA (several GB; TORCH=cpu for the CPU build)"; \
	  $(PIP) install "torch==$(TORCH_VERSION)"; \
	fi
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(PIP) install -e .
	touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.installed
	$(PIP) install -e ".[dev]"
	touch $@

## demo: set up .venv and run the main job on the bundled data
demo: $(VENV)/.installed
	$(BIN)/forecast backtest

## test: set up .venv with the dev extras, lint, and run the whole test suite
test: $(VENV)/.dev
	$(BIN)/ruff check forecast tests benchmarks
	$(BIN)/python -m pytest -q tests --nbmake notebooks

lint: $(VENV)/.dev
	$(BIN)/ruff check forecast tests benchmarks
	$(BIN)/ruff format --check forecast tests benchmarks

## bench: our backtest and training loop against a bare PyTorch loop
bench: $(VENV)/.installed
	$(BIN)/python -m benchmarks.run

## bench-peers: the same protocol in Darts and neuralforecast, each in its own venv
bench-peers: $(VENV)/.installed
	$(MAKE) -C benchmarks/peers venvs PYTHON=$(PYTHON)
	$(BIN)/python -m benchmarks.run --peers

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache
