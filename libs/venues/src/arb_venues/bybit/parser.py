"""Bybit v5 public frames -> normalised book events.

Sequence normalisation (https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook):
``u`` is the topic's update id and goes up by one per message, so a delta is
``(prev_seq, seq) = (u - 1, u)`` and a snapshot is valid at ``seq = u``.

A snapshot always replaces the book. Bybit re-sends one after subscribing, when its service
restarts (then ``u`` starts again at 1, lower than the book's seq), and every 3 s for level-1
data with ``u`` unchanged. The book engine resets on every BookSnapshot whatever its seq, so
the parser emits each one as a BookSnapshot and keeps no per-symbol state: a lower ``u`` is a
restart, never a stale message.

Levels are checked while msgspec decodes them (``arb_venues.common.levels``); a snapshot must
also be best-first on both sides ("sorted by price", per the docs), hold no size 0 and not be
crossed. A refused book frame is a MalformedFrame of the broken rule's kind and flags its book
in ``resync_needed``.

Markets: the same symbol (``BTCUSDT``) is a spot, a linear and an inverse book, told apart
only by the connection's path (``/v5/public/spot|linear|inverse``, from ``use_url``); a
non-spot book is named ``BTC-USDT:linear`` (``arb_venues.common.symbols``). Without a URL
(a plain recording) frames are read as the protocol's category, spot.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlsplit

import msgspec
from arb_structs import BookDelta, BookSnapshot, MdEvent

from arb_venues.base import FeedParser
from arb_venues.bybit import schemas
from arb_venues.common.levels import LevelError, check_snapshot, find_bad_side, malformed
from arb_venues.common.symbols import INVERSE, LINEAR, SPOT, SymbolMap, split_glued
from arb_venues.errors import MalformedFrame

VENUE = "bybit"
BOOK_TOPIC = "orderbook."
MS = 1_000_000  # ns per ms
_OPS = frozenset({"subscribe", "unsubscribe", "ping"})  # the ops the feed sends
# The public WS path of each market category (https://bybit-exchange.github.io/docs/v5/ws/connect).
CATEGORY_PATHS = {"/v5/public/spot": SPOT, "/v5/public/linear": LINEAR,
                  "/v5/public/inverse": INVERSE}  # fmt: skip


class BybitParser(FeedParser):
    venue: ClassVar[str] = VENUE

    def __init__(self, symbols: SymbolMap | None = None, market: str = SPOT) -> None:
        super().__init__(symbols)
        self._depth_of_topic: dict[str, int] = {}
        self.market = market

    def use_url(self, url: str) -> None:
        """The category of the connection the next frames come from (its URL path)."""
        path = urlsplit(url).path.rstrip("/")
        for suffix, market in CATEGORY_PATHS.items():
            if path.endswith(suffix):
                self.market = market
                return

    @staticmethod
    def normalise(venue_symbol: str) -> str | None:
        parts = split_glued(venue_symbol)
        return f"{parts[0]}-{parts[1]}" if parts else None

    # -- WS ---------------------------------------------------------------------------------

    def parse_ws(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        try:
            frame = schemas.WS_FRAME.decode(raw)
        except msgspec.ValidationError as exc:
            return self._other_frame(raw, str(exc))
        except msgspec.DecodeError as exc:
            raise MalformedFrame(VENUE, "json", str(exc)) from None
        data = frame.data
        if data is None:
            return self._control(frame)
        if not frame.topic:
            raise MalformedFrame(VENUE, "shape", "book data without a topic")
        if not frame.topic.startswith(BOOK_TOPIC):
            return []
        if not frame.topic.endswith(data.s):
            raise MalformedFrame(VENUE, "book", f"topic {frame.topic!r} carries symbol {data.s!r}")
        symbol = self.symbols.to_symbol(data.s, self.market)
        if symbol is None:
            raise MalformedFrame(VENUE, "unknown_symbol", f"no instrument for {data.s!r}")
        if frame.type == "delta":
            return [
                BookDelta(
                    venue=VENUE,
                    symbol=symbol,
                    prev_seq=data.u - 1,
                    seq=data.u,
                    bids=data.b,
                    asks=data.a,
                    ts_event=frame.ts * MS,
                    ts_recv=ts_recv,
                )
            ]
        if frame.type == "snapshot":
            try:
                check_snapshot(data.b, data.a)
            except LevelError as exc:
                self.resync_needed.add(data.s)
                raise malformed(VENUE, exc, f"{data.s} snapshot") from None
            return [
                BookSnapshot(
                    venue=VENUE,
                    symbol=symbol,
                    seq=data.u,
                    bids=data.b,
                    asks=data.a,
                    ts_event=frame.ts * MS,
                    ts_recv=ts_recv,
                    depth=self._depth(frame.topic),
                )
            ]
        raise MalformedFrame(VENUE, "book", f"unknown type {frame.type!r} on {frame.topic}")

    def _depth(self, topic: str) -> int:
        """The N of orderbook.N.SYMBOL: the book keeps exactly the top N levels per side."""
        depth = self._depth_of_topic.get(topic)
        if depth is None:
            parts = topic.split(".")
            if len(parts) != 3 or not parts[1].isdigit():
                raise MalformedFrame(VENUE, "book", f"topic {topic!r} is not orderbook.N.SYMBOL")
            depth = self._depth_of_topic[topic] = int(parts[1])
        return depth

    def _control(self, frame: schemas.WsFrame) -> list[MdEvent]:
        """Acks and pongs carry no book data. A refused subscribe is reported, not dropped."""
        if not frame.op and not frame.topic:
            raise MalformedFrame(VENUE, "shape", "neither a topic push nor an op reply")
        if frame.success is False:
            # {"success":false,"ret_msg":"Invalid symbol :[orderbook.50.X]","op":"subscribe"}:
            # the book will never arrive; the feed counts and logs this kind.
            op = frame.op if frame.op in _OPS else "request"  # a bounded kind, whatever op says
            raise MalformedFrame(VENUE, f"{op}_rejected", frame.ret_msg)
        if frame.topic.startswith(BOOK_TOPIC):
            raise MalformedFrame(VENUE, "book", f"{frame.topic} push without data")
        return []

    def _other_frame(self, raw: str | bytes, problem: str) -> list[MdEvent]:
        """Slow path: a frame that is not a book push (e.g. publicTrade) or a wrong one."""
        try:
            envelope = schemas.WS_ENVELOPE.decode(raw)
        except msgspec.ValidationError as exc:
            raise MalformedFrame(VENUE, "shape", str(exc)) from None
        except msgspec.DecodeError as exc:  # pragma: no cover - WS_FRAME raised it first
            raise MalformedFrame(VENUE, "json", str(exc)) from None
        if envelope.topic and not envelope.topic.startswith(BOOK_TOPIC):
            return []
        self._raise_bad_level(raw)
        topic = envelope.topic or "a frame without topic"
        raise MalformedFrame(VENUE, "book", f"{topic} does not fit the orderbook schema: {problem}")

    def _raise_bad_level(self, raw: str | bytes) -> None:
        """Raise the MalformedFrame of the first invalid level of a refused book push (slow
        path: refused frames only); return when no level is at fault."""
        try:
            loose = schemas.LOOSE_FRAME.decode(raw)
        except msgspec.DecodeError:
            return
        data = loose.data
        if data is None:
            return
        found = find_bad_side(data.b, data.a, snapshot=loose.type == "snapshot")
        if found is not None:
            if data.s:
                self.resync_needed.add(data.s)
            raise malformed(VENUE, found[1], f"{data.s or '?'} {loose.type or 'book'} {found[0]}")

    # -- REST -------------------------------------------------------------------------------

    def parse_rest(self, url: str, body: str | bytes, ts_recv: int) -> list[MdEvent]:
        """GET /v5/market/orderbook -> one BookSnapshot; [] for other endpoints.

        Its ``u`` matches the 1000-level WS stream, not the 1/50/200-level ones, so this
        snapshot only continues an ``orderbook.1000`` feed (the feed takes snapshots from
        the WS anyway: snapshot_source "ws").
        """
        if "/v5/market/orderbook" not in url:
            return []
        try:
            envelope = schemas.ENVELOPE.decode(body)
            if envelope.retCode != 0:
                raise MalformedFrame(
                    VENUE, "rest_error", f"retCode {envelope.retCode}: {envelope.retMsg}"
                )
            book = schemas.ORDERBOOK.decode(envelope.result)
        except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
            raise MalformedFrame(VENUE, "rest", str(exc)) from None
        symbol = self.symbols.to_symbol(book.s, self.market)
        if symbol is None:
            raise MalformedFrame(VENUE, "unknown_symbol", f"no instrument for {book.s!r}")
        try:
            check_snapshot(book.b, book.a)
        except LevelError as exc:
            raise malformed(VENUE, exc, f"{book.s} REST snapshot") from None
        return [
            BookSnapshot(
                venue=VENUE,
                symbol=symbol,
                seq=book.u,
                bids=book.b,
                asks=book.a,
                ts_event=book.ts * MS,
                ts_recv=ts_recv,
            )
        ]
