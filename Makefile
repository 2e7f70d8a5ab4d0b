# The two commands: `make run` starts the whole console; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Installs come from requirements.lock (every package pinned with its hashes); a changed pyproject.toml or lock
# file installs again. `make lock` regenerates the lock after a dependency changes in pyproject.toml.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | cksum | cut -d' ' -f1)
PIP_TOOLS := pip-tools==7.6.2

.PHONY: run test lint lock bench-pages bench-worker bench-e2e bench-faults bench-memory bench-ingest bench-webhooks clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	@rm -f $(VENV)/.installed-* && touch $@

lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q $(PIP_TOOLS)
	$(BIN)/pip-compile --quiet --extra dev --strip-extras --allow-unsafe --generate-hashes \
		--no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

run: $(STAMP)
	$(BIN)/python -m console.runner

# On every core (pytest-xdist, at most 4 processes): each test process has its own database, Redis (or queue
# and key prefix on a shared one) and temporary folders, from tests/conftest.py's fixtures. `loadscope` hands
# out whole modules, so a module's tests run in order on one process and a module-scoped fixture (the console
# run of tests/browser/test_readme_flows.py) starts once; in collection order, not largest module first, which
# left that long module of few tests for the end.
test: $(STAMP)
	@scripts/ensure-chromium
	@scripts/ensure-axe
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadscope --no-loadscope-reorder $(PYTEST_ARGS)

# Worker throughput (reports/s vs no-op jobs/s of the production worker class) and scaling with 1, 2, 4 workers;
# end-to-end confirm → finished with the simulator adding 50 and 100 ms per call. Each prints TARGET lines.
bench-worker: $(STAMP)
	$(BIN)/python bench/worker.py
	$(BIN)/python bench/worker.py --scaling 1 2 4 --latency 50

bench-e2e: $(STAMP)
	$(BIN)/python bench/e2e.py --latency 50 100

# Webhooks to the platform: decision → at the receiver above its own latency, deliveries/s vs no-op jobs/s.
bench-webhooks: $(STAMP)
	$(BIN)/python bench/webhooks.py --latency 50

lint: $(STAMP)
	$(BIN)/ruff check .

# Ingestion at saturation: POST /api/v1/cases vs a bare Flask JSON endpoint, with 1M cases (bench/generate.py
# first); the ramp shows where req/s flattens. Prints TARGET MET / TARGET NOT MET.
bench-ingest: $(STAMP)
	$(BIN)/python bench/ingest.py --ramp 8,16,32,64

clean:
	rm -rf $(VENV) instance .pytest_cache
