"""The Bitget simulator's encoders, pure: numbers padded as Bitget pads them, the checksum of
the book a client holds computed over that text (checked with the bitwise reference CRC),
and an order's feeDetail read back by the trading client as the ledger charged it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from arb_structs import Side
from arb_venues.bitget.sim import bodies
from arb_venues.bitget.sim.app import _Book
from arb_venues.bitget.trading import fee_of
from arb_venues.simapi import SimOrder

from tests.unit.venues.bitget.helpers import BTC_USDT, checksum_text, reference_crc32

pytestmark = pytest.mark.unit


def test_numbers_are_padded_to_the_pairs_precision_like_the_docs_example() -> None:
    assert bodies.level(Decimal("26275"), Decimal("0.05"), BTC_USDT) == ["26275.0", "0.0500"]
    assert bodies.padded(Decimal("3"), "1") == "3" and bodies.plain(Decimal("0.50")) == "0.5"


def test_the_client_books_checksum_is_the_docs_rule_over_the_sent_text() -> None:
    bids = [(Decimal(60000) - i, Decimal("1.5")) for i in range(30)]
    asks = [(Decimal(60001) + i, Decimal("0.25")) for i in range(30)]
    book = _Book(BTC_USDT, bids, asks)
    book.apply([(Decimal(60000), Decimal(0))], [(Decimal("60000.5"), Decimal("2"))])
    want_bids = [bodies.level(p, s, BTC_USDT) for p, s in bids[1:26]]
    want_asks = [["60000.5", "2.0000"]] + [bodies.level(p, s, BTC_USDT) for p, s in asks[:24]]
    assert book.checksum() == reference_crc32(checksum_text(want_bids, want_asks))


def test_an_orders_fee_detail_reads_back_as_the_ledger_charged_it() -> None:
    order = SimOrder(order_id="1", client_order_id="arb1", symbol="BTC-USDT", side=Side.BUY,
                     price=Decimal("60000"), size=Decimal("0.01"), time_in_force="IOC",
                     status="filled", filled=Decimal("0.01"), quote_filled=Decimal("600"),
                     fee=Decimal("0.00001"), fee_asset="BTC")  # fmt: skip
    row = bodies.order_info(order, "BTCUSDT")
    assert fee_of(row["feeDetail"]) == ("0.00001", "BTC")
    assert row["status"] == "filled" and row["baseVolume"] == "0.01"
    assert fee_of("") == ("0", "")
