"""One /metrics port per process under ``arb run``: ``ARB_METRICS_PORT`` is the base.

On one host every process needs its own port, so ``ARB_METRICS_PORT=9311 arb run`` gives
each child ``base + offset``, a fixed offset per service (the ingest of a venue by the
venue's place in the registry, so a port never moves with ``--venues``)::

    simulator +0   book +1   detector +2   executor +3   recorder +4   alerter +5
    dashboard +6   ingest-<venue> +10 + the venue's index (ingest-binance +10, -okx +11...)

A service's own ``ARB_<SERVICE>_METRICS_PORT`` wins (and is its port). ``arb run`` prints the
ports at start, writes them as a Prometheus ``file_sd`` targets file in the run's log folder
(jobs named as in deploy/prometheus/prometheus.yml: ``book``, ``ingest-okx``...), and every
service publishes its /metrics URL in its health (``arb status``). Containers are one process
each: compose gives them all ``ARB_METRICS_PORT=9100``.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path

from arb_runtime.errors import ConfigError
from arb_venues import VENUE_NAMES

VARIABLE = "ARB_METRICS_PORT"
OFFSETS = {"simulator": 0, "book": 1, "detector": 2, "executor": 3, "recorder": 4,
           "alerter": 5, "dashboard": 6}  # fmt: skip
INGEST_FIRST = 10
HIGHEST_OFFSET = INGEST_FIRST + len(VENUE_NAMES) - 1


def offset(child: str) -> int | None:
    """The offset of a child of ``arb run`` by its name (``book``, ``ingest-okx``), or None."""
    if child in OFFSETS:
        return OFFSETS[child]
    venue = child.removeprefix("ingest-")
    if child.startswith("ingest-") and venue in VENUE_NAMES:
        return INGEST_FIRST + VENUE_NAMES.index(venue)
    return None


def base_port() -> int:
    """ARB_METRICS_PORT as a base (0: /metrics off); ConfigError when it cannot be one."""
    raw = os.environ.get(VARIABLE, "").strip()
    if not raw:
        return 0
    try:
        base = int(raw)
    except ValueError:
        base = -1
    if not 0 <= base <= 65535 - HIGHEST_OFFSET:
        raise ConfigError(
            f"{VARIABLE}={raw!r}: not a base port; arb run gives each process base + an "
            f"offset up to {HIGHEST_OFFSET}, so set 1024..{65535 - HIGHEST_OFFSET} "
            "(or 0 to turn /metrics off)"
        )
    return base


def service_variable(child: str) -> str:
    """The variable of the child's own port (``ARB_INGEST_METRICS_PORT`` for ingest-okx)."""
    return f"ARB_{child.split('-', 1)[0].upper()}_METRICS_PORT"


def port_for(child: str, base: int, env: Mapping[str, str] | None = None) -> int | None:
    """The port ``child`` gets: its service's own variable if set (in ``env``, the child's
    explicit env, or ours), else base + offset (None: no /metrics, or none of ours)."""
    own = ({**os.environ, **(env or {})}.get(service_variable(child)) or "").strip()
    if own.isdigit():
        return int(own) or None
    where = offset(child)
    return None if not base or where is None else base + where


def host() -> str:
    return os.environ.get("ARB_METRICS_HOST") or "127.0.0.1"


def claim(child: str, base: int) -> dict[str, str]:
    """The env that gives ``child`` its port, after checking nothing listens there: a busy
    port is refused now with one line, not by a child crash-looping on it."""
    port = port_for(child, base)
    if port is None or os.environ.get(service_variable(child)):
        return {}
    with socket.socket() as probe:
        try:
            probe.bind((host(), port))
        except OSError as exc:
            raise ConfigError(
                f"{VARIABLE}={base}: port {port} ({child}, base + {offset(child)}) on {host()}: "
                f"{exc.strerror or exc}; choose another base, or stop what uses it"
            ) from None
    return {service_variable(child): str(port)}


TARGETS_FILE = "prometheus-targets.json"


def write_targets(folder: Path, ports: Sequence[tuple[str, int]]) -> Path:
    """The processes' /metrics as a Prometheus file_sd file (one target group per process,
    its job the process's name); its path."""
    path = folder / TARGETS_FILE
    groups = [{"targets": [f"{host()}:{port}"], "labels": {"job": name}} for name, port in ports]
    path.write_text(json.dumps(groups, indent=1) + "\n")
    return path
