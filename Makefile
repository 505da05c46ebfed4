# One command to set up and run the app, one to run the tests (see README.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint train-real bench package package-env clean

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

# The packaging environment: the app, pydicom and PyInstaller, no TensorFlow, and numpy built from its source
# release without OpenBLAS/libgfortran (28 MB the app never uses: numpy's own fallback routines do its few small
# matrix products) and without runtime-dispatched SIMD copies of its loops. First build 2-5 minutes.
PKG_VENV ?= .venv-package
PKG_PY := $(PKG_VENV)/bin/python
export PACKAGE_PYTHON := $(CURDIR)/$(PKG_PY)
NUMPY_PIN := $(shell grep -o '"numpy==[^"]*"' pyproject.toml)
NUMPY_WITHOUT_BLAS := -Csetup-args=-Dallow-noblas=true -Csetup-args=-Dblas=none -Csetup-args=-Dlapack=none \
	-Csetup-args=-Dcpu-dispatch=none

$(PKG_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(PKG_VENV)
	$(PKG_PY) -m pip install --upgrade --quiet pip
	$(PKG_PY) -m pip wheel --quiet --no-deps --no-binary numpy --no-cache-dir $(NUMPY_WITHOUT_BLAS) \
		-w $(PKG_VENV)/wheels $(NUMPY_PIN)
	$(PKG_PY) -m pip install --quiet --no-deps $(PKG_VENV)/wheels/numpy-*.whl
	$(PKG_PY) -m pip install --quiet -e ".[dicom,package]"
	touch $@

package-env: $(PKG_VENV)/.installed  ## set up the packaging environment only

# The packaging test builds the bundle in $(PKG_VENV) (PACKAGE_PYTHON above): what `make package` ships.
test: $(VENV)/.dev-installed $(PKG_VENV)/.installed  ## set up (first time) and run the whole test suite headless
	$(PY) -m pytest

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check desktop_app training tests bench packaging
	$(VENV)/bin/lint-imports

package: $(PKG_VENV)/.installed  ## build the app with PyInstaller: dist/bus-classifier/ (ONEFILE=1: dist/onefile/)
	$(PKG_PY) packaging/build.py $(if $(ONEFILE),--onefile)

bench: $(VENV)/.dev-installed $(PKG_VENV)/.installed  ## run every benchmark; writes bench/RESULTS.md and README's Performance table
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(PKG_VENV) build dist .pytest_cache
