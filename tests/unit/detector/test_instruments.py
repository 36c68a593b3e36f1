"""Instrument rules: the common lot grid, exact price/size text, bad reference data."""

from __future__ import annotations

from decimal import Decimal

import pytest
from arb_detector.errors import InstrumentError
from arb_detector.instruments import common_step, format_price, format_size, leg_spec, pair_spec
from arb_structs.market import Instrument

pytestmark = pytest.mark.unit


def instrument(venue="binance", tick="0.01", lot="0.0001", **kw) -> Instrument:
    return Instrument(
        venue=venue,
        symbol="BTC-USDT",
        venue_symbol="BTCUSDT",
        base="BTC",
        quote="USDT",
        tick_size=tick,
        lot_size=lot,
        **kw,
    )


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("0.001", "0.0001", "0.001"),  # one divides the other: the coarser
        ("0.002", "0.003", "0.006"),  # lcm(2, 3) = 6 thousandths
        ("0.00001000", "0.001", "0.001"),  # trailing zeros do not matter
        ("0.5", "0.2", "1"),  # lcm(5, 2) = 10 tenths
        ("1", "0.25", "1"),
    ],
)
def test_common_step_is_the_least_common_multiple_of_both_lots(first, second, expected):
    assert common_step(Decimal(first), Decimal(second)) == Decimal(expected)


def test_size_text_is_exact_on_the_common_grid():
    spec = pair_spec(leg_spec(instrument(lot="0.002")), leg_spec(instrument("okx", lot="0.003")))
    assert spec.step == Decimal("0.006")
    assert format_size(8, spec.step, spec.step_exponent) == "0.048"
    # a float would say 0.1 * 3 = 0.30000000000000004
    assert format_size(3, Decimal("0.1"), 1) == "0.3"


def test_price_text_is_on_the_tick_and_rounds_towards_the_level():
    leg = leg_spec(instrument(tick="0.01"))
    assert format_price(0.1 + 0.2, leg, round_up=True) == "0.30"  # float noise, not a tick
    assert format_price(64123.45, leg, round_up=True) == "64123.45"
    assert format_price(64123.451, leg, round_up=True) == "64123.46"  # off-grid: buy rounds up
    assert format_price(64123.459, leg, round_up=False) == "64123.45"  # sell rounds down
    half = leg_spec(instrument(tick="0.5"))
    assert format_price(30000.5, half, round_up=False) == "30000.5"


def test_the_leg_is_priced_at_the_instrument_fee():
    assert leg_spec(instrument(taker_fee="0.001")).fee == 0.001
    assert leg_spec(instrument(taker_fee="0.00075")).fee == 0.00075


def test_zero_lot_falls_back_to_the_size_decimals():
    assert leg_spec(instrument(lot="0", size_decimals=5)).lot == Decimal("0.00001")


@pytest.mark.parametrize(
    ("field", "value"),
    [("tick_size", "abc"), ("lot_size", "-1"), ("taker_fee", "1.5"), ("min_notional", "NaN")],
)
def test_bad_reference_data_names_the_instrument_and_field(field, value):
    kw = {"tick": "0.01", "lot": "0.0001"}
    if field == "tick_size":
        kw["tick"] = value
        bad = instrument(**kw)
    elif field == "lot_size":
        kw["lot"] = value
        bad = instrument(**kw)
    else:
        bad = instrument(**{field: value})
    with pytest.raises(InstrumentError, match=r"binance:BTC-USDT"):
        leg_spec(bad)
