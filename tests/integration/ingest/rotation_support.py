"""What the rotation and hot-standby tests share: a venue's feed into a real book engine that
checks every event (Watched), the feeds against an in-process simulator, and the simulator's
own view of its connections (the independent truth of which socket is open or gone)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from arb_orderbook import BookSet
from arb_orderbook.result import Outcome
from arb_simulator.app import Simulator
from arb_simulator.config import SimulatorSettings
from arb_structs import BookState, MdMessage, VenueStatus
from arb_venues import checksums, get_venue
from arb_venues.base import Endpoints
from arb_venues.common.feed import Backoff, MarketDataFeed

SYMBOLS = ("BTC-USDT", "ETH-USDT")


@dataclass
class Watched:
    """One venue's feed into a real book engine that checks the books on every event."""

    venue: str
    books: BookSet
    feed: MarketDataFeed | None = None
    statuses: list[str] = field(default_factory=list)
    down_reasons: list[str] = field(default_factory=list)
    gaps: int = 0
    stale: int = 0  # deltas the book already had: a duplicate reached it
    # Snapshots older than what their book had (by the venue's event time): a standby that
    # handed over a copy of its book from before the live connection's last event.
    regressed: int = 0
    newest: dict[str, int] = field(default_factory=dict)  # symbol -> newest ts_event applied
    not_live: list[str] = field(default_factory=list)  # after first LIVE: every lapse
    live_once: set[str] = field(default_factory=set)

    def emit(self, event: MdMessage) -> None:
        if isinstance(event, VenueStatus):
            self.statuses.append(event.status)
            if event.status == "down":
                self.down_reasons.append(event.reason)
            self.books.apply_status(event)
            return
        if not hasattr(event, "prev_seq") and not hasattr(event, "bids"):
            return
        if type(event).__name__ == "AuditSnapshot":
            return
        book = self.books.book(event.venue, event.symbol)
        ts_event = getattr(event, "ts_event", 0)
        newest = self.newest.get(event.symbol, 0)
        if type(event).__name__ == "BookSnapshot" and 0 < ts_event < newest:
            self.regressed += 1
        self.newest[event.symbol] = max(newest, ts_event)
        result = self.books.apply(event)  # type: ignore[arg-type]
        self.gaps += int(result.gap)
        self.stale += int(result.outcome is Outcome.DROPPED_STALE)
        if book.state is BookState.LIVE:
            self.live_once.add(event.symbol)
        elif event.symbol in self.live_once:
            self.not_live.append(f"{event.symbol} {book.state.value}: {book.reason}")

    def all_live(self) -> bool:
        return all(
            (b := self.books.get(self.venue, s)) is not None and b.state is BookState.LIVE
            for s in SYMBOLS
        )


async def until(condition: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    """Wait for ``condition`` (a hang guard, not a timing assertion)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not reached: {what}")
        await asyncio.sleep(0.02)


def open_ids(sim: Simulator, venue: str) -> list[int]:
    return [c["id"] for c in sim.connections[venue].describe()["open"]]


def closed(sim: Simulator, venue: str) -> dict[int, dict[str, object]]:
    """The simulator's record of the connections that ended (its sweep notes them)."""
    return {c["id"]: c for c in sim.connections[venue].describe()["closed"]}


@contextlib.asynccontextmanager
async def feeds(
    sim: Simulator, venues: list[str], lifetime_s: float | None = None, **options: Any
) -> AsyncIterator[dict[str, Watched]]:
    stopping = asyncio.Event()
    watched: dict[str, Watched] = {}
    tasks = []
    for venue in venues:
        urls = sim.urls[venue]
        protocol = get_venue(venue).market(Endpoints(ws_url=urls["ws"], rest_url=urls["rest"]))
        w = Watched(venue, BookSet(checksums=checksums([venue])))
        w.feed = MarketDataFeed(
            protocol,
            list(sim.venue_markets[venue].instruments.values()),
            w.emit,
            backoff=Backoff(0.05, 0.2),
            lifetime_s=lifetime_s,
            **options,
        )
        watched[venue] = w
        tasks.append(asyncio.create_task(w.feed.run(stopping)))
    try:
        yield watched
    finally:
        stopping.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)


def settings(venues: list[str], **extra: object) -> SimulatorSettings:
    return SimulatorSettings(
        venues=venues, symbols=list(SYMBOLS), rate=40, **{"inject_interval_s": 0, **extra}
    )  # type: ignore[arg-type]
