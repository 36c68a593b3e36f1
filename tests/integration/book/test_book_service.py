"""The book service in-process against a real Redis: md in, conflated views out, resyncs,
and a kill/restart that resumes from the checkpoint without serving a stale book."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis
from arb_book.app import main as book_main
from arb_book.config import BookSettings
from arb_runtime.service import serve
from arb_structs.codec import BOOK, CTL, MD
from arb_structs.constants import (
    PAYLOAD_FIELD,
    book_checkpoint_key,
    book_latest_key,
    book_stream,
    ctl_stream,
    instruments_key,
    md_stream,
)
from arb_structs.control import ResyncRequest
from arb_structs.market import (
    BookDelta,
    BookSnapshot,
    BookState,
    BookView,
    Level,
    MdEvent,
    VenueStatus,
)
from arb_venues import VENUE_NAMES

pytestmark = pytest.mark.integration

VENUE = VENUE_NAMES[0]  # a registered venue without a checksum


def _snap(symbol: str, seq: int, bids: list[Level], asks: list[Level]) -> BookSnapshot:
    now = time.time_ns()
    return BookSnapshot(venue=VENUE, symbol=symbol, seq=seq, bids=bids, asks=asks,
                        ts_event=now, ts_recv=now)  # fmt: skip


def _delta(symbol: str, prev: int, seq: int, bids: list[Level]) -> BookDelta:
    now = time.time_ns()
    return BookDelta(venue=VENUE, symbol=symbol, prev_seq=prev, seq=seq, bids=bids, asks=[],
                     ts_event=now, ts_recv=now)  # fmt: skip


async def _send(redis: aioredis.Redis, *events: MdEvent) -> bytes:
    last = b""
    for event in events:
        last = await redis.xadd(md_stream(VENUE), {PAYLOAD_FIELD: MD.encode(event)})
    return last


async def _latest(redis: aioredis.Redis, symbol: str) -> BookView | None:
    raw = await redis.hget(book_latest_key(VENUE), symbol)
    return BOOK.decode(raw) if raw else None


async def _views(redis: aioredis.Redis, start: bytes | str = "-") -> list[tuple[bytes, BookView]]:
    entries = await redis.xrange(book_stream(VENUE), min=start)
    return [(entry_id, BOOK.decode(fields[PAYLOAD_FIELD])) for entry_id, fields in entries]


async def _eventually(check: Callable[[], Awaitable[bool]], what: str, bound: float = 10) -> None:
    """Poll until ``check`` holds; the bound only keeps a broken build from hanging."""
    deadline = asyncio.get_running_loop().time() + bound
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def _service(redis_url: str, **overrides: object) -> AsyncIterator[asyncio.Task[None]]:
    """The book service's real entry (serve + app.main) as a task; cancelled on exit."""
    fields: dict[str, object] = dict(
        redis_url=redis_url, venues=[VENUE], block_ms=20, sweep_interval_seconds=0.05,
        resync_interval_seconds=60, instance="test-book",
    )  # fmt: skip
    fields.update(overrides)
    settings = BookSettings(**fields)  # type: ignore[arg-type]
    task = asyncio.create_task(serve("book", settings, book_main, asyncio.Event()))
    try:
        yield task
    finally:
        if not task.cancelling():  # a test that killed it already must not cancel twice
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _state_is(redis: aioredis.Redis, symbol: str, state: BookState, seq: int | None = None):
    async def check() -> bool:
        view = await _latest(redis, symbol)
        return view is not None and view.state is state and (seq is None or view.seq == seq)

    return check


async def _resyncs(redis: aioredis.Redis) -> list[str]:
    entries = await redis.xrange(ctl_stream(VENUE))
    requests = [CTL.decode(fields[PAYLOAD_FIELD]) for _, fields in entries]
    return [r.symbol for r in requests if isinstance(r, ResyncRequest)]  # not AuditRequests


