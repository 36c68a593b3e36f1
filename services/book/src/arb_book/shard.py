"""One book shard: read md streams in order, apply, publish conflated views, checkpoint.

Per read batch (XREAD COUNT ``read_count`` over every venue of the shard):
  decode + apply every entry -> one BookView per changed book -> the view on
  ``arb:book:{venue}`` and in ``arb:book:latest:{venue}`` -> the last entry id read per venue
  in ``arb:book:checkpoint:{venue}``. All of it goes out in the producer's one pipelined write
  of that loop turn, views before checkpoint: after a crash the checkpoint never points past
  an entry whose effect was not published, so a restart loses nothing.

The books live in memory only. On start every book is SYNCING: the service publishes a
SYNCING view over whatever the latest-view hash held (so nobody trades on a view from before
the restart), asks ingest to resync every symbol it knows, and serves a book only once a
snapshot has arrived (from the backlog after the checkpoint, or the requested one).

Audits (``arb_book.audit``): the sweep asks ingest for REST snapshots of LIVE books that are
due; each comes back on the md stream as an AuditSnapshot and is matched, in stream order
with the deltas, by ``arb_orderbook.audit.BookAuditor``. A mismatch marks the book SUSPECT
and resyncs it like a gap; every outcome shows in the book's next view.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis.asyncio as aioredis
from arb_orderbook import ApplyResult, AuditResult, BookEventError, BookSet, OrderBook
from arb_orderbook.audit import MISMATCH
from arb_runtime.streams import Entry, StreamProducer, StreamReader
from arb_structs.codec import BOOK, MD
from arb_structs.constants import (
    BOOK_MAXLEN,
    book_checkpoint_key,
    book_latest_key,
    book_stream,
    instruments_key,
    md_stream,
)
from arb_structs.market import AuditSnapshot, BookState, VenueStatus
from arb_venues import checksums
from prometheus_client import Counter, Histogram

from arb_book import metrics
from arb_book.audit import AuditScheduler
from arb_book.config import BookSettings
from arb_book.errors import CheckpointError
from arb_book.resync import Resyncer
from arb_book.uptime import Uptime

log = logging.getLogger("arb.book")

Clock = Callable[[], int]


class BookShard:
    """The books of one venue set and the loop that keeps them (see the module docstring)."""

    def __init__(
        self,
        redis: aioredis.Redis,
        producer: StreamProducer,
        settings: BookSettings,
        *,
        clock: Clock = time.time_ns,
    ) -> None:
        self.redis = redis
        self.producer = producer
        self.settings = settings
        self.clock = clock
        self.books = BookSet(
            checksums=checksums(settings.venues),
            buffer_limit=settings.buffer_limit,
            verify_checksums=settings.verify_checksums,
        )
        self.resyncer = Resyncer(producer, int(settings.resync_interval_seconds * 1e9))
        self.audits = AuditScheduler(producer, settings)
        self.venue_of = {md_stream(v): v for v in settings.venues}
        self.reader: StreamReader | None = None
        self.exporter = metrics.Exporter()
        self.uptime = Uptime()
        self.batches = 0
        self.entries = 0
        self.malformed = 0
        self.views = 0
        self._view_children: dict[str, tuple[Counter, Histogram]] = {}
        self._next_sweep = 0
        # Books known at start whose resync waits for the first read (see ``start``).
        self._startup: list[tuple[str, str]] = []

    # ---------------------------------------------------------------- start

    async def start(self) -> dict[str, str]:
        """Load checkpoints, mark every known book SYNCING; its resync is requested after the
        first read unless that read made it LIVE (``handle``). Returns the position each
        venue resumes from."""
        positions: dict[str, str | bytes] = {}
        now = self.clock()
        for venue in self.settings.venues:
            raw = await self.redis.get(book_checkpoint_key(venue))
            positions[md_stream(venue)] = _checkpoint(venue, raw) or self.settings.start_from
            symbols = {_text(s) for s in await self.redis.hkeys(instruments_key(venue))}
            symbols |= {_text(s) for s in await self.redis.hkeys(book_latest_key(venue))}
            for symbol in sorted(symbols):
                book = self.books.book(venue, symbol)
                self._publish(book, now)  # SYNCING: replaces any view from before the restart
                self._startup.append((venue, symbol))
        self.reader = StreamReader(self.redis, positions)
        if "$" in positions.values():
            await self.reader.resolve_tail()
        resumed = {self.venue_of[s]: _text(p) for s, p in self.reader.positions.items()}
        log.info("book shard %s resuming from %s", ",".join(self.settings.venues), resumed)
        return resumed

    # ---------------------------------------------------------------- the loop

    async def step(self) -> int:
        """One read batch: apply, publish, checkpoint, sweep. Returns entries read."""
        assert self.reader is not None, "call start() first"
        entries = await self.reader.read(self.settings.read_count, self.settings.block_ms)
        self.handle(entries)
        return len(entries)

    def handle(self, entries: list[Entry]) -> None:
        """What follows one read (the service's StreamLoop calls it, empty reads too):
        apply and publish the batch, and sweep for staleness when it is due."""
        if entries:
            self.apply_batch(entries)
        now = self.clock()
        if self._startup:
            self._resync_after_start(now)
        if now >= self._next_sweep:
            self.sweep(now)
            self._next_sweep = now + int(self.settings.sweep_interval_seconds * 1e9)

    def _resync_after_start(self, now: int) -> None:
        """After the first read: resync each book known at start that it did not make LIVE.
        A book the stream already rebuilt (a fresh start reads ingest's first snapshot) is
        left alone: a resync would reset its counter on a WS-snapshot venue and turn the next
        delta into a gap (the 30-minute soaks' one gap a run, at start)."""
        for venue, symbol in self._startup:
            if self.books.book(venue, symbol).state is not BookState.LIVE:
                # forced: the first read may have deferred it as a new book's
                self.resyncer.request(venue, symbol, "book service started", now, force=True)
        self._startup = []

    def apply_batch(self, entries: list[Entry]) -> None:
        started = time.perf_counter()
        now = self.clock()
        changed: dict[tuple[str, str], OrderBook] = {}
        last_ids: dict[str, bytes] = {}
        books = self.books
        auditor = self.audits.auditor
        for entry in entries:
            venue = self.venue_of.get(entry.stream, "?")
            last_ids[venue] = entry.id
            try:
                event = MD.decode(entry.payload) if entry.payload is not None else None
                if event is None:
                    raise ValueError("entry has no payload field")
                if isinstance(event, VenueStatus):
                    touched = books.apply_status(event)
                elif isinstance(event, AuditSnapshot):
                    self._audit_arrived(event, now, changed)
                    continue
                else:
                    book = books.book(event.venue, event.symbol)
                    result = books.apply(event)
                    touched = [(book, result)]
                    if len(auditor) and auditor.pending(book):
                        ended = auditor.follow(book, event, result)
                        if ended is not None:
                            self._audit_ended(book, ended, now, changed)
            except (BookEventError, ValueError) as exc:  # msgspec errors are ValueErrors
                self._malformed(venue, entry, exc)
                continue
            for book, result in touched:
                if result.changed_book:
                    changed[(book.venue, book.symbol)] = book
                    if result.state_changed:
                        self._log_state(book, result)
                if result.gap:
                    self.uptime.gap(book.venue, book.symbol)
                if result.resync:
                    self._resync(book, result, now)
                elif result.state is BookState.SYNCING:
                    self.resyncer.defer(book.venue, book.symbol, now)  # ingest's snapshot due
        elapsed = time.perf_counter() - started
        metrics.BATCH_EVENTS.observe(len(entries))
        metrics.BATCH_APPLY_SECONDS.observe(elapsed)
        metrics.EVENT_APPLY_SECONDS.observe(elapsed / len(entries))
        ts_book = self.clock()
        for book in changed.values():
            self._publish(book, ts_book, ts_read=now)
        for venue, entry_id in last_ids.items():
            if venue != "?":
                self.producer.set(book_checkpoint_key(venue), entry_id)
        self.batches += 1
        self.entries += len(entries)
        self.exporter.export(books.counts)

    def sweep(self, now: int) -> None:
        """Staleness per venue bound; re-ask for books still waiting for a snapshot; audits
        that are due, and those that timed out."""
        for venue in self.settings.venues:
            for book, result in self.books.check_stale(now, self.settings.stale_after_ns(venue),
                                                       venue):  # fmt: skip
                self._log_state(book, result)
                self._publish(book, now)
                self._resync(book, result, now)
        live: dict[str, int] = dict.fromkeys(self.settings.venues, 0)
        held: dict[str, int] = dict.fromkeys(self.settings.venues, 0)
        for book in self.books:
            held[book.venue] = held.get(book.venue, 0) + 1
            if book.state is BookState.LIVE:
                live[book.venue] = live.get(book.venue, 0) + 1
            elif book.state is not BookState.HALTED and self.resyncer.due(
                book.venue, book.symbol, now
            ):
                self.resyncer.request(book.venue, book.symbol, book.reason, now)
        for venue, count in held.items():
            metrics.BOOKS.labels(venue).set(count)
            metrics.LIVE_BOOKS.labels(venue).set(live[venue])
        expired: dict[tuple[str, str], OrderBook] = {}
        for book, ended in self.audits.auditor.expire(now):
            self._audit_ended(book, ended, now, expired)
        for book in expired.values():
            self._publish(book, now)
        self.audits.schedule(self.books, now)
        self.exporter.export(self.books.counts)
        self.uptime.export(now)

    # ---------------------------------------------------------------- audits

    def _audit_arrived(
        self, snapshot: AuditSnapshot, now: int, changed: dict[tuple[str, str], OrderBook]
    ) -> None:
        book = self.books.get(snapshot.venue, snapshot.symbol)
        result = self.audits.auditor.arrive(book, snapshot)
        if result is None:
            return  # matched later, with the deltas that bring the book to its sequence
        if book is None:
            self.audits.record(snapshot.venue, result, None, now)
            return
        self._audit_ended(book, result, now, changed)

    def _audit_ended(
        self,
        book: OrderBook,
        result: AuditResult,
        now: int,
        changed: dict[tuple[str, str], OrderBook],
    ) -> None:
        """Count it, show it on the book's next view; a mismatch makes the book SUSPECT."""
        self.audits.record(book.venue, result, book, now)
        changed[(book.venue, book.symbol)] = book
        if result.outcome == MISMATCH:
            marked = self.books.mark_suspect(book, result.detail)
            book.audit = MISMATCH  # after mark_suspect: the view says why it is SUSPECT
            self._log_state(book, marked)
            self._resync(book, marked, now)

    # ---------------------------------------------------------------- helpers

    def _publish(self, book: OrderBook, ts_book: int, ts_read: int = 0) -> None:
        self.uptime.observe(book.venue, book.symbol, book.state, ts_book, book.reason)
        payload = BOOK.encode(book.view(self.settings.depth, ts_book, ts_read))
        self.producer.xadd(book_stream(book.venue), payload, maxlen=BOOK_MAXLEN)
        self.producer.hset(book_latest_key(book.venue), book.symbol, payload)
        self.views += 1
        views, latency = self._view_metrics(book.venue)
        views.inc()
        if book.state is BookState.LIVE and book.ts_recv:
            latency.observe(max(0, ts_book - book.ts_recv) / 1e9)

    def _view_metrics(self, venue: str) -> tuple[Counter, Histogram]:
        """A venue's per-view counter and latency histogram children, looked up once."""
        found = self._view_children.get(venue)
        if found is None:
            found = (metrics.VIEWS.labels(venue), metrics.VIEW_LATENCY_SECONDS.labels(venue))
            self._view_children[venue] = found
        return found

    def _resync(self, book: OrderBook, result: ApplyResult, now: int) -> None:
        self.resyncer.request(book.venue, book.symbol, result.reason or book.reason, now)

    def _log_state(self, book: OrderBook, result: ApplyResult) -> None:
        if result.state is BookState.LIVE:
            log.info("%s %s: %s -> LIVE at seq %d", book.venue, book.symbol,
                     result.previous_state.value, book.seq)  # fmt: skip
        else:
            log.warning("%s %s: %s -> %s (%s)", book.venue, book.symbol,
                        result.previous_state.value, result.state.value, book.reason)  # fmt: skip

    def _malformed(self, venue: str, entry: Entry, exc: Exception) -> None:
        self.malformed += 1
        metrics.MALFORMED.labels(venue).inc()
        if self.malformed <= 10 or self.malformed % 1000 == 0:
            log.error("%s: md entry %s skipped (%s); %d skipped so far", venue,
                      entry.id.decode(), exc, self.malformed)  # fmt: skip


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _checkpoint(venue: str, raw: bytes | str | None) -> str | None:
    if raw is None:
        return None
    text = _text(raw)
    ms, _, seq = text.partition("-")
    if not (ms.isdigit() and seq.isdigit()):
        raise CheckpointError(
            f"{book_checkpoint_key(venue)}={text!r} is not a stream entry id (ms-seq); "
            "delete the key to restart that venue from ARB_BOOK_START_FROM"
        )
    return text
