"""The hot standby (A/B feeds) on every venue that asks for one, against the simulator over
real sockets.

A venue that sends no reconnect notice cuts connections without warning when it restarts a
gateway. With a standby, ingest holds two subscribed connections; the book follows one and
the other is kept joinable at the same sequence. The simulator cuts the live connection: the
books, checked on every event by the real book engine (checksums on), must stay LIVE with
0 gaps, 0 resyncs, no duplicate and no VenueStatus; the standby takes over and a new standby
is opened. The simulator's own connection list is the independent truth of which socket was
cut and which are open. A cut of both at once (no standby can help) must show as downtime.
"""

from __future__ import annotations

import pytest
from arb_simulator.app import Simulator
from arb_structs.constants import DECLARED_MAINTENANCE
from arb_venues import VENUE_NAMES, get_venue
from arb_venues.common.feed import MarketDataFeed

from tests.integration.ingest.rotation_support import (
    Watched,
    closed,
    feeds,
    open_ids,
    settings,
    until,
)

pytestmark = pytest.mark.integration

STANDBY_VENUES = [v for v in VENUE_NAMES if get_venue(v).hot_standby]


def feed_of(w: Watched) -> MarketDataFeed:
    assert w.feed is not None
    return w.feed


def ready(sim: Simulator, watched: dict[str, Watched]) -> bool:
    return all(
        w.all_live() and feed_of(w).standby_ready and len(open_ids(sim, v)) == 2
        for v, w in watched.items()
    )


async def test_cutting_the_live_connection_fails_over_to_the_standby_on_every_venue() -> None:
    venues = STANDBY_VENUES
    async with Simulator(settings(venues)) as sim, feeds(sim, venues, standby=True) as watched:
        await until(lambda: ready(sim, watched), "books LIVE and a standby joinable everywhere")
        before = {v: sorted(open_ids(sim, v)) for v in venues}  # [live, standby]: live first
        resyncs = {v: feed_of(w).stats.resyncs for v, w in watched.items()}
        stale = {v: w.stale for v, w in watched.items()}
        for venue in venues:
            assert sim.cut(venue, before[venue][0])["connection"] == before[venue][0]
        await until(
            lambda: all(feed_of(w).stats.failovers == 1 for w in watched.values()),
            "every standby took over",
        )
        await until(lambda: ready(sim, watched), "a new standby joinable everywhere")
        events = {v: feed_of(w).stats.events for v, w in watched.items()}
        await until(
            lambda: all(feed_of(w).stats.events > events[v] + 5 for v, w in watched.items()),
            "books moving on the former standby",
        )
        for venue, w in watched.items():
            feed = feed_of(w)
            cut, standby = before[venue]
            assert closed(sim, venue)[cut]["closed_by_server"] == "cut", venue
            now_open = sorted(open_ids(sim, venue))
            assert standby in now_open and cut not in now_open and len(now_open) == 2, venue
            assert feed.stats.failovers == 1 and feed.stats.standbys == 2, venue
            assert feed.stats.disconnects == 0 and feed.stats.connects == 3, venue
            assert feed.stats.resyncs == resyncs[venue], f"{venue}: resynced"
            assert w.gaps == 0, f"{venue}: {w.gaps} gaps"
            assert w.stale == stale[venue], f"{venue}: {w.stale - stale[venue]} duplicates"
            assert w.regressed == 0, f"{venue}: a book taken back in time {w.regressed}x"
            assert w.not_live == [], f"{venue}: a book left LIVE: {w.not_live[:3]}"
            assert w.statuses == ["up"], f"{venue}: statuses {w.statuses}"


