"""Make-before-break: how a second connection's books join the live ones without a gap.

A rotation opens a new connection next to the live one and subscribes it; until a book has
switched over, the new connection's events of that book are held here and the live
connection keeps feeding it. A book switches when the new connection can continue exactly
where the live one is (``last[symbol]``, the seq of the last event the live connection
emitted for it); from then on only the new connection's events of that book are emitted, and
the live connection's are dropped. When every book has switched, the old socket is closed.
Nothing reaches the book twice, nothing is missing, and no VenueStatus is sent: the book
service sees one unbroken sequence and the book stays LIVE.

How a book joins depends on what its sequence means (``MarketDataProtocol.rotation_join``):

"sequence": the seq is the venue's own, shared by every connection (Binance ``u``, OKX
    ``seqId``, Bybit ``u``, ...). The new connection's events form a chain from ``start``
    (its snapshot's seq, or its first delta's ``prev_seq``); once the live book has reached
    ``start`` (``start <= last``) the held events with ``seq <= last`` are dropped (already in
    the book) and the rest emitted: the first of them straddles ``last``. No snapshot is
    needed, so a REST-snapshot venue makes no REST call for a rotation.
"snapshot": the seq is the connection's own (a synthetic counter: Kraken, Coinbase,
    Bitfinex), so two connections' numbers say nothing about each other. The book switches at
    the new connection's first snapshot, which replaces the book whole (a snapshot always
    does, and a consistent one keeps it LIVE); its events are renumbered by one offset per
    book so the book's seq keeps rising (the snapshot lands at ``last + 1``).

A book the new connection cannot join within the rotation's deadline is switched anyway and
reported in ``forced``: the caller resyncs it (counted, never silent).

A hot standby (``Standby``, A/B feeds) is a join that does not switch on its own: a second
connection stays subscribed next to the live one, and each of its books is kept joinable
at the live book's sequence, in bounded memory ("sequence": only its events the book has
not had yet, and where its chain stands; "snapshot": its own copy of the book, its first
snapshot with every later delta applied). When the live connection is cut, ``release``
switches every book at once without a resync: "sequence" books emit what the book has not
had, "snapshot" books that copy as one snapshot renumbered after ``last``. A book the
standby could not keep (its chain broke and did not restart before ``last``, or it never
had the book) is reported in ``forced``, as above.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
from arb_structs import BookDelta, BookSnapshot, MdEvent
from arb_structs.market import Level, LevelText

JOIN_MODES = ("sequence", "snapshot")


class Join:
    """One rotation's switch-over, book by book. Pure: the feed does the I/O."""

    def __init__(self, symbols: Iterable[str], mode: str, last: dict[str, int]) -> None:
        if mode not in JOIN_MODES:
            raise ValueError(f"rotation join mode {mode!r}: choose one of {JOIN_MODES}")
        self.mode = mode
        self.last = last  # the live connection's last emitted seq per symbol (shared, live)
        self.waiting: set[str] = set(symbols)
        self.held: dict[str, list[BookSnapshot | BookDelta]] = {s: [] for s in self.waiting}
        self.start: dict[str, int] = {}
        self.offsets: dict[str, int] = {}  # "snapshot" mode: added to the new seqs
        self.forced: list[str] = []
        self.dropped = 0  # held events the live book already had

    @property
    def done(self) -> bool:
        return not self.waiting

    def switched(self, symbol: str) -> bool:
        return symbol not in self.waiting

    # ---------------------------------------------------------------- new connection

    def offer(self, event: BookSnapshot | BookDelta) -> list[MdEvent]:
        """An event of the new connection: what to emit now (empty while it is held)."""
        symbol = event.symbol
        if symbol not in self.waiting:
            stale = type(event) is BookDelta and event.seq <= self.last.get(symbol, -1)
            if stale and self.mode == "sequence":
                self.dropped += 1  # a switched connection that was behind: the book has it
                return []
            return [self.shift(event)]
        if self.mode == "snapshot":
            if type(event) is not BookSnapshot:
                return []  # before its first snapshot the new connection has no book
            last = self.last.get(symbol)
            self.offsets[symbol] = 0 if last is None else last + 1 - event.seq
            self.waiting.discard(symbol)
            self.held.pop(symbol, None)
            return [self.shift(event)]
        held = self.held[symbol]
        if isinstance(event, BookSnapshot):
            held.clear()  # a snapshot holds everything before it
            self.start[symbol] = event.seq
        elif not held or event.prev_seq > held[-1].seq:
            held.clear()  # the first one, or the new chain broke: it restarts here
            self.start[symbol] = event.prev_seq
        held.append(event)
        return self.advance(symbol)

    def restart(self, symbol: str) -> None:
        """The new connection's chain of a waiting book broke: forget what it held."""
        if symbol in self.waiting:
            self.held[symbol] = []
            self.start.pop(symbol, None)

    # ---------------------------------------------------------------- live connection

    def advance(self, symbol: str) -> list[MdEvent]:
        """The live book of ``symbol`` moved (or the new chain grew): switch it if the new
        connection now continues it; what to emit then."""
        if symbol not in self.waiting:
            return []
        held = self.held[symbol]
        if not held:
            return []
        last = self.last.get(symbol)
        if last is not None and self.start[symbol] > last:
            return []  # the live book is behind the new chain's start: it will catch up
        if last is not None and held[-1].seq < last:
            # The new connection is behind the book: switching now would send it what the
            # book has. Keep its chain's end only and wait until it reaches the book.
            self.dropped += len(held) - 1
            del held[:-1]
            return []
        self.waiting.discard(symbol)
        del self.held[symbol]
        if last is None:  # nothing reached the book from the live connection: all of it
            return list(held)
        out: list[MdEvent] = [e for e in held if e.seq > last]
        self.dropped += len(held) - len(out)
        return out

    def force(self) -> list[MdEvent]:
        """The deadline passed: switch every waiting book now (the caller resyncs the ones
        in ``forced``); what to emit."""
        out: list[MdEvent] = []
        for symbol in sorted(self.waiting):
            self.forced.append(symbol)
            held = self.held.pop(symbol, [])
            last = self.last.get(symbol)
            if self.mode == "snapshot":
                first = next((e for e in held if type(e) is BookSnapshot), None)
                self.offsets[symbol] = (
                    0 if first is None or last is None else (last + 1 - first.seq)
                )
                out.extend(self.shift(e) for e in held)
            else:
                out.extend(e for e in held if last is None or e.seq > last)
        self.waiting.clear()
        return out

    def shift(self, event: BookSnapshot | BookDelta) -> MdEvent:
        """``event`` renumbered by its book's offset ("snapshot" mode); itself otherwise."""
        return shift(event, self.offsets.get(event.symbol, 0))


