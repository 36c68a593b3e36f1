"""MarketDataFeed + CoinbaseMarket against the Coinbase sim over real sockets (127.0.0.1).

subscribe -> snapshot -> deltas; a dropped connection reconnects, resubscribes and gets new
snapshots; a lost message (sequence_num skipped) shows as a gap to the book rule and the
resync (unsubscribe + subscribe) brings a fresh snapshot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

import pytest
from aiohttp.test_utils import TestServer
from arb_structs import BookDelta, BookSnapshot, MdEvent
from arb_venues.base import Endpoints
from arb_venues.coinbase.market import CoinbaseMarket
from arb_venues.coinbase.sim.app import create_app
from arb_venues.common.feed import Backoff, MarketDataFeed

from tests.unit.venues.coinbase.simulated import coinbase_market
from tests.unit.venues.coinbase.test_parser import ReferenceBook

pytestmark = pytest.mark.integration

D = Decimal


async def until(condition: Callable[[], bool], what: str, limit_s: float = 5.0) -> None:
    """Wait for a condition the feed reaches asynchronously (a bound, not a timing claim)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.01)


def _of(events: list[MdEvent], kind: type, symbol: str = "BTC-USD") -> list:
    return [e for e in events if isinstance(e, kind) and e.symbol == symbol]


async def test_feed_lifecycle_against_the_sim():
    market = coinbase_market()
    server = TestServer(create_app(market), host="127.0.0.1")
    await server.start_server()
    base = f"{server.host}:{server.port}"
    protocol = CoinbaseMarket(Endpoints(ws_url=f"ws://{base}/", rest_url=f"http://{base}"))
    events: list[MdEvent] = []
    book = ReferenceBook()

    def emit(event: MdEvent) -> None:
        events.append(event)
        book.apply(event)

    feed = MarketDataFeed(protocol, list(market.instruments.values()), emit,
                          backoff=Backoff(base_s=0.01, cap_s=0.05))  # fmt: skip
    stopping = asyncio.Event()
    runner = asyncio.create_task(feed.run(stopping))
    try:
        # subscribe -> one snapshot per product -> deltas that continue it
        await until(lambda: len([e for e in events if isinstance(e, BookSnapshot)]) == 2,
                    "both snapshots")  # fmt: skip
        market.apply("BTC-USD", bids=[(D("68900.00"), D("1.75"))])
        market.apply("BTC-USD", asks=[(D("68901.00"), D("0"))])
        await until(lambda: len(_of(events, BookDelta)) == 2, "two deltas")
        assert book.applied == 2 and book.gaps == 0
        assert book.bids["BTC-USD"][68900.0] == 1.75 and 68901.0 not in book.asks["BTC-USD"]

        # the venue drops the connection: reconnect, resubscribe, fresh snapshots
        market.armed_faults.arm("drop_connection", "BTC-USD")
        market.apply("BTC-USD", bids=[(D("68899.00"), D("1"))])
        await until(lambda: feed.stats.connects == 2 and len(_of(events, BookSnapshot)) == 2,
                    "reconnect and a new BTC-USD snapshot")  # fmt: skip
        assert book.bids["BTC-USD"][68899.0] == 1.0  # the snapshot carries the missed level

        # a lost message: sequence_num jumps; the book sees a gap; the resync re-snapshots
        gaps_before = book.gaps
        market.armed_faults.arm("skip_seq", "BTC-USD")
        market.apply("BTC-USD", bids=[(D("68898.00"), D("2"))])
        await until(lambda: len(_of(events, BookSnapshot)) == 3, "a resync snapshot")
        assert book.gaps == gaps_before + 1
        assert feed.stats.resyncs >= 2  # every book of the connection (ETH-USD too)
        await until(lambda: len(_of(events, BookSnapshot, "ETH-USD")) == 3, "ETH-USD resync")
        market.apply("BTC-USD", asks=[(D("68901.50"), D("3"))])
        applied = book.applied
        await until(lambda: book.applied == applied + 1, "a delta applied after the resync")
        assert book.bids["BTC-USD"][68898.0] == 2.0 and book.crossed == 0
    finally:
        stopping.set()
        await asyncio.wait_for(runner, 5)
        await server.close()
