"""Scripted books (set_book / apply) and instrument overrides: what venue tests build on."""

from __future__ import annotations

from decimal import Decimal

import pytest
from arb_simulator import Account, BookParams, venue_market
from arb_structs import Instrument, Side
from arb_venues.simapi import SimBookUpdate

pytestmark = pytest.mark.unit

D = Decimal
BNB = Instrument(
    venue="binance", symbol="BNB-BTC", venue_symbol="BNBBTC", base="BNB", quote="BTC",
    tick_size="0.000001", lot_size="0.01", min_size="0.01", min_notional="0.0001",
    price_decimals=6, size_decimals=2,
)  # fmt: skip


def test_set_book_replaces_every_level_in_one_update_and_apply_changes_some() -> None:
    market = venue_market("binance", instruments=[BNB])
    heard: list[SimBookUpdate] = []
    market.subscribe(heard.append)
    old = market.book("BNB-BTC")
    assert market.instruments == {"BNB-BTC": BNB} and len(old.bids) == BookParams().depth
    market.set_book("BNB-BTC", bids=[("0.005000", "10"), ("0.004990", "20")],
                    asks=[("0.005010", "5")])  # fmt: skip
    book = market.book("BNB-BTC")
    assert book.bids == [(D("0.005"), D("10")), (D("0.00499"), D("20"))]
    assert book.asks == [(D("0.00501"), D("5"))] and book.seq == old.seq + 1
    [update] = heard
    assert update.seq == book.seq
    deleted = {p for p, q in update.bids if q == 0}
    assert deleted == {p for p, _ in old.bids} - {D("0.005"), D("0.00499")}
    market.apply("BNB-BTC", bids=[("0.005000", "0")], asks=[("0.005005", "1.5")])
    assert heard[-1].bids == [(D("0.005"), D("0"))] and heard[-1].asks == [
        (D("0.005005"), D("1.5"))
    ]
    assert market.book("BNB-BTC").bids == [(D("0.00499"), D("20"))]
    assert market.book("BNB-BTC").seq == book.seq + 1


def test_levels_off_the_tick_or_lot_are_refused_with_the_grid() -> None:
    market = venue_market("binance", instruments=[BNB])
    with pytest.raises(ValueError, match=r"off the grid \(tick 0.000001, lot 0.01\)"):
        market.apply("BNB-BTC", bids=[("0.0050005", "1")])
    with pytest.raises(ValueError, match="off the grid"):
        market.apply("BNB-BTC", asks=[("0.005010", "0.005")])


def test_orders_match_a_scripted_book_and_the_clock_moves_it_on() -> None:
    account = Account("k", "s", balances={"BTC": "1"})
    market = venue_market("binance", instruments=[BNB], accounts=[account])
    market.set_book(
        "BNB-BTC", bids=[("0.005000", "10")], asks=[("0.005010", "5"), ("0.005020", "50")]
    )
    order = market.place_order("k", "BNB-BTC", Side.BUY, D("0.005020"), D("6"), "IOC", "c1")
    assert order.status == "filled" and order.fills == [
        (D("0.00501"), D("5")),
        (D("0.00502"), D("1")),
    ]
    assert market.book("BNB-BTC").asks == [(D("0.00502"), D("49"))]
    for _ in range(20):
        market.market.step()
    bids, asks = market.book("BNB-BTC").bids, market.book("BNB-BTC").asks
    assert bids and asks and bids[0][0] < asks[0][0]  # a live ladder again, never crossed
