# salesml: `make run` serves the app and the REST API, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast install lint bench browser screenshots reference clean

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "salesml needs Python 3.11 or newer (found $$($(PYTHON) --version))"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m salesml init-db
	$(PY) -m salesml demo --if-empty
	$(PY) -m salesml serve

# The browser test drives Debian's Chromium; install it when it is missing and we may.
browser:
	@command -v chromium >/dev/null 2>&1 || \
		{ [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		  (apt-get install -y -q chromium >/dev/null 2>&1 || \
		   (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1)); } || \
		echo "chromium is not installed: the browser test will be skipped"

# One OpenMP/BLAS thread per process: spinning threads on a busy machine cost more than they give.
# The whole suite, and the share of salesml/'s lines it ran: under COVERAGE_FLOOR percent
# fails. One line of total; `.venv/bin/coverage report` lists the modules after a run.
COVERAGE_FLOOR ?= 95
test: $(STAMP) browser
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest \
		--cov --cov-report= --cov-fail-under=$(COVERAGE_FLOOR)

# For the edit-test loop: no browser, no MySQL, no real data files, not the slowest tests.
test-fast: $(STAMP)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest \
		-m "not e2e and not mysql and not realdata and not slow"

# Refresh the README's screenshots (docs/*.png) from the browser test.
screenshots: $(STAMP) browser
	SALESML_SCREENSHOT_DIR=$(CURDIR)/docs SALESML_REQUIRE_BROWSER=1 $(PY) -m pytest tests/e2e/test_browser.py

# Rewrite the API reference in docs/api.md from the OpenAPI schema, and docs/cli.md from the parser.
reference: $(STAMP)
	$(PY) -m salesml.api.reference docs/api.md
	$(PY) -m salesml.cli.reference docs/cli.md

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(PY) bench/ingest.py
	$(PY) bench/forecast.py
	$(PY) bench/app.py
	$(PY) bench/api.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
