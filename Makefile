# One command to set up and run the app, one to run the tests (see README.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint train-real bench package clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip

# The app alone: PySide6 + onnxruntime, no TensorFlow.
$(VENV)/.app-installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

# Everything the tests need: the app, training (TensorFlow), DICOM, pytest-qt, packaging.
$(VENV)/.dev-installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[train,dev,dicom,package]"
	touch $@ $(VENV)/.app-installed

run: $(VENV)/.app-installed  ## set up (first time) and launch the app on the bundled model
	$(PY) -m desktop_app

test: $(VENV)/.dev-installed  ## set up (first time) and run the whole test suite headless
	$(PY) -m pytest

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check desktop_app training tests bench packaging
	$(VENV)/bin/lint-imports

package: $(VENV)/.dev-installed  ## build the app with PyInstaller: dist/bus-classifier/ (ONEFILE=1: dist/onefile/)
	$(PY) packaging/build.py $(if $(ONEFILE),--onefile)

bench: $(VENV)/.dev-installed  ## run every benchmark; writes bench/RESULTS.md and README's Performance table
	$(PY) -m bench

clean:
	rm -rf $(VENV) build dist .pytest_cache
