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
  AuditSnapshot; never while resync snapshots wait (a resync always goes first).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from arb_core.backoff import Backoff  # the project's one backoff (stdlib only)
from arb_core.redact import redact
from arb_core.tasks import stop_task
from arb_structs import BookSnapshot, Instrument, MdEvent, MdMessage, VenueStatus
from arb_structs.constants import RESYNC_ALL

from arb_venues.base import FeedParser, MarketDataProtocol
from arb_venues.common import metrics
from arb_venues.common.ratelimit import BucketLimit, RateLimiter, TokenBucket
from arb_venues.common.rest import RestClient
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import MalformedFrame, RateLimited, VenueError

log = logging.getLogger("arb.ingest.feed")

Emit = Callable[[MdMessage], None]
# (record type, url, raw): "connect" | "send" | "recv" | "http_response", as in a capture file.
WireTap = Callable[[str, str, str | bytes], None]


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


class MarketDataFeed:
    """One WS connection of one venue for a set of instruments."""

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
    ) -> None:
        if not instruments:
            raise ValueError(f"{protocol.venue}: a feed needs at least one instrument")
        self.protocol = protocol
        self.venue = protocol.venue
        self.instruments = {i.symbol: i for i in instruments}
        self.by_venue_symbol = {i.venue_symbol: i for i in instruments}
        self.parser: FeedParser = protocol.make_parser(SymbolMap(instruments))
        self.tap = tap
        # Only venues that compress their frames pay for the decode call (the hot path).
        own_decode = type(protocol).decode_frame is not MarketDataProtocol.decode_frame
        self._decode = protocol.decode_frame if own_decode else None
        self._reply_tasks: set[asyncio.Task[None]] = set()
        # What fetch_snapshot parses REST bodies with: the parser, seen through the tap.
        self._rest_parser: FeedParser = (
            self.parser if tap is None else _TappedParser(self.parser, tap)
        )
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
        self.connected = asyncio.Event()
        self._session = session
        self._own_session = session is None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._url = ""
        self._snapshot_queue: asyncio.Queue[str] = asyncio.Queue()
        self._snapshot_pending: set[str] = set()
        # Re-subscribes of the current connection (snapshot_source "ws"), and the pacing of
        # every subscribe-type message on it.
        self._resubscribe_queue: asyncio.Queue[str] = asyncio.Queue()
        self._resubscribe_pending: set[str] = set()
        self._send_lock = asyncio.Lock()
        self._next_control_send = 0.0
        self._logged_kinds: set[str] = set()
        self._background: set[asyncio.Future[Any]] = set()

    # -- public -----------------------------------------------------------------------------

    async def run(self, stopping: asyncio.Event) -> None:
        """Keep the connection up until ``stopping`` is set."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        snapshot_worker = asyncio.create_task(self._snapshot_worker(), name=f"{self.venue}-snap")
        audit_worker = asyncio.create_task(self._audit_worker(), name=f"{self.venue}-audit")
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
            try:  # both workers in one wait: shutdown takes no longer than with one
                audit_worker.cancel()
                await stop_task(snapshot_worker)
                await asyncio.gather(audit_worker, return_exceptions=True)  # done by now
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
                self.parser.reset(self.instruments[name].venue_symbol)
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

    def drop_connection(self) -> None:
        """Close the WS now (tests and the simulator's fault drills use it)."""
        if self._ws is not None and not self._ws.closed:
            task = asyncio.ensure_future(self._ws.close())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    # -- connection ---------------------------------------------------------------------------

    async def _connect_once(self, stopping: asyncio.Event) -> bool:
        assert self._session is not None
        instruments = list(self.instruments.values())
        got_data = False
        try:
            url = await self.protocol.connect_url(self.rest, instruments)
        except VenueError as exc:  # e.g. KuCoin's token call refused or rate limited
            log.warning("%s: cannot get a connection URL: %s", self.venue, exc)
            return False
        shown = redact(url)  # a connection token in the URL (KuCoin's) never reaches logs
        try:
            ws = await self._session.ws_connect(url, autoping=True, max_msg_size=0, heartbeat=None)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("%s: cannot connect to %s: %s", self.venue, shown, redact(str(exc)))
            return False
        self._ws = ws
        self._url = shown  # what the wire tap records
        if self.tap is not None:
            self.tap("connect", shown, "")
        self.stats.connects += 1
        metrics.FEED_CONNECTS.labels(self.venue).inc()
        metrics.FEED_CONNECTED.labels(self.venue).set(1)
        self.parser.reset(None)
        self.parser.use_url(url)
        # The subscribe below brings every book back: earlier re-subscribes are moot.
        self._resubscribe_queue = asyncio.Queue()
        self._resubscribe_pending.clear()
        self._next_control_send = 0.0
        self.emit(VenueStatus(venue=self.venue, status="up", ts_recv=time.time_ns()))
        self.connected.set()
        tasks = [asyncio.create_task(self._subscribe(ws, instruments))]
        if self.protocol.snapshot_source == "ws":
            tasks.append(asyncio.create_task(self._resubscriber(ws, self._resubscribe_queue)))
        if self.protocol.heartbeat_interval():
            tasks.append(asyncio.create_task(self._heartbeat(ws)))
        # One awaited receive per frame, no task or wait set per frame (that costs more CPU
        # than parsing): stopping closes the socket, which wakes the pending receive.
        tasks.append(asyncio.create_task(self._close_on_stop(ws, stopping)))
        try:
            while True:
                try:
                    message = await ws.receive(timeout=self.protocol.idle_timeout_s)
                except TimeoutError:
                    log.warning("%s: no frame for %.0fs; reconnecting", self.venue,
                                self.protocol.idle_timeout_s)  # fmt: skip
                    break
                if stopping.is_set():
                    break  # what arrives while the socket closes is not processed
                if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    got_data = True
                    self._on_frame(message.data)
                    # Let the producer's writer put this frame on the wire now instead of
                    # after the rest of a burst: what arrives meanwhile forms the next batch.
                    await asyncio.sleep(0)
                elif message.type in (
                    aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING,
                    aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR,
                ):  # fmt: skip
                    break
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await ws.close()
            self._ws = None
            self.connected.clear()
            self.stats.disconnects += 1
            metrics.FEED_DISCONNECTS.labels(self.venue).inc()
            metrics.FEED_CONNECTED.labels(self.venue).set(0)
            self.emit(VenueStatus(venue=self.venue, status="down", reason="disconnected",
                                  ts_recv=time.time_ns()))  # fmt: skip
        return got_data

    async def _subscribe(self, ws: aiohttp.ClientWebSocketResponse, instruments: list[Instrument]
                         ) -> None:  # fmt: skip
        if self.protocol.connect_delay_s > 0:
            await asyncio.sleep(self.protocol.connect_delay_s)
        for message in self.protocol.connect_messages(instruments):
            await self._send_paced(ws, message)
        for message in self.protocol.subscribe_messages(instruments):
            await self._send_paced(ws, message)
        if self.protocol.snapshot_source == "rest":
            for symbol in self.instruments:
                self._queue_snapshot(symbol)

    @staticmethod
    async def _close_on_stop(ws: aiohttp.ClientWebSocketResponse, stopping: asyncio.Event
                             ) -> None:  # fmt: skip
        await stopping.wait()
        await ws.close()

    async def _heartbeat(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        interval = self.protocol.heartbeat_interval()
        assert interval
        while not ws.closed:
            await asyncio.sleep(interval)
            message = self.protocol.heartbeat_message()
            if message is not None:
                await self._send(ws, message)

    async def _send(self, ws: aiohttp.ClientWebSocketResponse, message: str) -> None:
        if self.tap is not None:
            self.tap("send", self._url, message)
        await ws.send_str(message)

    async def _send_paced(self, ws: aiohttp.ClientWebSocketResponse, message: str) -> None:
        """Subscribe-type messages: at most one per ``subscribe_interval_s`` per connection
        (the venue's message-rate limit), whoever sends them."""
        loop = asyncio.get_running_loop()
        async with self._send_lock:
            wait = self._next_control_send - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            await self._send(ws, message)
            self._next_control_send = loop.time() + self.protocol.subscribe_interval_s

    def _queue_resubscribe(self, symbol: str) -> None:
        if self._ws is None or self._ws.closed:
            return  # the next connection subscribes every book afresh
        if symbol not in self._resubscribe_pending:
            self._resubscribe_pending.add(symbol)
            self._resubscribe_queue.put_nowait(symbol)

    async def _resubscriber(
        self, ws: aiohttp.ClientWebSocketResponse, queue: asyncio.Queue[str]
    ) -> None:
        """Re-subscribes one book at a time on this connection (ends with it)."""
        while True:
            symbol = await queue.get()
            self._resubscribe_pending.discard(symbol)
            instrument = self.instruments[symbol]
            self.parser.reset(instrument.venue_symbol)
            for message in self.protocol.resubscribe_messages(instrument):
                await self._send_paced(ws, message)

    # -- frames -------------------------------------------------------------------------------

    def _on_frame(self, data: str | bytes) -> None:
        if self._decode is not None:
            try:
                data = self._decode(data)
            except MalformedFrame as exc:
                self._bad_frame(exc.kind, str(exc), data)
                return
        if self.tap is not None:
            self.tap("recv", self._url, data)
        self.stats.frames += 1
        metrics.FEED_FRAMES.labels(self.venue).inc()
        try:
            events = self.parser.parse_ws(data, time.time_ns())
        except MalformedFrame as exc:
            # A refused book frame flags its book (resync_needed): resync it below.
            self._bad_frame(exc.kind, str(exc), data)
            events = []
        except (ValueError, KeyError, IndexError, TypeError) as exc:  # a parser bug: survive it
            self._bad_frame("parser_error", f"{type(exc).__name__}: {exc}", data)
            events = []
        if events:
            self.stats.events += len(events)
            metrics.FEED_EVENTS.labels(self.venue).inc(len(events))
            for event in events:
                self.emit(event)
        if self.parser.replies:
            replies, self.parser.replies = self.parser.replies, []
            self._reply(replies)
        if self.parser.resync_needed:
            names, self.parser.resync_needed = self.parser.resync_needed, set()
            targets = (
                [RESYNC_ALL]
                if RESYNC_ALL in names
                else [self.by_venue_symbol[n].symbol for n in names if n in self.by_venue_symbol]
            )
            for symbol in targets:
                self.request_resync(symbol, "feed continuity lost or a refused book frame")

    def _reply(self, messages: list[str]) -> None:
        """Send what the parser answers to a frame, on the connection it came on."""
        ws = self._ws
        if ws is None or ws.closed:
            return  # the connection is gone: so is what the answer was for

        async def send() -> None:
            for message in messages:
                await self._send(ws, message)

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
            for event in events:
                self.emit(event)

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

    def parse_audit(self, url: str, body: str | bytes, ts_recv: int) -> list[BookSnapshot]:
        return self.inner.parse_audit(url, body, ts_recv)

    @staticmethod
    def normalise(venue_symbol: str) -> str | None:
        return None  # never asked: the inner parser's SymbolMap already has its fallback
