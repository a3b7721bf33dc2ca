# Two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.minsheng-installed
# Each run gets its own Prefect home so that parallel processes never share ~/.prefect.
export PREFECT_HOME ?= $(CURDIR)/data/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

# System packages (Debian), run as root: Chromium prints the report's PDF and runs the browser
# tests; Noto CJK draws Chinese in the charts' PNGs (Word) and on screen; WenQuanYi Micro Hei
# prints the PDF (its text layer copies and searches as the ideographs, not Kangxi radicals).
SYSTEM_PACKAGES := chromium fonts-noto-cjk fonts-wqy-microhei

# DuckDB 1.1, the oldest the snapshot is written for (BI tools ship 1.x drivers): the test
# tests/test_snapshot_compat.py opens the snapshot with it (or builds it itself if this failed)
DUCKDB11 := .venv-duckdb11

.PHONY: install system-deps demo test bench serve cluster clean lock

install: $(STAMP)

# Exactly the versions CI tested: every package pinned with its hashes in requirements/lock.txt
# (torch as the CPU build on disk here, /opt/wheels: a bare `torch` would pull a CUDA build),
# then the project itself without resolving again. `make lock` refreshes the lock.
LOCK := requirements/lock.txt
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --require-hashes --no-deps -r $(LOCK) 2>&1 | grep -v "^WARNING: Location" ; test $${PIPESTATUS[0]} -eq 0
	$(PIP) --no-deps -e . 2>&1 | grep -v "^WARNING: Location" ; test $${PIPESTATUS[0]} -eq 0
	$(BIN)/python -m pip check
	mkdir -p "$(PREFECT_HOME)"
	$(BIN)/python -c "import torch, apache_beam, prefect, duckdb, jieba, sentence_transformers, sklearn"
	touch $(STAMP)

# Re-resolve pyproject.toml's ranges (and the CPU torch pin) into the hashed lock; commit it.
lock:
	test -x .venv-lock/bin/pip-compile || { $(PYTHON) -m venv .venv-lock && .venv-lock/bin/pip install --quiet pip-tools; }
	.venv-lock/bin/pip-compile --quiet --upgrade --extra test --generate-hashes --allow-unsafe --strip-extras \
		--find-links /opt/wheels --no-emit-find-links --no-emit-index-url \
		-o $(LOCK) pyproject.toml requirements/torch-cpu.in

system-deps:
	dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES); }

demo: $(STAMP)
	mkdir -p "$(PREFECT_HOME)"
	MINSHENG_ENV=$${MINSHENG_ENV:-demo} $(BIN)/minsheng demo

$(DUCKDB11)/.installed:
	test -x $(DUCKDB11)/bin/python || $(PYTHON) -m venv $(DUCKDB11)
	$(DUCKDB11)/bin/python -m pip install --quiet --disable-pip-version-check 'duckdb==1.1.*' \
		&& touch $@ || echo "duckdb 1.1 not installed: the snapshot compatibility test will try again"

test: $(STAMP) $(DUCKDB11)/.installed
	MINSHENG_ENV=test $(BIN)/python -m pytest $(PYTEST_ARGS)

# A local Prefect server (its own PREFECT_HOME under data/) and the scheduled deployments;
# the UI is at http://127.0.0.1:4200. Ctrl-C stops both.
serve: $(STAMP)
	$(BIN)/minsheng serve --start-server

# A local Dask scheduler (tcp://127.0.0.1:8786) and two workers, in the foreground: it prints
# the `minsheng process --runner DaskRunner --dask_client_address …` line to run against it.
# Ctrl-C stops them all. CLUSTER_ARGS: e.g. --workers 4 --port 8790.
cluster: $(STAMP)
	$(BIN)/minsheng cluster $(CLUSTER_ARGS)

# Benchmarks run on demand only; each prints its figures as ratios against a baseline.
bench: $(STAMP)
	for b in tests/benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf data reports $(DUCKDB11)
