"""The paper executor on a real Redis charges each leg the taker fee of the instrument ingest
published for that venue (``arb:ref:instruments:{venue}``): the result's fees and PnL are
what those two fees make of the fills, computed here from the instruments themselves."""

from __future__ import annotations

from decimal import Decimal

import pytest
import redis.asyncio as aioredis
from arb_executor.config import ExecutorSettings
from arb_structs import Instrument
from arb_structs.codec import BOOK, INSTRUMENT
from arb_structs.constants import (
    book_latest_key,
    instruments_key,
)
from arb_structs.trading import ExecutionStatus
from arb_venues import VENUE_NAMES

from tests.integration.executor.live_support import results, running_executor, send, wait_for
from tests.unit.executor.support import opportunity, view

pytestmark = pytest.mark.integration

BUY, SELL = VENUE_NAMES[0], VENUE_NAMES[1]
FEES = {BUY: "0.0026", SELL: "0.0015"}  # not any venue's default, and not equal


def instrument(venue: str) -> Instrument:
    return Instrument(venue=venue, symbol="BTC-USDT", venue_symbol="BTCUSDT", base="BTC",
                      quote="USDT", tick_size="0.01", lot_size="0.0001",
                      taker_fee=FEES[venue])  # fmt: skip


async def test_each_leg_pays_its_venues_instrument_fee(redis: aioredis.Redis, redis_url: str):
    for venue, bids, asks in ((BUY, [(99.9, 1.0)], [(100.0, 1.0)]),
                              (SELL, [(101.0, 1.0)], [(101.5, 1.0)])):  # fmt: skip
        await redis.hset(book_latest_key(venue), "BTC-USDT", BOOK.encode(view(venue, bids, asks)))
        await redis.hset(instruments_key(venue), "BTC-USDT", INSTRUMENT.encode(instrument(venue)))
    settings = ExecutorSettings(
        redis_url=redis_url, instance="executor-fees", pair_cooldown_ms=0,
        paper_balances={BUY: {"USDT": "1000"}, SELL: {"BTC": "1"}},
    )  # fmt: skip
    opp = opportunity("opp-fees", buy_venue=BUY, sell_venue=SELL,
                      buy_fee=float(FEES[BUY]), sell_fee=float(FEES[SELL]))  # fmt: skip
    async with running_executor(redis, settings):
        await send(redis, opp)
        (result,) = await wait_for(lambda: results(redis))
    assert result.status is ExecutionStatus.FILLED
    bought, sold = Decimal("0.5") * 100, Decimal("0.5") * 101
    fees = bought * Decimal(FEES[BUY]) + sold * Decimal(FEES[SELL])
    assert Decimal(result.fees_quote) == fees
    assert Decimal(result.realised_pnl) == sold - bought - fees
    reports = {leg.intent.venue: leg.report for leg in result.legs if leg.report is not None}
    assert Decimal(reports[BUY].fee) == bought * Decimal(FEES[BUY])
    assert Decimal(reports[SELL].fee) == sold * Decimal(FEES[SELL])
