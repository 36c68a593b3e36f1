"""Bybit v5 spot public market data: one WS connection, snapshots from the WS itself.

Facts from https://bybit-exchange.github.io/docs/v5/ws/connect:
- spot public stream ``<ws_base>/v5/public/spot``;
- "Spot can input up to 10 args for each subscription request sent to one connection", and
  the args of one connection stay under 21,000 characters (about 900 orderbook topics);
- send ``{"op":"ping"}`` every 20 s; spot answers
  ``{"success":true,"ret_msg":"pong","conn_id":...,"op":"ping"}``.
From https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook: spot depths 1, 50,
200 and 1000; a subscribe is answered by a snapshot, then deltas. So a resync of one book is
unsubscribe + subscribe of its topic (snapshot_source "ws"). The same page gives each spot
depth its push frequency: level 1 10 ms, level 50 20 ms, levels 200 and 1000 200 ms
(``PUSH_INTERVAL_S``): the deltas carry the changes of an interval, not one per change.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import ClassVar

import msgspec
from arb_structs import Instrument, VenueSymbol

from arb_venues.base import Endpoints, FeedParser, MarketDataProtocol
from arb_venues.bybit import errors as codes
from arb_venues.bybit import schemas
from arb_venues.bybit.parser import BybitParser
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.common.rest import ErrorMapper, RestClient
from arb_venues.common.symbols import SymbolMap
from arb_venues.common.trades import PublicTrade, taker_side, text
from arb_venues.errors import MalformedFrame

VENUE = "bybit"
WS_PATH = "/v5/public/spot"
INSTRUMENTS_PATH = "/v5/market/instruments-info"
ORDERBOOK_PATH = "/v5/market/orderbook"
REST_BOOK_LIMIT = (
    200  # spot: limit [1, 200] (https://bybit-exchange.github.io/docs/v5/market/orderbook)
)
SPOT_DEPTHS = (1, 50, 200, 1000)
DEFAULT_DEPTH = 50
PUSH_INTERVAL_S: Mapping[int, float] = {1: 0.01, 50: 0.02, 200: 0.2, 1000: 0.2}  # see above
MAX_ARGS_PER_SUBSCRIBE = 10


def decimals_of(step: str) -> int:
    """Digits after the point of a step such as "0.0001" (4) or "1" (0)."""
    try:
        exponent = Decimal(step).normalize().as_tuple().exponent
    except InvalidOperation as exc:
        raise MalformedFrame(VENUE, "instruments", f"step {step!r} is not a number") from exc
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def instrument_from(spot: schemas.SpotInstrument, ts_recv: int = 0) -> Instrument:
    lot = spot.lotSizeFilter
    tick = spot.priceFilter.tickSize
    return Instrument(
        venue=VENUE,
        symbol=f"{spot.baseCoin}-{spot.quoteCoin}",
        venue_symbol=VenueSymbol(spot.symbol),
        base=spot.baseCoin,
        quote=spot.quoteCoin,
        tick_size=tick,
        lot_size=lot.basePrecision,
        min_size=lot.minOrderQty or "0",
        min_notional=lot.minOrderAmt or "0",
        price_decimals=decimals_of(tick),
        size_decimals=decimals_of(lot.basePrecision),
        status="trading" if spot.status == "Trading" else spot.status.lower(),
        ts_recv=ts_recv,
    )


class BybitMarket(MarketDataProtocol):
    venue: ClassVar[str] = VENUE
    snapshot_source: ClassVar[str] = "ws"
    subscribe_batch: ClassVar[int] = MAX_ARGS_PER_SUBSCRIBE
    subscribe_interval_s: ClassVar[float] = 0.1
    heartbeat_interval_s: ClassVar[float | None] = 20.0
    idle_timeout_s: ClassVar[float] = 30.0
    # 600 requests per 5 s per IP (docs/v5/rate-limit); the docs advise against running at
    # the edge, so half of it.
    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {"default": BucketLimit(300, 60)}
    # Recent public trades (trades_request; the simulator serves the same path).
    trades_path: ClassVar[str] = "/v5/market/recent-trade"
    audit_match: ClassVar[str] = "content"  # "sequence" on orderbook.1000: see audit_mode
    # Ping and server time: https://bybit-exchange.github.io/docs/v5/market/time
    ping_path: ClassVar[str] = "/v5/market/time"
    server_time_path: ClassVar[str] = "/v5/market/time"

    def __init__(self, endpoints: Endpoints, depth: int = 0) -> None:
        depth = depth or DEFAULT_DEPTH
        if depth not in SPOT_DEPTHS:
            raise ValueError(
                f"bybit spot orderbook depth {depth} does not exist; use one of "
                f"{', '.join(map(str, SPOT_DEPTHS))}"
            )
        super().__init__(endpoints, depth)

    @staticmethod
    def read_server_time(body: bytes) -> int:
        """{"retCode":0,"retMsg":"OK","result":{"timeSecond":"1688639403","timeNano":"1688639403423213947"},...}"""
        return int(msgspec.json.decode(body)["result"]["timeNano"])

    def make_parser(self, symbols: SymbolMap) -> FeedParser:
        return BybitParser(symbols)

    def audit_mode(self) -> str:
        """The REST orderbook's ``u`` is the 1000-level stream's update id: exact audits on an
        orderbook.1000 feed, content audits (recent states) on the shallower ones."""
        return "sequence" if self.depth == 1000 else "content"

    def audit_request(self, instrument: Instrument, levels: int) -> tuple[str, str, str, float]:
        limit = min(REST_BOOK_LIMIT, self.audit_depth(levels))
        query = f"category=spot&symbol={instrument.venue_symbol}&limit={limit}"
        return ORDERBOOK_PATH, query, "default", 1

    def topic(self, instrument: Instrument) -> str:
        return f"orderbook.{self.depth}.{instrument.venue_symbol}"

    def ws_url(self, instruments: list[Instrument]) -> str:
        base = self.endpoints.ws_url.rstrip("/")
        return base if base.endswith(WS_PATH) else base + WS_PATH

    def subscribe_messages(self, instruments: list[Instrument]) -> list[str]:
        topics = [self.topic(i) for i in instruments]
        return [
            _op("subscribe", topics[start : start + MAX_ARGS_PER_SUBSCRIBE])
            for start in range(0, len(topics), MAX_ARGS_PER_SUBSCRIBE)
        ]

    def heartbeat_message(self) -> str | None:
        return '{"op":"ping"}'

    def resubscribe_messages(self, instrument: Instrument) -> list[str]:
        topic = [self.topic(instrument)]
        return [_op("unsubscribe", topic), _op("subscribe", topic)]

    async def fetch_instruments(self, rest: RestClient) -> list[Instrument]:
        body = await rest.get(INSTRUMENTS_PATH, query="category=spot")
        return parse_instruments(body)

    def trades_request(self, instrument: Instrument, limit: int) -> tuple[str, str, str, float]:
        """GET /v5/market/recent-trade, spot limit <= 60, newest first
        (https://bybit-exchange.github.io/docs/v5/market/recent-trade)."""
        query = f"category=spot&symbol={instrument.venue_symbol}&limit={min(limit, 60)}"
        return self.trades_path, query, "default", 1

    def read_public_trades(self, body: bytes, instrument: Instrument) -> list[PublicTrade]:
        """``{"retCode": 0, "result": {"list": [{"execId", "price", "size", "side" (Buy/Sell, the
        taker's), "time" (ms, text)}]}}``."""
        rows = msgspec.json.decode(body)["result"]["list"]
        return [
            PublicTrade(VENUE, instrument.symbol, row["execId"], text(row["price"]),
                        text(row["size"]), taker_side(row["side"]), int(row["time"]) * 1_000_000)
            for row in rows
        ]  # fmt: skip

    def error_mapper(self) -> ErrorMapper | None:
        return codes.map_response


def parse_instruments(body: bytes | str, ts_recv: int = 0) -> list[Instrument]:
    """Every Trading spot symbol of a /v5/market/instruments-info?category=spot answer."""
    try:
        envelope = schemas.ENVELOPE.decode(body)
        error = codes.error_for_code(envelope.retCode, envelope.retMsg)
        if error is not None:
            raise error
        result = schemas.INSTRUMENTS.decode(envelope.result)
    except msgspec.DecodeError as exc:
        raise MalformedFrame(VENUE, "instruments", str(exc)) from None
    return [instrument_from(spot, ts_recv) for spot in result.entries if spot.status == "Trading"]


def _op(op: str, args: list[str]) -> str:
    return msgspec.json.encode({"op": op, "args": args}).decode()
