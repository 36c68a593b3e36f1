"""The detector against a real Redis: views in, opportunities out, gates, restarts."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
import redis.asyncio as aioredis
from arb_detector.app import DetectorService, main
from arb_detector.config import DetectorSettings
from arb_runtime.service import serve
from arb_runtime.streams import StreamProducer
from arb_structs.codec import BALANCES, BOOK, EXECUTION, INSTRUMENT, OPPORTUNITY
from arb_structs.constants import (
    EXECUTIONS_STREAM,
    OPPORTUNITIES_STREAM,
    PAYLOAD_FIELD,
    balances_key,
    book_latest_key,
    book_stream,
    instruments_key,
)
from arb_structs.market import BookState
from arb_structs.trading import Balance, BalanceSnapshot, ExecutionStatus

from tests.unit.detector.factories import instrument, result, view

pytestmark = pytest.mark.integration

VENUES = ["binance", "okx"]
SYMBOLS = ["BTC-USDT", "ETH-USDT"]
CHEAP = [(100.0, 1.0)]
DEAR = [(101.0, 1.0)]


async def seed_instruments(redis: aioredis.Redis) -> None:
    for venue in VENUES:
        for symbol in SYMBOLS:
            await redis.hset(
                instruments_key(venue), symbol, INSTRUMENT.encode(instrument(venue, symbol))
            )


def fresh(venue, symbol="BTC-USDT", **kw):
    return view(venue, symbol=symbol, now=time.time_ns(), **kw)


async def publish(redis: aioredis.Redis, *views) -> None:
    for v in views:
        await redis.xadd(book_stream(v.venue), {PAYLOAD_FIELD: BOOK.encode(v)})


async def opportunities(redis: aioredis.Redis, at_least: int, timeout: float = 5.0):
    """Wait (bounded) until the stream holds ``at_least`` opportunities; return them all."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        raw = await redis.xrange(OPPORTUNITIES_STREAM)
        if len(raw) >= at_least or asyncio.get_running_loop().time() > deadline:
            return [OPPORTUNITY.decode(fields[PAYLOAD_FIELD]) for _, fields in raw]
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def running(redis: aioredis.Redis, **overrides):
    settings = DetectorSettings(venues=VENUES, block_ms=20, refresh_ms=50, **overrides)
    producer = StreamProducer(redis)
    service = DetectorService(redis, producer, settings)
    await service.start()
    stopping = asyncio.Event()
    task = asyncio.create_task(service.run(stopping))
    try:
        yield service
    finally:
        stopping.set()
        await task
        await producer.close()


async def test_views_in_opportunity_out(redis):
    await seed_instruments(redis)
    async with running(redis):
        await publish(redis, fresh("binance", asks=CHEAP, seq=3), fresh("okx", bids=DEAR, seq=4))
        [opp] = await opportunities(redis, 1)
    assert (opp.buy_venue, opp.sell_venue, opp.symbol) == ("binance", "okx", "BTC-USDT")
    assert (opp.size, opp.buy_price, opp.sell_price) == ("1.0000", "100.00", "101.00")
    assert (opp.buy_seq, opp.sell_seq) == (3, 4)
    assert opp.net_profit == pytest.approx(0.799)  # 101 * 0.999 - 100 * 1.001
    assert opp.ts_book <= opp.ts_read <= opp.ts_detect < opp.expires_ns  # stage stamps in order


async def test_a_restarted_detector_trades_on_the_latest_views_at_once(redis):
    await seed_instruments(redis)
    for v in (fresh("binance", asks=CHEAP), fresh("okx", bids=DEAR)):
        await redis.hset(book_latest_key(v.venue), v.symbol, BOOK.encode(v))
    async with running(redis):  # no stream entry at all
        [opp] = await opportunities(redis, 1)
    assert (opp.buy_venue, opp.sell_venue) == ("binance", "okx")