async def test_events_in_conflated_views_out(redis: aioredis.Redis, redis_url: str) -> None:
    last = await _send(
        redis,
        _snap("BTC-USDT", 10, [(100.0, 1.0), (99.0, 2.0)], [(101.0, 1.0)]),
        _snap("ETH-USDT", 5, [(10.0, 1.0)], [(11.0, 1.0)]),
        _delta("BTC-USDT", 10, 11, [(100.5, 3.0)]),
        _delta("BTC-USDT", 11, 12, [(99.0, 0.0)]),
        _delta("BTC-USDT", 12, 13, [(100.6, 1.0)]),
    )
    async with _service(redis_url):
        await _eventually(_state_is(redis, "BTC-USDT", BookState.LIVE, 13), "BTC-USDT LIVE at 13")
        await _eventually(lambda: _checkpoint_is(redis, last), "checkpoint at the last md entry")
        view = await _latest(redis, "BTC-USDT")
        assert view is not None
        assert view.bids == [(100.6, 1.0), (100.5, 3.0), (100.0, 1.0)]
        assert view.asks == [(101.0, 1.0)]
        assert view.ts_book >= view.ts_read >= view.ts_recv > 0  # the stage stamps in order
        views = await _views(redis)
        # One read batch held all five events: one view per changed book, not one per delta.
        assert sorted((v.symbol, v.seq) for _, v in views) == [("BTC-USDT", 13), ("ETH-USDT", 5)]
        assert await _resyncs(redis) == []


async def _checkpoint_is(redis: aioredis.Redis, entry_id: bytes) -> bool:
    return await redis.get(book_checkpoint_key(VENUE)) == entry_id


async def test_gap_marks_book_suspect_requests_resync_and_recovers(
    redis: aioredis.Redis, redis_url: str
) -> None:
    await _send(
        redis,
        _snap("BTC-USDT", 10, [(100.0, 1.0)], [(101.0, 1.0)]),
        _snap("ETH-USDT", 5, [(10.0, 1.0)], [(11.0, 1.0)]),
    )
    async with _service(redis_url):
        await _eventually(_state_is(redis, "BTC-USDT", BookState.LIVE, 10), "LIVE at 10")
        await _send(redis, _delta("BTC-USDT", 12, 13, [(100.2, 1.0)]))  # 11..12 lost
        await _eventually(_state_is(redis, "BTC-USDT", BookState.SUSPECT), "SUSPECT after gap")
        view = await _latest(redis, "BTC-USDT")
        assert view is not None and "gap" in view.reason
        await _eventually(lambda: _has_resyncs(redis, 1), "a resync request")
        assert await _resyncs(redis) == ["BTC-USDT"]  # that symbol only
        request = CTL.decode((await redis.xrange(ctl_stream(VENUE)))[0][1][PAYLOAD_FIELD])
        assert request.venue == VENUE and "gap" in request.reason
        # Ingest answers with a snapshot at 12; the buffered delta 13 follows it.
        await _send(redis, _snap("BTC-USDT", 12, [(100.1, 1.0)], [(101.0, 1.0)]))
        await _eventually(_state_is(redis, "BTC-USDT", BookState.LIVE, 13), "LIVE again")
        view = await _latest(redis, "BTC-USDT")
        assert view is not None and view.bids == [(100.2, 1.0), (100.1, 1.0)]
        eth = await _latest(redis, "ETH-USDT")
        assert eth is not None and eth.state is BookState.LIVE
        assert await _resyncs(redis) == ["BTC-USDT"]  # rate limited: still one


async def _has_resyncs(redis: aioredis.Redis, count: int) -> bool:
    return len(await _resyncs(redis)) >= count


async def test_venue_down_halts_and_up_waits_for_a_snapshot(
    redis: aioredis.Redis, redis_url: str
) -> None:
    await _send(redis, _snap("BTC-USDT", 10, [(100.0, 1.0)], [(101.0, 1.0)]))
    async with _service(redis_url):
        await _eventually(_state_is(redis, "BTC-USDT", BookState.LIVE), "LIVE")
        await _send(redis, VenueStatus(venue=VENUE, status="down", reason="socket closed"))
        await _eventually(_state_is(redis, "BTC-USDT", BookState.HALTED), "HALTED")
        await _send(redis, VenueStatus(venue=VENUE, status="up"))
        await _eventually(_state_is(redis, "BTC-USDT", BookState.SYNCING), "SYNCING after up")
        await _send(redis, _snap("BTC-USDT", 20, [(100.0, 1.0)], [(101.0, 1.0)]))
        await _eventually(_state_is(redis, "BTC-USDT", BookState.LIVE, 20), "LIVE after snapshot")


async def test_malformed_entry_is_skipped_and_the_next_one_applied(
    redis: aioredis.Redis, redis_url: str
) -> None:
    await redis.xadd(md_stream(VENUE), {PAYLOAD_FIELD: b"\xc1 not msgpack"})
    await _send(redis, _snap("BTC-USDT", 10, [(100.0, 1.0)], [(101.0, 1.0)]))
    async with _service(redis_url):
        await _eventually(_state_is(redis, "BTC-USDT", BookState.LIVE, 10), "LIVE past junk")


