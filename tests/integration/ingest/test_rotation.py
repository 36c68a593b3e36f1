"""Make-before-break on every venue of the registry, against the simulator over real sockets.

Each venue's feed runs into the real book engine (arb_orderbook, checksums on), which checks
every event as it arrives: the books must be LIVE before, during and after a rotation, with
0 gaps, 0 resyncs and no VenueStatus. The simulator's own connection list is the independent
truth that the old socket is gone and one new one is open. All venues run concurrently in
one simulator, so the whole registry takes a few seconds.

Also here: the simulator's enforcement of a (shortened) lifetime, a rotation that beats it,
and a venue's maintenance notice answered by a rotation.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from arb_orderbook import BookSet
from arb_orderbook.result import Outcome
from arb_simulator.app import Simulator
from arb_simulator.config import SimulatorSettings
from arb_structs import BookState, MdMessage, VenueStatus
from arb_venues import VENUE_NAMES, checksums, get_venue
from arb_venues.base import Endpoints
from arb_venues.common.feed import Backoff, MarketDataFeed

pytestmark = pytest.mark.integration

SYMBOLS = ("BTC-USDT", "ETH-USDT")


@dataclass
class Watched:
    """One venue's feed into a real book engine that checks the books on every event."""

    venue: str
    books: BookSet
    feed: MarketDataFeed | None = None
    statuses: list[str] = field(default_factory=list)
    gaps: int = 0
    stale: int = 0  # deltas the book already had: a duplicate reached it
    not_live: list[str] = field(default_factory=list)  # after first LIVE: every lapse
    live_once: set[str] = field(default_factory=set)

    def emit(self, event: MdMessage) -> None:
        if isinstance(event, VenueStatus):
            self.statuses.append(event.status)
            self.books.apply_status(event)
            return
        if not hasattr(event, "prev_seq") and not hasattr(event, "bids"):
            return
        if type(event).__name__ == "AuditSnapshot":
            return
        book = self.books.book(event.venue, event.symbol)
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
    sim: Simulator, venues: list[str], lifetime_s: float | None = None
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
        venues=venues, symbols=list(SYMBOLS), rate=40, inject_interval_s=0, **extra
    )  # type: ignore[arg-type]


async def test_rotation_on_every_venue_keeps_books_live_with_no_gap_or_resync() -> None:
    venues = list(VENUE_NAMES)
    async with Simulator(settings(venues)) as sim, feeds(sim, venues) as watched:
        await until(lambda: all(w.all_live() for w in watched.values()), "every book LIVE")
        await until(lambda: all(len(open_ids(sim, v)) == 1 for v in venues), "one connection")
        before = {v: open_ids(sim, v)[0] for v in venues}
        # Resyncs so far are how some venues start (HTX asks for its snapshot with one).
        resyncs = {v: w.feed.stats.resyncs for v, w in watched.items()}  # type: ignore[union-attr]
        stale = {v: w.stale for v, w in watched.items()}
        for w in watched.values():
            assert w.feed is not None and w.feed.rotate("test")
        await until(
            lambda: all(not w.feed.rotating for w in watched.values()),  # type: ignore[union-attr]
            "every rotation ended",
        )
        await until(
            lambda: all(before[v] in closed(sim, v) and len(open_ids(sim, v)) == 1 for v in venues),
            "old sockets closed at the simulator",
        )
        # The new connection keeps the books moving after the switch.
        counts = {v: w.feed.stats.events for v, w in watched.items()}  # type: ignore[union-attr]
        await until(
            lambda: all(
                w.feed.stats.events > counts[v] + 5  # type: ignore[union-attr]
                for v, w in watched.items()
            ),
            "events after the rotation",
        )
        for venue, w in watched.items():
            feed = w.feed
            assert feed is not None
            assert open_ids(sim, venue) != [before[venue]], f"{venue}: the old one is open"
            assert feed.stats.rotations == {"done": 1}, f"{venue}: {feed.stats.rotations}"
            assert feed.stats.resyncs == resyncs[venue], f"{venue}: resynced"
            assert w.gaps == 0, f"{venue}: {w.gaps} gaps"
            assert w.stale == stale[venue], f"{venue}: {w.stale - stale[venue]} duplicates"
            assert w.not_live == [], f"{venue}: a book left LIVE: {w.not_live[:3]}"
            assert w.statuses == ["up"], f"{venue}: statuses {w.statuses}"
            assert feed.stats.connects == 2 and feed.stats.disconnects == 0
            assert w.all_live()


