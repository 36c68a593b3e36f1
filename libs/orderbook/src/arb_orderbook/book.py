"""One L2 order book of one (venue, symbol): the sequence rule, checksums and health state.

Sequence rule, the same for every venue (ingest normalised the venue's fields into
``prev_seq``/``seq``): a delta whose ``seq <= book.seq`` is stale and dropped; one whose
``prev_seq <= book.seq`` is applied (the overlap right after a snapshot is harmless because
levels are absolute); anything else is a gap. A snapshot always resets the book.

While there is no valid book (SYNCING before the first snapshot, or SUSPECT after a gap, a
checksum mismatch or a crossed book) deltas are buffered, bounded, and replayed through the
same rule when the next snapshot arrives: that is Binance's "buffer the diffs, drop
``u <= lastUpdateId``, the first applied one must straddle it" (a Binance diff is
``prev_seq=U-1, seq=u``), and the same bridge works for OKX's ``prevSeqId``/``seqId``.

States: SYNCING (no snapshot yet) -> LIVE; LIVE -> SUSPECT on a gap, a checksum mismatch or
a crossed book (sticky until a snapshot) or when stale (cleared by the next applied update);
any -> HALTED when the venue is down; HALTED -> SYNCING when it is up again. A book is only
LIVE when the last message left it in sequence, checksum-verified (where the venue has one),
uncrossed and fresh.

This is the pure-Python reference; ``_native.pyx`` holds the compiled copy the engine runs
where it is built (``arb_orderbook.native``, docs/native.md).
"""

from __future__ import annotations

from collections import deque

from arb_structs.market import (
    BookDelta,
    BookSnapshot,
    BookState,
    BookView,
    Level,
    LevelText,
    MdEvent,
    VenueStatus,
)

from arb_orderbook.checksums import ChecksumSpec, same_checksum
from arb_orderbook.errors import BookEventError
from arb_orderbook.result import ApplyResult, ChecksumCheck, Outcome, applied_live, unchanged
from arb_orderbook.sides import AskSide, BidSide

DEFAULT_BUFFER_LIMIT = 5_000
_APPLIED_PLAIN = [applied_live(levels) for levels in range(64)]  # the hot path's results
_CACHED = len(_APPLIED_PLAIN)

_LIVE = BookState.LIVE
_SUSPECT = BookState.SUSPECT
_SYNCING = BookState.SYNCING
_HALTED = BookState.HALTED


