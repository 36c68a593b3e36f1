"""Simulator settings and the injection schedule (pure)."""

from __future__ import annotations

import pytest
from arb_runtime.config import load_settings
from arb_runtime.errors import ConfigError
from arb_simulator.config import SimulatorSettings
from arb_simulator.market import Market
from arb_simulator.scheduler import DislocationScheduler, InjectionPlan
from arb_venues import VENUE_NAMES

pytestmark = pytest.mark.unit


def test_lists_take_comma_separated_env_text(monkeypatch) -> None:
    monkeypatch.setenv("ARB_SIMULATOR_VENUES", "binance, okx")
    monkeypatch.setenv("ARB_SIMULATOR_SYMBOLS", "btc-usdt,ETH-USDT")
    monkeypatch.setenv("ARB_SIMULATOR_RATE", "75")
    settings = load_settings(SimulatorSettings)
    assert settings.venues == ["binance", "okx"]
    assert settings.symbols == ["BTC-USDT", "ETH-USDT"]
    assert settings.rate == 75.0


def test_a_typo_in_an_env_var_is_an_error(monkeypatch) -> None:
    monkeypatch.setenv("ARB_SIMULATOR_RATES", "75")
    with pytest.raises(ConfigError, match="ARB_SIMULATOR_RATES"):
        load_settings(SimulatorSettings)


@pytest.mark.parametrize(
    ("overrides", "mentioned"),
    [
        ({"venues": ["ftx"]}, "ftx"),
        ({"symbols": ["BTCUSDT"]}, "BASE-QUOTE"),
        ({"noise_bps": 2.0, "half_spread_bps": 1.5}, "noise_bps"),
        ({"inject_bps_min": 70, "inject_bps_max": 60}, "bps"),
        ({"faults": [{"venue": "okx", "kind": "meteor"}]}, "meteor"),
    ],
)
def test_impossible_settings_are_refused_with_a_reason(overrides, mentioned) -> None:
    with pytest.raises(ConfigError, match=mentioned):
        load_settings(SimulatorSettings, **overrides)


def test_settings_shape_the_market() -> None:
    settings = SimulatorSettings(
        venues=["kraken"], symbols=["SOL-USDT"], tick_hz=100, lag_ms=50, depth=20,
        taker_fees={"kraken": "0.0016"},
    )  # fmt: skip
    config = settings.market_config()
    assert config.params("kraken").lag_steps == 5
    assert config.instrument("kraken", "SOL-USDT").taker_fee == "0.0016"  # the accounts pay it
    market = Market(config)
    assert len(market.book("kraken", "SOL-USDT").snapshot().bids) == 20


def test_schedule_injects_every_interval_on_free_books_deterministically() -> None:
    def run() -> list[tuple[str, str, str, float, float]]:
        settings = SimulatorSettings(venues=["binance", "okx"], symbols=["BTC-USDT"], seed=5)
        holder: list[Market] = []
        market = Market(settings.market_config(), clock_ns=lambda: holder[0].steps * 20_000_000)
        holder.append(market)
        plan = InjectionPlan(interval_s=0.2, duration_min_s=0.5, duration_max_s=0.5)
        scheduler = DislocationScheduler(market, plan, seed=5)
        events = []
        for _ in range(100):  # 2 s at 50 Hz
            market.step()
            event = scheduler.on_step()
            if event is not None:
                events.append(event)
                assert 25 <= event.bps <= 60 and event.direction in ("up", "down")
                notional = event.size * market.fair[event.symbol].price
                assert 2_000 * 0.99 <= notional <= 20_000 * 1.01
        busy_until: dict[str, int] = {}
        for event in events:  # a book is never dislocated twice at once
            assert event.start_ns >= busy_until.get(event.venue, 0)
            busy_until[event.venue] = event.end_ns
        return [(e.venue, e.symbol, e.direction, e.bps, e.size) for e in events]

    first = run()
    assert first == run()
    # 10 slots of 0.2 s; two books, each busy 0.5 s after an injection: some slots skip.
    assert 5 <= len(first) < 10


def test_base_port_puts_each_venue_on_its_fixed_index_whichever_venues_run() -> None:
    settings = SimulatorSettings(venues=["okx", "coinbase"], base_port=18000)
    assert settings.port_for("okx") == 18000 + VENUE_NAMES.index("okx")
    assert settings.port_for("coinbase") == 18000 + VENUE_NAMES.index("coinbase")
    assert settings.control_listen_port() == 18000 + len(VENUE_NAMES)  # after every venue
    assert settings.port_for("replay") == 18000  # a replay under another name takes the base


def test_explicit_ports_win_over_the_base_port_and_zero_means_free() -> None:
    settings = SimulatorSettings(base_port=18000, ports={"bybit": 19999}, control_port=20000)
    assert settings.port_for("bybit") == 19999
    assert settings.port_for("kraken") == 18000 + VENUE_NAMES.index("kraken")
    assert settings.control_listen_port() == 20000
    free = SimulatorSettings()
    assert free.port_for("binance") == 0 and free.control_listen_port() == 0


def test_a_base_port_without_room_for_every_venue_is_refused(monkeypatch) -> None:
    top = 65535 - len(VENUE_NAMES)  # room for every venue and the control API
    monkeypatch.setenv("ARB_SIMULATOR_BASE_PORT", str(top + 1))
    with pytest.raises(ConfigError, match=rf"ARB_SIMULATOR_BASE_PORT=.{top + 1}.*at most {top}"):
        load_settings(SimulatorSettings)
