"""docker-compose.yml parses and every service's environment is a valid configuration.

Without a Docker engine: the file is read with PyYAML (merge keys and ``${VAR:-default}``
resolved as compose does with an empty .env) and each service's ARB_* environment is loaded
through that service's own settings class. On a running engine: tests/compose (make
compose-test).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from arb_alerter.config import AlerterSettings
from arb_book.config import BookSettings
from arb_dashboard.config import DashboardSettings
from arb_detector.config import DetectorSettings
from arb_executor.config import ExecutorSettings
from arb_ingest.config import IngestSettings
from arb_recorder.config import RecorderSettings
from arb_runtime.config import ServiceSettings, load_settings
from arb_simulator.config import SimulatorSettings
from arb_venues import VENUE_NAMES

pytestmark = pytest.mark.integration

COMPOSE = Path(__file__).resolve().parents[3] / "docker-compose.yml"
SETTINGS: dict[str, type[ServiceSettings]] = {
    "arb_ingest": IngestSettings,
    "arb_book": BookSettings,
    "arb_detector": DetectorSettings,
    "arb_executor": ExecutorSettings,
    "arb_simulator": SimulatorSettings,
    "arb_recorder": RecorderSettings,
    "arb_alerter": AlerterSettings,
    "arb_dashboard": DashboardSettings,
}
NOT_OURS = {"redis", "postgres", "redis-exporter", "prometheus", "grafana"}
DEFAULTED = re.compile(r"\$\{([A-Z0-9_]+):-([^}]*)\}")


def services() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def load(monkeypatch: pytest.MonkeyPatch, service: dict[str, Any]) -> ServiceSettings:
    """The service's settings from its compose environment (and nothing else of ours)."""
    for key in [k for k in os.environ if k.startswith("ARB_")]:
        monkeypatch.delenv(key)
    for key, value in (service.get("environment") or {}).items():
        monkeypatch.setenv(key, DEFAULTED.sub(lambda m: m.group(2), str(value)))
    module = service["command"][2]
    return load_settings(SETTINGS[module])


def test_every_service_but_redis_is_one_of_ours():
    ours = {n for n, s in services().items() if s.get("image") == "cexarb:latest"}
    assert ours == set(services()) - NOT_OURS
    for name in ours:
        assert services()[name]["command"][:3] in (["python", "-m", m] for m in SETTINGS), name


@pytest.mark.parametrize("name", sorted(set(services()) - NOT_OURS))
def test_every_service_environment_loads_with_its_settings(monkeypatch, name):
    service = services()[name]
    settings = load(monkeypatch, service)
    assert settings.redis_url == "redis://redis:6379/0"


def test_detector_replicas_claim_auto_shards_one_per_replica(monkeypatch):
    detector = services()["detector"]
    settings = load(monkeypatch, detector)
    assert isinstance(settings, DetectorSettings)
    assert settings.auto_shard_count == detector["deploy"]["replicas"] >= 2


def test_the_recorder_and_dashboard_share_the_postgres_database_and_the_page_is_loopback_only(
    monkeypatch,
):
    recorder = load(monkeypatch, services()["recorder"])
    dashboard = load(monkeypatch, services()["dashboard"])
    assert isinstance(recorder, RecorderSettings) and isinstance(dashboard, DashboardSettings)
    assert recorder.database_url == dashboard.database_url
    assert recorder.database_url.startswith("postgresql://arb:") and "@postgres:5432/" in (
        recorder.database_url
    )
    assert services()["dashboard"]["ports"] == [f"127.0.0.1:{dashboard.port}:{dashboard.port}"]
    assert "postgres-data:/var/lib/postgresql/data" in services()["postgres"]["volumes"]


def test_the_simulator_publishes_every_venue_port_and_the_control_port():
    """The generated part (arb venues): one port per venue of the registry from 18000, then
    the control API (tests/unit/simulator/test_compose.py checks each ingest's URL)."""
    simulator = SimulatorSettings(base_port=18000)
    top = simulator.control_listen_port()
    assert top == 18000 + len(VENUE_NAMES)
    assert services()["simulator"]["ports"] == [f"127.0.0.1:18000-{top}:18000-{top}"]


def test_the_book_service_applies_every_venue(monkeypatch):
    settings = load(monkeypatch, services()["book"])
    assert isinstance(settings, BookSettings) and settings.venues == list(VENUE_NAMES)


def test_redis_is_durable_and_not_published_on_the_host_unless_asked():
    redis = services()["redis"]
    assert "ports" not in redis and redis["restart"] == "unless-stopped"
    assert "redis-data:/data" in redis["volumes"]
    assert redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    extra = yaml.safe_load((COMPOSE.parent / "deploy" / "compose.redis-port.yml").read_text())
    assert extra["services"]["redis"]["ports"] == ["127.0.0.1:${ARB_REDIS_PORT:-6380}:6379"]


def test_going_live_needs_no_edit_of_the_file(monkeypatch):
    """The mode and the symbols come from the environment (.env) with the demo's defaults."""
    executor = services()["executor"]["environment"]
    assert executor["ARB_EXECUTOR_MODE"] == "${ARB_EXECUTOR_MODE:-paper}"
    assert load(monkeypatch, services()["executor"]).mode == "paper"  # type: ignore[attr-defined]
    detector = load(monkeypatch, services()["detector"])
    assert detector.universe == ["BTC-USDT", "ETH-USDT", "SOL-USDT"]  # type: ignore[attr-defined]
