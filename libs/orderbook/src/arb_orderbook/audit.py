"""Book audits: a LIVE book proven against a fresh REST snapshot at a matching sequence.

Where a venue sends no checksum (Binance, Bybit, Coinbase, OKX since 2026-06-23) or a frame
lacks one, nothing in the stream proves that the book holds what the venue holds: a level
the venue changed without a sequence break (a bug, a corrupted frame that still parsed)
would stay in a LIVE book forever. So the owner (the book service) periodically asks for a
REST snapshot of a LIVE book and this module compares the two. The hard part is the
sequence: a REST snapshot is valid at the venue's sequence when it was taken, which is
almost never the book's sequence when it arrives. Two ways to match, by what the venue gives:

- sequence (``AuditSnapshot.seq >= 0``: Binance ``lastUpdateId``, OKX ``seqId``): from the
  moment it asks, the auditor keeps every delta the live book applies. When the snapshot
  arrives, a shadow book starts from it and applies the same deltas by the same sequence
  rule (those at or below its seq are stale to it; the first one after it must straddle it,
  the venue's own join rule). When shadow and book stand at the same seq their top levels
  must be equal; while the book is still behind the snapshot, the shadow waits and takes
  each new delta with the book. The shadow is an independent rebuild: a book that missed or
  mis-applied anything before the snapshot's sequence differs from it.
- content (``seq == -1``: Kraken, Coinbase, Bybit below depth 1000, whose REST snapshots
  share no sequence with the WS): the snapshot's top levels are compared with the book's
  after every delta since the request and for ``content_grace`` deltas after it arrived.
  Equal to one of them: passed. None: skipped as unmatched, never a pass and never a
  mismatch (a REST snapshot may stand between two WS messages).

Only levels inside the snapshot's window are compared: a snapshot cut at ``depth`` levels
says nothing of prices beyond its last one. Every audit ends as one ``AuditResult``:
``passed``, ``mismatch`` (the owner marks the book SUSPECT and resyncs it) or ``skipped``
with a reason from ``SKIP_REASONS``; a skip is counted as such, never as a pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

from arb_structs.market import AuditSnapshot, BookDelta, BookSnapshot, BookState, Level

from arb_orderbook.book import OrderBook
from arb_orderbook.result import ApplyResult, Outcome

PASSED = "passed"
MISMATCH = "mismatch"
SKIPPED = "skipped"
OUTCOMES = (PASSED, MISMATCH, SKIPPED)
# Why an audit could not be matched (a bounded label set for metrics).
SKIP_REASONS = (
    "too_old",  # the snapshot is older than the request: the deltas before it are not kept
    "unjoinable",  # the deltas after the snapshot do not continue it (no shared sequence)
    "unmatched",  # content audit: no recent state of the book equals the snapshot
    "not_live",  # the book was not LIVE when the snapshot came, or stopped being LIVE
    "reset",  # the book took a new snapshot (a resync) during the audit
    "timeout",  # no snapshot came, or the book never reached its sequence, in time
    "unrequested",  # a snapshot nobody waits for (its audit already ended)
    "overflow",  # too many deltas to keep while waiting for the snapshot
)

Top = tuple[tuple[Level, ...], tuple[Level, ...]]


class AuditResult(NamedTuple):
    outcome: str  # one of OUTCOMES
    reason: str = ""  # skipped: one of SKIP_REASONS
    detail: str = ""  # mismatch: the first level that differs; skipped: what happened
    seq: int = -1  # the sequence the book was compared at (-1: not compared)


@dataclass(slots=True)
class _Pending:
    requested_at: int
    seq_at_request: int
    deltas: list[BookDelta] = field(default_factory=list)  # applied since the request
    states: list[Top] = field(default_factory=list)  # the book's top after each of them
    shadow: OrderBook | None = None  # sequence audits, once the snapshot came
    bid_floor: float = -math.inf  # the snapshot's window: prices it covers
    ask_ceiling: float = math.inf
    target: Top | None = None  # content audits waiting for a matching state
    grace: int = 0


class BookAuditor:
    """The pending audits of the books of one owner, and how each one ends."""

    def __init__(
        self,
        *,
        levels: int = 10,
        timeout_ns: int = 10_000_000_000,
        max_recorded: int = 5_000,
        content_grace: int = 50,
    ) -> None:
        if levels < 1:
            raise ValueError(f"audit levels={levels}: must be at least 1")
        self.levels = levels
        self.timeout_ns = timeout_ns
        self.max_recorded = max_recorded
        self.content_grace = content_grace
        self._pending: dict[OrderBook, _Pending] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def pending(self, book: OrderBook) -> bool:
        return book in self._pending

    def begin(self, book: OrderBook, now: int) -> bool:
        """Start auditing a LIVE book (the owner now asks for its snapshot); False when one
        is already pending or the book is not LIVE."""
        if book in self._pending or book.state is not BookState.LIVE:
            return False
        self._pending[book] = _Pending(requested_at=now, seq_at_request=book.seq)
        return True

    def follow(
        self, book: OrderBook, event: BookSnapshot | BookDelta, result: ApplyResult
    ) -> AuditResult | None:
        """After the live book applied ``event``: keep what the audit needs, or end it."""
        pending = self._pending.get(book)
        if pending is None:
            return None
        if type(event) is BookSnapshot:
            return self._end(book, AuditResult(SKIPPED, "reset", "the book took a snapshot"))
        if book.state is not BookState.LIVE:
            return self._end(book, AuditResult(SKIPPED, "not_live", book.reason))
        if result.outcome is not Outcome.APPLIED:
            return None
        delta: BookDelta = event  # type: ignore[assignment]  # not a snapshot: a delta
        shadow = pending.shadow
        if shadow is not None:
            return self._advance(book, pending, shadow, [delta])
        if pending.target is not None:
            if self._top(book) == pending.target:
                return self._end(book, AuditResult(PASSED, seq=book.seq))
            pending.grace -= 1
            if pending.grace <= 0:
                return self._end(book, AuditResult(
                    SKIPPED, "unmatched", "no state of the book equals the venue's snapshot"
                ))  # fmt: skip
            return None
        if len(pending.deltas) >= self.max_recorded:
            return self._end(
                book, AuditResult(SKIPPED, "overflow", f"{len(pending.deltas)} deltas")
            )
        pending.deltas.append(delta)
        pending.states.append(self._top(book))
        return None

    def arrive(self, book: OrderBook | None, snapshot: AuditSnapshot) -> AuditResult | None:
        """The audit snapshot of ``book`` came (in stream order with the deltas): its result,
        or None while it waits (for the book to reach its sequence, or a matching state)."""
        pending = self._pending.get(book) if book is not None else None
        if book is None or pending is None:
            return AuditResult(SKIPPED, "unrequested", "no audit of this book is pending")
        if book.state is not BookState.LIVE:
            return self._end(book, AuditResult(SKIPPED, "not_live", book.reason))
        if snapshot.seq < 0:
            return self._arrive_content(book, pending, snapshot)
        if snapshot.seq < pending.seq_at_request:
            return self._end(book, AuditResult(
                SKIPPED, "too_old",
                f"snapshot seq {snapshot.seq} < book seq {pending.seq_at_request} when asked",
            ))  # fmt: skip
        shadow = OrderBook(book.venue, book.symbol, verify_checksums=False)
        start = BookSnapshot(
            venue=book.venue,
            symbol=book.symbol,
            seq=snapshot.seq,
            bids=snapshot.bids,
            asks=snapshot.asks,
            ts_event=snapshot.ts_event,
            ts_recv=snapshot.ts_recv,
        )
        shadow.apply_snapshot(start)
        depth = snapshot.depth
        if depth and len(snapshot.bids) >= depth:
            pending.bid_floor = snapshot.bids[-1][0]
        if depth and len(snapshot.asks) >= depth:
            pending.ask_ceiling = snapshot.asks[-1][0]
        pending.shadow = shadow
        deltas, pending.deltas, pending.states = pending.deltas, [], []
        return self._advance(book, pending, shadow, deltas)

    def expire(self, now: int) -> list[tuple[OrderBook, AuditResult]]:
        """End the audits older than the timeout (skipped: timeout)."""
        late = [b for b, p in self._pending.items() if now - p.requested_at > self.timeout_ns]
        ended = []
        for book in late:
            detail = f"no match within {self.timeout_ns / 1e9:g}s of asking (book seq {book.seq})"
            ended.append((book, self._end(book, AuditResult(SKIPPED, "timeout", detail))))
        return ended

    def forget(self, book: OrderBook) -> None:
        self._pending.pop(book, None)

    # ------------------------------------------------------------------ internals

    def _top(self, book: OrderBook) -> Top:
        bids, asks = book.top(self.levels)
        return tuple(bids), tuple(asks)

    def _arrive_content(
        self, book: OrderBook, pending: _Pending, snapshot: AuditSnapshot
    ) -> AuditResult | None:
        target: Top = (tuple(snapshot.bids[: self.levels]), tuple(snapshot.asks[: self.levels]))
        if target == self._top(book) or target in pending.states:
            return self._end(book, AuditResult(PASSED, seq=book.seq))
        pending.deltas, pending.states = [], []
        pending.target = target
        pending.grace = self.content_grace
        return None

    def _advance(
        self, book: OrderBook, pending: _Pending, shadow: OrderBook, deltas: list[BookDelta]
    ) -> AuditResult | None:
        """Apply ``deltas`` (the live book's) to the shadow, then compare if they meet."""
        for delta in deltas:
            result = shadow.apply_delta(delta)
            if result.gap:
                return self._end(book, AuditResult(
                    SKIPPED, "unjoinable", f"after the snapshot: {result.reason}"
                ))  # fmt: skip
            if shadow.state is not BookState.LIVE:  # the venue's snapshot + the book's deltas
                return self._end(book, AuditResult(  # make an impossible book: not the book's
                    MISMATCH, detail=f"rebuilt from the venue's snapshot: {shadow.reason}",
                    seq=book.seq,
                ))  # fmt: skip
        if shadow.seq < book.seq:
            return self._end(book, AuditResult(
                SKIPPED, "unjoinable", f"rebuilt book at seq {shadow.seq} < {book.seq}"
            ))  # fmt: skip
        if shadow.seq > book.seq:
            return None  # the book has not reached the snapshot yet: wait with it
        return self._end(book, self._compare(book, pending, shadow))

    def _compare(self, book: OrderBook, pending: _Pending, shadow: OrderBook) -> AuditResult:
        """Top levels of book and shadow at one seq, within the snapshot's window."""
        seq = book.seq
        n = self.levels
        floor, ceiling = pending.bid_floor, pending.ask_ceiling
        sides = (
            ("bids", [lv for lv in book.bids.top(n) if lv[0] >= floor],
             [lv for lv in shadow.bids.top(n) if lv[0] >= floor]),
            ("asks", [lv for lv in book.asks.top(n) if lv[0] <= ceiling],
             [lv for lv in shadow.asks.top(n) if lv[0] <= ceiling]),
        )  # fmt: skip
        for side, mine, venue in sides:
            if mine != venue:
                index = next(
                    (i for i, (a, b) in enumerate(zip(mine, venue, strict=False)) if a != b),
                    min(len(mine), len(venue)),
                )
                held = mine[index] if index < len(mine) else None
                sent = venue[index] if index < len(venue) else None
                return AuditResult(MISMATCH, detail=(
                    f"audit mismatch at seq {seq}: {side} level {index} is {held} in the book, "
                    f"{sent} at the venue"
                ), seq=seq)  # fmt: skip
        return AuditResult(PASSED, seq=seq)

    def _end(self, book: OrderBook, result: AuditResult) -> AuditResult:
        self._pending.pop(book, None)
        return result