async def test_a_book_the_first_read_makes_live_is_not_resynced_at_start(
    redis: aioredis.Redis, redis_url: str
) -> None:
    """Both books are known at start (their instruments are published); the stream holds a
    snapshot of one only. That one is LIVE from the stream and left alone (a resync would
    reset ingest's counter of a WS-snapshot venue's book and make its next delta a gap); the
    other is asked for a snapshot."""
    await redis.hset(instruments_key(VENUE), mapping={"BTC-USDT": b"-", "ETH-USDT": b"-"})
    await _send(
        redis,
        _snap("BTC-USDT", 10, [(100.0, 1.0)], [(101.0, 1.0)]),
        _delta("BTC-USDT", 10, 11, [(100.1, 1.0)]),
    )
    async with _service(redis_url):
        await _eventually(lambda: _has_resyncs(redis, 1), "a resync request for ETH-USDT")
        await _eventually(_state_is(redis, "BTC-USDT", BookState.LIVE, 11), "BTC-USDT LIVE")
        await asyncio.sleep(0.2)  # a few more reads: nothing more is asked
        assert await _resyncs(redis) == ["ETH-USDT"]


async def test_restart_resumes_from_checkpoint_and_serves_no_stale_book(
    redis: aioredis.Redis, redis_url: str
) -> None:
    await _send(
        redis,
        _snap("BTC-USDT", 10, [(100.0, 1.0)], [(101.0, 1.0)]),
        _delta("BTC-USDT", 10, 11, [(100.1, 1.0)]),
    )
    async with _service(redis_url) as task:
        await _eventually(_state_is(redis, "BTC-USDT", BookState.LIVE, 11), "LIVE at 11")
        task.cancel()  # killed
    checkpoint = await redis.get(book_checkpoint_key(VENUE))
    assert checkpoint is not None

    # While the service is down the market moves on: deltas 12, 13 reach the md stream.
    await _send(
        redis,
        _delta("BTC-USDT", 11, 12, [(100.2, 1.0)]),
        _delta("BTC-USDT", 12, 13, [(100.3, 1.0)]),
    )
    restart_mark = (await redis.xrevrange(book_stream(VENUE), count=1))[0][0]
    async with _service(redis_url):
        # Every book it knew is SYNCING again, and a resync is requested for it.
        await _eventually(lambda: _has_resyncs(redis, 1), "resync request on restart")
        assert await _resyncs(redis) == ["BTC-USDT"]
        view = await _latest(redis, "BTC-USDT")
        assert view is not None and view.state is not BookState.LIVE
        # Ingest answers with a snapshot at 12: only delta 13, read from the checkpoint
        # onwards and buffered, brings the book to the truth.
        await _send(redis, _snap("BTC-USDT", 12, [(100.2, 1.0), (100.0, 1.0)], [(101.0, 1.0)]))
        await _eventually(_state_is(redis, "BTC-USDT", BookState.LIVE, 13), "LIVE at 13")
        view = await _latest(redis, "BTC-USDT")
        assert view is not None
        assert view.bids == [(100.3, 1.0), (100.2, 1.0), (100.0, 1.0)]
    after_restart = [v for entry_id, v in await _views(redis) if entry_id > restart_mark]
    first_live = next(i for i, v in enumerate(after_restart) if v.state is BookState.LIVE)
    assert first_live > 0  # something was published before it: SYNCING, never LIVE
    assert all(v.state is not BookState.LIVE for v in after_restart[:first_live])
    assert after_restart[first_live].seq == 13


async def test_stale_book_is_marked_suspect_and_resynced(
    redis: aioredis.Redis, redis_url: str
) -> None:
    old = time.time_ns() - 60 * 1_000_000_000  # received a minute ago, nothing since
    await _send(
        redis,
        BookSnapshot(venue=VENUE, symbol="BTC-USDT", seq=1, bids=[(1.0, 1.0)],
                     asks=[(2.0, 1.0)], ts_event=old, ts_recv=old),
    )  # fmt: skip
    async with _service(redis_url, stale_after_seconds=30):
        await _eventually(_state_is(redis, "BTC-USDT", BookState.SUSPECT), "SUSPECT (stale)")
        view = await _latest(redis, "BTC-USDT")
        assert view is not None and view.reason.startswith("stale")
        await _eventually(lambda: _has_resyncs(redis, 1), "a resync request")
        await _send(redis, _snap("BTC-USDT", 2, [(1.0, 1.0)], [(2.0, 1.0)]))
        await _eventually(_state_is(redis, "BTC-USDT", BookState.LIVE, 2), "LIVE when fresh")
