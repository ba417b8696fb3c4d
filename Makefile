# Two entry points (see README): `make compare` and `make test`.
# Both create .venv and install the project into it first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup data compare test lint format bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The CPU build of torch, pinned, before anything can pull a CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[test,dist]"
	# SCALE-Sim, the cycle reference of `neuro validate` (it needs only numpy, pandas, tqdm).
	$(PY) -m pip install -q --no-deps "scalesim>=3.0"
	# snnTorch and nirtorch for the NIR test against another tool's exporter, without their
	# dependencies so that they keep the pinned torch.
	$(PY) -m pip install -q --no-deps "snntorch==1.0.0" "nirtorch==2.6"
	touch $(STAMP)

# Full Fashion-MNIST from Debian when we may install packages; otherwise the loader
# downloads it, or falls back to scikit-learn's digits (and says so).
data:
	@if [ -d /usr/share/datasets/fashion-mnist ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist) || echo "dataset-fashion-mnist not installed; the loader will look elsewhere"; \
	else echo "tip: sudo apt-get install dataset-fashion-mnist (or set NEURO_DATA)"; fi

compare: setup data
	$(VENV)/bin/neuro compare

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: setup data lint
	$(PY) -m pytest -q

bench: setup data
	$(PY) -m experiments.benchmarks.run_all

clean:
	rm -rf $(VENV) .cache build *.egg-info
