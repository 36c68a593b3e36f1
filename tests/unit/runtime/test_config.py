"""Settings: typos are errors, bad values give one clear line."""

from __future__ import annotations

import pytest
from arb_runtime.config import ServiceSettings, load_settings, settings_config
from arb_runtime.errors import ConfigError
from pydantic import Field

pytestmark = pytest.mark.unit


class DemoSettings(ServiceSettings):
    model_config = settings_config("ARB_DEMO_")
    depth: int = Field(default=20, description="levels per side")


def test_settings_read_prefixed_env_and_the_shared_redis_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARB_DEMO_DEPTH", "5")
    monkeypatch.setenv("ARB_REDIS_URL", "redis://127.0.0.1:1/0")
    settings = load_settings(DemoSettings)
    assert settings.depth == 5 and settings.redis_url == "redis://127.0.0.1:1/0"


def test_a_typo_in_a_prefixed_env_var_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARB_DEMO_DEPHT", "5")
    with pytest.raises(ConfigError, match=r"ARB_DEMO_DEPHT: no such setting.*ARB_DEMO_DEPTH"):
        load_settings(DemoSettings)


def test_a_bad_value_names_the_variable_and_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARB_DEMO_DEPTH", "lots")
    with pytest.raises(ConfigError, match="ARB_DEMO_DEPTH='lots'"):
        load_settings(DemoSettings)
