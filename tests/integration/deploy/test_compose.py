"""docker-compose.yml parses and every service's environment is a valid configuration.

No Docker engine here: the file is read with PyYAML (merge keys resolved as compose does) and
each service's ARB_* environment is loaded through that service's own settings class.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from arb_book.config import BookSettings
from arb_detector.config import DetectorSettings
from arb_executor.config import ExecutorSettings
from arb_ingest.config import IngestSettings
from arb_runtime.config import ServiceSettings, load_settings
from arb_simulator.config import SimulatorSettings
from arb_simulator.server import local_url
from arb_venues import VENUE_NAMES, get_venue

pytestmark = pytest.mark.integration

COMPOSE = Path(__file__).resolve().parents[3] / "docker-compose.yml"
SETTINGS: dict[str, type[ServiceSettings]] = {
    "arb_ingest": IngestSettings,
    "arb_book": BookSettings,
    "arb_detector": DetectorSettings,
    "arb_executor": ExecutorSettings,
    "arb_simulator": SimulatorSettings,
}


def services() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def load(monkeypatch: pytest.MonkeyPatch, service: dict[str, Any]) -> ServiceSettings:
    """The service's settings from its compose environment (and nothing else of ours)."""
    for key in [k for k in os.environ if k.startswith("ARB_")]:
        monkeypatch.delenv(key)
    for key, value in (service.get("environment") or {}).items():
        monkeypatch.setenv(key, str(value))
    module = service["command"][2]
    return load_settings(SETTINGS[module])


def test_every_service_but_redis_is_one_of_ours():
    ours = {n for n, s in services().items() if s.get("image") == "cexarb:latest"}
    assert ours == set(services()) - {"redis"}
    for name in ours:
        assert services()[name]["command"][:3] in (["python", "-m", m] for m in SETTINGS), name


@pytest.mark.parametrize("name", sorted(set(services()) - {"redis"}))
def test_every_service_environment_loads_with_its_settings(monkeypatch, name):
    service = services()[name]
    settings = load(monkeypatch, service)
    assert settings.redis_url == "redis://redis:6379/0"


def test_detector_replicas_claim_auto_shards_one_per_replica(monkeypatch):
    detector = services()["detector"]
    settings = load(monkeypatch, detector)
    assert isinstance(settings, DetectorSettings)
    assert settings.auto_shard_count == detector["deploy"]["replicas"] >= 2


def test_every_registered_venue_has_an_ingest_service_on_its_simulator_port(monkeypatch):
    """The generated part (arb venues): ingest-<venue> for each venue of the registry, on the
    port the simulator gives venue i with --base-port 18000, at the venue's own URL paths;
    the simulator publishes every venue port and the control port after them."""
    found = services()
    simulator = SimulatorSettings(base_port=18000)
    for index, venue in enumerate(VENUE_NAMES):
        settings = load(monkeypatch, found[f"ingest-{venue}"])
        assert isinstance(settings, IngestSettings) and settings.venue == venue
        port = simulator.port_for(venue)
        assert port == 18000 + index
        real = get_venue(venue).endpoints
        assert settings.ws_url == local_url(real.ws_url, "ws", "simulator", port)
        assert settings.rest_url == local_url(real.rest_url, "http", "simulator", port)
    ingests = {n for n in found if n.startswith("ingest-")}
    assert ingests == {f"ingest-{v}" for v in VENUE_NAMES}
    top = simulator.control_listen_port()
    assert found["simulator"]["ports"] == [f"127.0.0.1:18000-{top}:18000-{top}"]
    assert str(top) in found["simulator"]["healthcheck"]["test"][-1]


def test_the_book_service_applies_every_venue(monkeypatch):
    settings = load(monkeypatch, services()["book"])
    assert isinstance(settings, BookSettings) and settings.venues == list(VENUE_NAMES)
