"""Bybit instruments, the test account, and the real simulator market the Bybit tests run on:
60 levels a side at fixed prices and sizes, so tests know every level."""

from __future__ import annotations

from decimal import Decimal

from arb_simulator import Account, VenueMarket, venue_market
from arb_structs import Instrument

D = Decimal
API_KEY = "test-key-0001"
SECRET = "test-secret-0001"

BTC = Instrument(
    venue="bybit",
    symbol="BTC-USDT",
    venue_symbol="BTCUSDT",
    base="BTC",
    quote="USDT",
    tick_size="0.01",
    lot_size="0.000001",
    min_size="0.000011",
    min_notional="5",
    price_decimals=2,
    size_decimals=6,
)
XRP = Instrument(
    venue="bybit",
    symbol="XRP-USDT",
    venue_symbol="XRPUSDT",
    base="XRP",
    quote="USDT",
    tick_size="0.0001",
    lot_size="0.01",
    min_size="0.01",
    min_notional="5",
    price_decimals=4,
    size_decimals=2,
)


def bybit_market() -> VenueMarket:
    """BTC-USDT bids 100.00 down (1.5, 2.5, ...), asks 100.01 up (2.0, 3.0, ...); XRP-USDT 100
    a level around 1.9531 / 1.9532; the account holds 10,000 USDT and 10 BTC."""
    account = Account(API_KEY, SECRET, balances={"USDT": "10000", "BTC": "10"})
    market = venue_market("bybit", instruments=[BTC, XRP], accounts=[account])
    market.set_book(
        BTC.symbol,
        bids=[(D("100.00") - D("0.01") * i, D("1.5") + i) for i in range(60)],
        asks=[(D("100.01") + D("0.01") * i, D("2.0") + i) for i in range(60)],
    )
    market.set_book(
        XRP.symbol,
        bids=[(D("1.9531") - D("0.0001") * i, D("100")) for i in range(60)],
        asks=[(D("1.9532") + D("0.0001") * i, D("100")) for i in range(60)],
    )
    return market
