"""docker-compose.yml agrees with the code: the simulator's command parses with its real
flags, and each ingest points at the port and URL path its simulated venue serves."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from arb_ingest.config import IngestSettings
from arb_simulator.__main__ import parse_args, settings_from
from arb_simulator.config import SimulatorSettings
from arb_simulator.server import local_url
from arb_venues import VENUE_NAMES, get_venue
from yarl import URL

pytestmark = pytest.mark.unit

COMPOSE = Path(__file__).resolve().parents[3] / "docker-compose.yml"


@pytest.fixture(autouse=True)
def _no_arb_env(monkeypatch) -> None:
    """Settings come from compose alone, not from this shell's ARB_* variables."""
    for key in [k for k in os.environ if k.startswith("ARB_")]:
        monkeypatch.delenv(key)


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded["services"]


def _unknown_settings(cls: Any, env: dict[str, str], prefix: str) -> list[str]:
    known = {name.upper() for name in cls.model_fields}
    return [key for key in env if key.startswith(prefix) and key[len(prefix) :] not in known]


def simulator_settings(services: dict[str, Any]) -> SimulatorSettings:
    command = services["simulator"]["command"]
    assert command[:3] == ["python", "-m", "arb_simulator"], command
    return settings_from(parse_args(command[3:]))


def test_simulator_command_and_env_use_real_settings(services) -> None:
    env = services["simulator"]["environment"]
    assert _unknown_settings(SimulatorSettings, env, "ARB_SIMULATOR_") == []
    settings = simulator_settings(services)
    assert settings.base_port == 18000 and settings.host == "0.0.0.0"
    healthcheck = " ".join(services["simulator"]["healthcheck"]["test"])
    assert f":{settings.control_listen_port()}/control/status" in healthcheck


def test_every_venue_has_an_ingest_pointed_at_its_simulated_port_and_path(services) -> None:
    settings = simulator_settings(services)
    ingests = {name: svc for name, svc in services.items() if name.startswith("ingest-")}
    seen = set()
    for name, service in ingests.items():
        env = {k: str(v) for k, v in service["environment"].items()}
        assert _unknown_settings(IngestSettings, env, "ARB_INGEST_") == [], name
        venue = env["ARB_INGEST_VENUE"]
        assert name == f"ingest-{venue}"
        seen.add(venue)
        port = settings.port_for(venue)
        real = get_venue(venue).endpoints
        for key, real_url, scheme in (
            ("ARB_INGEST_WS_URL", real.ws_url, "ws"),
            ("ARB_INGEST_REST_URL", real.rest_url, "http"),
        ):
            # What the simulator prints for this venue, with the compose service name as host.
            expected = local_url(real_url, scheme, "simulator", port)
            assert env[key] == expected, f"{name} {key}"
            assert URL(env[key]).port == port
    assert seen == set(VENUE_NAMES)
