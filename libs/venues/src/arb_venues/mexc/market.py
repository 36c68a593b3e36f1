"""MEXC spot public market data: protobuf aggregated depth pushes + REST depth snapshots.

Docs (https://www.mexc.com/api-docs/spot-v3/websocket-market-streams, and the same text in
the mexcdevelop/apidocs spot_v3_en source, "Websocket Market Streams"):
- endpoint ``wss://wbs-api.mexc.com/ws``; a connection lives at most 24 hours;
- ``{"method": "SUBSCRIPTION", "params": [<channel>, ...]}``, answered
  ``{"id": 0, "code": 0, "msg": <the channel>}``; symbols in upper case;
- at most 30 subscriptions per connection; at most 100 messages a second (over the limit
  the connection is closed, repeated offenders banned);
- no valid subscription within 30 s, or no data for 60 s once subscribed: the server closes
  the connection. ``{"method": "PING"}`` is answered ``{"id": 0, "code": 0, "msg": "PONG"}``
  and keeps it alive;
- pushes are protobuf (https://github.com/mexcdevelop/websocket-proto; schemas.py);
- book: ``spot@public.aggre.depth.v3.api.pb@(100ms|10ms)@<SYMBOL>`` + REST
  ``GET /api/v3/depth?symbol=&limit=`` (``lastUpdateId``; limit default 100, max 5000;
  weight 1); the version rule is in parser.py.
REST (https://www.mexc.com/api-docs/spot-v3/general-info, "LIMITS"): "Each endpoint with IP
limits has an independent 500 every 10 second limit"; 429 on excess, repeated 429s bring an
IP ban (2 minutes to 3 days) with ``Retry-After``. ``GET /api/v3/exchangeInfo`` weight 10.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import ClassVar

import msgspec
from arb_structs import Instrument, MdEvent, Side, VenueSymbol

from arb_venues.base import Endpoints, FeedParser, MarketDataProtocol
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.common.rest import ErrorMapper, RestClient
from arb_venues.common.symbols import SymbolMap
from arb_venues.common.trades import TRADE_ROWS, PublicTrade, text
from arb_venues.errors import MalformedFrame
from arb_venues.mexc import schemas
from arb_venues.mexc.errors import error_mapper
from arb_venues.mexc.parser import DEPTH_CHANNEL, VENUE, MexcParser, proto3_json

MAX_SUBSCRIPTIONS = 30  # per connection
# The aggregated depth stream's push intervals, by the name in the channel: each push carries
# the changes of one interval ("Websocket Market Streams", Diff.Depth Stream:
# https://www.mexc.com/api-docs/spot-v3/websocket-market-streams). No MEXC recording is in the
# shared fixtures to check it against.
INTERVALS_S = {"100ms": 0.1, "10ms": 0.01}
INTERVALS = tuple(INTERVALS_S)
DEFAULT_INTERVAL = "100ms"
DEFAULT_SNAPSHOT_LIMIT = 1000  # the depth MEXC's book procedure asks for (max 5000)
MAX_SNAPSHOT_LIMIT = 5000
EXCHANGE_INFO_WEIGHT = 10
ONLINE = ("1", "ENABLED")


def decimals_text(decimals: int) -> str:
    """The step of ``decimals`` decimal places: 2 -> "0.01", 0 -> "1"."""
    return "1" if decimals <= 0 else format(Decimal(1).scaleb(-decimals), "f")


def number_text(value: str) -> str:
    """Reference-data text as exact decimal text ("0.000100" -> "0.0001"); "" -> "0"."""
    try:
        return format(Decimal(value or "0").normalize(), "f")
    except InvalidOperation:
        raise MalformedFrame(VENUE, "exchange_info", f"not a number: {value!r}") from None


def instruments_from_exchange_info(body: bytes | str, ts_recv: int = 0) -> list[Instrument]:
    """Spot instruments of a GET /api/v3/exchangeInfo body: price decimals
    ``quotePrecision`` (else ``quoteAssetPrecision``), quantity decimals
    ``baseAssetPrecision``, minimum quantity ``baseSizePrecision``, minimum amount
    ``quoteAmountPrecision``. Fees are the account's: ingest sets them (arb_venues.fees)."""
    try:
        info = schemas.exchange_info_decoder.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise MalformedFrame(VENUE, "exchange_info", str(exc)) from None
    instruments = []
    for entry in info.symbols:
        if not entry.isSpotTradingAllowed:
            continue
        price_decimals = (
            entry.quotePrecision if entry.quotePrecision is not None else entry.quoteAssetPrecision
        )
        instruments.append(
            Instrument(
                venue=VENUE,
                symbol=f"{entry.baseAsset}-{entry.quoteAsset}",
                venue_symbol=VenueSymbol(entry.symbol),
                base=entry.baseAsset,
                quote=entry.quoteAsset,
                tick_size=decimals_text(price_decimals),
                lot_size=decimals_text(entry.baseAssetPrecision),
                min_size=number_text(entry.baseSizePrecision),
                min_notional=number_text(entry.quoteAmountPrecision),
                price_decimals=price_decimals,
                size_decimals=entry.baseAssetPrecision,
                status="trading" if entry.status in ONLINE else "halted",
                ts_recv=ts_recv,
            )
        )
    return instruments


