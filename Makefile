# Every target bootstraps .venv on first use (python3 -m venv; pip install -e .[dev]).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
JB     := $(BIN)/jupyter-book build . -W -n --keep-going

.PHONY: help setup book book-fast lab labs test lint unit notebooks site student bench clean lite lite-test

help:
	@echo "make book    build the website into _build/html (sets up .venv first)"
	@echo "make test    every test layer: lint, unit/property/contract/fault tests, nbval on labs, book + site checks"
	@echo "make lab     open the labs in JupyterLab"
	@echo "make labs    re-execute every lab in place (commit the outputs)"
	@echo "make student write the student edition (solutions blanked) to _build/student"
	@echo "make bench   run the benchmarks (side by side with peer libraries)"
	@echo "make lite    build the in-browser edition of the labs (JupyterLite) into _build/html/lite"
	@echo "make lite-test  run every lab in that edition in headless Chromium, offline"

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

book: $(STAMP)
	rm -rf _build/.jupyter_cache
	$(JB) --all
	$(BIN)/python scripts/lite.py build
	@echo "The book: $(CURDIR)/_build/html/index.html"
	@echo "Its 'Run in browser' buttons need the site served over HTTP, e.g.:"
	@echo "  python3 -m http.server --bind 127.0.0.1 --directory _build/html 8000   (then http://127.0.0.1:8000/)"

lab: $(STAMP)
	$(BIN)/jupyter lab --allow-root --notebook-dir=labs

labs: $(STAMP)
	$(BIN)/python scripts/execute_labs.py

student: $(STAMP)
	$(BIN)/python scripts/student_edition.py _build/student

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check .

unit: $(STAMP)
	$(BIN)/pytest tests --ignore=tests/site -q --durations=15

notebooks: $(STAMP)
	$(BIN)/pytest $(NBVAL) labs -q -p no:cacheprovider

site: $(STAMP)
	rm -rf _build/html _build/.jupyter_cache _build/jupyter_execute
	$(JB) --all
	$(BIN)/python scripts/lite.py build
	$(BIN)/pytest tests/site -q -p no:cacheprovider

test: lint unit notebooks site
	@echo "make test: every layer passed."

# The labs in the browser (JupyterLite on Pyodide): pinned, hash-checked downloads (lite/pins.toml).
lite: $(STAMP)
	$(BIN)/python scripts/lite.py build

# Rebuilt when the package, a lab or a pin changed since the last build.
LITE_INPUTS := $(shell find src labs lite -type f -not -path '*/__pycache__/*' 2>/dev/null) \
               scripts/lite.py scripts/student_edition.py pyproject.toml
_build/html/lite/index.html: $(STAMP) $(LITE_INPUTS)
	$(BIN)/python scripts/lite.py build

# Every lab in headless Chromium from 127.0.0.1, network cut off (`make test` runs lab 10 only).
lite-test: _build/html/lite/index.html
	PATTERNS_LITE_LABS=all $(BIN)/pytest tests/site/test_lite.py -q -p no:cacheprovider -k lab_runs_in_the_browser

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis
