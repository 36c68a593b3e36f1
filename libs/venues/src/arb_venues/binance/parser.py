"""Binance spot frames -> normalised book events.

Sequence normalisation (docs: "How to manage a local order book correctly",
https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#how-to-manage-a-local-order-book-correctly):
a diff event covers update ids ``U..u``; a REST snapshot is valid at ``lastUpdateId``. With
``prev_seq = U - 1`` and ``seq = u`` the book's one rule is exactly Binance's procedure:
drop ``u <= lastUpdateId``; the first applied event has ``U <= lastUpdateId + 1 <= u``; later
``U == previous u + 1`` (else ``prev_seq > book.seq``: a gap).

Every level is checked as it is decoded (``arb_venues.common.levels``: price finite and > 0,
size finite and >= 0); a REST snapshot must also be best-first on both sides, hold no size 0
and not be crossed (Binance sends bids descending, asks ascending). A frame that breaks a rule
is a MalformedFrame of that rule's kind and its book is flagged in ``resync_needed``; the
update ids then show the book service the missing update as a gap.

Stateless otherwise: Binance numbers every update, so ``reset`` has nothing to forget.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import msgspec
from arb_structs import BookDelta, BookSnapshot, MdEvent

from arb_venues.base import FeedParser
from arb_venues.binance import schemas
from arb_venues.common.levels import LevelError, check_snapshot, find_bad_side, malformed
from arb_venues.common.symbols import split_glued
from arb_venues.errors import MalformedFrame

VENUE = "binance"
_MS = 1_000_000  # ms -> ns
# "A serverShutdown event will be sent when the server is about to shutdown, resulting in
# disconnection" (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams).
SERVER_SHUTDOWN = "serverShutdown"


def _is_diff_depth(stream: str) -> bool:
    """``bnbbtc@depth`` / ``bnbbtc@depth@100ms`` (not the partial ``@depth5``...)."""
    _, _, kind = stream.partition("@")
    return kind in ("depth", "depth@100ms", "depth@1000ms")


class BinanceParser(FeedParser):
    venue: ClassVar[str] = VENUE

    def parse_ws(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        # Fast path: a combined-stream diff depth frame, the only thing the feed subscribes.
        try:
            frame = schemas.combined_depth_decoder.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return self._other_frame(raw, ts_recv)
        return [self._delta(frame.data, ts_recv)]

    def parse_rest(self, url: str, body: str | bytes, ts_recv: int) -> list[MdEvent]:
        parts = urlsplit(url)
        if not parts.path.endswith("/api/v3/depth"):
            return []
        symbols = parse_qs(parts.query).get("symbol")
        if not symbols:
            raise MalformedFrame(VENUE, "snapshot", f"no symbol= in the depth URL {url!r}")
        try:
            snap = schemas.depth_snapshot_decoder.decode(body)
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

    def _delta(self, data: schemas.DepthUpdate, ts_recv: int) -> BookDelta:
        if data.e != "depthUpdate" or data.u < data.U:
            raise MalformedFrame(
                VENUE, "depth_update", f"{data.s}: event {data.e!r} with U={data.U} > u={data.u}"
            )
        return BookDelta(
            venue=VENUE,
            symbol=self._symbol(data.s),
            prev_seq=data.U - 1,
            seq=data.u,
            bids=data.b,
            asks=data.a,
            ts_event=data.E * _MS,
            ts_recv=ts_recv,
        )

    def _other_frame(self, raw: str | bytes, ts_recv: int) -> list[MdEvent]:
        """Everything but a combined diff: raw-stream events, method replies, other streams."""
        try:
            env = schemas.envelope_decoder.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise MalformedFrame(VENUE, "json", str(exc)) from None
        if env.stream is not None:
            if not env.data:
                raise MalformedFrame(VENUE, "combined", f"stream {env.stream!r} without data")
            if _is_diff_depth(env.stream):
                return [self._delta(self._decode_update(env.data), ts_recv)]
            # bookTicker, aggTrade, kline, trade...: no book data.
            if env.stream.endswith(SERVER_SHUTDOWN):
                self.reconnect_notice = True
            return []
        if env.e == "depthUpdate":  # raw stream (/ws/<symbol>@depth)
            return [self._delta(self._decode_update(raw), ts_recv)]
        if env.code is not None:  # {"code": 2, "msg": "Invalid request: ..."} to a method
            raise MalformedFrame(VENUE, "error_reply", f"code {env.code}: {env.msg}")
        if env.e == SERVER_SHUTDOWN:  # the server closes this connection soon
            self.reconnect_notice = True
            return []
        if env.e is not None or env.id is not msgspec.UNSET:
            return []  # another raw-stream event, or a method reply {"result": ..., "id": n}
        raise MalformedFrame(VENUE, "unknown", "neither a stream event nor a method reply")

    def _decode_update(self, raw: str | bytes | msgspec.Raw) -> schemas.DepthUpdate:
        try:
            return schemas.depth_update_decoder.decode(raw)
        except msgspec.ValidationError as exc:
            raise self._diagnose_update(raw, exc) from None
        except msgspec.DecodeError as exc:
            raise MalformedFrame(VENUE, "depth_update", str(exc)) from None

    def _diagnose_update(self, raw: str | bytes | msgspec.Raw, exc: Exception) -> MalformedFrame:
        """Which level made msgspec refuse a diff (slow path: refused frames only). A bad
        level flags its book for a resync; any other refusal is a depth_update."""
        try:
            loose = schemas.loose_update_decoder.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return MalformedFrame(VENUE, "depth_update", str(exc))
        found = find_bad_side(loose.b, loose.a, snapshot=False)
        if found is None:
            return MalformedFrame(VENUE, "depth_update", str(exc))
        if loose.s:
            self.resync_needed.add(loose.s)
        return malformed(VENUE, found[1], f"{loose.s or '?'} diff {found[0]}")

    @staticmethod
    def _diagnose_snapshot(symbol: str, body: str | bytes, exc: Exception) -> MalformedFrame:
        try:
            loose = schemas.loose_snapshot_decoder.decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return MalformedFrame(VENUE, "snapshot", f"{symbol}: {exc}")
        found = find_bad_side(loose.bids, loose.asks, snapshot=True)
        if found is None:
            return MalformedFrame(VENUE, "snapshot", f"{symbol}: {exc}")
        return malformed(VENUE, found[1], f"{symbol} snapshot {found[0]}")