class MexcMarket(MarketDataProtocol):
    venue: ClassVar[str] = VENUE
    snapshot_source: ClassVar[str] = "rest"
    # Channels per SUBSCRIPTION message, one message per 0.2 s: 5 msgs/s, far inside the
    # 100 msgs/s limit (a batch of 5 keeps a 30-book connection to 6 messages).
    subscribe_batch: ClassVar[int] = 5
    subscribe_interval_s: ClassVar[float] = 0.2
    # PING every 10 s: its PONG shows a quiet connection alive, and MEXC closes one without
    # data for 60 s.
    heartbeat_interval_s: ClassVar[float | None] = 10.0
    idle_timeout_s: ClassVar[float] = 30.0
    # Per IP, each endpoint 500 / 10 s: this process keeps every public call to 20 + 20/s
    # together (depth weight 1, exchangeInfo 10), well inside any one endpoint's limit.
    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {"default": BucketLimit(20, 20)}
    # The depth snapshot's lastUpdateId is the stream's version: exact audits.
    # Recent public trades (trades_request; the simulator serves the same path).
    trades_path: ClassVar[str] = "/api/v3/trades"
    audit_match: ClassVar[str] = "sequence"
    # Ping and server time: https://mexcdevelop.github.io/apidocs/spot_v3_en/#check-server-time
    ping_path: ClassVar[str] = "/api/v3/ping"
    server_time_path: ClassVar[str] = "/api/v3/time"
    max_books_per_connection: ClassVar[int] = MAX_SUBSCRIPTIONS

    def __init__(self, endpoints: Endpoints, depth: int = 0) -> None:
        super().__init__(endpoints, depth)
        if depth and not 0 < depth <= MAX_SNAPSHOT_LIMIT:
            raise ValueError(f"mexc: depth {depth}: GET /api/v3/depth serves 1..5000 levels")
        self.snapshot_limit = depth or DEFAULT_SNAPSHOT_LIMIT
        self.interval = DEFAULT_INTERVAL

    @staticmethod
    def read_server_time(body: bytes) -> int:
        """{"serverTime": 1645539742000} (ms)"""
        return int(msgspec.json.decode(body)["serverTime"]) * 1_000_000

    def make_parser(self, symbols: SymbolMap) -> FeedParser:
        return MexcParser(symbols)

    def channel(self, instrument: Instrument) -> str:
        return f"{DEPTH_CHANNEL}@{self.interval}@{instrument.venue_symbol.upper()}"

    def ws_url(self, instruments: list[Instrument]) -> str:
        if len(instruments) > MAX_SUBSCRIPTIONS:
            raise ValueError(
                f"mexc: {len(instruments)} symbols on one connection; MEXC allows "
                f"{MAX_SUBSCRIPTIONS} subscriptions per connection: split them over feeds"
            )
        return self.endpoints.ws_url

    def subscribe_messages(self, instruments: list[Instrument]) -> list[str]:
        self.ws_url(instruments)  # the per-connection limit
        channels = [self.channel(i) for i in instruments]
        step = self.subscribe_batch
        return [
            msgspec.json.encode({"method": "SUBSCRIPTION", "params": channels[i : i + step]})
            .decode()
            for i in range(0, len(channels), step)
        ]  # fmt: skip

    def heartbeat_message(self) -> str | None:
        return '{"method":"PING"}'

    def decode_frame(self, data: str | bytes) -> str | bytes:
        return proto3_json(data)

    async def fetch_snapshot(
        self,
        rest: RestClient,
        instrument: Instrument,
        parser: FeedParser,
        ts_recv: Callable[[], int],
    ) -> list[MdEvent]:
        path = "/api/v3/depth"
        query = f"symbol={instrument.venue_symbol}&limit={self.snapshot_limit}"
        body = await rest.get(path, query=query)
        return parser.parse_rest(f"{rest.base_url}{path}?{query}", body, ts_recv())

    async def fetch_instruments(self, rest: RestClient) -> list[Instrument]:
        weight = min(EXCHANGE_INFO_WEIGHT, rest.limiter.capacity("default"))
        body = await rest.get("/api/v3/exchangeInfo", weight=weight)
        return instruments_from_exchange_info(body, time.time_ns())

    def audit_request(self, instrument: Instrument, levels: int) -> tuple[str, str, str, float]:
        limit = min(self.audit_depth(levels), MAX_SNAPSHOT_LIMIT)
        return "/api/v3/depth", f"symbol={instrument.venue_symbol}&limit={limit}", "default", 1.0

    def trades_request(self, instrument: Instrument, limit: int) -> tuple[str, str, str, float]:
        """GET /api/v3/trades, limit <= 1000, oldest first
        (https://mexcdevelop.github.io/apidocs/spot_v3_en/#recent-trades-list)."""
        query = f"symbol={instrument.venue_symbol}&limit={min(limit, 1000)}"
        return self.trades_path, query, "default", 1

    def read_public_trades(self, body: bytes, instrument: Instrument) -> list[PublicTrade]:
        """``[{"id": null, "price", "qty", "quoteQty", "time" (ms), "isBuyerMaker", ...}]``:
        MEXC gives no trade id (null); when the buyer is the maker, the taker sold."""
        return [
            PublicTrade(VENUE, instrument.symbol, str(row["id"] or ""), text(row["price"]),
                        text(row["qty"]), Side.SELL if row["isBuyerMaker"] else Side.BUY,
                        int(row["time"]) * 1_000_000)
            for row in reversed(msgspec.json.decode(body, type=TRADE_ROWS))
        ]  # fmt: skip

    def error_mapper(self) -> ErrorMapper | None:
        return error_mapper()
