"""Settings: typos are errors, bad values give one clear line."""

from __future__ import annotations

import pytest
from arb_runtime.config import CommaList, ServiceSettings, load_settings, settings_config
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


class ListSettings(ServiceSettings):
    model_config = settings_config("ARB_LISTY_")
    symbols: list[str] = Field(default=["BTC-USDT"], description="symbols")


def test_an_unparseable_list_is_a_config_error_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARB_LISTY_SYMBOLS", "[not json")
    with pytest.raises(ConfigError, match="JSON list"):
        load_settings(ListSettings)


class SymbolsSettings(ServiceSettings):
    model_config = settings_config("ARB_SYMS_")
    symbols: CommaList = Field(default=["BTC-USDT"], description="symbols")


@pytest.mark.parametrize("raw", ["BTC-USDT, ETH-USDT", '["BTC-USDT","ETH-USDT"]'])
def test_list_settings_take_a_comma_list_or_json(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("ARB_SYMS_SYMBOLS", raw)
    assert load_settings(SymbolsSettings).symbols == ["BTC-USDT", "ETH-USDT"]


def test_ingest_reads_a_comma_separated_symbol_list(monkeypatch: pytest.MonkeyPatch) -> None:
    from arb_ingest.config import IngestSettings

    monkeypatch.setenv("ARB_INGEST_SYMBOLS", "btc-usdt,ETH-USDT")
    assert load_settings(IngestSettings).symbols == ["BTC-USDT", "ETH-USDT"]


def test_shared_metrics_port_and_log_level_apply_unless_the_service_sets_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARB_METRICS_PORT", "9100")
    monkeypatch.setenv("ARB_LOG_LEVEL", "WARNING")
    shared = load_settings(DemoSettings)
    assert (shared.metrics_port, shared.log_level) == (9100, "WARNING")
    monkeypatch.setenv("ARB_DEMO_METRICS_PORT", "9200")
    own = load_settings(DemoSettings)
    assert (own.metrics_port, own.log_level) == (9200, "WARNING")
    monkeypatch.setenv("ARB_METRICS_PORT", "lots")
    monkeypatch.delenv("ARB_DEMO_METRICS_PORT")
    with pytest.raises(ConfigError, match=r"ARB_DEMO_METRICS_PORT \(or ARB_METRICS_PORT\)='lots'"):
        load_settings(DemoSettings)


def test_a_setting_read_under_a_prefixed_alias_is_known_and_a_shared_one_is_not(monkeypatch):
    from arb_recorder.config import RecorderSettings

    monkeypatch.setenv("ARB_RECORDER_DB_URL", "sqlite:///x.sqlite")  # its own alias: accepted
    assert load_settings(RecorderSettings).database_url == "sqlite:///x.sqlite"
    monkeypatch.setenv("ARB_RECORDER_REDIS_URL", "redis://x")  # shared: ARB_REDIS_URL only
    with pytest.raises(ConfigError, match="ARB_RECORDER_REDIS_URL: no such setting"):
        load_settings(RecorderSettings)


def test_an_unknown_log_level_is_a_config_error_naming_the_choices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARB_LOG_LEVEL", "verbose")
    with pytest.raises(ConfigError, match=r"ARB_LOG_LEVEL.*'DEBUG', 'INFO', 'WARNING' or 'ERROR'"):
        load_settings(DemoSettings)
    monkeypatch.setenv("ARB_LOG_LEVEL", "debug")
    assert load_settings(DemoSettings).log_level == "DEBUG"
