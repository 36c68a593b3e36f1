"""Gate APIv4 spot frames -> normalised book events.

Sequence normalisation (docs: "Changed order book levels" / "How to maintain local order
book", https://www.gate.io/docs/developers/apiv4/ws/en/#changed-order-book-levels): an update
covers order book update ids ``U..u``; the REST snapshot
``GET /api/v4/spot/order_book?with_id=true`` is valid at its ``id``. Gate's procedure: drop
updates with ``u <= id``; the first applied one has ``U <= id + 1 <= u``; after it each
``U == previous u + 1``, otherwise the local book is out of sync and must be fetched again.
With ``prev_seq = U - 1`` and ``seq = u`` the book's one rule is exactly that.

Every level is checked as it is decoded (``arb_venues.common.levels``); a snapshot must also
be best-first on both sides (Gate sends bids descending, asks ascending), hold no size 0 and
not be crossed. A refused frame is a MalformedFrame of its rule's kind and its book is
flagged in ``resync_needed``; the update ids then show the book service the hole as a gap.
Stateless otherwise: Gate numbers every update, so ``reset`` has nothing to forget.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import msgspec
from arb_structs import BookDelta, BookSnapshot, MdEvent

from arb_venues.base import FeedParser
from arb_venues.common.levels import LevelError, check_snapshot, find_bad_side, malformed
from arb_venues.errors import MalformedFrame
from arb_venues.gateio import schemas

VENUE = "gateio"
BOOK_CHANNEL = "spot.order_book_update"
ORDER_BOOK_PATH = "/api/v4/spot/order_book"
_MS = 1_000_000  # ms -> ns


class GateParser(FeedParser):
    venue: ClassVar[str] = VENUE

    def parse_ws(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        # Fast path: an order_book_update update, the only thing the feed subscribes.
        try:
            frame = schemas.update_frame_decoder.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return self._other_frame(raw, ts_recv)
        if frame.channel != BOOK_CHANNEL or frame.event != "update":
            return self._other_frame(raw, ts_recv)
        return [self._delta(frame.result, ts_recv)]

    def parse_rest(self, url: str, body: str | bytes, ts_recv: int) -> list[MdEvent]:
        parts = urlsplit(url)
        if not parts.path.endswith(ORDER_BOOK_PATH):
            return []
        query = parse_qs(parts.query)
        pairs = query.get("currency_pair")
        if not pairs:
            raise MalformedFrame(VENUE, "snapshot", f"no currency_pair= in the book URL {url!r}")
        pair = pairs[0]
        try:
            book = schemas.order_book_decoder.decode(body)
        except msgspec.ValidationError as exc:
            raise self._diagnose_snapshot(pair, body, exc) from None
        except msgspec.DecodeError as exc:
            raise MalformedFrame(VENUE, "snapshot", f"{pair}: {exc}") from None
        if book.id <= 0:
            raise MalformedFrame(VENUE, "snapshot", f"{pair}: no update id (ask with_id=true)")
        try:
            check_snapshot(book.bids, book.asks)
        except LevelError as exc:
            raise malformed(VENUE, exc, f"{pair} snapshot") from None
        return [
            BookSnapshot(
                venue=VENUE,
                symbol=self._symbol(pair),
                seq=book.id,
                bids=book.bids,
                asks=book.asks,
                ts_event=book.update * _MS,
                ts_recv=ts_recv,
            )
        ]

    @staticmethod
    def normalise(venue_symbol: str) -> str | None:
        base, sep, quote = venue_symbol.partition("_")
        if not sep or not base or not quote or "_" in quote:
            return None
        return f"{base.upper()}-{quote.upper()}"

    # -- internals ---------------------------------------------------------------------------

    def _symbol(self, venue_symbol: str) -> str:
        symbol = self.symbols.to_symbol(venue_symbol)
        if symbol is None:
            raise MalformedFrame(VENUE, "unknown_symbol", f"cannot normalise {venue_symbol!r}")
        return symbol

    def _delta(self, data: schemas.BookUpdate, ts_recv: int) -> BookDelta:
        if data.u < data.U or data.U <= 0:
            raise MalformedFrame(VENUE, "book_update", f"{data.s}: U={data.U} u={data.u}")
        return BookDelta(
            venue=VENUE,
            symbol=self._symbol(data.s),
            prev_seq=data.U - 1,
            seq=data.u,
            bids=data.b,
            asks=data.a,
            ts_event=data.t * _MS,
            ts_recv=ts_recv,
        )

    def _other_frame(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        """Acks, pongs, other channels, error replies - and refused book updates."""
        try:
            env = schemas.envelope_decoder.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise MalformedFrame(VENUE, "json", str(exc)) from None
        if env.error is not None:
            raise MalformedFrame(VENUE, "error_reply", f"{env.channel} {env.event}: code "
                                 f"{env.error.code}: {env.error.message}")  # fmt: skip
        if not env.channel:
            raise MalformedFrame(VENUE, "unknown", "a frame without a channel")
        if env.channel == BOOK_CHANNEL and env.event == "update":
            raise self._diagnose_update(raw)
        # subscribe/unsubscribe acks, spot.pong, trades, tickers, candlesticks: no book data
        return []

    def _diagnose_update(self, raw: str | bytes) -> MalformedFrame:
        """Which level made msgspec refuse an update (slow path: refused frames only). A bad
        level flags its book for a resync; any other refusal is a book_update."""
        try:
            schemas.update_frame_decoder.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            reason = str(exc)
        else:  # pragma: no cover - the fast path took it
            reason = "refused"
        try:
            loose = schemas.loose_update_decoder.decode(raw).result
        except (msgspec.ValidationError, msgspec.DecodeError):
            return MalformedFrame(VENUE, "book_update", reason)
        found = find_bad_side(loose.b, loose.a, snapshot=False)
        if found is None:
            return MalformedFrame(VENUE, "book_update", reason)
        if loose.s:
            self.resync_needed.add(loose.s)
        return malformed(VENUE, found[1], f"{loose.s or '?'} update {found[0]}")

    @staticmethod
    def _diagnose_snapshot(pair: str, body: str | bytes, exc: Exception) -> MalformedFrame:
        try:
            loose = schemas.loose_book_decoder.decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return MalformedFrame(VENUE, "snapshot", f"{pair}: {exc}")
        found = find_bad_side(loose.bids, loose.asks, snapshot=True)
        if found is None:
            return MalformedFrame(VENUE, "snapshot", f"{pair}: {exc}")
        return malformed(VENUE, found[1], f"{pair} snapshot {found[0]}")