@pytest.mark.parametrize(
    "bad_sell",
    [
        {"state": BookState.SUSPECT},
        {"age_ms": 5_000},  # older than the 2 s bound
    ],
    ids=["suspect", "stale"],
)
async def test_a_suspect_or_stale_book_gives_no_opportunity(redis, bad_sell):
    await seed_instruments(redis)
    async with running(redis) as service:
        await publish(redis, fresh("binance", asks=CHEAP), fresh("okx", bids=DEAR, **bad_sell))
        # a healthy ETH pair behind it on the same streams: once it is out, BTC was judged
        await publish(
            redis, fresh("binance", "ETH-USDT", asks=CHEAP), fresh("okx", "ETH-USDT", bids=DEAR)
        )
        found = await opportunities(redis, 1)
    assert [o.symbol for o in found] == ["ETH-USDT"]
    assert service.engine.book("okx", "BTC-USDT") is not None


async def test_an_execution_result_clears_in_flight(redis):
    await seed_instruments(redis)
    async with running(redis) as service:
        await publish(redis, fresh("binance", asks=CHEAP, seq=1), fresh("okx", bids=DEAR, seq=1))
        [first] = await opportunities(redis, 1)
        # same prices, new seq: still in flight; the ETH sentinel shows it was processed
        await publish(
            redis,
            fresh("binance", asks=CHEAP, seq=2),
            fresh("binance", "ETH-USDT", asks=CHEAP),
            fresh("okx", "ETH-USDT", bids=DEAR),
        )
        found = await opportunities(redis, 2)
        assert [o.symbol for o in found] == ["BTC-USDT", "ETH-USDT"]
        await redis.xadd(
            EXECUTIONS_STREAM,
            {PAYLOAD_FIELD: EXECUTION.encode(result(first.id, ExecutionStatus.FILLED))},
        )
        key = ("BTC-USDT", "binance", "okx")
        for _ in range(500):  # until the detector has read the result
            if service.engine.gate.in_flight(key) is None:
                break
            await asyncio.sleep(0.01)
        assert service.engine.gate.in_flight(key) is None
        await publish(redis, fresh("binance", asks=CHEAP, seq=3))
        found = await opportunities(redis, 3)
    assert [o.symbol for o in found] == ["BTC-USDT", "ETH-USDT", "BTC-USDT"]
    assert found[2].buy_seq == 3 and found[2].id != first.id


async def test_balances_published_by_the_executor_cap_the_size(redis):
    await seed_instruments(redis)
    for venue, free in (("binance", {"USDT": "1000"}), ("okx", {"BTC": "0.25"})):
        snapshot = BalanceSnapshot(
            venue=venue, balances={a: Balance(asset=a, free=f) for a, f in free.items()}, ts=1
        )
        await redis.set(balances_key(venue), BALANCES.encode(snapshot))
    async with running(redis, balance_source="redis"):
        await publish(redis, fresh("binance", asks=CHEAP), fresh("okx", bids=DEAR))
        [opp] = await opportunities(redis, 1)
    assert opp.size == "0.2500"


async def test_bad_entries_are_skipped_and_the_next_view_still_counts(redis):
    await seed_instruments(redis)
    await redis.hset(instruments_key("okx"), "BAD-USDT", b"\xc1not msgpack")
    async with running(redis):
        await redis.xadd(book_stream("binance"), {PAYLOAD_FIELD: b"\xc1garbage"})
        await publish(redis, fresh("binance", asks=CHEAP), fresh("okx", bids=DEAR))
        found = await opportunities(redis, 1)
    assert len(found) == 1


async def test_the_service_main_runs_under_the_shared_lifecycle(redis, redis_url):
    await seed_instruments(redis)
    settings = DetectorSettings(redis_url=redis_url, venues=VENUES, block_ms=20)
    stopping = asyncio.Event()
    task = asyncio.create_task(serve("detector", settings, main, stopping))
    try:
        # like the book service: the latest-view hash and the stream, so the detector sees
        # the views whether it pins its stream positions before or after they land
        for v in (fresh("binance", asks=CHEAP), fresh("okx", bids=DEAR)):
            await redis.hset(book_latest_key(v.venue), v.symbol, BOOK.encode(v))
            await publish(redis, v)
        [opp] = await opportunities(redis, 1)
    finally:
        stopping.set()
        await task
    assert opp.symbol == "BTC-USDT"
