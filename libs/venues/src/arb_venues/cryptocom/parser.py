"""Crypto.com Exchange v1 market-data frames -> normalised book events.

Docs: https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html#book-instrument_name-depth
(``book.{instrument_name}.{depth}`` with ``book_subscription_type`` ``SNAPSHOT_AND_UPDATE``):

- the first push after a subscribe is a snapshot (``channel: "book"``) whose data carry ``u``,
  the book's update sequence; every later push is a delta (``channel: "book.update"``) with
  ``u`` and ``pu``, the previous delta's ``u``. A delta whose ``pu`` is not the ``u`` of the
  message before it means a message was missed: the docs say to re-subscribe, which sends a
  fresh snapshot. With no book change an empty delta still comes (change log 2024-01-04), so
  the chain also shows a quiet book is alive;
- a level is ``[price, quantity, number of orders]``; quantity 0 deletes the price.

Normalised: a snapshot at ``seq = u``, a delta ``(prev_seq, seq) = (pu, u)``. The book's one
rule (apply when ``prev_seq <= book.seq``) would accept a delta that overlaps the book; the
parser also holds Crypto.com's stricter rule, ``pu`` equal to the last ``u`` of that book on
this connection, and flags a broken chain in ``resync_needed`` (the feed re-subscribes it).

Heartbeat: the server sends ``{"id": N, "method": "public/heartbeat"}`` every 30 s and closes
the connection unless ``{"id": N, "method": "public/respond-heartbeat"}`` comes back (docs
"Websocket Heartbeats"); the parser queues that answer in ``replies``.

Levels are checked while msgspec decodes them; a snapshot must also be best-first, without
size 0, and not crossed. REST ``public/get-book`` carries no sequence: it is read for audits
by content.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import msgspec
from arb_structs import BookDelta, BookSnapshot, MdEvent

from arb_venues.base import FeedParser
from arb_venues.common.levels import LevelError, check_snapshot, find_bad_side, malformed
from arb_venues.common.symbols import SymbolMap
from arb_venues.cryptocom import schemas
from arb_venues.errors import MalformedFrame

VENUE = "cryptocom"
MS = 1_000_000  # ns per ms
SNAPSHOT_CHANNEL = "book"
UPDATE_CHANNEL = "book.update"
HEARTBEAT = "public/heartbeat"
HEARTBEAT_REPLY = "public/respond-heartbeat"
GET_BOOK = "public/get-book"


def pairs(levels: list[schemas.BookLevel]) -> list[tuple[float, float]]:
    """``[price, quantity, orders]`` levels as the (price, size) pairs of our events."""
    return [(level[0], level[1]) for level in levels]


class CryptocomParser(FeedParser):
    venue: ClassVar[str] = VENUE

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(symbols)
        self._last_u: dict[str, int] = {}  # venue symbol -> u of its last message here
        self.heartbeats_answered = 0

    @staticmethod
    def normalise(venue_symbol: str) -> str | None:
        base, sep, quote = venue_symbol.partition("_")
        if not sep or not base or not quote or "-" in venue_symbol:
            return None  # BTCUSD-PERP and other derivatives are not spot pairs
        return f"{base}-{quote}"

    def reset(self, venue_symbol: str | None = None) -> None:
        if venue_symbol is None:
            self._last_u.clear()
        else:
            self._last_u.pop(venue_symbol, None)

    # -- WS ---------------------------------------------------------------------------------

    def parse_ws(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        try:
            message = schemas.MESSAGE.decode(raw)
        except msgspec.ValidationError as exc:
            return self._refused(raw, exc)
        except msgspec.DecodeError as exc:
            raise MalformedFrame(VENUE, "json", str(exc)) from None
        result = message.result
        if result is None:
            return self._control(message)
        if result.channel not in (SNAPSHOT_CHANNEL, UPDATE_CHANNEL):
            return []  # ticker, trade, ...: no book data
        venue_symbol = result.instrument_name
        symbol = self.symbols.to_symbol(venue_symbol)
        if symbol is None:
            raise MalformedFrame(VENUE, "unknown_symbol", f"no instrument for {venue_symbol!r}")
        if not result.data:
            raise MalformedFrame(VENUE, "book", f"{result.subscription}: a push without data")
        events: list[MdEvent] = []
        for data in result.data:
            if data.u is None:
                raise MalformedFrame(VENUE, "book", f"{result.subscription}: no update sequence u")
            if result.channel == SNAPSHOT_CHANNEL:
                events.append(self._snapshot(venue_symbol, symbol, data, result.depth, ts_recv))
            else:
                events.append(self._delta(venue_symbol, symbol, data, ts_recv))
        return events

    def _snapshot(
        self, venue_symbol: str, symbol: str, data: schemas.BookData, depth: int, ts_recv: int
    ) -> BookSnapshot:
        assert data.u is not None
        bids, asks = pairs(data.bids), pairs(data.asks)
        try:
            check_snapshot(bids, asks)
        except LevelError as exc:
            self.resync_needed.add(venue_symbol)
            raise malformed(VENUE, exc, f"{venue_symbol} snapshot") from None
        self._last_u[venue_symbol] = data.u
        return BookSnapshot(
            venue=VENUE,
            symbol=symbol,
            seq=data.u,
            bids=bids,
            asks=asks,
            ts_event=(data.tt or data.t) * MS,
            ts_recv=ts_recv,
            depth=depth,
        )

    def _delta(
        self, venue_symbol: str, symbol: str, data: schemas.BookData, ts_recv: int
    ) -> BookDelta:
        assert data.u is not None
        if data.pu is None or data.u <= data.pu:
            raise MalformedFrame(VENUE, "book", f"{venue_symbol}: update u {data.u} / pu {data.pu}")
        last = self._last_u.get(venue_symbol)
        if last is not None and data.pu != last:
            # A missed or repeated message: Crypto.com's rule is to re-subscribe.
            self.resync_needed.add(venue_symbol)
        self._last_u[venue_symbol] = data.u
        side = data.update or schemas.BookSide()
        return BookDelta(
            venue=VENUE,
            symbol=symbol,
            prev_seq=data.pu,
            seq=data.u,
            bids=pairs(side.bids),
            asks=pairs(side.asks),
            ts_event=(data.tt or data.t) * MS,
            ts_recv=ts_recv,
        )

    def _control(self, message: schemas.Message) -> list[MdEvent]:
        """Heartbeats (answered), acks; an error answer is reported, not dropped."""
        if message.method == HEARTBEAT:
            self.replies.append(
                msgspec.json.encode({"id": message.id, "method": HEARTBEAT_REPLY}).decode()
            )
            self.heartbeats_answered += 1
            return []
        if str(message.code) not in ("0", ""):
            kind = (
                "subscribe_rejected"
                if message.method in ("subscribe", "unsubscribe")
                else ("error_reply")
            )
            raise MalformedFrame(VENUE, kind, f"code {message.code}: {message.message}")
        if not message.method:
            raise MalformedFrame(VENUE, "shape", "neither a push nor a reply")
        return []

    def _refused(self, raw: str | bytes, exc: Exception) -> list[MdEvent]:
        """Slow path: another channel's push (its data do not fit a book) or a broken one."""
        try:
            envelope = schemas.ENVELOPE.decode(raw)
        except msgspec.DecodeError as other:
            raise MalformedFrame(VENUE, "shape", str(other)) from None
        try:
            channel = msgspec.json.decode(envelope.result, type=dict[str, object]).get("channel")
        except msgspec.DecodeError:
            channel = None
        if channel not in (SNAPSHOT_CHANNEL, UPDATE_CHANNEL) and channel is not None:
            return []
        self._raise_bad_level(raw)
        raise MalformedFrame(VENUE, "book", f"a book push that does not fit the schema: {exc}")

    def _raise_bad_level(self, raw: str | bytes) -> None:
        try:
            loose = schemas.LOOSE.decode(raw)
        except msgspec.DecodeError:
            return
        result = loose.result
        if result is None:
            return
        for data in result.data:
            snapshot = result.channel == SNAPSHOT_CHANNEL
            bids = data.update.get("bids", []) if data.update else data.bids
            asks = data.update.get("asks", []) if data.update else data.asks
            found = find_bad_side(bids, asks, snapshot=snapshot)
            if found is not None:
                if result.instrument_name:
                    self.resync_needed.add(result.instrument_name)
                raise malformed(
                    VENUE, found[1], f"{result.instrument_name or '?'} {result.channel} {found[0]}"
                )

    # -- REST -------------------------------------------------------------------------------

    def parse_rest(self, url: str, body: str | bytes, ts_recv: int) -> list[MdEvent]:
        """GET public/get-book -> one BookSnapshot (no sequence: ``seq`` 0); [] otherwise."""
        parts = urlsplit(url)
        if not parts.path.endswith(GET_BOOK):
            return []
        try:
            envelope = schemas.ENVELOPE.decode(body)
            if str(envelope.code) != "0":
                raise MalformedFrame(
                    VENUE, "rest_error", f"code {envelope.code}: {envelope.message}"
                )
            result = schemas.BOOK_RESULT.decode(envelope.result)
        except msgspec.DecodeError as exc:
            raise MalformedFrame(VENUE, "rest", str(exc)) from None
        venue_symbol = (
            result.instrument_name or (parse_qs(parts.query).get("instrument_name") or [""])[0]
        )
        symbol = self.symbols.to_symbol(venue_symbol)
        if symbol is None:
            raise MalformedFrame(VENUE, "unknown_symbol", f"no instrument for {venue_symbol!r}")
        if not result.data:
            raise MalformedFrame(VENUE, "rest", f"{venue_symbol}: get-book without data")
        data = result.data[0]
        bids, asks = pairs(data.bids), pairs(data.asks)
        try:
            check_snapshot(bids, asks)
        except LevelError as exc:
            raise malformed(VENUE, exc, f"{venue_symbol} REST snapshot") from None
        return [
            BookSnapshot(
                venue=VENUE,
                symbol=symbol,
                seq=data.u or 0,
                bids=bids,
                asks=asks,
                ts_event=(data.t or data.tt) * MS,
                ts_recv=ts_recv,
            )
        ]
