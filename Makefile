# The project's two commands: `make reproduce` (the pipeline, default profile) and `make test`.
# Both create the virtual environment .venv and install the project into it on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= default
KERNEL := fast-weights-repro
STAMP := $(VENV)/.installed

.PHONY: reproduce test lab lint benchmark clean-venv

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name $(KERNEL) \
		--display-name "Python (fast-weights-repro)" >/dev/null
	touch $(STAMP)

reproduce: $(STAMP)
	$(BIN)/python -m fwlib.pipeline --profile $(PROFILE)

test: $(STAMP)
	$(BIN)/python -m pytest -q tests

lint: $(STAMP)
	$(BIN)/ruff check fwlib tests benchmarks

lab: $(STAMP)
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(BIN)/jupyter lab notebooks

benchmark: $(STAMP)
	$(BIN)/python benchmarks/train_speed.py
	$(BIN)/python benchmarks/profile_times.py

clean-venv:
	rm -rf $(VENV)
