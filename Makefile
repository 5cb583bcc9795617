# hhnb: the README's commands. Each target sets up .venv itself on a fresh machine, with the extras it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# One stamp per set of extras, named after the checksum of pyproject.toml and constraints.txt: a change of either
# reinstalls. The stem after the checksum is the extras, dot-separated ("core": hhnb alone).
SUM           := $(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
STAMP_CORE    := $(VENV)/.installed-$(SUM)-core
STAMP_TEST    := $(VENV)/.installed-$(SUM)-test
STAMP_LAB     := $(VENV)/.installed-$(SUM)-test.lab.docs
STAMP_DOCS    := $(VENV)/.installed-$(SUM)-docs
STAMP_CLUSTER := $(VENV)/.installed-$(SUM)-test.cluster
STAMP_BENCH   := $(VENV)/.installed-$(SUM)-bench
comma := ,
export PYTHONHASHSEED := 0
export TF_CPP_MIN_LOG_LEVEL := 3

.PHONY: demo test test-fast lint lab test-lab docs test-cluster bench bench-large bench-demo clean-outputs notebooks

# e.g. .installed-<sum>-test.lab: pip install -e ".[test,lab]"; the stamps of another checksum are removed
$(VENV)/.installed-$(SUM)-%: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e "$(if $(filter core,$*),.,.[$(subst .,$(comma),$*)])" -c constraints.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name hhnb --display-name "Python (hhnb)" >/dev/null
	for f in $(VENV)/.installed-*; do case "$$f" in $(VENV)/.installed-$(SUM)-*) ;; *) rm -f "$$f" ;; esac; done
	touch $@

# committed notebook outputs are made and compared with the numerical libraries on machine-independent paths
NB_ENV = $(shell $(BIN)/python -m hhnb.workflow.nbsetup)

demo: $(STAMP_CORE)
	$(BIN)/hhnb demo

test: $(STAMP_TEST)
	$(BIN)/ruff check hhnb tests benchmarks
	$(BIN)/python -m pytest -n 2 --dist load -m "not heavy" tests hhnb
	env $(NB_ENV) $(BIN)/python -m pytest -p no:randomly --nbval notebooks --nbval-sanitize-with notebooks/sanitize.cfg -o addopts="-p no:cacheprovider"

# A real one-node Slurm (installed with apt-get when missing: needs root), the sweep and apply on it, torn down;
# then the heavy multi-process tests (pytest -m heavy: Dask workers killed, sweeps, the wheel, fresh projects).
test-cluster: $(STAMP_CLUSTER)
	tests/cluster/run.sh

test-fast: $(STAMP_TEST)
	$(BIN)/python -m pytest -n 2 -m "not slow and not heavy" tests hhnb

lint: $(STAMP_TEST)
	$(BIN)/ruff check hhnb tests benchmarks

# JupyterLab on the project with its own kernel "hhnb" (this .venv); --allow-root only when run as root.
# Remote machine: make lab LAB_IP=127.0.0.1 LAB_PORT=8888, then on your laptop ssh -L 8888:localhost:8888 host (README).
LAB_IP     ?= 127.0.0.1
LAB_PORT   ?= 8888
KERNELSPEC := $(VENV)/share/jupyter/kernels/hhnb/kernel.json
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

$(KERNELSPEC): | $(STAMP_LAB)  # the kernel "Python (hhnb)"; also made with the venv, for papermill and nbval
	$(BIN)/python -m ipykernel install --sys-prefix --name hhnb --display-name "Python (hhnb)"

lab: $(STAMP_LAB) $(KERNELSPEC)
	HHNB_HOME=$${HHNB_HOME:-$(CURDIR)} $(BIN)/jupyter lab --notebook-dir=. --ip=$(LAB_IP) --port=$(LAB_PORT) \
		--MappingKernelManager.default_kernel_name=hhnb $(ALLOW_ROOT)

# The documentation site (docs/_build/html): Sphinx + MyST-NB, offline, every warning an error; the CLI,
# configuration, API and bench pages are generated from the code (docs/_ext), the notebooks shown as committed.
SPHINX = $(BIN)/python -m sphinx -E -W --keep-going -b html -d docs/_build/doctrees docs docs/_build/html
docs: $(STAMP_DOCS)
	$(SPHINX)

# Real-browser test: Debian's Chromium (installed if missing) driven by Playwright (the [lab] extra, no browser
# download); runs train.ipynb and evaluate.ipynb in JupyterLab (screenshots in runs/lab/), builds the site and
# opens its pages (tests/lab/test_docs.py, screenshots in runs/docs/).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
test-lab: $(STAMP_LAB) $(KERNELSPEC)
	test -x /usr/bin/chromium || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)
	HHNB_TEST_LAB=1 $(BIN)/python -m pytest tests/lab tests/docs/test_readme.py::test_the_quick_tour_runs_as_written \
		-p no:randomly -o addopts="-p no:cacheprovider --import-mode=importlib" -v

bench: $(STAMP_BENCH)
	$(BIN)/python benchmarks/run.py

# Slow measurements stored with their date in benchmarks/stored/ and shown by make bench.
# Too slow for make bench (about 25 min on 2 free cores, most of it generating 5M toy events): peak memory of
# hhnb apply on a 5M-event file, and of the default training on 5M events with its rate against 200k.
bench-large: $(STAMP_BENCH)
	$(BIN)/python benchmarks/large.py
	$(BIN)/python benchmarks/large_train.py

bench-demo: $(STAMP_BENCH)
	$(BIN)/python benchmarks/demo_time.py

# Re-execute the notebooks with their default parameters (what git keeps as outputs).
notebooks: $(STAMP_TEST)
	env $(NB_ENV) $(BIN)/python -m hhnb.workflow.refresh
