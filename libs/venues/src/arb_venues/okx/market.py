"""OKX v5 public market data: connection, subscriptions, snapshots, instruments.

Docs (https://www.okx.com/docs-v5/en/):
- #overview-websocket-connect: public WS ``/ws/v5/public``; the server drops a connection
  that has pushed nothing for 30 s, so send the text ``ping`` (answer ``pong``) within N < 30 s
  of silence. Subscribe/unsubscribe/login: 480 requests per connection per hour; the args of
  one subscribe may total at most 64 KB.
- #order-book-trading-market-data-ws-order-book-channel: ``books`` (400 levels, snapshot then
  increments every 100 ms: ``BOOKS_PUSH_INTERVAL_S``), ``books5`` (top-5 snapshots),
  ``bbo-tbt`` (top-1 snapshots); "less than 30 channels" of 400/50 levels per connection is
  recommended.
- #order-book-trading-market-data-get-order-book: ``GET /api/v5/market/books`` 40 req / 2 s (IP).
- #public-data-rest-api-get-instruments: 20 req / 2 s (IP + instType).

Snapshot source: "rest". OKX's changelog (https://www.okx.com/docs-v5/log_en, "Delist
initial snapshot and checksum field in order book channels", 2026-02-12) removes the WS
initial snapshot and tells clients to take the snapshot from ``GET /api/v5/market/books``
and join it with ``prevSeqId <= snapshot.seqId < seqId``. The REST path works both before and
after that delisting; a WS ``snapshot`` action, where OKX (or a recording) still sends one,
is parsed as a BookSnapshot as well, so either keeps the book right.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import ClassVar

import msgspec
from arb_structs import Instrument, MdEvent, VenueSymbol

from arb_venues.base import Endpoints, FeedParser, MarketDataProtocol
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.common.rest import ErrorMapper, RestClient
from arb_venues.common.symbols import SymbolMap
from arb_venues.common.trades import PublicTrade, taker_side, text
from arb_venues.errors import MalformedFrame
from arb_venues.okx import errors as codes
from arb_venues.okx import schemas
from arb_venues.okx.parser import INCREMENTAL_CHANNELS, OkxParser

VENUE = "okx"
REST_BOOK_DEPTH = 400  # "Order book depth per side. Maximum 400"
# How often ``books`` (the channel the engine subscribes by default) pushes: each push carries
# the changes of the last 100 ms, not one frame per change; the tick-by-tick channels
# (``books-l2-tbt``, ``books50-l2-tbt``, ``bbo-tbt``) push every 10 ms and ``books5`` every
# 100 ms (https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel).
# The recording agrees: its ``books`` updates (2022, three instruments) are 100-125 ms apart at
# the median (p10 93 ms) and carry 6-37 levels each.
BOOKS_PUSH_INTERVAL_S = 0.1


def channel_for_depth(depth: int) -> str:
    """books (400, incremental) by default; books5 for 2..5 levels; bbo-tbt for 1."""
    if depth == 1:
        return "bbo-tbt"
    if 1 < depth <= 5:
        return "books5"
    return "books"


def decimals(step: str) -> int:
    exponent = Decimal(step).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


class OkxMarket(MarketDataProtocol):
    venue: ClassVar[str] = VENUE
    snapshot_source: ClassVar[str] = "rest"
    subscribe_batch: ClassVar[int] = 20  # < 30 deep channels per connection, << 64 KB
    subscribe_interval_s: ClassVar[float] = 0.1
    heartbeat_interval_s: ClassVar[float | None] = 20.0  # "N < 30"
    idle_timeout_s: ClassVar[float] = 30.0
    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {
        "default": BucketLimit(20, 10),  # instruments: 20 / 2 s
        "books": BucketLimit(40, 20),  # order book: 40 / 2 s
    }
    # GET /api/v5/market/books carries the WS stream's seqId: exact audits.
    # Recent public trades (trades_request; the simulator serves the same path).
    trades_path: ClassVar[str] = "/api/v5/market/trades"
    audit_match: ClassVar[str] = "sequence"
    # Ping and server time: https://www.okx.com/docs-v5/en/#public-data-rest-api-get-system-time
    ping_path: ClassVar[str] = "/api/v5/public/time"
    server_time_path: ClassVar[str] = "/api/v5/public/time"

    def __init__(self, endpoints: Endpoints, depth: int = 0) -> None:
        super().__init__(endpoints, depth)
        self.channel = channel_for_depth(depth)

    @staticmethod
    def read_server_time(body: bytes) -> int:
        """{"code":"0","msg":"","data":[{"ts":"1597026383085"}]} (ms, as text)"""
        return int(msgspec.json.decode(body)["data"][0]["ts"]) * 1_000_000

    def make_parser(self, symbols: SymbolMap) -> FeedParser:
        return OkxParser(symbols)

    def rotation_join(self) -> str:
        """``books`` carries seqId (the same on every connection); books5 / bbo-tbt push
        whole books, joined by their snapshots."""
        return "sequence" if self.channel in INCREMENTAL_CHANNELS else "snapshot"

    def ws_url(self, instruments: list[Instrument]) -> str:
        return self.endpoints.ws_url

    def _message(self, op: str, instruments: list[Instrument]) -> str:
        args = [{"channel": self.channel, "instId": i.venue_symbol} for i in instruments]
        return msgspec.json.encode({"op": op, "args": args}).decode()

    def subscribe_messages(self, instruments: list[Instrument]) -> list[str]:
        step = self.subscribe_batch
        return [
            self._message("subscribe", instruments[i : i + step])
            for i in range(0, len(instruments), step)
        ]

    def heartbeat_message(self) -> str | None:
        return "ping"

    def resubscribe_messages(self, instrument: Instrument) -> list[str]:
        """Unsubscribe + subscribe: what makes OKX push a fresh WS snapshot (while it does)."""
        return [
            self._message("unsubscribe", [instrument]),
            self._message("subscribe", [instrument]),
        ]

    def snapshot_path(self, instrument: Instrument) -> tuple[str, str]:
        size = self.depth if 0 < self.depth < REST_BOOK_DEPTH else REST_BOOK_DEPTH
        return "/api/v5/market/books", f"instId={instrument.venue_symbol}&sz={size}"

    async def fetch_snapshot(
        self,
        rest: RestClient,
        instrument: Instrument,
        parser: FeedParser,
        ts_recv: Callable[[], int],
    ) -> list[MdEvent]:
        path, query = self.snapshot_path(instrument)
        body = await rest.get(path, query=query, bucket="books")
        return parser.parse_rest(f"{rest.base_url}{path}?{query}", body, ts_recv())

    def audit_request(self, instrument: Instrument, levels: int) -> tuple[str, str, str, float]:
        size = min(REST_BOOK_DEPTH, self.audit_depth(levels))
        return "/api/v5/market/books", f"instId={instrument.venue_symbol}&sz={size}", "books", 1

    async def fetch_instruments(self, rest: RestClient) -> list[Instrument]:
        body = await rest.get("/api/v5/public/instruments", query="instType=SPOT")
        return parse_instruments(body)

    def trades_request(self, instrument: Instrument, limit: int) -> tuple[str, str, str, float]:
        """GET /api/v5/market/trades, limit <= 500, newest first
        (https://www.okx.com/docs-v5/en/#order-book-trading-market-data-get-trades)."""
        return (
            self.trades_path,
            f"instId={instrument.venue_symbol}&limit={min(limit, 500)}",
            "default",
            1,
        )

    def read_public_trades(self, body: bytes, instrument: Instrument) -> list[PublicTrade]:
        """``{"code": "0", "data": [{"instId", "tradeId", "px", "sz", "side" (the taker's),
        "ts" (ms, text)}]}``."""
        rows = msgspec.json.decode(body)["data"]
        return [
            PublicTrade(VENUE, instrument.symbol, row["tradeId"], text(row["px"]), text(row["sz"]),
                        taker_side(row["side"]), int(row["ts"]) * 1_000_000)
            for row in rows
        ]  # fmt: skip

    def error_mapper(self) -> ErrorMapper | None:
        return codes.error_mapper


def parse_instruments(body: bytes | str, ts_recv: int = 0) -> list[Instrument]:
    """Instruments of one ``/api/v5/public/instruments?instType=SPOT`` answer."""
    try:
        envelope = schemas.REST_ENVELOPE.decode(body)
        if envelope.code != "0" or not schemas.present(envelope.data):
            raise MalformedFrame(VENUE, "instruments", f"code {envelope.code}: {envelope.msg}")
        rows = schemas.REST_INSTRUMENTS.decode(envelope.data)
    except msgspec.DecodeError as exc:
        raise MalformedFrame(VENUE, "instruments", str(exc)) from exc
    instruments = []
    for row in rows:
        if row.instType != "SPOT" or not row.baseCcy or not row.quoteCcy:
            continue
        instruments.append(
            Instrument(
                venue=VENUE,
                symbol=f"{row.baseCcy}-{row.quoteCcy}",
                venue_symbol=VenueSymbol(row.instId),
                base=row.baseCcy,
                quote=row.quoteCcy,
                tick_size=row.tickSz,
                lot_size=row.lotSz,
                min_size=row.minSz,
                price_decimals=decimals(row.tickSz),
                size_decimals=decimals(row.lotSz),
                status="trading" if row.state == "live" else row.state,
                ts_recv=ts_recv,
            )
        )
    return instruments
