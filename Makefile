# Every target bootstraps .venv on first use (python3 -m venv; pip install -e .[dev]).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
JB     := $(BIN)/jupyter-book build . -W -n --keep-going
# pytest-xdist workers: one more than the cores, since many tests wait on a server or a subprocess
# (3 on a 2-core machine: the unit layer drops from about 9 to under 5 minutes). JOBS=0 runs serially.
# tests/cluster runs on its own, serially: its tests migrate slots on one shared cluster.
JOBS   ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 2) + 1 )))

.PHONY: help setup book book-fast lab lab-instructor labs test lint unit notebooks site student bench clean \
	workshop-servers workshop-stop wheelhouse grade room lite lite-test

help:
	@echo "make book    build the website into _build/html (sets up .venv first)"
	@echo "make test    every test layer: lint, unit/property/contract/fault tests, nbval on labs, book + site checks"
	@echo "make lab     open your copy of the labs (the student edition, in workspace/) in JupyterLab"
	@echo "make lab-instructor  open the labs with their answers (labs/) in JupyterLab"
	@echo "make labs    re-execute every lab in place (commit the outputs)"
	@echo "make student write the student edition (solutions blanked) to _build/student"
	@echo "make bench   run the benchmarks, write benchmarks/results/latest.json, regenerate benchmarks/README.md"
	@echo "make lite    build the in-browser edition of the labs (JupyterLite) into _build/html/lite"
	@echo "make lite-test  run every lab in that edition in headless Chromium, offline"
	@echo "make wheelhouse  every wheel the book needs, in wheelhouse/ (then offline: make setup WHEELHOUSE=path)"
	@echo "make grade SUBMISSIONS=dir  run each learner's notebooks, report pass / not yet / error per exercise (grades/)"
	@echo "make workshop-servers N=30 [BIND=0.0.0.0 HOST=10.0.0.5]  Redis (an ACL user per learner) + Kafka for a room;"
	@echo "             writes workshop/roster.csv and one card per learner; make workshop-stop stops them"

setup: $(STAMP)

# make setup WHEELHOUSE=path installs from a folder `make wheelhouse` wrote, with no index (offline).
PIP_INSTALL = $(BIN)/python -m pip install --quiet $(if $(WHEELHOUSE),--no-index --find-links $(WHEELHOUSE))

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip
	$(PIP_INSTALL) -e '.[dev]' $(if $(WHEELHOUSE),-c $(WHEELHOUSE)/requirements.txt)
	@touch $(STAMP)

wheelhouse: $(STAMP)
	$(BIN)/python scripts/wheelhouse.py wheelhouse $(foreach p,$(PLATFORMS),--platform $(p)) \
	  $(foreach v,$(PYTHONS),--python-version $(v))

book: $(STAMP)
	rm -rf _build/.jupyter_cache
	$(JB) --all
	$(BIN)/python scripts/lite.py build
	@echo "The book: $(CURDIR)/_build/html/index.html"
	@echo "Its 'Run in browser' buttons need the site served over HTTP, e.g.:"
	@echo "  python3 -m http.server --bind 127.0.0.1 --directory _build/html 8000   (then http://127.0.0.1:8000/)"

# workspace/ (git-ignored) holds the learner's copy of the student edition; scripts/workspace.py
# creates it, adds new labs, and never overwrites a notebook the learner has changed.
lab: $(STAMP)
	$(BIN)/python scripts/workspace.py workspace
	$(BIN)/jupyter lab --allow-root --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/workspace

lab-instructor: $(STAMP)
	$(BIN)/jupyter lab --allow-root --notebook-dir=labs

labs: $(STAMP)
	$(BIN)/python scripts/execute_labs.py

student: $(STAMP)
	$(BIN)/python scripts/student_edition.py _build/student

# A room's shared servers (scripts/workshop_servers.py): N learners, both servers listening on BIND
# (default loopback; 0.0.0.0 for every interface, then HOST = the address learners connect to).
N ?= 30
BIND ?= 127.0.0.1
WS_REDIS_PORT ?= 6380
WS_KAFKA_PORT ?= 9092
workshop-servers: $(STAMP)
	$(BIN)/python scripts/workshop_servers.py start --learners $(N) --bind $(BIND) \
	  --redis-port $(WS_REDIS_PORT) --kafka-port $(WS_KAFKA_PORT) \
	  $(if $(filter command line,$(origin HOST)),--host $(HOST)) $(if $(NAMES),--names $(NAMES))

workshop-stop: $(STAMP)
	$(BIN)/python scripts/workshop_servers.py stop

# Where is the room stuck? One folder per learner (their workspace/) in SUBMISSIONS -> grades/.
grade: $(STAMP)
	$(if $(SUBMISSIONS),,$(error give the folder of submissions: make grade SUBMISSIONS=dir))
	$(BIN)/python scripts/grade.py $(SUBMISSIONS) --out $(or $(OUT),grades)

bench: $(STAMP)
	$(BIN)/python benchmarks/report.py run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests --ignore=tests/site --ignore=tests/room --ignore=tests/cluster -q --durations=15 -n $(JOBS)
	$(BIN)/pytest tests/cluster -q -p no:cacheprovider

# Issue 11's room: 10 learners (ROOM=n) run every Redis/Kafka lab at once on one Redis with ACL users
# and one broker (both started by the test), each printing what a solo run prints (tests/room).
# The labs' rooms run side by side on xdist workers, each worker with servers of its own: a room
# mostly waits for Kafka group joins (about 2 s each), so one after another they took 5 minutes.
room: $(STAMP)
	PATTERNS_ROOM_PROCESSES=$(or $(ROOM),10) $(BIN)/pytest tests/room -q -p no:cacheprovider \
	  $(if $(filter 0,$(JOBS)),,-n $(JOBS) --dist load)

notebooks: $(STAMP)
	$(BIN)/pytest $(NBVAL) labs -q -p no:cacheprovider -n $(JOBS) --dist loadfile

site: $(STAMP)
	rm -rf _build/html _build/.jupyter_cache _build/jupyter_execute
	$(JB) --all
	$(BIN)/python scripts/lite.py build
	$(BIN)/pytest tests/site -q -p no:cacheprovider

test: lint unit notebooks site room
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
