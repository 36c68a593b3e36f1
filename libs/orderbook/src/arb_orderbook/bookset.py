"""Every book of a process, keyed by (venue, symbol), with per-venue counters."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from arb_structs.market import BookDelta, BookSnapshot, MdEvent, VenueStatus

from arb_orderbook.book import DEFAULT_BUFFER_LIMIT, OrderBook
from arb_orderbook.checksums import ChecksumSpec
from arb_orderbook.native import book_type, counts_type, router
from arb_orderbook.result import ApplyResult, ChecksumCheck, Outcome


@dataclass(slots=True)
class VenueCounts:
    """Running totals of one venue, for metrics and replay summaries."""

    events: int = 0
    applied: int = 0
    levels: int = 0
    dropped_stale: int = 0
    dropped_halted: int = 0
    buffered: int = 0
    replayed: int = 0
    gaps: int = 0
    checksums_ok: int = 0
    checksum_failures: int = 0
    checksums_missing: int = 0
    crossed: int = 0
    buffer_overflows: int = 0
    expired: int = 0
    state_changes: int = 0

    def add(self, result: ApplyResult) -> None:
        # One unpack instead of a field read per counter (this runs for every event).
        (outcome, previous_state, state, levels, check, crossed, gap, _, overflow, replayed,
         replay_dropped, _) = result  # fmt: skip
        if outcome is Outcome.APPLIED:
            self.applied += 1 + replayed
            if replayed or replay_dropped:
                self.dropped_stale += replay_dropped
                self.replayed += replayed
        elif outcome is Outcome.DROPPED_STALE:
            self.dropped_stale += 1
        elif outcome is Outcome.BUFFERED:
            self.buffered += 1
        elif outcome is Outcome.DROPPED_HALTED:
            self.dropped_halted += 1
        elif outcome is Outcome.EXPIRED:
            self.expired += 1
        self.levels += levels
        if check is ChecksumCheck.OK:
            self.checksums_ok += 1
        elif check is ChecksumCheck.FAILED:
            self.checksum_failures += 1
        elif check is ChecksumCheck.MISSING:
            self.checksums_missing += 1
        if gap or crossed or overflow:
            if gap:
                self.gaps += 1
            if crossed:
                self.crossed += 1
            if overflow:
                self.buffer_overflows += 1
        if state is not previous_state:
            self.state_changes += 1


class BookSet:
    """Routes events to their book, creating books on first sight.

    ``checksums``: the checksum of each venue that has one (``arb_venues.checksums()``); the
    engine knows no venue itself, so a venue missing here is never checksum-verified.
    ``native``: True for the compiled book, False for the pure-Python one, None for the
    process's choice (``arb_orderbook.native``).
    """

    __slots__ = ("_book_type", "_counts_type", "_venues", "apply", "buffer_limit", "checksums",
                 "counts", "native", "verify_checksums")  # fmt: skip

    # Apply a snapshot or delta to its book and count it: the engine's hottest call, so an
    # attribute, not a method: ``_apply_one`` here, or the compiled book's ``Router.apply``
    # (the same steps in C) where the books are compiled ones.
    apply: Callable[[BookSnapshot | BookDelta], ApplyResult]

    def __init__(
        self,
        *,
        checksums: Mapping[str, ChecksumSpec] | None = None,
        buffer_limit: int = DEFAULT_BUFFER_LIMIT,
        verify_checksums: bool = True,
        native: bool | None = None,
    ) -> None:
        # venue -> symbol -> book: two lookups without building a key tuple per event.
        self._venues: dict[str, dict[str, OrderBook]] = {}
        self.counts: dict[str, VenueCounts] = {}
        self.buffer_limit = buffer_limit
        self.verify_checksums = verify_checksums
        self.checksums: Mapping[str, ChecksumSpec] = dict(checksums or {})
        self.native = native  # the compiled book: None = the process's choice (ARB_NATIVE)
        self._book_type = book_type(native)
        self._counts_type = counts_type(native)  # VenueCounts, or the compiled one
        compiled = router(native)
        self.apply = (
            compiled(self._venues, self.counts, self.book).apply
            if compiled is not None
            else self._apply_one
        )

    def __len__(self) -> int:
        return sum(len(books) for books in self._venues.values())

    def __iter__(self) -> Iterator[OrderBook]:
        return iter([book for books in self._venues.values() for book in books.values()])

    def get(self, venue: str, symbol: str) -> OrderBook | None:
        return self._venues.get(venue, {}).get(symbol)

    def book(self, venue: str, symbol: str) -> OrderBook:
        """The book of (venue, symbol), created SYNCING if new."""
        try:
            return self._venues[venue][symbol]
        except KeyError:
            pass
        book = self._book_type(
            venue, symbol, buffer_limit=self.buffer_limit, verify_checksums=self.verify_checksums,
            checksum=self.checksums.get(venue),
        )  # fmt: skip
        self._venues.setdefault(venue, {})[symbol] = book
        self.counts.setdefault(venue, self._counts_type())
        return book

    def venue_books(self, venue: str) -> list[OrderBook]:
        return list(self._venues.get(venue, {}).values())

    def _apply_one(self, event: BookSnapshot | BookDelta) -> ApplyResult:
        """``apply`` of the pure book."""
        return self._apply(event)[1]

    def _apply(self, event: BookSnapshot | BookDelta) -> tuple[OrderBook, ApplyResult]:
        try:
            book = self._venues[event.venue][event.symbol]
        except KeyError:
            book = self.book(event.venue, event.symbol)
        result = book.apply_delta(event) if type(event) is BookDelta else book.apply(event)
        counts = self.counts[event.venue]
        counts.events += 1
        counts.add(result)
        return book, result

    def apply_status(self, status: VenueStatus) -> list[tuple[OrderBook, ApplyResult]]:
        """A venue status for one symbol, or for every known book of the venue."""
        if status.symbol is not None:
            books = [self.book(status.venue, status.symbol)]
        else:
            books = self.venue_books(status.venue)
        counts = self.counts.setdefault(status.venue, self._counts_type())
        counts.events += 1
        out = []
        for book in books:
            result = book.apply_status(status)
            counts.add(result)
            out.append((book, result))
        return out

    def apply_event(self, event: MdEvent) -> list[tuple[OrderBook, ApplyResult]]:
        """Any md event; a list because a venue status may touch many books."""
        if isinstance(event, VenueStatus):
            return self.apply_status(event)
        return [self._apply(event)]

    def mark_suspect(self, book: OrderBook, reason: str) -> ApplyResult:
        """Mark one book SUSPECT (its owner knows it is wrong) and count it."""
        result = book.mark_suspect(reason)
        self.counts.setdefault(book.venue, self._counts_type()).add(result)
        return result

    def check_stale(
        self, now: int, max_age: int, venue: str | None = None
    ) -> list[tuple[OrderBook, ApplyResult]]:
        """Sweep (one venue's, or all) LIVE books for staleness; returns the books it marked."""
        out = []
        for book in self.venue_books(venue) if venue is not None else list(self):
            result = book.check_stale(now, max_age)
            if result is not None:
                self.counts[book.venue].add(result)
                out.append((book, result))
        return out
