# hhnb: the README's commands. Each target sets up .venv itself on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
export PYTHONHASHSEED := 0
export TF_CPP_MIN_LOG_LEVEL := 3

.PHONY: demo test test-fast lint lab bench clean-outputs notebooks test-cluster

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP)
	$(BIN)/hhnb demo

test: $(STAMP)
	$(BIN)/ruff check hhnb tests benchmarks
	$(BIN)/python -m pytest -n 2 --dist load tests hhnb
	$(BIN)/python -m pytest -p no:randomly --nbval notebooks --nbval-sanitize-with notebooks/sanitize.cfg -o addopts="-p no:cacheprovider"

# A real one-node Slurm (installed with apt-get when missing: needs root), the sweep and apply on it, torn down.
test-cluster: $(STAMP)
	tests/cluster/run.sh

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow" tests hhnb

lint: $(STAMP)
	$(BIN)/ruff check hhnb tests benchmarks

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=.

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# Re-execute the notebooks with their default parameters (what git keeps as outputs).
notebooks: $(STAMP)
	$(BIN)/python -m hhnb.workflow.refresh
