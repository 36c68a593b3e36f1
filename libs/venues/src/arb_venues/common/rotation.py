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
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
from arb_structs import BookDelta, BookSnapshot, MdEvent

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