class OrderBook:
    """The book of one symbol on one venue. Not thread-safe; one owner applies events."""

    __slots__ = (
        "_awaiting_snapshot",
        "_buffer",
        "_checksum",
        "asks",
        "audit",
        "bids",
        "buffer_limit",
        "buffer_overflows",
        "depth",
        "reason",
        "seq",
        "state",
        "state_changes",
        "symbol",
        "ts_audit",
        "ts_event",
        "ts_recv",
        "ts_update",
        "venue",
    )

    def __init__(
        self,
        venue: str,
        symbol: str,
        *,
        buffer_limit: int = DEFAULT_BUFFER_LIMIT,
        verify_checksums: bool = True,
        checksum: ChecksumSpec | None = None,
    ) -> None:
        if buffer_limit < 1:
            raise ValueError(f"buffer_limit={buffer_limit}: must be at least 1")
        self.venue = venue
        self.symbol = symbol
        # The venue's checksum (from the registry the caller was given), None = it has none.
        self._checksum = checksum if verify_checksums else None
        # Sides keep each level's checksum piece where the checksum is built from pieces.
        field = self._checksum.field if self._checksum is not None else None
        self.bids = BidSide(field)
        self.asks = AskSide(field)
        self.seq = -1  # no snapshot yet
        self.depth = 0  # truncate each side to this many levels after a message (0 = off)
        self.state = _SYNCING
        self.reason = "waiting for a snapshot"
        self.state_changes = 0
        self.ts_event = 0  # of the last applied event
        self.ts_recv = 0
        self.ts_update = 0  # ingest receive time of the last applied event (for staleness)
        self.buffer_limit = buffer_limit
        self.buffer_overflows = 0
        # The last audit's outcome since the last snapshot ("" = none yet), set by the owner
        # (arb_orderbook.audit), and when it ended.
        self.audit = ""
        self.ts_audit = 0
        self._buffer: deque[BookDelta] = deque()
        self._awaiting_snapshot = True

    # ---------------------------------------------------------------- reading

    def best_bid(self) -> Level | None:
        prices = self.bids.prices
        if not prices:
            return None
        price = prices[-1]
        return (price, self.bids.sizes[price])

    def best_ask(self) -> Level | None:
        prices = self.asks.prices
        if not prices:
            return None
        price = prices[0]
        return (price, self.asks.sizes[price])

    def top(self, depth: int) -> tuple[list[Level], list[Level]]:
        """Best ``depth`` bids (price descending) and asks (price ascending)."""
        return self.bids.top(depth), self.asks.top(depth)

    @property
    def crossed(self) -> bool:
        bids, asks = self.bids.prices, self.asks.prices
        return bool(bids and asks and bids[-1] >= asks[0])

    @property
    def tradable(self) -> bool:
        """LIVE (freshness is checked by ``check_stale``, which the owner runs periodically)."""
        return self.state is _LIVE

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def view(self, depth: int, ts_book: int, ts_read: int = 0) -> BookView:
        bids, asks = self.top(depth)
        return BookView(
            venue=self.venue,
            symbol=self.symbol,
            state=self.state,
            seq=self.seq,
            bids=bids,
            asks=asks,
            ts_event=self.ts_event,
            ts_recv=self.ts_recv,
            ts_book=ts_book,
            ts_read=ts_read,
            reason=self.reason,
            ts_update=self.ts_update,
            audit=self.audit,
            ts_audit=self.ts_audit,
        )

    # ---------------------------------------------------------------- applying

    def apply(self, event: MdEvent) -> ApplyResult:
        """Apply one market-data event of this book; the result says what happened."""
        kind = type(event)
        if kind is BookDelta:
            return self.apply_delta(event)  # type: ignore[arg-type]
        if kind is BookSnapshot:
            return self.apply_snapshot(event)  # type: ignore[arg-type]
        if kind is VenueStatus:
            return self.apply_status(event)  # type: ignore[arg-type]
        raise BookEventError(
            f"{self.venue}/{self.symbol}: cannot apply {kind.__name__}; expected "
            "BookSnapshot, BookDelta or VenueStatus"
        )

    def apply_delta(self, delta: BookDelta) -> ApplyResult:
        previous = self.state
        texts_b, texts_a = delta.bids_text, delta.asks_text
        plain = texts_b is None and texts_a is None
        if not plain and (
            (texts_b is not None and len(texts_b) != len(delta.bids))
            or (texts_a is not None and len(texts_a) != len(delta.asks))
        ):
            _check_text(self, delta.bids, texts_b, delta.asks, texts_a)  # raises
        if self._awaiting_snapshot:
            if previous is _HALTED:
                return ApplyResult(Outcome.DROPPED_HALTED, previous, previous, reason=self.reason)
            overflow = self._buffer_delta(delta)
            if not overflow:
                return unchanged(Outcome.BUFFERED, previous)
            return ApplyResult(
                Outcome.BUFFERED,
                previous,
                previous,
                overflow=True,
                resync=True,
                reason=self._overflow_reason(),
            )
        seq = delta.seq
        if seq <= self.seq:
            return unchanged(Outcome.DROPPED_STALE, previous)
        if delta.prev_seq > self.seq:
            reason = (
                f"gap: delta prev_seq={delta.prev_seq} seq={seq} does not follow book "
                f"seq={self.seq}"
            )
            self._fault(reason)
            self._buffer.append(delta)  # it may straddle the snapshot the resync brings
            return ApplyResult(
                Outcome.GAP, previous, self.state, gap=True, resync=True, reason=reason
            )
        if plain:
            # One side is often empty: skip its call (this is the hottest line of the engine).
            changes = delta.bids
            levels = self.bids.update(changes) if changes else 0
            changes = delta.asks
            if changes:
                levels += self.asks.update(changes)
            self.seq = seq
            self.ts_event = delta.ts_event
            self.ts_recv = self.ts_update = delta.ts_recv
            if previous is _LIVE and not self.depth and delta.checksum is None:
                # The hot path: nothing to truncate or verify; only the crossed check. (A
                # venue with a checksum sends level text, so its deltas are never "plain":
                # a missing checksum is still counted in _settle.)
                bids, asks = self.bids.prices, self.asks.prices
                if not (bids and asks and bids[-1] >= asks[0]):
                    return _APPLIED_PLAIN[levels] if levels < _CACHED else applied_live(levels)
        else:
            levels = self._apply_levels(delta)
        check = self._settle(delta)
        state = self.state
        if state is _LIVE:
            if previous is _LIVE:
                return applied_live(levels, check)
            return ApplyResult(Outcome.APPLIED, previous, state, levels=levels, checksum=check)
        return ApplyResult(
            Outcome.APPLIED,
            previous,
            state,
            levels=levels,
            checksum=check,
            crossed=self.crossed,
            resync=True,
            reason=self.reason,
        )

    def apply_snapshot(self, snapshot: BookSnapshot) -> ApplyResult:
        previous = self.state
        texts_b, texts_a = snapshot.bids_text, snapshot.asks_text
        _check_text(self, snapshot.bids, texts_b, snapshot.asks, texts_a)
        levels = self.bids.replace(snapshot.bids, texts_b)
        levels += self.asks.replace(snapshot.asks, texts_a)
        self.seq = snapshot.seq
        self.depth = snapshot.depth
        self.audit = ""  # a new snapshot: not audited yet
        self.ts_event = snapshot.ts_event
        self.ts_recv = self.ts_update = snapshot.ts_recv
        self._awaiting_snapshot = False
        check = self._settle(snapshot)
        worst = check
        replayed = dropped = 0
        gap = False
        buffer = self._buffer
        while buffer and not self._awaiting_snapshot:
            delta = buffer.popleft()
            if delta.seq <= self.seq:
                dropped += 1
                continue
            if delta.prev_seq > self.seq:
                buffer.appendleft(delta)
                gap = True
                self._fault(
                    f"gap: buffered delta prev_seq={delta.prev_seq} seq={delta.seq} does "
                    f"not follow book seq={self.seq} (snapshot seq={snapshot.seq})"
                )
                break
            levels += self._apply_levels(delta)
            replayed += 1
            delta_check = self._settle(delta)
            if delta_check is not ChecksumCheck.NOT_CHECKED and worst is not ChecksumCheck.FAILED:
                worst = delta_check
        if not self._awaiting_snapshot:
            # Buffered deltas all older than the snapshot, or all replayed: nothing left.
            buffer.clear()
        state = self.state
        return ApplyResult(
            Outcome.APPLIED,
            previous,
            state,
            levels=levels,
            checksum=worst,
            crossed=self.crossed,
            gap=gap,
            resync=state is not _LIVE,
            replayed=replayed,
            replay_dropped=dropped,
            reason=self.reason,
        )

    def apply_status(self, status: VenueStatus) -> ApplyResult:
        """Venue (or this symbol's) connection down -> HALTED; up again -> SYNCING."""
        previous = self.state
        if status.status == "down":
            detail = f": {status.reason}" if status.reason else ""
            self._set_state(_HALTED, f"venue down{detail}")
            self._awaiting_snapshot = True
            self._buffer.clear()  # the next connection starts from a fresh snapshot
        elif status.status == "up":
            if previous is _HALTED:
                self._set_state(_SYNCING, "venue up: waiting for a snapshot")
        else:
            raise BookEventError(
                f"{self.venue}/{self.symbol}: venue status {status.status!r} is not "
                "'up' or 'down'; fix the sender (ingest)"
            )
        return ApplyResult(Outcome.STATUS, previous, self.state, reason=self.reason)

    def mark_suspect(self, reason: str) -> ApplyResult:
        """Its owner knows the book is wrong (an audit mismatch, a refused book frame):
        SUSPECT until the next snapshot, deltas buffered meanwhile; the caller resyncs."""
        previous = self.state
        if previous is _HALTED:  # the venue is down: the next connection resyncs anyway
            return ApplyResult(Outcome.MARKED, previous, previous, reason=self.reason)
        self._fault(reason)
        return ApplyResult(Outcome.MARKED, previous, self.state, resync=True, reason=reason)

    def check_stale(self, now: int, max_age: int) -> ApplyResult | None:
        """Mark a LIVE book SUSPECT when its last update is older than ``max_age`` ns.

        Returns the result when the state changed (the caller requests a resync), else None.
        The next applied in-sequence update makes the book LIVE again.
        """
        if self.state is not _LIVE:
            return None
        age = now - self.ts_update
        if age <= max_age:
            return None
        reason = f"stale: no update for {age / 1e9:.1f}s (bound {max_age / 1e9:.1f}s)"
        self._set_state(_SUSPECT, reason)
        return ApplyResult(Outcome.EXPIRED, _LIVE, _SUSPECT, resync=True, reason=reason)

    # ---------------------------------------------------------------- internals

    def _apply_levels(self, delta: BookDelta) -> int:
        texts_b, texts_a = delta.bids_text, delta.asks_text
        if texts_b is None and texts_a is None:
            levels = self.bids.update(delta.bids) + self.asks.update(delta.asks)
        else:  # text was checked to pair with the levels when the delta came in
            levels = 0
            changes = delta.bids
            if changes:  # one side is often empty: skip its call
                levels = (
                    self.bids.update(changes)
                    if texts_b is None
                    else self.bids.update_with_text(changes, texts_b)
                )
            changes = delta.asks
            if changes:
                levels += (
                    self.asks.update(changes)
                    if texts_a is None
                    else self.asks.update_with_text(changes, texts_a)
                )
        self.seq = delta.seq
        self.ts_event = delta.ts_event
        self.ts_recv = self.ts_update = delta.ts_recv
        return levels

    def _settle(self, event: BookSnapshot | BookDelta) -> ChecksumCheck:
        """After a whole message: truncate, verify the checksum, detect a crossed book, and
        set the state (LIVE, or SUSPECT awaiting a snapshot)."""
        bids_side, asks_side = self.bids, self.asks
        depth = self.depth
        if depth:
            if len(bids_side.prices) > depth:
                bids_side.truncate(depth)
            if len(asks_side.prices) > depth:
                asks_side.truncate(depth)
        check = ChecksumCheck.NOT_CHECKED
        spec = self._checksum
        expected = event.checksum
        if spec is not None and expected is not None and (expected or not spec.zero_means_absent):
            computed = _python_checksum(spec, bids_side, asks_side, spec.levels)
            if same_checksum(expected, computed):
                check = ChecksumCheck.OK
            else:
                self._fault(
                    f"checksum mismatch at seq={self.seq}: venue sent {expected}, "
                    f"book computes {computed}"
                )
                return ChecksumCheck.FAILED
        elif spec is not None and spec.on_every_update and type(event) is BookDelta:
            # The venue checksums every update (Kraken) and this one has none: nothing proves
            # the book now, so it is not served until a snapshot (the resync) and a checksum
            # prove it again. Counted; never taken as verified, never silently skipped.
            self._fault(f"checksum missing at seq={self.seq}: the venue checksums every update")
            return ChecksumCheck.MISSING
        bids, asks = bids_side.prices, asks_side.prices
        if bids and asks and bids[-1] >= asks[0]:
            self._fault(f"crossed at seq={self.seq}: best bid {bids[-1]} >= ask {asks[0]}")
        elif self.state is not _LIVE:
            self._set_state(_LIVE, "")
        return check

    def _fault(self, reason: str) -> None:
        """The book is wrong until a snapshot: SUSPECT, buffer deltas from now on."""
        self._awaiting_snapshot = True
        self._set_state(_SUSPECT, reason)

    def _set_state(self, state: BookState, reason: str) -> None:
        if state is not self.state:
            self.state_changes += 1
            self.state = state
        self.reason = reason

    def _buffer_delta(self, delta: BookDelta) -> bool:
        buffer = self._buffer
        overflow = len(buffer) >= self.buffer_limit
        if overflow:
            buffer.popleft()  # the oldest is the one a newer snapshot is least likely to need
            self.buffer_overflows += 1
        buffer.append(delta)
        return overflow

    def _overflow_reason(self) -> str:
        return (
            f"buffer full: {self.buffer_limit} deltas waiting for a snapshot, oldest dropped "
            f"({self.buffer_overflows} so far)"
        )


