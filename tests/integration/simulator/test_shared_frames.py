"""A venue's frames are built once for every connection (simapi.SharedFrames) and a fault
still hits one connection only: ingest's hot standby is two real feeds on one simulated venue.

Each venue here shares its book frames (or, Coinbase, all of a frame but the connection's own
``sequence_num``). A fault armed once breaks exactly one of the two connections' books (a bad
checksum or a sequence gap, as the book engine sees it), while the other one's book stays
LIVE, every checksum and sequence of it whole, and equal to the simulator's book: a faulty
frame that leaked into the shared ones, or a shared frame wrong for one connection, breaks
the second book too.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from arb_orderbook.bookset import BookSet
from arb_orderbook.result import ChecksumCheck, Outcome
from arb_simulator.app import Simulator
from arb_simulator.config import SimulatorSettings
from arb_structs import BookState, MdEvent
from arb_venues import checksums, get_venue
from arb_venues.base import Endpoints
from arb_venues.common.feed import Backoff, MarketDataFeed

from tests.integration.ingest.rotation_support import until

pytestmark = pytest.mark.integration

SYMBOL = "BTC-USDT"
# venue -> the fault that breaks one connection's book
FAULTS = {
    "bitget": "bad_checksum",
    "kraken": "bad_checksum",
    "bitfinex": "bad_checksum",
    "okx": "skip_seq",
    "coinbase": "skip_seq",
    "htx": "skip_seq",
}


@dataclass
class Client:
    """One feed as ingest runs it (the venue's adapter), into a book with checksums on."""

    venue: str
    feed: MarketDataFeed | None = None
    books: BookSet = field(default_factory=BookSet)
    broken: int = 0  # events the book engine found a gap or a failed checksum in
    whole: int = 0  # deltas applied with their sequence and checksum in order

    def emit(self, event: MdEvent) -> None:
        for book, result in self.books.apply_event(event):
            if result.gap or result.checksum == ChecksumCheck.FAILED:
                self.broken += 1
            elif result.outcome is Outcome.APPLIED and result.state is BookState.LIVE:
                self.whole += 1
            if result.resync and self.feed is not None:
                self.feed.request_resync(book.symbol, "broken")  # as the book service asks

    def live(self) -> bool:
        book = self.books.get(self.venue, SYMBOL)
        return book is not None and book.state is BookState.LIVE


@pytest.mark.parametrize("venue", list(FAULTS))
async def test_a_fault_breaks_one_connection_and_the_shared_frames_keep_the_other_whole(
    venue: str,
) -> None:
    settings = SimulatorSettings(venues=[venue], symbols=[SYMBOL], rate=60.0,
                                 inject_interval_s=0)  # fmt: skip
    async with Simulator(settings) as sim:
        urls = sim.urls[venue]
        endpoints = Endpoints(ws_url=urls["ws"], rest_url=urls["rest"],
                              ws_private_url=urls.get("ws_private", ""))  # fmt: skip
        instruments = [sim.venue_markets[venue].instruments[SYMBOL]]
        clients = [Client(venue, books=BookSet(checksums=checksums([venue]))) for _ in "ab"]
        stopping = asyncio.Event()
        tasks = []
        for client in clients:
            client.feed = MarketDataFeed(
                get_venue(venue).market(endpoints),
                instruments,
                client.emit,
                backoff=Backoff(base_s=0.01, cap_s=0.05),
            )
            tasks.append(asyncio.create_task(client.feed.run(stopping)))  # fmt: skip
        try:
            await until(lambda: all(c.live() for c in clients), "both books LIVE")
            sim.venue_markets[venue].armed_faults.arm(FAULTS[venue])
            await until(lambda: any(c.broken for c in clients), "the fault, on one connection")
            before = [c.whole for c in clients]
            await until(lambda: all(c.whole > w + 3 for c, w in zip(clients, before, strict=True)),
                        "more whole updates on both")  # fmt: skip
            assert sim.faults[venue].fired_total.get(FAULTS[venue]) == 1
            assert sorted(c.broken for c in clients) == [0, 1]
            clean = next(c for c in clients if not c.broken)
            assert clean.live()
        finally:
            stopping.set()
            await asyncio.gather(*tasks, return_exceptions=True)