class Standby(Join):
    """A hot standby's books, held joinable until ``release`` (see the module docstring)."""

    def __init__(self, symbols: Iterable[str], mode: str, last: dict[str, int]) -> None:
        super().__init__(symbols, mode, last)
        self.tail: dict[str, int] = {}  # "sequence": the seq of the standby's last event
        self.copies: dict[str, BookCopy] = {}  # "snapshot": the standby's own book

    @property
    def ready(self) -> bool:
        """Every book would switch without a resync if released now."""
        return all(self.joinable(symbol) for symbol in self.waiting)

    def joinable(self, symbol: str) -> bool:
        if self.mode == "snapshot":
            return symbol in self.copies
        start = self.start.get(symbol)
        last = self.last.get(symbol)
        return start is not None and (last is None or start <= last)

    def offer(self, event: BookSnapshot | BookDelta) -> list[MdEvent]:
        symbol = event.symbol
        if symbol not in self.waiting:
            return super().offer(event)
        if self.mode == "snapshot":
            copy = self.copies.get(symbol)
            if type(event) is BookSnapshot:
                self.copies[symbol] = BookCopy(event)
            elif copy is not None:
                copy.apply(event)  # type: ignore[arg-type]
            return []
        tail = self.tail.get(symbol)
        if isinstance(event, BookSnapshot):
            self.held[symbol] = [event]
            self.start[symbol] = event.seq
        elif tail is None or event.prev_seq > tail:
            self.held[symbol] = [event]  # the first one, or the chain broke: it restarts here
            self.start[symbol] = event.prev_seq
        else:
            self.held[symbol].append(event)
        self.tail[symbol] = event.seq
        self.advance(symbol)
        return []

    def advance(self, symbol: str) -> list[MdEvent]:
        """The live book moved: forget what it has now (the standby keeps only the rest)."""
        held = self.held.get(symbol)
        last = self.last.get(symbol)
        if held and last is not None and held[0].seq <= last:
            keep = [e for e in held if e.seq > last]
            self.dropped += len(held) - len(keep)
            self.held[symbol] = keep
        return []

    def restart(self, symbol: str) -> None:
        super().restart(symbol)
        self.tail.pop(symbol, None)
        self.copies.pop(symbol, None)

    def release(self) -> list[MdEvent]:
        """The live connection is gone: switch every book to the standby now; what to emit
        (the books in ``forced`` could not be kept: the caller resyncs them)."""
        out: list[MdEvent] = []
        for symbol in sorted(self.waiting):
            last = self.last.get(symbol)
            if not self.joinable(symbol):
                self.forced.append(symbol)
            elif self.mode == "snapshot":
                snapshot = self.copies.pop(symbol).snapshot()
                self.offsets[symbol] = 0 if last is None else last + 1 - snapshot.seq
                out.append(self.shift(snapshot))
            else:
                out.extend(e for e in self.held.get(symbol, []) if last is None or e.seq > last)
            self.held.pop(symbol, None)
        self.waiting.clear()
        self.copies.clear()
        return out


