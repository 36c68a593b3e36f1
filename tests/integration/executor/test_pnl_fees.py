"""PnL and fees against the simulator's ledger, in the cases that went wrong before:

- lost response: the buy executes, its answer is lost, it is read back by client id: its fee
  is the venue's (Binance's query answer carries none; it comes from the trade list);
- partial fill: the sell fills half, the hedge the rest: every fill's fee, the PnL is what
  the ledger's cash says;
- unhedged: sell and hedge refused, the unwind's limit (no slippage allowed) above the bid:
  the open long is exposure, marked at the book's best bid; realised PnL is the fee only
  (nothing was closed), never the open leg's cash.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from arb_structs.codec import BOOK
from arb_structs.constants import book_latest_key
from arb_structs.market import BookState, BookView
from arb_structs.trading import ExecutionStatus

from tests.integration.executor.live_support import (
    SYMBOL,
    SimStack,
    live_executor,
    result_of,
    send,
)
from tests.integration.executor.record_support import (
    engine_orders,
    ledger_cash,
    ledger_fee,
    net_base,
    open_exposure,
)

pytestmark = pytest.mark.integration
VENUES = ["binance", "okx"]


def _orders_of(stack: SimStack, result: object) -> list[object]:
    ids = {leg.intent.client_order_id for leg in result.legs}  # type: ignore[attr-defined]
    return [o for v in VENUES for o in engine_orders(stack, v) if o.client_order_id in ids]


async def test_pnl_and_fees_match_the_ledger_after_lost_answer_partial_fill_and_unhedged(
    redis, redis_url
) -> None:
    async with SimStack(VENUES) as stack, live_executor(
        stack, redis, redis_url, max_slippage_bps="0"
    ):  # fmt: skip
        # Lost response on the buy.
        stack.arm("binance", "lose_response")
        await send(redis, stack.opportunity("pnl-lost", "binance", "okx"))
        lost = await result_of(redis, "pnl-lost")
        assert lost.status is ExecutionStatus.FILLED, lost
        orders = _orders_of(stack, lost)
        buy = next(leg for leg in lost.legs if leg.role == "buy")
        ledger_buy = next(o for o in orders if o.client_order_id == buy.intent.client_order_id)
        assert buy.error and ledger_buy.fee > 0  # it was resolved by query ...
        assert Decimal(buy.report.fee) == ledger_buy.fee  # ... with the venue's fee
        assert buy.report.fee_asset == ledger_buy.fee_asset
        assert Decimal(lost.fees_quote) == sum(ledger_fee(o) for o in orders)
        assert Decimal(lost.realised_pnl) == ledger_cash(orders)

        # Partial fill of the sell, hedged.
        stack.arm("okx", "partial_fill")
        await send(redis, stack.opportunity("pnl-partial", "binance", "okx", size="0.004"))
        partial = await result_of(redis, "pnl-partial")
        assert partial.status is ExecutionStatus.HEDGED, partial
        orders = _orders_of(stack, partial)
        assert len(orders) == 3 and all(o.fee > 0 for o in orders)
        assert Decimal(partial.fees_quote) == sum(ledger_fee(o) for o in orders)
        assert Decimal(partial.realised_pnl) == ledger_cash(orders)
        assert partial.unrealised_pnl == "0"

        # Unhedged: the book view the executor marks at, then every closing order refused.
        book = stack.sim.venue_markets["binance"].book(SYMBOL)
        bid = book.bids[0][0]
        view = BookView(venue="binance", symbol=SYMBOL, state=BookState.LIVE, seq=1,
                        bids=[(float(bid), 1.0)], asks=[(float(book.asks[0][0]), 1.0)],
                        ts_event=0, ts_recv=0, ts_book=0)  # fmt: skip
        await redis.hset(book_latest_key("binance"), SYMBOL, BOOK.encode(view))
        stack.arm("okx", "reject_order", count=2)  # the sell and its hedge
        await send(redis, stack.opportunity("pnl-open", "binance", "okx"))
        open_ = await result_of(redis, "pnl-open")
        assert open_.status is ExecutionStatus.UNHEDGED and open_.unhedged_size == "0.001"
        unwind = next(leg for leg in open_.legs if leg.role == "unwind")
        assert unwind.report is not None and unwind.report.filled_size in ("0", "0.00000000")
        buy_id = next(leg for leg in open_.legs if leg.role == "buy").intent.client_order_id
        bought = next(o for o in _orders_of(stack, open_) if o.client_order_id == buy_id)
        assert Decimal(open_.realised_pnl) == -ledger_fee(bought)  # closed nothing: fee only
        assert ledger_cash([bought]) == -bought.quote_filled - ledger_fee(bought)
        assert Decimal(open_.realised_pnl) != ledger_cash([bought])  # the open cash is no PnL
        assert Decimal(open_.mark_price) == Decimal(repr(float(bid)))
        entry = bought.quote_filled / bought.filled
        expected = bought.filled * (Decimal(open_.mark_price) - entry)
        assert Decimal(open_.unrealised_pnl) == expected
        (exposure,) = await open_exposure(redis)
        assert (exposure.venue, exposure.asset, exposure.size) == ("binance", "BTC", "0.001")
        assert Decimal(exposure.entry_price) == entry
    assert net_base(stack, VENUES) == Decimal("0.001")  # reported, not hidden: the ledger agrees
