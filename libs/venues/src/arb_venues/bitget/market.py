"""Bitget v2 spot public market data: connection, subscriptions, instruments, REST pacing.

Docs (https://www.bitget.com/api-doc/):
- common/websocket-intro: public WS ``wss://ws.bitget.com/v2/ws/public``; send the text
  ``ping`` on a 30 s timer and expect ``pong`` (the server drops a connection that sent no
  ``ping`` for 2 minutes; older revisions of the page: 30 s); at most 10 messages a second
  per connection (pings and subscribes count); 240 subscribe requests an hour and at most
  1000 channels per connection, fewer than 50 recommended; 300 connection requests per IP in
  5 minutes, 100 connections per IP; every connection is closed after 24 hours.
- spot/websocket/public/Depth-Channel: ``books`` (all levels: snapshot, then updates),
  ``books1`` / ``books5`` / ``books15`` (a top-N snapshot each push); subscribe with
  ``{"op": "subscribe", "args": [{"instType": "SPOT", "channel": "books", "instId": ...}]}``.
- the same page: "Default data push frequency for books, books5, books15 is 200ms; Default
  data push frequency for books1 is 10ms": ``books`` pushes the changes of 200 ms at a time
  (``BOOKS_PUSH_INTERVAL_S``), not a frame per change.
- spot/market/Get-Orderbook: ``GET /api/v2/spot/market/orderbook?symbol=&type=step0&limit=``
  (at most 150 levels, 20 requests/s per IP) carries no sequence number, so snapshots come
  from the WS (``snapshot_source`` "ws": a resync unsubscribes and subscribes the book) and
  audits compare it by content.
- spot/public/Get-Symbols: ``GET /api/v2/spot/public/symbols`` (20 requests/s per IP).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import ClassVar

import msgspec
from arb_structs import Instrument, VenueSymbol

from arb_venues.base import Endpoints, FeedParser, MarketDataProtocol
from arb_venues.bitget import errors as codes
from arb_venues.bitget import schemas
from arb_venues.bitget.parser import REST_BOOK_PATH, BitgetParser
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.common.rest import ErrorMapper, RestClient
from arb_venues.common.symbols import SymbolMap
from arb_venues.common.trades import PublicTrade, taker_side, text
from arb_venues.errors import MalformedFrame

VENUE = "bitget"
BOOKS_PUSH_INTERVAL_S = 0.2  # ``books`` (the channel the engine subscribes): see above
REST_BOOK_DEPTH = 150  # "Default: 150, maximum: 150"


def channel_for_depth(depth: int) -> str:
    """books (all levels, incremental) by default; the top-N snapshot channels by depth."""
    if depth == 1:
        return "books1"
    if 1 < depth <= 5:
        return "books5"
    if 5 < depth <= 15:
        return "books15"
    return "books"


def step(precision: str) -> str:
    """A precision (decimal places) as the step it allows: "2" -> "0.01", "0" -> "1"."""
    places = int(precision or 0)
    return "1" if places <= 0 else format(Decimal(1).scaleb(-places), "f")


class BitgetMarket(MarketDataProtocol):
    venue: ClassVar[str] = VENUE
    snapshot_source: ClassVar[str] = "ws"
    # 10 messages/s per connection (ping included); 10 channels a message keeps a reconnect of
    # 50 books to 5 messages, far below the 240 subscribes an hour.
    subscribe_batch: ClassVar[int] = 10
    subscribe_interval_s: ClassVar[float] = 0.2
    heartbeat_interval_s: ClassVar[float | None] = 25.0  # "a timer of 30 seconds"
    idle_timeout_s: ClassVar[float] = 40.0  # the pong of every ping lands well inside it
    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {
        "default": BucketLimit(20, 20),  # symbols, orderbook: 20 / s (IP)
    }
    # Recent public trades (trades_request; the simulator serves the same path).
    trades_path: ClassVar[str] = "/api/v2/spot/market/fills"
    audit_match: ClassVar[str] = "content"  # the REST book has no sequence
    # Ping and server time: https://www.bitget.com/api-doc/common/public/Get-Server-Time
    ping_path: ClassVar[str] = "/api/v2/public/time"
    server_time_path: ClassVar[str] = "/api/v2/public/time"

    def __init__(self, endpoints: Endpoints, depth: int = 0) -> None:
        super().__init__(endpoints, depth)
        self.channel = channel_for_depth(depth)

    @staticmethod
    def read_server_time(body: bytes) -> int:
        """``{"code":"00000","msg":"success","requestTime":1688008631614,
        "data":{"serverTime":"1688008631614"}}`` (ms, as text)"""
        return int(msgspec.json.decode(body)["data"]["serverTime"]) * 1_000_000

    def make_parser(self, symbols: SymbolMap) -> FeedParser:
        return BitgetParser(symbols)

    def ws_url(self, instruments: list[Instrument]) -> str:
        return self.endpoints.ws_url

    def _message(self, op: str, instruments: list[Instrument]) -> str:
        args = [
            {"instType": "SPOT", "channel": self.channel, "instId": i.venue_symbol}
            for i in instruments
        ]
        return msgspec.json.encode({"op": op, "args": args}).decode()

    def subscribe_messages(self, instruments: list[Instrument]) -> list[str]:
        size = self.subscribe_batch
        return [
            self._message("subscribe", instruments[i : i + size])
            for i in range(0, len(instruments), size)
        ]

    def heartbeat_message(self) -> str | None:
        return "ping"

    def resubscribe_messages(self, instrument: Instrument) -> list[str]:
        """Unsubscribe + subscribe: Bitget pushes a fresh ``snapshot`` after a subscribe."""
        return [
            self._message("unsubscribe", [instrument]),
            self._message("subscribe", [instrument]),
        ]

    def audit_request(self, instrument: Instrument, levels: int) -> tuple[str, str, str, float]:
        limit = min(REST_BOOK_DEPTH, self.audit_depth(levels))
        query = f"limit={limit}&symbol={instrument.venue_symbol}&type=step0"
        return REST_BOOK_PATH, query, "default", 1

    def audit_depth(self, levels: int) -> int:
        return min(REST_BOOK_DEPTH, max(20, 4 * levels))

    async def fetch_instruments(self, rest: RestClient) -> list[Instrument]:
        body = await rest.get("/api/v2/spot/public/symbols")
        return parse_instruments(body)

    def trades_request(self, instrument: Instrument, limit: int) -> tuple[str, str, str, float]:
        """GET /api/v2/spot/market/fills, limit <= 500, newest first
        (https://www.bitget.com/api-doc/spot/market/Get-Recent-Trades)."""
        query = f"symbol={instrument.venue_symbol}&limit={min(limit, 500)}"
        return self.trades_path, query, "default", 1

    def read_public_trades(self, body: bytes, instrument: Instrument) -> list[PublicTrade]:
        """``{"code": "00000", "data": [{"symbol", "tradeId", "side" (the taker's), "price",
        "size", "ts" (ms, text)}]}``."""
        rows = msgspec.json.decode(body)["data"]
        return [
            PublicTrade(VENUE, instrument.symbol, row["tradeId"], text(row["price"]),
                        text(row["size"]), taker_side(row["side"]), int(row["ts"]) * 1_000_000)
            for row in rows
        ]  # fmt: skip

    def error_mapper(self) -> ErrorMapper | None:
        return codes.error_mapper


def parse_instruments(body: bytes | str, ts_recv: int = 0) -> list[Instrument]:
    """Instruments of one ``/api/v2/spot/public/symbols`` answer (online pairs trade)."""
    try:
        envelope = schemas.REST_ENVELOPE.decode(body)
        if envelope.code != "00000" or not schemas.present(envelope.data):
            raise MalformedFrame(VENUE, "instruments", f"code {envelope.code}: {envelope.msg}")
        rows = schemas.REST_SYMBOLS.decode(envelope.data)
    except msgspec.DecodeError as exc:
        raise MalformedFrame(VENUE, "instruments", str(exc)) from exc
    instruments = []
    for row in rows:
        if not row.baseCoin or not row.quoteCoin:
            continue
        try:
            tick, lot = step(row.pricePrecision), step(row.quantityPrecision)
        except ValueError:
            continue
        instruments.append(
            Instrument(
                venue=VENUE,
                symbol=f"{row.baseCoin}-{row.quoteCoin}",
                venue_symbol=VenueSymbol(row.symbol),
                base=row.baseCoin,
                quote=row.quoteCoin,
                tick_size=tick,
                lot_size=lot,
                min_size=row.minTradeAmount or "0",
                min_notional=row.minTradeUSDT or "0",
                price_decimals=int(row.pricePrecision or 0),
                size_decimals=int(row.quantityPrecision or 0),
                status="trading" if row.status == "online" else row.status,
                ts_recv=ts_recv,
            )
        )
    return instruments
