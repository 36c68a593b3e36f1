"""One owner for the taker fee: the venue's default on its VenueSpec, overridden per venue by
the one operator setting ARB_TAKER_FEES, which ingest (publishing Instruments) and the
simulator (charging its accounts) read the same way; and one validator for every per-venue
setting, which refuses an unknown venue with the list of known ones."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal

import pytest
from arb_book.config import BookSettings
from arb_executor.config import ExecutorSettings
from arb_ingest.config import IngestSettings
from arb_ingest.instruments import select
from arb_runtime.config import load_settings
from arb_runtime.errors import ConfigError
from arb_simulator.catalog import make_instrument
from arb_simulator.config import SimulatorSettings
from arb_simulator.market import Market
from arb_simulator.venue import VenueMarket
from arb_structs import Instrument, Side
from arb_venues import VENUE_NAMES, get_venue
from arb_venues.fees import taker_fee, with_account_fees

pytestmark = pytest.mark.unit

FIRST, SECOND = VENUE_NAMES[0], VENUE_NAMES[1]


def reference(venue: str, symbol: str = "BTC-USDT", fee: str = "0.5") -> Instrument:
    """Reference data as a venue's REST lists it (its fee fields are not the account's)."""
    base, quote = symbol.split("-")
    return Instrument(
        venue=venue, symbol=symbol, venue_symbol=symbol, base=base, quote=quote,
        tick_size="0.01", lot_size="0.0001", taker_fee=fee, maker_fee=fee,
    )  # fmt: skip


def test_the_default_is_the_venues_spec_and_the_setting_overrides_it() -> None:
    for venue in VENUE_NAMES:
        assert taker_fee(venue) == get_venue(venue).taker_fee
    assert taker_fee(FIRST, {FIRST: "0.00075"}) == "0.00075"
    assert taker_fee(SECOND, {FIRST: "0.00075"}) == get_venue(SECOND).taker_fee
    with pytest.raises(ValueError, match="known venues"):
        taker_fee("binnance")


def test_instruments_carry_the_accounts_fees_whatever_the_reference_data_said() -> None:
    first, second = with_account_fees([reference(FIRST), reference(SECOND)], {FIRST: "0.0002"})
    assert (first.taker_fee, first.maker_fee) == ("0.0002", get_venue(FIRST).maker_fee)
    spec = get_venue(SECOND)
    assert (second.taker_fee, second.maker_fee) == (spec.taker_fee, spec.maker_fee)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key in [k for k in os.environ if k.startswith("ARB_")]:
        monkeypatch.delenv(key)
    return monkeypatch


@pytest.mark.parametrize("setting", ["json", "nested"])
def test_ingest_publishes_exactly_what_the_simulated_account_is_charged(
    clean_env: pytest.MonkeyPatch, setting: str
) -> None:
    """The same ARB_TAKER_FEES read by both: the fee on the Instrument ingest publishes (what
    the detector prices and the paper executor charges) equals the fee the simulator's
    matching takes from the account, for an overridden venue and for a default one."""
    if setting == "json":
        clean_env.setenv("ARB_TAKER_FEES", '{"' + FIRST + '": "0.0016"}')
    else:
        clean_env.setenv(f"ARB_TAKER_FEES__{FIRST.upper()}", "0.0016")
    sim_settings = load_settings(SimulatorSettings, venues=[FIRST, SECOND], symbols=["BTC-USDT"])
    market = Market(sim_settings.market_config())
    for venue, expected in ((FIRST, "0.0016"), (SECOND, get_venue(SECOND).taker_fee)):
        ingest = load_settings(IngestSettings, venue=venue)
        [published] = select([reference(venue)], ["BTC-USDT"], taker_fees=ingest.taker_fees)
        simulated = VenueMarket(market, venue)
        assert published.taker_fee == simulated.instruments["BTC-USDT"].taker_fee == expected
        # What the account is charged on a fill (the simulator's ledger, not the record).
        price = market.book(venue, "BTC-USDT").snapshot().asks[0][0]
        api_key = next(iter(simulated.accounts))
        size = Decimal("0.01")
        order = simulated.place_order(
            api_key, "BTC-USDT", Side.BUY, price * 2, size, "IOC", f"client-{venue}"
        )
        assert order.filled == size
        charged_on = order.quote_filled if order.fee_asset == "USDT" else order.filled
        expected_fee = (charged_on * Decimal(expected)).quantize(Decimal("1e-8"))
        assert order.fee == expected_fee > 0


@pytest.mark.parametrize(
    ("cls", "name", "value"),
    [
        (IngestSettings, "ARB_TAKER_FEES", '{"binnance": "0.001"}'),
        (SimulatorSettings, "ARB_TAKER_FEES", '{"binnance": "0.001"}'),
        (BookSettings, "ARB_BOOK_STALE_AFTER_BY_VENUE", '{"binnance": 60}'),
        (BookSettings, "ARB_BOOK_VENUES", f"{FIRST},binnance"),
        (ExecutorSettings, "ARB_EXECUTOR_PAPER_BALANCES", '{"binnance": {"USDT": "1"}}'),
        (
            ExecutorSettings,
            "ARB_EXECUTOR_CREDENTIALS",
            '{"binnance": {"api_key": "k", "secret": "s"}}',
        ),
        (SimulatorSettings, "ARB_SIMULATOR_VENUES", "binnance"),
        (SimulatorSettings, "ARB_SIMULATOR_PORTS", '{"binnance": 1}'),
    ],
)
def test_an_unknown_venue_in_any_per_venue_setting_lists_the_known_ones(
    clean_env: pytest.MonkeyPatch, cls: type, name: str, value: str
) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(cls)
    message = str(caught.value)
    assert "\n" not in message and "'binnance'" in message
    assert f"known venues: {', '.join(VENUE_NAMES)}" in message


def test_a_fee_that_is_not_a_fraction_is_refused(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ARB_TAKER_FEES", '{"' + FIRST + '": "0.1%"}')
    with pytest.raises(ConfigError, match=r"not a fraction in \[0, 1\)"):
        load_settings(IngestSettings)


def test_the_old_per_service_fee_settings_are_gone(clean_env: pytest.MonkeyPatch) -> None:
    """A second home for a fee is an error now, not silently ignored."""
    for name, cls in (("ARB_INGEST_TAKER_FEE", IngestSettings),
                      ("ARB_EXECUTOR_TAKER_FEE", ExecutorSettings),
                      ("ARB_SIMULATOR_TAKER_FEES", SimulatorSettings)):  # fmt: skip
        clean_env.setenv(name, "0.001")
        with pytest.raises(ConfigError, match="no such setting"):
            load_settings(cls)
        clean_env.delenv(name)


def test_a_service_with_an_unknown_venue_key_exits_2_with_one_line(
    clean_env: pytest.MonkeyPatch,
) -> None:
    env = {**os.environ, "ARB_TAKER_FEES": '{"binnance": "0.001"}'}
    proc = subprocess.run([sys.executable, "-m", "arb_ingest"], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "binnance" in lines[0] and "known venues" in lines[0]


def test_the_catalog_lists_what_the_setting_says(clean_env: pytest.MonkeyPatch) -> None:
    assert make_instrument(SECOND, "ETH-USDT").taker_fee == get_venue(SECOND).taker_fee
    assert make_instrument(SECOND, "ETH-USDT", {SECOND: "0.0003"}).taker_fee == "0.0003"