async def test_simulator_closes_a_connection_at_its_lifetime() -> None:
    # Binance documents 24 h: scaled to 1.5 s. The feed does not rotate (no lifetime given),
    # so the server cuts it, and the feed reconnects through a resync (the cost rotation saves).
    scale = 1.5 / get_venue("binance").connection_lifetime_s
    async with (
        Simulator(settings(["binance"], lifetime_scale=scale)) as sim,
        feeds(sim, ["binance"]) as watched,
    ):
        w = watched["binance"]
        await until(w.all_live, "books LIVE")
        first = open_ids(sim, "binance")[0]
        await until(
            lambda: sim.connections["binance"].closed_by.get("lifetime", 0) >= 1,
            "the server's lifetime close",
        )
        ended = closed(sim, "binance")[first]
        assert ended["closed_by_server"] == "lifetime"
        assert 1.4 <= ended["age_s"] < 3.0  # type: ignore[operator]  # closed at its lifetime
        await until(lambda: w.feed.stats.connects >= 2 and w.all_live(), "reconnected")  # type: ignore[union-attr]
        assert "down" in w.statuses  # a reconnect: the books went through HALTED


async def test_rotation_before_the_lifetime_beats_the_servers_cut() -> None:
    # Both sides hold the same (scaled) lifetime: the feed replaces its connection at 90 %.
    scale = 1.5 / get_venue("bybit").connection_lifetime_s
    async with (
        Simulator(settings(["bybit"], lifetime_scale=scale)) as sim,
        feeds(sim, ["bybit"], lifetime_s=1.5) as watched,
    ):
        w = watched["bybit"]
        await until(w.all_live, "books LIVE")
        first = open_ids(sim, "bybit")[0]
        await until(lambda: w.feed.stats.rotations.get("done", 0) >= 1, "a rotation")  # type: ignore[union-attr]
        await until(lambda: first in closed(sim, "bybit"), "the first connection gone")
        assert closed(sim, "bybit")[first]["closed_by_server"] == ""  # the client's close
        assert sim.connections["bybit"].closed_by.get("lifetime", 0) == 0
        assert w.statuses == ["up"] and w.gaps == 0 and w.not_live == []


@pytest.mark.parametrize("venue", ["okx", "binance", "bitfinex"])
async def test_maintenance_notice_is_answered_by_a_rotation(venue: str) -> None:
    assert get_venue(venue).reconnect_notice
    async with Simulator(settings([venue])) as sim, feeds(sim, [venue]) as watched:
        w = watched[venue]
        await until(w.all_live, "books LIVE")
        first = open_ids(sim, venue)[0]
        resyncs = w.feed.stats.resyncs  # type: ignore[union-attr]
        done = sim.maintenance(venue, notice_s=3.0)
        assert done["notice"] and done["connections"] == [first]
        await until(lambda: w.feed.stats.rotations.get("done", 0) == 1, "rotation on notice")  # type: ignore[union-attr]
        await until(lambda: first in closed(sim, venue), "old connection gone")
        assert w.feed.stats.notices == 1  # type: ignore[union-attr]
        assert w.statuses == ["up"] and w.gaps == 0 and w.not_live == []
        assert w.feed.stats.resyncs == resyncs  # type: ignore[union-attr]


async def test_maintenance_without_a_notice_closes_at_once() -> None:
    assert not get_venue("kraken").reconnect_notice
    async with Simulator(settings(["kraken"])) as sim, feeds(sim, ["kraken"]) as watched:
        w = watched["kraken"]
        await until(w.all_live, "books LIVE")
        done = sim.maintenance("kraken", notice_s=3.0)
        assert not done["notice"] and done["close_in_s"] == 0
        await until(lambda: "down" in w.statuses, "the cut seen as a disconnect")
        await until(w.all_live, "books LIVE again")
