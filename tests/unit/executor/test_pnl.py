"""True PnL: realised on matched quantity only, the open rest marked apart (pnl.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from arb_executor.pnl import exit_price, settle
from arb_structs import OrderIntent, OrderReport
from arb_structs.trading import LegResult, OrderStatus, Side

from tests.unit.executor.support import view

pytestmark = pytest.mark.unit
D = Decimal


def leg(side: Side, size: str, price: str, fee: str = "0", fee_asset: str = "USDT",
        quote: str = "") -> LegResult:  # fmt: skip
    intent = OrderIntent(venue="v", symbol="BTC-USDT", side=side, price=price, size=size,
                         client_order_id=f"{side.value}{size}{price}")  # fmt: skip
    report = OrderReport(venue="v", symbol="BTC-USDT", side=side,
                         client_order_id=intent.client_order_id, status=OrderStatus.FILLED,
                         price=price, size=size, filled_size=size, avg_price=price, fee=fee,
                         fee_asset=fee_asset, quote_filled=quote)  # fmt: skip
    return LegResult(role=side.value, intent=intent, report=report)


def test_flat_legs_realise_their_whole_cash() -> None:
    pnl = settle("BTC-USDT", [leg(Side.BUY, "1", "100", "0.1"), leg(Side.SELL, "1", "101", "0.1")])
    assert (pnl.realised, pnl.fees, pnl.net) == (D("0.8"), D("0.2"), D(0))
    assert pnl.cash == D("0.8")


def test_an_open_long_books_only_its_fee_and_its_cash_is_not_profit() -> None:
    pnl = settle("BTC-USDT", [leg(Side.BUY, "2", "100", "0.2"), leg(Side.SELL, "0.5", "101")])
    assert pnl.net == D("1.5") and pnl.entry == D("100")
    assert pnl.realised == D("0.5") * (D(101) - D(100)) - D("0.2")
    assert pnl.cash == D("-149.7")  # 50.5 received - 200 paid - 0.2 fee
    assert pnl.cash == pnl.realised - pnl.net * pnl.entry
    assert pnl.unrealised(D("99")) == D("-1.5")  # marked at the bid it could be sold at


def test_an_open_short_is_marked_against_its_sell_price() -> None:
    pnl = settle("BTC-USDT", [leg(Side.SELL, "1", "101", "0.1")])
    assert (pnl.realised, pnl.net, pnl.entry) == (D("-0.1"), D(-1), D(101))
    assert pnl.unrealised(D("102")) == D(-1)
    assert pnl.cash == pnl.realised - pnl.net * pnl.entry


def test_a_base_fee_is_valued_at_its_fill_price_and_the_exact_quote_amount_wins() -> None:
    pnl = settle("BTC-USDT", [
        leg(Side.BUY, "3", "33.333333333", "0.003", "BTC", quote="100"),
        leg(Side.SELL, "3", "34", "0.1"),
    ])  # fmt: skip
    assert pnl.fees == D("0.003") * D(100) / D(3) + D("0.1")
    assert pnl.realised == D(102) - D(100) - pnl.fees


def test_exit_price_is_the_bid_when_long_and_the_ask_when_short() -> None:
    book = view("v", bids=[(99.5, 1.0)], asks=[(100.5, 1.0)])
    assert exit_price(book, D(1)) == D("99.5")
    assert exit_price(book, D(-1)) == D("100.5")
    assert exit_price(None, D(1)) is None and exit_price(book, D(0)) is None
