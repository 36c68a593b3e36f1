"""Bybit v5 public frames -> normalised book events.

Sequence normalisation (https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook):
``u`` is the topic's update id and goes up by one per message, so a delta is
``(prev_seq, seq) = (u - 1, u)`` and a snapshot is valid at ``seq = u``.

A snapshot always replaces the book. Bybit re-sends one after subscribing, when its service
restarts (then ``u`` starts again at 1, lower than the book's seq), and every 3 s for level-1
data with ``u`` unchanged. The book engine resets on every BookSnapshot whatever its seq, so
the parser emits each one as a BookSnapshot and keeps no per-symbol state: a lower ``u`` is a
restart, never a stale message.
"""

from __future__ import annotations

from typing import ClassVar

import msgspec
from arb_structs import BookDelta, BookSnapshot, MdEvent

from arb_venues.base import FeedParser
from arb_venues.bybit import schemas
from arb_venues.common.symbols import SymbolMap, split_glued
from arb_venues.errors import MalformedFrame

VENUE = "bybit"
BOOK_TOPIC = "orderbook."
MS = 1_000_000  # ns per ms


class BybitParser(FeedParser):
    venue: ClassVar[str] = VENUE

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(symbols)
        self._depth_of_topic: dict[str, int] = {}

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
        symbol = self.symbols.to_symbol(data.s)
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
            raise MalformedFrame(VENUE, f"{frame.op or 'request'}_rejected", frame.ret_msg)
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
        topic = envelope.topic or "a frame without topic"
        raise MalformedFrame(VENUE, "book", f"{topic} does not fit the orderbook schema: {problem}")

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
        symbol = self.symbols.to_symbol(book.s)
        if symbol is None:
            raise MalformedFrame(VENUE, "unknown_symbol", f"no instrument for {book.s!r}")
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
