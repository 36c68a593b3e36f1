"""The market-data connection loop every venue runs on; the venue supplies a MarketDataProtocol.

connect -> staged subscribe -> read frames -> parser -> emit(events), with
- an application heartbeat where the venue wants one, and an idle timeout (no frame = dead);
- reconnect with capped exponential backoff and full jitter (a fleet restarting together
  does not reconnect in lockstep);
- REST snapshots through a paced queue: a reconnect of 200 symbols acquires the venue's
  snapshot budget 200 times instead of bursting 200 calls;
- per-symbol resync (a REST snapshot, or a re-subscribe where the WS sends snapshots), and
  a resync of every book (RESYNC_ALL, "*") that is paced the same way: snapshots by the
  snapshot budget, re-subscribes one message per ``subscribe_interval_s``;
- a malformed frame is counted and logged once per kind; it never drops the connection;
- an optional wire tap sees every connect, sent message, received frame and REST snapshot
  body exactly as the parser gets them (``arb record`` writes them to a capture file);
- audit snapshots (``request_audit``, asked for by the book service): a REST depth call per
  request through their own budget and the venue's REST budget, published as an
  AuditSnapshot; never while resync snapshots wait (a resync always goes first);
- make-before-break rotation (``rotate``: a lifetime, a reconnect notice, ``arb ctl rotate``)
  and, with ``standby``, a hot standby connection (A/B feeds): a second connection kept
  subscribed and joinable (rotation.py's ``Standby``) that takes over without a resync when
  the live one is cut without warning, and that a rotation simply promotes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from arb_core.backoff import Backoff  # the project's one backoff (stdlib only)
from arb_core.redact import redact
from arb_core.tasks import stop_task
from arb_structs import (
    BookDelta,
    BookSnapshot,
    Instrument,
    MdEvent,
    MdMessage,
    VenueStatus,
    VenueSymbol,
)
from arb_structs.constants import DECLARED_MAINTENANCE, RESYNC_ALL

from arb_venues.base import FeedParser, MarketDataProtocol
from arb_venues.common import metrics
from arb_venues.common.ratelimit import BucketLimit, RateLimiter, TokenBucket
from arb_venues.common.rest import RestClient
from arb_venues.common.rotation import Join, Standby, shift
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import MalformedFrame, RateLimited, VenueError

log = logging.getLogger("arb.ingest.feed")

Emit = Callable[[MdMessage], None]
# (record type, url, raw): "connect" | "send" | "recv" | "http_response", as in a capture file.
WireTap = Callable[[str, str, str | bytes], None]


# The share of a connection's documented lifetime after which it is replaced (make before
# break): early enough that a slow join still ends well before the venue cuts it.
ROTATE_AT = 0.9
# How long a rotation waits for the new connection to join every book before it switches
# the rest anyway (and resyncs them).
JOIN_TIMEOUT_S = 15.0
# How many times per idle timeout the idle watch looks whether a message came.
IDLE_LOOKS = 4


@dataclass
class FeedStats:
    frames: int = 0
    events: int = 0
    connects: int = 0
    disconnects: int = 0
    snapshots_ok: int = 0
    snapshots_failed: int = 0
    resyncs: int = 0
    audits: dict[str, int] = field(default_factory=dict)  # outcome -> requests
    bad_frames: dict[str, int] = field(default_factory=dict)
    # Make-before-break: rotations by outcome ("done", "forced": some book resynced,
    # "failed": the new connection never joined), and reconnect notices the venue sent.
    rotations: dict[str, int] = field(default_factory=dict)
    notices: int = 0
    # Hot standby: standby connections opened, and live connections lost that the standby
    # took over (no reconnect: the books stayed LIVE; a book it could not keep is resynced).
    standbys: int = 0
    failovers: int = 0


@dataclass(eq=False)
class _Connection:
    """One open WS of the feed, with what belongs to it alone."""

    ws: aiohttp.ClientWebSocketResponse
    url: str  # as shown (redacted): what logs and the wire tap see
    parser: FeedParser
    opened: float  # loop time
    resubscribe_queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    resubscribe_pending: set[str] = field(default_factory=set)
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_control_send: float = 0.0
    got_data: bool = False
    frames: int = 0  # messages received: the idle watch sees whether it moved
    idle: bool = False  # the idle watch closed it: no frame for the venue's idle timeout
    declared_down: bool = False  # the server closed it for declared maintenance (1013)
    successor: _Connection | None = None  # the connection that replaced it (a rotation)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    serving: asyncio.Task[None] | None = None


@dataclass(eq=False)
class _Rotation:
    conn: _Connection
    join: Join
    reason: str
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class MarketDataFeed:
    """The WS connection of one venue for a set of instruments, replaced make-before-break
    before its lifetime ends, on a venue's reconnect notice, or on request (``rotate``)."""

    def __init__(
        self,
        protocol: MarketDataProtocol,
        instruments: list[Instrument],
        emit: Emit,
        *,
        rest: RestClient | None = None,
        snapshot_budget: BucketLimit = BucketLimit(5, 5),
        audit_budget: BucketLimit = BucketLimit(1, 1),
        backoff: Backoff = Backoff(),
        session: aiohttp.ClientSession | None = None,
        tap: WireTap | None = None,
        lifetime_s: float | None = None,
        join_timeout_s: float = JOIN_TIMEOUT_S,
        standby: bool = False,
    ) -> None:
        if not instruments:
            raise ValueError(f"{protocol.venue}: a feed needs at least one instrument")
        if lifetime_s is not None and lifetime_s <= 0:
            raise ValueError(f"{protocol.venue}: connection lifetime {lifetime_s}s must be > 0")
        self.protocol = protocol
        self.venue = protocol.venue
        self.instruments = {i.symbol: i for i in instruments}
        self.by_venue_symbol = {i.venue_symbol: i for i in instruments}
        # The parser of the live connection (a rotation brings its own, then it is this one).
        self.parser: FeedParser = protocol.make_parser(SymbolMap(instruments))
        self.tap = tap
        # Only venues that compress their frames pay for the decode call (the hot path).
        own_decode = type(protocol).decode_frame is not MarketDataProtocol.decode_frame
        self._decode = protocol.decode_frame if own_decode else None
        self._reply_tasks: set[asyncio.Task[None]] = set()
        self.emit = emit
        # The venue's published REST budgets (weights, per-endpoint buckets) pace every call
        # of a client the feed builds itself; a caller's client brings its own limiter.
        self.rest = rest or RestClient(
            self.venue, protocol.endpoints.rest_url, limiter=RateLimiter(protocol.rest_limits),
            error_mapper=protocol.error_mapper(),
        )  # fmt: skip
        self.snapshot_bucket = TokenBucket(snapshot_budget)
        self.audit_bucket = TokenBucket(audit_budget)
        self._audit_queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
        self._audit_pending: set[str] = set()
        self.backoff = backoff
        self.stats = FeedStats()
        metrics.FEED_COUNTERS.track(self.venue, self.stats)  # /metrics reads its counts
        self.connected = asyncio.Event()
        self.lifetime_s = lifetime_s
        self.join_timeout_s = join_timeout_s
        self.standby = standby
        self._by_sequence = protocol.rotation_join() == "sequence"
        self._standby_needed = asyncio.Event()
        self._session = session
        self._own_session = session is None
        self._live: _Connection | None = None
        self._stopping = asyncio.Event()  # run()'s
        self._rotation: _Rotation | None = None
        self._rotation_task: asyncio.Task[bool] | None = None
        self._next_rotation_try = 0.0
        # The seq of the last snapshot/delta emitted per symbol (what the book holds), and
        # the renumbering of the live parser's books ("snapshot" joins, see rotation.py).
        self._last_seq: dict[str, int] = {}
        self._offsets: dict[str, int] = {}
        self._snapshot_queue: asyncio.Queue[str] = asyncio.Queue()
        self._snapshot_pending: set[str] = set()
        self._logged_kinds: set[str] = set()
        self._background: set[asyncio.Future[Any]] = set()

    @property
    def _ws(self) -> aiohttp.ClientWebSocketResponse | None:
        return self._live.ws if self._live is not None else None

    @property
    def _rest_parser(self) -> FeedParser:
        """What fetch_snapshot parses REST bodies with: the live parser, seen by the tap."""
        return self.parser if self.tap is None else _TappedParser(self.parser, self.tap)

    # -- public -----------------------------------------------------------------------------

    async def run(self, stopping: asyncio.Event) -> None:
        """Keep the connection up until ``stopping`` is set."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        self._stopping = stopping
        workers: list[asyncio.Task[Any]] = [
            asyncio.create_task(self._snapshot_worker(), name=f"{self.venue}-snap"),
            asyncio.create_task(self._audit_worker(), name=f"{self.venue}-audit"),
        ]
        if self.lifetime_s is not None:
            workers.append(asyncio.create_task(self._lifetime_watch(), name=f"{self.venue}-life"))
        if self.standby:
            workers.append(asyncio.create_task(self._keep_standby(), name=f"{self.venue}-standby"))
        attempt = 0
        try:
            while not stopping.is_set():
                got_data = await self._connect_once(stopping)
                if stopping.is_set():
                    break
                attempt = 0 if got_data else attempt + 1
                delay = self.backoff.delay(attempt)
                log.warning("%s: connection lost; reconnecting in %.2fs", self.venue, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), delay)
        finally:
            try:  # every worker in one wait: shutdown takes no longer than with one
                for task in workers[1:]:
                    task.cancel()
                if self._rotation_task is not None:
                    self._rotation_task.cancel()
                    workers.append(self._rotation_task)
                await stop_task(workers[0])
                await asyncio.gather(*workers[1:], return_exceptions=True)
            finally:  # a second cancellation while the workers stop must not leak sockets
                if self._own_session and self._session is not None:
                    await self._session.close()
                await self.rest.close()

    def request_resync(self, symbol: str, reason: str = "") -> bool:
        """Resync one book, or every book for RESYNC_ALL ("*"); False when the symbol is not
        on this feed. Never bursts: snapshots wait for the snapshot budget, re-subscribes go
        out one message per ``subscribe_interval_s``."""
        if symbol == RESYNC_ALL:
            targets = list(self.instruments)
        elif symbol in self.instruments:
            targets = [symbol]
        else:
            return False
        self.stats.resyncs += len(targets)
        metrics.FEED_RESYNCS.labels(self.venue).inc(len(targets))
        log.info("%s %s: resync (%s)", self.venue,
                 symbol if len(targets) == 1 else f"all {len(targets)} books",
                 reason or "requested")  # fmt: skip
        for name in targets:
            if self.protocol.snapshot_source == "rest":
                # The parser must take the coming snapshot even if its own view of the book
                # is unbroken (the book may have failed a checksum, gone stale, crossed).
                venue_symbol = self.instruments[name].venue_symbol
                self.parser.reset(venue_symbol)
                if self._rotation is not None and not isinstance(self._rotation.join, Standby):
                    # A standby's chain is its own: it stays joinable at the snapshot's seq.
                    self._rotation.conn.parser.reset(venue_symbol)
                self._queue_snapshot(name)
            else:
                self._queue_resubscribe(name)
        return True

    def request_audit(self, symbol: str, levels: int) -> bool:
        """Fetch an audit snapshot of one book (``levels`` will be compared) and publish it;
        False when it is not done: the adapter has no audit, the symbol is not on this feed,
        or resync snapshots are waiting (they go first; the book service asks again later)."""
        if not self.protocol.audit_mode() or symbol not in self.instruments:
            self._count_audit("unsupported")
            return False
        if self._snapshot_pending:
            self._count_audit("busy")
            return False
        if symbol not in self._audit_pending:
            self._audit_pending.add(symbol)
            self._audit_queue.put_nowait((symbol, levels))
        return True

    def rotate(self, reason: str = "requested") -> bool:
        """Replace the live connection make-before-break (``arb ctl rotate``, a lifetime, a
        venue's notice); False when there is no live connection or a rotation is under way.
        With a hot standby ready, the standby is promoted at once (and a new one opened)."""
        if self._live is None or self._rotation_task is not None:
            return False
        rotation = self._rotation
        if rotation is not None and isinstance(rotation.join, Standby):
            if not rotation.join.ready or rotation.conn.ws.closed:
                return False  # not joinable yet: the caller tries again
            log.info("%s: rotating the connection (%s) to the standby", self.venue, reason)
            rotation.reason = reason
            self._promote(lost=False)
            return True
        task = asyncio.get_running_loop().create_task(self._rotate(reason))
        self._rotation_task = task
        task.add_done_callback(self._rotation_ended)
        return True

    @property
    def rotating(self) -> bool:
        return self._rotation_task is not None

    @property
    def standby_ready(self) -> bool:
        """A hot standby is open and would take over every book without a resync now."""
        rotation = self._rotation
        return (
            rotation is not None and isinstance(rotation.join, Standby)
            and not rotation.conn.ws.closed and rotation.join.ready
        )  # fmt: skip

    def connection_age_s(self) -> float | None:
        """Seconds since the live connection opened; None without one."""
        if self._live is None:
            return None
        return asyncio.get_running_loop().time() - self._live.opened

    def drop_connection(self) -> None:
        """Close the WS now (tests and the simulator's fault drills use it)."""
        if self._ws is not None and not self._ws.closed:
            self._close_later(self._ws)

    # -- connection ---------------------------------------------------------------------------

    async def _open(self, parser: FeedParser, stopping: asyncio.Event, *, rotation: bool
                    ) -> _Connection | None:  # fmt: skip
        """A new connection, subscribed and read by its own task; None when it cannot open."""
        assert self._session is not None
        instruments = list(self.instruments.values())
        try:
            url = await self.protocol.connect_url(self.rest, instruments)
        except VenueError as exc:  # e.g. KuCoin's token call refused or rate limited
            log.warning("%s: cannot get a connection URL: %s", self.venue, exc)
            return None
        shown = redact(url)  # a connection token in the URL (KuCoin's) never reaches logs
        try:
            # autoping off: _serve answers a venue's pings itself, and so counts them as
            # messages for the idle watch (a venue's pings keep a quiet connection).
            ws = await self._session.ws_connect(url, autoping=False, max_msg_size=0,
                                                heartbeat=None)  # fmt: skip
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("%s: cannot connect to %s: %s", self.venue, shown, redact(str(exc)))
            return None
        if self.tap is not None:
            self.tap("connect", shown, "")
        self.stats.connects += 1
        metrics.FEED_CONNECTS.labels(self.venue).inc()
        parser.reset(None)
        parser.use_url(url)
        conn = _Connection(ws, shown, parser, asyncio.get_running_loop().time())
        conn.tasks.append(asyncio.create_task(self._subscribe(conn, instruments, rotation)))
        if self.protocol.snapshot_source == "ws":
            conn.tasks.append(asyncio.create_task(self._resubscriber(conn)))
        if self.protocol.heartbeat_interval():
            conn.tasks.append(asyncio.create_task(self._heartbeat(conn)))
        conn.tasks.append(asyncio.create_task(self._close_on_stop(ws, stopping)))
        conn.tasks.append(asyncio.create_task(self._idle_watch(conn)))
        return conn

    async def _connect_once(self, stopping: asyncio.Event) -> bool:
        """One connection and the ones that replace it by rotation, until the last is lost.
        Whether any of them received data."""
        conn = await self._open(self.parser, stopping, rotation=False)
        if conn is None:
            return False
        self._live = conn
        self._last_seq.clear()  # the venue was down: every book starts from a snapshot
        self._standby_needed.set()
        metrics.FEED_CONNECTED.labels(self.venue).set(1)
        self.emit(VenueStatus(venue=self.venue, status="up", ts_recv=time.time_ns()))
        self.connected.set()
        got_data = False
        last = conn
        try:
            current: _Connection | None = conn
            while current is not None:
                if current.serving is None:
                    await self._serve(current, stopping)
                else:  # a successor: its own task has read it since the rotation opened it
                    await current.serving
                got_data = got_data or current.got_data
                last = current
                if stopping.is_set():
                    break
                if current.successor is None and self._rotation is not None:
                    # The old connection died while its successor was joining, or with a
                    # standby by: take the successor now (the books it could not join yet
                    # are resynced).
                    self._promote(lost=True)
                current = current.successor
        finally:
            self._live = None
            if self._rotation_task is not None:
                self._rotation_task.cancel()
            self.connected.clear()
            self.stats.disconnects += 1
            metrics.FEED_DISCONNECTS.labels(self.venue).inc()
            metrics.FEED_CONNECTED.labels(self.venue).set(0)
            # A venue that closed for declared maintenance says so: the book service counts
            # that downtime apart (it is still downtime: the books are not LIVE).
            reason = DECLARED_MAINTENANCE if last.declared_down else "disconnected"
            self.emit(VenueStatus(venue=self.venue, status="down", reason=reason,
                                  ts_recv=time.time_ns()))  # fmt: skip
        return got_data

    async def _serve(self, conn: _Connection, stopping: asyncio.Event) -> None:
        """Read one connection until it closes. One awaited receive per frame, no task, wait
        or timer set per frame (that costs more CPU than parsing): stopping closes the
        socket, which wakes the pending receive, and so does the idle watch."""
        ws = conn.ws
        # aiohttp's queue of the frames it has read and not yet handed out (``_buffer``, public
        # in its compiled reader too); without it, yield after every frame.
        queued = getattr(getattr(ws, "_reader", None), "_buffer", None)
        try:
            while True:
                message = await ws.receive()
                conn.frames += 1
                if stopping.is_set() or conn.idle:
                    break  # what arrives while the socket closes is not processed
                if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    conn.got_data = True
                    self._on_frame(conn, message.data)
                    # Let the producer's writer put this frame on the wire now instead of
                    # after the rest of a burst: what arrives meanwhile forms the next batch.
                    # With no frame queued behind this one the next receive waits, and the
                    # writer runs then: a yield would cost a turn of the loop for nothing.
                    if queued is None or queued:
                        await asyncio.sleep(0)
                elif message.type is aiohttp.WSMsgType.PING:
                    await ws.pong(message.data)
                elif message.type in (
                    aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING,
                    aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR,
                ):  # fmt: skip
                    code = message.data if message.type is aiohttp.WSMsgType.CLOSE else None
                    conn.declared_down = code == aiohttp.WSCloseCode.TRY_AGAIN_LATER
                    break
        finally:
            for task in conn.tasks:
                task.cancel()
            await asyncio.gather(*conn.tasks, return_exceptions=True)
            await ws.close()
            rotation = self._rotation
            if rotation is not None and rotation.conn is conn:
                rotation.changed.set()  # the joining connection is gone: the rotation fails

    # -- rotation -----------------------------------------------------------------------------

    async def _lifetime_watch(self) -> None:
        """Rotate the live connection once it has lived ROTATE_AT of its lifetime."""
        assert self.lifetime_s is not None
        due_after = self.lifetime_s * ROTATE_AT
        tick = min(1.0, max(0.05, self.lifetime_s / 50))
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(tick)
            live = self._live
            now = loop.time()
            if live is None or self._rotation_task is not None or now < self._next_rotation_try:
                continue
            if now - live.opened >= due_after:
                self._next_rotation_try = now + max(tick, self.lifetime_s * 0.02)
                self.rotate(f"connection lifetime ({self.lifetime_s:g}s)")

    async def _rotate(self, reason: str) -> bool:
        """Open the successor, join its books, switch, close the old socket. True when done."""
        assert self._session is not None
        live = self._live
        assert live is not None
        log.info("%s: rotating the connection (%s)", self.venue, reason)
        stopping = self._stopping
        parser = self.protocol.make_parser(SymbolMap(list(self.instruments.values())))
        conn = await self._open(parser, stopping, rotation=True)
        if conn is None or self._live is not live:
            if conn is not None:
                await self._discard(conn)
            self._count_rotation("failed")
            return False
        rotation = _Rotation(conn, Join(self.instruments, self.protocol.rotation_join(),
                                        self._last_seq), reason)  # fmt: skip
        self._rotation = rotation
        conn.serving = asyncio.create_task(self._serve(conn, stopping), name=f"{self.venue}-next")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.join_timeout_s
        try:
            while not rotation.join.done:
                if conn.serving.done() or self._live is not live:
                    raise ConnectionError("the new connection closed before it joined")
                rotation.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(rotation.changed.wait(), deadline - loop.time())
                if loop.time() >= deadline and not rotation.join.done:
                    self._emit_book(rotation.join.force())
        except (ConnectionError, asyncio.CancelledError) as exc:
            if self._rotation is rotation:
                self._rotation = None
                await conn.ws.close()
                await asyncio.gather(conn.serving, return_exceptions=True)
                self._count_rotation("failed")
                log.warning("%s: rotation failed (%s); the old connection stays", self.venue,
                            exc or "cancelled")  # fmt: skip
            if isinstance(exc, asyncio.CancelledError):
                raise
            return False
        if self._rotation is rotation:
            self._promote(lost=False)
        return True

    def _promote(self, *, lost: bool) -> None:
        """The joining connection (or the standby) becomes the live one; the old socket is
        closed. ``lost``: the old one was cut (a failover where a standby took over)."""
        rotation = self._rotation
        old = self._live
        assert rotation is not None and old is not None
        join = rotation.join
        standby = isinstance(join, Standby)
        forced = lost and not standby
        if not join.done:
            if isinstance(join, Standby):
                self._emit_book(join.release())
            else:
                self._emit_book(join.force())
                forced = True
        self._rotation = None
        rotation.changed.set()
        new = rotation.conn
        self.parser = new.parser
        self._offsets = join.offsets
        old.successor = new
        self._live = new
        if standby and lost:
            self.stats.failovers += 1
            metrics.FEED_FAILOVERS.labels(self.venue).inc()
            log.warning("%s: the live connection was cut; the standby took over (%d of %d "
                        "books kept)", self.venue, len(self.instruments) - len(join.forced),
                        len(self.instruments))  # fmt: skip
        else:
            outcome = "forced" if forced or join.forced else "done"
            self._count_rotation(outcome)
            log.info("%s: rotated (%s): %s; %d held events already in the books", self.venue,
                     rotation.reason, outcome, join.dropped)  # fmt: skip
        for symbol in join.forced:
            self.request_resync(symbol, "the new connection could not join this book")
        if not old.ws.closed:
            self._close_later(old.ws)
        self._standby_needed.set()

    async def _keep_standby(self) -> None:
        """Keep a hot standby next to the live connection: open one whenever there is a live
        connection and neither a standby nor a rotation (at start, after a take-over, after
        the standby was cut), backing off while it cannot open."""
        attempt = 0
        while True:
            await self._standby_needed.wait()
            self._standby_needed.clear()
            live = self._live
            if live is None or self._rotation is not None or self._rotation_task is not None:
                continue  # no live one yet, or a rotation's connection is on its way
            parser = self.protocol.make_parser(SymbolMap(list(self.instruments.values())))
            conn = await self._open(parser, self._stopping, rotation=True)
            if conn is None or self._live is not live or self._rotation is not None:
                if conn is not None:
                    await self._discard(conn)
                attempt += 1
                await asyncio.sleep(self.backoff.delay(attempt))
                self._standby_needed.set()
                continue
            attempt = 0
            join = Standby(self.instruments, self.protocol.rotation_join(), self._last_seq)
            rotation = _Rotation(conn, join, "hot standby")
            self._rotation = rotation
            self.stats.standbys += 1
            conn.serving = asyncio.create_task(self._serve(conn, self._stopping),
                                               name=f"{self.venue}-standby-conn")  # fmt: skip
            conn.serving.add_done_callback(functools.partial(self._standby_ended, rotation))

    @staticmethod
    async def _discard(conn: _Connection) -> None:
        """Close a connection that was opened but never served (its tasks with it)."""
        for task in conn.tasks:
            task.cancel()
        await asyncio.gather(*conn.tasks, return_exceptions=True)
        await conn.ws.close()

    def _standby_ended(self, rotation: _Rotation, _task: object = None) -> None:
        """The standby's connection closed before it took over: open another."""
        if self._rotation is rotation:
            self._rotation = None
            self._standby_needed.set()

    def _rotation_ended(self, task: asyncio.Task[bool]) -> None:
        if self._rotation_task is task:
            self._rotation_task = None
        if self.standby:  # the keeper waits while a rotation runs: its turn now
            self._standby_needed.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: rotation error: %r", self.venue, task.exception())

    def _count_rotation(self, outcome: str) -> None:
        self.stats.rotations[outcome] = self.stats.rotations.get(outcome, 0) + 1
        metrics.FEED_ROTATIONS.labels(self.venue, outcome).inc()

    def _close_later(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        task = asyncio.ensure_future(ws.close())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- sending --------------------------------------------------------------------------

    async def _subscribe(self, conn: _Connection, instruments: list[Instrument], rotation: bool
                         ) -> None:  # fmt: skip
        if self.protocol.connect_delay_s > 0:
            await asyncio.sleep(self.protocol.connect_delay_s)
        for message in self.protocol.connect_messages(instruments):
            await self._send_paced(conn, message)
        for message in self.protocol.subscribe_messages(instruments):
            await self._send_paced(conn, message)
        if self.protocol.snapshot_source == "rest" and not rotation:
            # A rotation needs none: its diffs join the live books by sequence.
            for symbol in self.instruments:
                self._queue_snapshot(symbol)

    async def _idle_watch(self, conn: _Connection) -> None:
        """Close the connection once no message came for the venue's idle timeout (the feed
        then reconnects). It looks a few times per timeout whether the count of messages
        moved, so a silent connection is closed within 1.25 timeouts."""
        timeout = self.protocol.idle_timeout_s
        loop = asyncio.get_running_loop()
        seen, since = conn.frames, loop.time()
        while not conn.ws.closed:
            await asyncio.sleep(timeout / IDLE_LOOKS)
            if conn.frames != seen:
                seen, since = conn.frames, loop.time()
            elif loop.time() - since >= timeout:
                log.warning("%s: no frame for %gs; reconnecting", self.venue, timeout)
                conn.idle = True
                await conn.ws.close()
                return

    @staticmethod
    async def _close_on_stop(ws: aiohttp.ClientWebSocketResponse, stopping: asyncio.Event
                             ) -> None:  # fmt: skip
        await stopping.wait()
        await ws.close()

    async def _heartbeat(self, conn: _Connection) -> None:
        interval = self.protocol.heartbeat_interval()
        assert interval
        while not conn.ws.closed:
            await asyncio.sleep(interval)
            message = self.protocol.heartbeat_message()
            if message is not None:
                await self._send(conn, message)

    async def _send(self, conn: _Connection, message: str) -> None:
        if self.tap is not None:
            self.tap("send", conn.url, message)
        await conn.ws.send_str(message)

    async def _send_paced(self, conn: _Connection, message: str) -> None:
        """Subscribe-type messages: at most one per ``subscribe_interval_s`` per connection
        (the venue's message-rate limit), whoever sends them."""
        loop = asyncio.get_running_loop()
        async with conn.send_lock:
            wait = conn.next_control_send - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            await self._send(conn, message)
            conn.next_control_send = loop.time() + self.protocol.subscribe_interval_s

    def _queue_resubscribe(self, symbol: str) -> None:
        conn = self._live
        rotation = self._rotation
        if rotation is not None and rotation.join.switched(symbol):
            conn = rotation.conn  # that book comes from the new connection now
        if conn is None or conn.ws.closed:
            return  # the next connection subscribes every book afresh
        if symbol not in conn.resubscribe_pending:
            conn.resubscribe_pending.add(symbol)
            conn.resubscribe_queue.put_nowait(symbol)

    async def _resubscriber(self, conn: _Connection) -> None:
        """Re-subscribes one book at a time on this connection (ends with it)."""
        while True:
            symbol = await conn.resubscribe_queue.get()
            conn.resubscribe_pending.discard(symbol)
            instrument = self.instruments[symbol]
            conn.parser.reset(instrument.venue_symbol)
            for message in self.protocol.resubscribe_messages(instrument):
                await self._send_paced(conn, message)

    # -- frames -------------------------------------------------------------------------------

    def _on_frame(self, conn: _Connection, data: str | bytes) -> None:
        if self._decode is not None:
            try:
                data = self._decode(data)
            except MalformedFrame as exc:
                self._bad_frame(exc.kind, str(exc), data)
                return
        if self.tap is not None:
            self.tap("recv", conn.url, data)
        self.stats.frames += 1
        parser = conn.parser
        try:
            events = parser.parse_ws(data, time.time_ns())
        except MalformedFrame as exc:
            # A refused book frame flags its book (resync_needed): resync it below.
            self._bad_frame(exc.kind, str(exc), data)
            events = []
        except (ValueError, KeyError, IndexError, TypeError) as exc:  # a parser bug: survive it
            self._bad_frame("parser_error", f"{type(exc).__name__}: {exc}", data)
            events = []
        live = conn is self._live
        rotation = self._rotation
        if events:
            if live:
                self._emit_live(events)
            elif rotation is not None and rotation.conn is conn:
                self._emit_joining(rotation, events)
            # else: a retired connection's last frames; its successor has these books
        if parser.replies:
            replies, parser.replies = parser.replies, []
            self._reply(conn, replies)
        if parser.reconnect_notice:
            parser.reconnect_notice = False
            self.stats.notices += 1
            metrics.FEED_NOTICES.labels(self.venue).inc()
            if live:
                log.info("%s: the venue asks to reconnect; rotating", self.venue)
                self.rotate("the venue's reconnect notice")
        if parser.resync_needed:
            names, parser.resync_needed = parser.resync_needed, set()
            targets = (
                list(self.instruments)
                if RESYNC_ALL in names
                else [
                    self.by_venue_symbol[VenueSymbol(n)].symbol
                    for n in names
                    if VenueSymbol(n) in self.by_venue_symbol
                ]
            )
            if live:
                if RESYNC_ALL in names:
                    targets = [RESYNC_ALL]
                for symbol in targets:
                    self.request_resync(symbol, "feed continuity lost or a refused book frame")
            elif rotation is not None and rotation.conn is conn:
                self._rejoin(rotation, targets)

    def _rejoin(self, rotation: _Rotation, symbols: list[str]) -> None:
        """The joining connection lost (or, like HTX after a subscribe, never had) the
        continuity of these books: a book it already feeds is resynced like any live one;
        one still waiting starts its chain again, from a fresh snapshot on this connection
        where the venue's snapshots come from the WS."""
        for symbol in symbols:
            if rotation.join.switched(symbol):
                self.request_resync(symbol, "feed continuity lost or a refused book frame")
                continue
            rotation.join.restart(symbol)
            if self.protocol.snapshot_source == "ws" and symbol not in (
                pending := rotation.conn.resubscribe_pending
            ):
                pending.add(symbol)
                rotation.conn.resubscribe_queue.put_nowait(symbol)

    def _emit_live(self, events: list[MdEvent]) -> None:
        """The live connection's events (the hot path)."""
        self.stats.events += len(events)
        rotation = self._rotation
        if rotation is None and not self._offsets:
            emit, last = self.emit, self._last_seq
            for event in events:
                emit(event)
                if not isinstance(event, VenueStatus):
                    last[event.symbol] = event.seq
            return
        offsets, last, by_sequence = self._offsets, self._last_seq, self._by_sequence
        for event in events:
            if isinstance(event, VenueStatus):
                self.emit(event)
                continue
            symbol = event.symbol
            if rotation is not None and rotation.join.switched(symbol):
                continue  # the new connection feeds this book now
            if by_sequence and type(event) is BookDelta and event.seq <= last.get(symbol, -1):
                continue  # a promoted standby that was a little behind: the book has this one
            self._emit_book([shift(event, offsets.get(symbol, 0))])
            if rotation is not None:
                ready = rotation.join.advance(symbol)
                if ready:
                    self._emit_book(ready)
                    rotation.changed.set()

    def _emit_joining(self, rotation: _Rotation, events: list[MdEvent]) -> None:
        """The joining connection's events: held until their book switches."""
        join = rotation.join
        for event in events:
            if isinstance(event, VenueStatus):
                continue  # the live connection speaks for the venue until the switch
            was_waiting = not join.switched(event.symbol)
            ready = join.offer(event)
            if ready:
                self.stats.events += len(ready)
                self._emit_book(ready)
            if was_waiting and join.switched(event.symbol):
                rotation.changed.set()

    def _emit_book(self, events: list[MdEvent]) -> None:
        last = self._last_seq
        for event in events:
            self.emit(event)
            if not isinstance(event, VenueStatus):
                last[event.symbol] = event.seq

    def _reply(self, conn: _Connection, messages: list[str]) -> None:
        """Send what the parser answers to a frame, on the connection it came on."""
        if conn.ws.closed:
            return  # the connection is gone: so is what the answer was for

        async def send() -> None:
            for message in messages:
                await self._send(conn, message)

        task = asyncio.get_running_loop().create_task(send())
        self._reply_tasks.add(task)
        task.add_done_callback(self._reply_tasks.discard)

    def _bad_frame(self, kind: str, message: str, data: str | bytes) -> None:
        self.stats.bad_frames[kind] = self.stats.bad_frames.get(kind, 0) + 1
        metrics.FEED_BAD_FRAMES.labels(self.venue, kind).inc()
        if kind not in self._logged_kinds:  # once per kind: a flood must not flood the logs
            self._logged_kinds.add(kind)
            preview = data[:200] if isinstance(data, str) else data[:200].decode(errors="replace")
            log.warning("%s: %s (first of its kind; later ones only counted): %r",
                        self.venue, message, preview)  # fmt: skip

    # -- snapshots ----------------------------------------------------------------------------

    def _queue_snapshot(self, symbol: str) -> None:
        if symbol not in self._snapshot_pending:
            self._snapshot_pending.add(symbol)
            self._snapshot_queue.put_nowait(symbol)

    async def _snapshot_worker(self) -> None:
        while True:
            symbol = await self._snapshot_queue.get()
            await self.snapshot_bucket.acquire()
            self._snapshot_pending.discard(symbol)
            instrument = self.instruments[symbol]
            try:
                events = await self.protocol.fetch_snapshot(
                    self.rest, instrument, self._rest_parser, time.time_ns
                )
            except VenueError as exc:
                self.stats.snapshots_failed += 1
                metrics.FEED_SNAPSHOTS.labels(self.venue, type(exc).__name__).inc()
                pause = exc.retry_after_s if isinstance(exc, RateLimited) else None
                if pause:
                    self.snapshot_bucket.pause_for(pause)
                log.warning("%s %s: snapshot failed: %s; retrying", self.venue, symbol, exc)
                await asyncio.sleep(pause or 1.0)
                self._queue_snapshot(symbol)
                continue
            self.stats.snapshots_ok += 1
            metrics.FEED_SNAPSHOTS.labels(self.venue, "ok").inc()
            self.stats.events += len(events)
            self._emit_book(list(events))

    async def _audit_worker(self) -> None:
        while True:
            symbol, levels = await self._audit_queue.get()
            await self.audit_bucket.acquire()
            self._audit_pending.discard(symbol)
            if self._snapshot_pending:
                self._count_audit("busy")
                continue
            try:
                events = await self.protocol.fetch_audit(
                    self.rest, self.instruments[symbol], self.parser, time.time_ns, levels
                )
            except (VenueError, ValueError) as exc:  # MalformedFrame too: the book counts a skip
                self._count_audit("failed")
                log.warning("%s %s: audit snapshot failed: %s", self.venue, symbol, exc)
                continue
            self._count_audit("published")
            for event in events:
                self.emit(event)

    def _count_audit(self, outcome: str) -> None:
        self.stats.audits[outcome] = self.stats.audits.get(outcome, 0) + 1
        metrics.FEED_AUDITS.labels(self.venue, outcome).inc()


class _TappedParser(FeedParser):
    """The feed's parser with every REST body it parses shown to the wire tap first."""

    def __init__(self, inner: FeedParser, tap: WireTap) -> None:
        self.inner = inner
        self.tap = tap
        self.symbols = inner.symbols

    @property
    def resync_needed(self) -> set[str]:
        return self.inner.resync_needed

    @resync_needed.setter
    def resync_needed(self, value: set[str]) -> None:
        self.inner.resync_needed = value

    @property
    def replies(self) -> list[str]:
        return self.inner.replies

    @replies.setter
    def replies(self, value: list[str]) -> None:
        self.inner.replies = value

    def parse_ws(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        return self.inner.parse_ws(raw, ts_recv)

    def parse_rest(self, url: str, body: str | bytes, ts_recv: int) -> list[MdEvent]:
        self.tap("http_response", url, body)
        return self.inner.parse_rest(url, body, ts_recv)

    def reset(self, venue_symbol: str | None = None) -> None:
        self.inner.reset(venue_symbol)

    def use_url(self, url: str) -> None:
        self.inner.use_url(url)

    @property
    def reconnect_notice(self) -> bool:
        return self.inner.reconnect_notice

    @reconnect_notice.setter
    def reconnect_notice(self, value: bool) -> None:
        self.inner.reconnect_notice = value

    def parse_audit(self, url: str, body: str | bytes, ts_recv: int) -> list[BookSnapshot]:
        return self.inner.parse_audit(url, body, ts_recv)

    @staticmethod
    def normalise(venue_symbol: str) -> str | None:
        return None  # never asked: the inner parser's SymbolMap already has its fallback
