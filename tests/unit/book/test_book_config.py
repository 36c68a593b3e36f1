"""Book service settings: env parsing, validation with clear errors."""

from __future__ import annotations

import pytest
from arb_book.config import BookSettings
from arb_runtime.config import load_settings
from arb_runtime.errors import ConfigError

pytestmark = pytest.mark.unit


def test_venues_from_a_comma_list_and_per_venue_staleness(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARB_BOOK_VENUES", "okx, Kraken")
    monkeypatch.setenv("ARB_BOOK_STALE_AFTER_BY_VENUE", '{"kraken": 120}')
    settings = load_settings(BookSettings)
    assert settings.venues == ["okx", "kraken"]
    assert settings.depth == 20
    assert settings.stale_after_ns("kraken") == 120 * 10**9
    assert settings.stale_after_ns("okx") == 30 * 10**9


def test_bad_start_position_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARB_BOOK_START_FROM", "latest")
    with pytest.raises(ConfigError, match="ARB_BOOK_START_FROM='latest'"):
        load_settings(BookSettings)


def test_misspelt_setting_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARB_BOOK_DEPHT", "10")
    with pytest.raises(ConfigError, match="ARB_BOOK_DEPHT"):
        load_settings(BookSettings)


def test_venues_as_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARB_BOOK_VENUES", '["binance", "OKX"]')
    assert load_settings(BookSettings).venues == ["binance", "okx"]
