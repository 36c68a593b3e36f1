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

import pytest
from arb_simulator.app import Simulator
from arb_venues import VENUE_NAMES, get_venue

from tests.integration.ingest.rotation_support import closed, feeds, open_ids, settings, until

pytestmark = pytest.mark.integration


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