def _python_checksum(spec: ChecksumSpec, bids_side: BidSide, asks_side: AskSide, n: int) -> int:
    """The venue's checksum of the top ``n`` levels, by its Python functions (also the compiled
    book's way when a top level has no piece)."""
    from_fields = spec.from_fields
    if from_fields is not None:  # the sides hold each level's piece already
        try:  # the common case in C: every top level came with its text
            top_b = list(map(bids_side.fields.__getitem__, bids_side.prices[-1 : -n - 1 : -1]))
            top_a = list(map(asks_side.fields.__getitem__, asks_side.prices[:n]))
        except KeyError:  # some level without text: its stand-in piece
            top_b, top_a = bids_side.top_fields(n), asks_side.top_fields(n)
        return from_fields(top_b, top_a)
    return spec.function(bids_side.top_text(n), asks_side.top_text(n))


def _check_text(
    book: OrderBook,
    bids: list[Level],
    bids_text: list[LevelText] | None,
    asks: list[Level],
    asks_text: list[LevelText] | None,
) -> None:
    """Text, where given, must pair one to one with the levels (raised before any change)."""
    for side, levels, texts in (("bids", bids, bids_text), ("asks", asks, asks_text)):
        if texts is not None and len(texts) != len(levels):
            raise BookEventError(
                f"{book.venue}/{book.symbol}: {side}_text has {len(texts)} entries for "
                f"{len(levels)} levels; the parser must send one text per level or none"
            )
