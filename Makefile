# cexarb: the front door. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
RUN := $(UV) run --frozen
PYTEST_ARGS ?=
# make test spreads the test files over one worker per core (pytest-xdist; a file's tests stay
# on one worker, so module fixtures such as the chaos run start once). TEST_WORKERS=0: serial.
TEST_WORKERS ?= auto

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z][a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.PHONY: setup
setup: ## Install uv (with pip if missing) and every package into .venv, and build the compiled book (docs/native.md; without a C compiler: one warning, the pure-Python book)
	@command -v uv >/dev/null 2>&1 || [ -x "$(HOME)/.local/bin/uv" ] || $(PYTHON) -m pip install --user --quiet uv || $(PYTHON) -m pip install --quiet uv
	@$(UV) sync --frozen --quiet
	@$(RUN) python -m arb_orderbook.native_build

.PHONY: run
run: setup ## Start the whole engine on the embedded default (Redis, simulator, services, live view)
	@$(RUN) arb run $(ARGS)

.PHONY: test
test: setup lint typecheck ## Lint, typecheck and run every test against a private Redis
	@$(RUN) pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

.PHONY: test-unit
test-unit: setup ## Only the unit tests (no I/O)
	@$(RUN) pytest tests/unit $(PYTEST_ARGS)

.PHONY: test-cluster
test-cluster: setup ## The Redis Cluster failover tests N times over (ARB_CLUSTER_ROUNDS, default 10), then the whole engine across a failover (ARB_PIPELINE_ROUNDS, default 1); outside make test
	@for i in $$(seq $${ARB_CLUSTER_ROUNDS:-10}); do echo "round $$i"; out=$$($(RUN) pytest -q -s tests/integration/runtime/test_redis_cluster.py -k killed_mid_flow $(PYTEST_ARGS) 2>&1); status=$$?; echo "$$out" | grep -E "failover:|passed|failed"; [ $$status -eq 0 ] || { echo "$$out" | tail -40; exit 1; }; done
	@for i in $$(seq $${ARB_PIPELINE_ROUNDS:-1}); do echo "pipeline round $$i"; out=$$(ARB_CLUSTER_TESTS=1 $(RUN) pytest -q -s tests/integration/cluster/test_pipeline_failover.py $(PYTEST_ARGS) 2>&1); status=$$?; echo "$$out" | grep -E "pipeline failover:|passed|failed"; [ $$status -eq 0 ] || { echo "$$out" | tail -40; exit 1; }; done

.PHONY: test-hosts
test-hosts: setup ## The engine over three hosts in network namespaces (needs root and ip; the test creates and removes them); outside make test
	@ARB_HOSTS_TESTS=1 $(RUN) pytest -q -s tests/integration/cluster/test_hosts.py $(PYTEST_ARGS)

.PHONY: test-clients
test-clients: setup ## Real third-party clients (ccxt.pro on seven simulated venues at once, cryptofeed per venue); outside make test (load-sensitive)
	@ARB_CLIENT_TESTS=1 $(RUN) pytest -q tests/integration/venues/test_ccxt_registry.py tests/integration/venues/test_cryptofeed_registry.py $(PYTEST_ARGS)

.PHONY: test-run
test-run: setup ## arb run as a user meets it: a .env file, a secrets folder, one /metrics port per process, a pipe (~20 s); outside make test
	@ARB_TEST_RUN=1 $(RUN) pytest -q tests/integration/cli/test_run_manners.py $(PYTEST_ARGS)

.PHONY: test-bench
test-bench: setup ## The venues_load bench section through real processes, small (two venues, ~20 s); outside make test
	@ARB_TEST_BENCH=1 $(RUN) pytest -q tests/integration/bench/test_venues_load.py $(PYTEST_ARGS)

.PHONY: fuzz
fuzz: setup ## Long mutation fuzz of every venue parser (ARB_FUZZ_EXAMPLES per venue, default 3000)
	@ARB_FUZZ_EXAMPLES=$${ARB_FUZZ_EXAMPLES:-3000} $(RUN) pytest tests/unit/venues/test_fuzz.py -q $(PYTEST_ARGS)

.PHONY: lint
lint: setup ## ruff lint and format check
	@$(RUN) ruff check .
	@$(RUN) ruff format --check .

.PHONY: format
format: setup ## Apply ruff format and safe fixes
	@$(RUN) ruff format .
	@$(RUN) ruff check --fix .

.PHONY: generate
generate: setup ## Regenerate the files made from code: docs/configuration.md, the venue parts of docs/venues.md, README.md, docs/simulator.md, docker-compose.yml, deploy/prometheus/prometheus.yml
	@$(RUN) arb config > docs/configuration.md
	@$(RUN) arb venues --write

.PHONY: typecheck
typecheck: setup ## mypy strict on libs, services and apps
	@$(RUN) mypy libs/*/src services/*/src apps/*/src

.PHONY: bench
bench: setup ## Benchmarks, peers (cryptofeed, ccxt in .bench-peers) measured live: bench-results/latest.json
	@$(RUN) arb bench $(ARGS)

CHAOS_SEEDS ?= 1 2 3
CHAOS_DURATION ?= 240
.PHONY: chaos
chaos: setup ## The fault matrix: arb chaos --duration 240 for seeds 1 2 3 (chaos-results/seed-N.json); fails if any seed fails
	@mkdir -p chaos-results; status=0; for seed in $(CHAOS_SEEDS); do \
	  $(RUN) arb chaos --duration $(CHAOS_DURATION) --seed $$seed --json $(ARGS) > chaos-results/seed-$$seed.json || status=1; \
	  $(RUN) python -c "import json,sys; r=json.load(open(sys.argv[1])); print(sys.argv[1], 'ok' if r.get('ok') else 'FAILED', r.get('failed_checks'), r.get('faults_total'), 'faults,', r.get('redis_restarts'), 'redis restarts')" chaos-results/seed-$$seed.json || status=1; \
	done; exit $$status

.PHONY: soak
soak: setup ## 5-minute arb soak (lifetimes x1440, every venue; soak-results/latest.json). CI-able (exit 1 on a book under 99.9 % LIVE or a growing series); not in make test, which runs a 5 s one (tests/integration/cli/test_soak.py)
	@mkdir -p soak-results; $(RUN) arb soak --duration $${SOAK_DURATION:-300} --json $(ARGS) > soak-results/latest.json; status=$$?; \
	  $(RUN) python -c "import json,sys; r=json.load(open(sys.argv[1])); print(sys.argv[1], 'ok' if r.get('ok') else 'FAILED', 'LIVE min', r.get('live_share_min'), 'rotations', r.get('rotations'), 'growing', r.get('growing'))" soak-results/latest.json; exit $$status

.PHONY: up
up: ## docker compose: Redis + services + simulator (profile demo)
	docker compose --profile demo up -d --build

.PHONY: compose-test
compose-test: setup ## The compose stack on a Docker engine (a private one if none answers): build, trade, scale, recover, down (~12 min here on vfs, more on a first build)
	@ARB_COMPOSE_TEST=1 $(RUN) pytest tests/compose -s -q $(PYTEST_ARGS)

DOCKER_TESTS ?= tests/integration/docker tests/integration/recorder tests/integration/detector
.PHONY: test-docker
test-docker: setup ## Tests on a Docker engine (a private one if none answers): Redis, PostgreSQL and the service containers from testcontainers (DOCKER_TESTS; ~5 min here, more on a first build)
	@TESTCONTAINERS_RYUK_DISABLED=true $(RUN) python -m tests.support_docker --project-image -- \
	  $(UV) run --frozen pytest -q -s $(DOCKER_TESTS) $(PYTEST_ARGS)

.PHONY: down
down: ## Stop the docker compose deployment
	docker compose --profile demo down

.PHONY: clean
clean: ## Remove the virtualenv and caches
	rm -rf .venv .bench-peers .pytest_cache .mypy_cache .ruff_cache .hypothesis
