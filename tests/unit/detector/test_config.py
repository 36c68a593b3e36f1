"""Detector settings from the environment: lists, maps, validation, typos."""

from __future__ import annotations

import pytest
from arb_detector.app import build_engine
from arb_detector.config import DetectorSettings
from arb_runtime.config import load_settings
from arb_runtime.errors import ConfigError

pytestmark = pytest.mark.unit


def test_lists_are_comma_separated_and_maps_nest_with_double_underscores(monkeypatch):
    monkeypatch.setenv("ARB_DETECTOR_VENUES", "binance, okx,bybit")
    monkeypatch.setenv("ARB_DETECTOR_SYMBOLS", "BTC-USDT,ETH-USDT")
    monkeypatch.setenv("ARB_DETECTOR_MAX_BOOK_AGE_MS_BY_VENUE__BINANCE", "5000")
    monkeypatch.setenv("ARB_DETECTOR_STATIC_BALANCES_BY_VENUE", '{"okx": {"BTC": 0.5}}')
    settings = load_settings(DetectorSettings)
    assert settings.venues == ["binance", "okx", "bybit"]
    assert settings.make_shard().owns("ETH-USDT") and not settings.make_shard().owns("SOL-USDT")
    assert settings.max_book_age_ms_by_venue == {"binance": 5000}
    assert settings.static_free("okx")["BTC"] == 0.5
    assert settings.static_free("binance")["BTC"] == settings.static_balances["BTC"]


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [
        ("ARB_DETECTOR_SHARD", "2/2", "ARB_DETECTOR_SHARD"),
        ("ARB_DETECTOR_SHARD", "auto/0", "auto/count"),
        ("ARB_DETECTOR_SHARD", "auto", "auto/count"),
        ("ARB_DETECTOR_SHARD_LEASE_MS", "5", "ARB_DETECTOR_SHARD_LEASE_MS"),
        ("ARB_DETECTOR_TAKER_FEES__OKX", "0.001", "no such setting"),  # fees: ARB_TAKER_FEES
        (
            "ARB_DETECTOR_VENUES",
            "binance,binnance",
            r"unknown venue 'binnance' \(did you mean 'binance'\?\); known venues",
        ),
        ("ARB_DETECTOR_MAX_BOOK_AGE_MS_BY_VENUE", '{"binnance": 1}', "known venues: binance"),
        ("ARB_DETECTOR_STATIC_BALANCES_BY_VENUE", '{"okz": {"BTC": 1}}', "unknown venue 'okz'"),
        ("ARB_DETECTOR_MIN_EDGE_BPS", "-1", "ARB_DETECTOR_MIN_EDGE_BPS"),
        ("ARB_DETECTOR_BALANCE_SOURCE", "exchange", "ARB_DETECTOR_BALANCE_SOURCE"),
        ("ARB_DETECTOR_MIN_EDGE", "5", "no such setting"),
    ],
)
def test_bad_settings_are_one_clear_error(monkeypatch, name, value, match):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=match):
        load_settings(DetectorSettings)


def test_a_json_list_is_accepted_too(monkeypatch):
    monkeypatch.setenv("ARB_DETECTOR_VENUES", '["binance","okx"]')
    assert load_settings(DetectorSettings).venues == ["binance", "okx"]


def test_settings_reach_the_engine_in_its_units(monkeypatch):
    monkeypatch.setenv("ARB_DETECTOR_MAX_BOOK_AGE_MS", "1500")
    engine = build_engine(load_settings(DetectorSettings))
    assert engine.params.max_book_age_ns == 1_500_000_000
    assert engine.params.expiry_ns == 500_000_000


def test_auto_shard_takes_its_count_from_the_setting_and_its_index_from_the_claim(monkeypatch):
    monkeypatch.setenv("ARB_DETECTOR_SHARD", "auto/3")
    settings = load_settings(DetectorSettings)
    assert settings.auto_shard_count == 3
    shard = settings.make_shard(2)
    assert (shard.index, shard.count) == (2, 3)
    with pytest.raises(ValueError, match="claim a shard index first"):
        settings.make_shard()


def test_explicit_settings_are_not_auto(monkeypatch):
    monkeypatch.setenv("ARB_DETECTOR_SHARD", "1/3")
    assert load_settings(DetectorSettings).auto_shard_count is None
    monkeypatch.setenv("ARB_DETECTOR_SHARD", "auto/3")
    monkeypatch.setenv("ARB_DETECTOR_SYMBOLS", "BTC-USDT")  # explicit symbols win, as before
    settings = load_settings(DetectorSettings)
    assert settings.auto_shard_count is None
    assert settings.make_shard().symbols == frozenset({"BTC-USDT"})
