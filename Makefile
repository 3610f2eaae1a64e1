# The two README commands are `make demo` and `make test`; everything else supports them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch first, pinned, so pip never pulls a multi-GB CUDA build; skipped when the venv
# already imports a torch (e.g. a GPU build you installed yourself, see README).
TORCH_SPEC ?= torch==2.13.0

.PHONY: demo test lint bench bench-peers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.torch: | $(BIN)/python
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install -q -e ".[dev]"
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
