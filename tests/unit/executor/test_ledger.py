"""The ledger: what the executor's records explain of a venue account's balances."""

from __future__ import annotations

from decimal import Decimal

import pytest
from arb_executor.ledger import Ledger, effects
from arb_structs import BalanceSnapshot, OrderReport
from arb_structs.trading import Balance, OrderStatus, Side
from arb_venues.common.clientids import text_client_order_id

pytestmark = pytest.mark.unit
D = Decimal
OURS = text_client_order_id("opp-1", "buy")


def order(cid: str, side: Side, size: str, quote: str, fee: str, fee_asset: str) -> OrderReport:
    return OrderReport(venue="binance", symbol="BTC-USDT", side=side, client_order_id=cid,
                       status=OrderStatus.FILLED, price="0", size=size, filled_size=size,
                       avg_price="0", fee=fee, fee_asset=fee_asset,
                       quote_filled=quote)  # fmt: skip


def snapshot(**totals: str) -> BalanceSnapshot:
    return BalanceSnapshot(venue="binance", ts=1, balances={
        a: Balance(asset=a, free=v) for a, v in totals.items()})  # fmt: skip


def test_effects_follow_the_venues_own_account_of_the_order() -> None:
    buy = order(OURS, Side.BUY, "0.5", "50", "0.0005", "BTC")
    assert effects(buy) == {"BTC": D("0.4995"), "USDT": D("-50")}
    sell = order(OURS, Side.SELL, "0.5", "51", "0.051", "USDT")
    assert effects(sell) == {"BTC": D("-0.5"), "USDT": D("50.949")}


def test_a_rebuilt_ledger_explains_our_orders_and_nothing_else() -> None:
    buy = order(OURS, Side.BUY, "0.5", "50", "0.05", "USDT")
    ledger = Ledger.rebuilt("binance", 0, snapshot(BTC="1.5", USDT="950"), [buy])
    assert ledger.baseline == {"BTC": D(1), "USDT": D("1000.05")}
    assert ledger.unexplained(snapshot(BTC="1.5", USDT="950"), [buy], D("1e-6")) == {}
    manual = order("manual7", Side.SELL, "0.1", "10", "0", "USDT")  # not ours: unexplained
    after = snapshot(BTC="1.4", USDT="960")
    assert ledger.unexplained(after, [buy, manual], D("1e-6")) == {"BTC": D("-0.1"),
                                                                    "USDT": D(10)}  # fmt: skip


def test_a_rolled_baseline_does_not_count_its_orders_twice_and_absorb_explains() -> None:
    buy = order(OURS, Side.BUY, "0.5", "50", "0", "USDT")
    rolled = Ledger.taken("binance", 10, snapshot(BTC="1.5", USDT="950"), [buy])
    assert rolled.unexplained(snapshot(BTC="1.5", USDT="950"), [buy], D(0)) == {}
    deposit = snapshot(BTC="1.5", USDT="1950")
    assert rolled.unexplained(deposit, [buy], D(0)) == {"USDT": D(1000)}
    rolled.absorb("USDT", D(1000))
    assert rolled.unexplained(deposit, [buy], D(0)) == {}


def test_the_redis_form_round_trips_exactly() -> None:
    bought = order(OURS, Side.BUY, "0.1", "10.123456789", "0.01", "USDT")
    ledger = Ledger.taken("okx", 123, snapshot(BTC="0.000000001", USDT="1e3"), [bought])
    again = Ledger.from_fields("okx", {k.encode(): v if isinstance(v, bytes) else v.encode()
                                       for k, v in ledger.fields().items()})  # fmt: skip
    assert again == ledger
    assert Ledger.from_fields("okx", {}) is None