async def test_a_rolling_gateway_restart_keeps_the_books_live() -> None:
    # Maintenance without a notice: the simulator cuts each open connection in turn, 0.5 s
    # apart. The standby takes over at the first cut, a new one joins before the second.
    venues = ["kraken", "bybit"]
    async with Simulator(settings(venues)) as sim, feeds(sim, venues, standby=True) as watched:
        await until(lambda: ready(sim, watched), "books LIVE and a standby joinable")
        resyncs = {v: feed_of(w).stats.resyncs for v, w in watched.items()}
        for venue in venues:
            done = sim.maintenance(venue, notice_s=3.0, gap_s=0.5)
            assert not done["notice"] and len(done["connections"]) == 2
        await until(
            lambda: all(feed_of(w).stats.failovers == 2 for w in watched.values()),
            "both cuts taken over",
        )
        await until(lambda: ready(sim, watched), "a standby again")
        for venue, w in watched.items():
            assert sim.connections[venue].closed_by.get("maintenance") == 2
            assert feed_of(w).stats.resyncs == resyncs[venue]
            assert feed_of(w).stats.disconnects == 0
            assert w.gaps == 0 and w.not_live == [] and w.statuses == ["up"], venue


async def test_both_connections_cut_at_once_is_downtime_not_hidden() -> None:
    async with (
        Simulator(settings(["kucoin"])) as sim,
        feeds(sim, ["kucoin"], standby=True) as watched,
    ):
        w = watched["kucoin"]
        await until(lambda: ready(sim, watched), "books LIVE and a standby joinable")
        sim.maintenance("kucoin", notice_s=0.0, gap_s=0.0)  # every gateway at once
        await until(lambda: "down" in w.statuses, "the venue seen down")
        assert feed_of(w).stats.disconnects == 1
        await until(lambda: ready(sim, watched), "back, with a standby")


async def test_a_rotation_promotes_the_standby_and_opens_a_new_one() -> None:
    venues = ["coinbase", "gateio"]
    async with Simulator(settings(venues)) as sim, feeds(sim, venues, standby=True) as watched:
        await until(lambda: ready(sim, watched), "books LIVE and a standby joinable")
        before = {v: sorted(open_ids(sim, v)) for v in venues}
        resyncs = {v: feed_of(w).stats.resyncs for v, w in watched.items()}
        for w in watched.values():
            assert feed_of(w).rotate("test")
        await until(
            lambda: all(before[v][0] in closed(sim, v) for v in venues), "old live sockets closed"
        )
        await until(lambda: ready(sim, watched), "a new standby joinable")
        for venue, w in watched.items():
            feed = feed_of(w)
            assert closed(sim, venue)[before[venue][0]]["closed_by_server"] == ""  # ours
            assert before[venue][1] in open_ids(sim, venue)  # the standby is live now
            assert feed.stats.rotations == {"done": 1} and feed.stats.failovers == 0
            assert feed.stats.resyncs == resyncs[venue] and feed.stats.disconnects == 0
            assert w.gaps == 0 and w.not_live == [] and w.statuses == ["up"], venue
            assert w.regressed == 0, f"{venue}: a book taken back in time {w.regressed}x"


async def test_a_declared_halt_takes_the_venue_down_and_says_so() -> None:
    # A venue-wide halt (maintenance the venue declares: close code 1013, new connections
    # refused) is not a gateway restart: no standby can help, the books must leave LIVE, and
    # the VenueStatus says it was declared (the book service counts that time apart).
    async with (
        Simulator(settings(["kucoin"])) as sim,
        feeds(sim, ["kucoin"], standby=True) as watched,
    ):
        w = watched["kucoin"]
        await until(lambda: ready(sim, watched), "books LIVE and a standby joinable")
        done = sim.halt("kucoin", 1.0)
        assert len(done["connections"]) == 2
        await until(lambda: "down" in w.statuses, "the venue seen down")
        assert w.down_reasons[0] == DECLARED_MAINTENANCE
        assert sim.connections["kucoin"].closed_by["halt"] >= 2
        await until(lambda: ready(sim, watched), "back after the halt, with a standby")
        assert w.all_live() and w.gaps == 0