class BookCopy:
    """A book kept from one snapshot and the deltas after it, by price: what a "snapshot"
    standby hands the book service as one snapshot when it takes over."""

    __slots__ = ("asks", "bids", "first", "last")

    def __init__(self, snapshot: BookSnapshot) -> None:
        self.first = snapshot
        self.last: BookSnapshot | BookDelta = snapshot
        self.bids = _side(snapshot.bids, snapshot.bids_text)
        self.asks = _side(snapshot.asks, snapshot.asks_text)

    def apply(self, delta: BookDelta) -> None:
        _update(self.bids, delta.bids, delta.bids_text)
        _update(self.asks, delta.asks, delta.asks_text)
        self.last = delta
        depth = self.first.depth
        if depth:
            for side, best_first in ((self.bids, True), (self.asks, False)):
                if len(side) > depth:
                    for price in sorted(side, reverse=best_first)[depth:]:
                        del side[price]

    def snapshot(self) -> BookSnapshot:
        bids = sorted(self.bids.items(), reverse=True)
        asks = sorted(self.asks.items())
        texts = self.first.bids_text is not None or self.first.asks_text is not None
        last = self.last
        return msgspec.structs.replace(
            self.first, seq=last.seq, ts_event=last.ts_event, ts_recv=last.ts_recv,
            checksum=last.checksum,
            bids=[(p, q) for p, (q, _) in bids], asks=[(p, q) for p, (q, _) in asks],
            bids_text=[t for _, (_, t) in bids] if texts else None,
            asks_text=[t for _, (_, t) in asks] if texts else None,
        )  # fmt: skip


_Side = dict[float, tuple[float, LevelText | None]]


def _side(levels: list[Level], texts: list[LevelText] | None) -> _Side:
    if texts is None:
        return {price: (size, None) for price, size in levels}
    return {price: (size, text) for (price, size), text in zip(levels, texts, strict=True)}


def _update(side: _Side, levels: list[Level], texts: list[LevelText] | None) -> None:
    for i, (price, size) in enumerate(levels):
        if size == 0:
            side.pop(price, None)
        else:
            side[price] = (size, None if texts is None else texts[i])


def shift(event: MdEvent, offset: int) -> MdEvent:
    """A snapshot or delta with its sequence numbers moved by ``offset`` (0: itself)."""
    if not offset:
        return event
    if type(event) is BookDelta:
        return msgspec.structs.replace(
            event, prev_seq=event.prev_seq + offset, seq=event.seq + offset
        )
    if type(event) is BookSnapshot:
        return msgspec.structs.replace(event, seq=event.seq + offset)
    return event
