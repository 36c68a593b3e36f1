"""MEXC spot frames -> normalised book events.

Frames: pushes are binary protobuf ``PushDataV3ApiWrapper`` messages; replies to the client's
JSON requests (SUBSCRIPTION, UNSUBSCRIPTION, PING) are JSON text. ``proto3_json`` turns a
binary push into its proto3 JSON text (schemas.py); the market's ``decode_frame`` applies it
before the wire tap and the parser, so recordings hold text. ``parse_ws`` reads both: bytes
that are not JSON are decoded as protobuf first.

The book channel is ``spot@public.aggre.depth.v3.api.pb@(100ms|10ms)@<SYMBOL>``: each push
carries the absolute quantities of the levels that changed in versions
``fromVersion..toVersion``. MEXC's procedure ("How to Properly Maintain a Local Copy of the
Order Book", https://www.mexc.com/api-docs/spot-v3/websocket-market-streams/how-to-properly-maintain-a-local-copy-of-the-order-book):
buffer pushes, GET /api/v3/depth and take its ``lastUpdateId``; drop pushes with
``toVersion <= lastUpdateId``; the first applied one must have ``fromVersion <=
lastUpdateId + 1``; from then on every push's ``fromVersion`` is the previous ``toVersion +
1``, else reinitialise. With ``prev_seq = fromVersion - 1`` and ``seq = toVersion`` that is
exactly the book's one rule (the same normalisation as Binance's ``U``/``u``): a push whose
``prev_seq`` is above the book's seq is a gap, and the book asks for a resync (a new REST
snapshot).

Every level is checked as it is decoded (``arb_venues.common.levels``); a REST snapshot must
also be best-first, hold no size 0 and not be crossed. A refused book frame is a MalformedFrame
of its rule's kind and flags its book in ``resync_needed``.

Stateless otherwise: MEXC numbers every push, so ``reset`` has nothing to forget.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import msgspec
from arb_structs import BookDelta, BookSnapshot, Level, MdEvent

from arb_venues.base import FeedParser
from arb_venues.common.levels import LevelError, check_snapshot, find_bad_side, malformed
from arb_venues.common.symbols import split_glued
from arb_venues.errors import MalformedFrame
from arb_venues.mexc import schemas

VENUE = "mexc"
_MS = 1_000_000  # ms -> ns
_encoder = msgspec.json.Encoder()
DEPTH_CHANNEL = "spot@public.aggre.depth.v3.api.pb"
PONG = "PONG"


def is_json(raw: str | bytes) -> bool:
    """Text, or bytes that hold a JSON object/array (a recorded or replied frame)."""
    if isinstance(raw, str):
        return True
    head = bytes(raw[:1])
    return head in (b"{", b"[")


def proto3_json(raw: str | bytes) -> str | bytes:
    """A binary push as its proto3 JSON text (bytes); JSON text as it is. MalformedFrame for
    bytes that are neither a JSON frame nor a PushDataV3ApiWrapper."""
    if isinstance(raw, str) or is_json(raw):
        return raw
    try:
        push = schemas.PushDataV3ApiWrapper.FromString(bytes(raw))
    except (schemas.DecodeError, RuntimeError, ValueError) as exc:
        raise MalformedFrame(
            VENUE, "protobuf", f"not a PushDataV3ApiWrapper ({len(raw)} bytes): {exc}"
        ) from None
    if not push.channel:
        raise MalformedFrame(VENUE, "protobuf", f"a {len(raw)}-byte push without a channel")
    return _encoder.encode(schemas.push_dict(push))


def channel_parts(channel: str) -> tuple[str, str]:
    """``spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT`` -> (its stream without the
    symbol, "BTCUSDT")."""
    stream, _, symbol = channel.rpartition("@")
    return stream, symbol


def _levels(items: list[schemas.DepthItem]) -> list[Level]:
    return [(item.price, item.quantity) for item in items]


class MexcParser(FeedParser):
    venue: ClassVar[str] = VENUE

    def parse_ws(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        text = proto3_json(raw)
        try:
            push = schemas.push_decoder.decode(text)
        except msgspec.ValidationError as exc:
            return self._other_frame(text, exc)
        except msgspec.DecodeError as exc:
            raise MalformedFrame(VENUE, "json", str(exc)) from None
        return [self._delta(push, ts_recv)]

    def parse_rest(self, url: str, body: str | bytes, ts_recv: int) -> list[MdEvent]:
        parts = urlsplit(url)
        if not parts.path.endswith("/api/v3/depth"):
            return []
        symbols = parse_qs(parts.query).get("symbol")
        if not symbols:
            raise MalformedFrame(VENUE, "snapshot", f"no symbol= in the depth URL {url!r}")
        try:
            snap = schemas.depth_decoder.decode(body)
        except msgspec.ValidationError as exc:
            raise self._diagnose_snapshot(symbols[0], body, exc) from None
        except msgspec.DecodeError as exc:
            raise MalformedFrame(VENUE, "snapshot", f"{symbols[0]}: {exc}") from None
        try:
            check_snapshot(snap.bids, snap.asks)
        except LevelError as exc:
            raise malformed(VENUE, exc, f"{symbols[0]} snapshot") from None
        return [
            BookSnapshot(
                venue=VENUE,
                symbol=self._symbol(symbols[0]),
                seq=snap.lastUpdateId,
                bids=snap.bids,
                asks=snap.asks,
                ts_event=0,  # the depth body carries no time
                ts_recv=ts_recv,
            )
        ]

    @staticmethod
    def normalise(venue_symbol: str) -> str | None:
        pair = split_glued(venue_symbol)
        return f"{pair[0]}-{pair[1]}" if pair else None

    # -- internals ---------------------------------------------------------------------------

    def _symbol(self, venue_symbol: str) -> str:
        symbol = self.symbols.to_symbol(venue_symbol)
        if symbol is None:
            raise MalformedFrame(VENUE, "unknown_symbol", f"cannot normalise {venue_symbol!r}")
        return symbol

    def _delta(self, push: schemas.Push, ts_recv: int) -> BookDelta:
        body = push.publicAggreDepths
        venue_symbol = push.symbol or channel_parts(push.channel)[1]
        if body.fromVersion < 0 or body.toVersion < body.fromVersion:
            raise MalformedFrame(
                VENUE, "depth_update",
                f"{push.channel}: fromVersion {body.fromVersion} / toVersion {body.toVersion}",
            )  # fmt: skip
        return BookDelta(
            venue=VENUE,
            symbol=self._symbol(venue_symbol),
            prev_seq=body.fromVersion - 1,
            seq=body.toVersion,
            bids=_levels(body.bids),
            asks=_levels(body.asks),
            ts_event=(push.sendTime or push.createTime) * _MS,
            ts_recv=ts_recv,
        )

    def _other_frame(self, text: str | bytes, exc: Exception) -> list[MdEvent]:
        """Not an aggregated depth push that decodes: a reply, another push, or a bad one."""
        try:
            env = schemas.envelope_decoder.decode(text)
        except (msgspec.ValidationError, msgspec.DecodeError) as other:
            raise MalformedFrame(VENUE, "json", str(other)) from None
        if env.channel is not None:
            if env.publicAggreDepths:  # a depth push msgspec refused: which level, which rule
                raise self._diagnose_push(text, exc)
            if channel_parts(env.channel)[0].startswith(DEPTH_CHANNEL):
                raise MalformedFrame(VENUE, "depth_update", f"{env.channel}: no depth body")
            return []  # deals, tickers, klines, partial depth: no book data here
        if env.msg is not None and env.code is not None:
            if env.code != 0:
                raise MalformedFrame(VENUE, "error_reply", f"code {env.code}: {env.msg}")
            if "not subscribed" in env.msg.lower():  # a refused subscription (code 0 too)
                raise MalformedFrame(VENUE, "error_reply", env.msg)
            return []  # {"id":0,"code":0,"msg":"PONG"} or the subscribed channel's name
        raise MalformedFrame(VENUE, "unknown", "neither a push nor a reply")

    def _diagnose_push(self, text: str | bytes, exc: Exception) -> MalformedFrame:
        try:
            loose = schemas.loose_push_decoder.decode(text)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return MalformedFrame(VENUE, "depth_update", str(exc))
        body = loose.publicAggreDepths
        found = find_bad_side(
            [(i.price, i.quantity) for i in body.bids],
            [(i.price, i.quantity) for i in body.asks],
            snapshot=False,
        )
        venue_symbol = loose.symbol or channel_parts(loose.channel)[1]
        if found is None:
            return MalformedFrame(VENUE, "depth_update", f"{loose.channel}: {exc}")
        if venue_symbol:
            self.resync_needed.add(venue_symbol)
        return malformed(VENUE, found[1], f"{venue_symbol or '?'} depth {found[0]}")

    @staticmethod
    def _diagnose_snapshot(symbol: str, body: str | bytes, exc: Exception) -> MalformedFrame:
        try:
            loose = schemas.loose_depth_decoder.decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return MalformedFrame(VENUE, "snapshot", f"{symbol}: {exc}")
        found = find_bad_side(loose.bids, loose.asks, snapshot=True)
        if found is None:
            return MalformedFrame(VENUE, "snapshot", f"{symbol}: {exc}")
        return malformed(VENUE, found[1], f"{symbol} snapshot {found[0]}")
