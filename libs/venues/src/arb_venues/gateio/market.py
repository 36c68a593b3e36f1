"""Gate APIv4 spot public market data: one WS connection, ``spot.order_book_update`` per pair.

Docs (https://www.gate.io/docs/developers/apiv4/ws/en/; mirror rosssaunders/coincise
``docs/gateio/spot_websocket_api.md``):
- ``wss://api.gateio.ws/ws/v4/``; a request is ``{"time": <s>, "channel", "event":
  "subscribe"|"unsubscribe", "payload": [...]}``, acked with ``result: {"status":
  "success"}`` (or an ``error``);
- ``spot.order_book_update`` takes one pair and an interval per subscribe: ``[pair, "100ms"]``
  (or "20ms" for 20 levels): changed levels with update ids ``U``/``u`` (parser.py);
- application ping: ``{"time": <s>, "channel": "spot.ping"}`` answered on ``spot.pong``;
- the book: subscribe, buffer, GET /api/v4/spot/order_book?currency_pair=..&limit=100&
  with_id=true, then the update-id rule.
REST (https://www.gate.io/docs/developers/apiv4/en/#frequency-limit-rule): public endpoints
200 requests / 10 s per endpoint per IP; spot order placing 10 requests / s, cancelling 200 /
s, other private endpoints 200 / 10 s per user; 429 ``TOO_MANY_REQUESTS`` past them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import ClassVar

import msgspec
from arb_structs import Instrument, MdEvent, VenueSymbol

from arb_venues.base import Endpoints, FeedParser, MarketDataProtocol
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.common.rest import ErrorMapper, RestClient
from arb_venues.common.symbols import SymbolMap
from arb_venues.common.trades import TRADE_ROWS, PublicTrade, taker_side, text
from arb_venues.errors import MalformedFrame
from arb_venues.gateio import schemas
from arb_venues.gateio.errors import error_mapper
from arb_venues.gateio.parser import BOOK_CHANNEL, ORDER_BOOK_PATH, VENUE, GateParser

PAIRS_PATH = "/api/v4/spot/currency_pairs"
SNAPSHOT_LIMIT = 100  # the depth Gate's "maintain a local book" procedure asks for
MAX_LIMIT = 100
# ``spot.order_book_update``'s intervals: each update carries the changes of one interval
# (https://www.gate.io/docs/developers/apiv4/ws/en/#changed-order-book-levels; "20ms" only
# with 20 levels). The engine subscribes "100ms". The recording agrees: its updates of one pair
# (2021, ten pairs) are at least about 100 ms apart (p10 of the busiest pairs 100-126 ms).
UPDATE_INTERVALS_S = {"20ms": 0.02, "100ms": 0.1, "1000ms": 1.0}
UPDATE_INTERVAL = "100ms"


def step_of(decimals: int) -> str:
    """10^-decimals as decimal text: 2 -> "0.01", 0 -> "1"."""
    return format(Decimal(1).scaleb(-decimals), "f")


def instruments_from_pairs(body: bytes | str, ts_recv: int = 0) -> list[Instrument]:
    """Spot instruments of a GET /api/v4/spot/currency_pairs body. Fees are the account's,
    not reference data: ingest sets them (arb_venues.fees)."""
    try:
        pairs = schemas.pairs_decoder.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise MalformedFrame(VENUE, "currency_pairs", str(exc)) from None
    instruments = []
    for pair in pairs:
        try:
            min_size = format(Decimal(pair.min_base_amount or "0").normalize(), "f")
            min_notional = format(Decimal(pair.min_quote_amount or "0").normalize(), "f")
        except InvalidOperation as exc:
            raise MalformedFrame(VENUE, "currency_pairs", f"{pair.id}: {exc}") from None
        instruments.append(
            Instrument(
                venue=VENUE,
                symbol=f"{pair.base}-{pair.quote}",
                venue_symbol=VenueSymbol(pair.id),
                base=pair.base,
                quote=pair.quote,
                tick_size=step_of(pair.precision),
                lot_size=step_of(pair.amount_precision),
                min_size=min_size,
                min_notional=min_notional,
                price_decimals=pair.precision,
                size_decimals=pair.amount_precision,
                status="trading" if pair.trade_status == "tradable" else pair.trade_status,
                ts_recv=ts_recv,
            )
        )
    return instruments


class GateMarket(MarketDataProtocol):
    venue: ClassVar[str] = VENUE
    snapshot_source: ClassVar[str] = "rest"
    # order_book_update takes one pair a subscribe; 10 requests a second stays well inside
    # what one connection may send.
    subscribe_batch: ClassVar[int] = 1
    subscribe_interval_s: ClassVar[float] = 0.1
    # spot.ping every 10 s: answered with a spot.pong frame, so quiet books still show the
    # connection alive.
    heartbeat_interval_s: ClassVar[float | None] = 10.0
    idle_timeout_s: ClassVar[float] = 30.0
    # 200 requests / 10 s per public endpoint per IP: this process keeps to half of it.
    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {"default": BucketLimit(20, 10)}
    # The snapshot's id is the update stream's id: exact audits.
    # Recent public trades (trades_request; the simulator serves the same path).
    trades_path: ClassVar[str] = "/api/v4/spot/trades"
    audit_match: ClassVar[str] = "sequence"
    # Ping and server time: https://www.gate.io/docs/developers/apiv4/#get-server-current-time
    ping_path: ClassVar[str] = "/api/v4/spot/time"
    server_time_path: ClassVar[str] = "/api/v4/spot/time"

    def __init__(self, endpoints: Endpoints, depth: int = 0) -> None:
        super().__init__(endpoints, depth)
        self.snapshot_limit = min(depth or SNAPSHOT_LIMIT, MAX_LIMIT)

    @staticmethod
    def read_server_time(body: bytes) -> int:
        """{"server_time": 1597026383085} (ms)"""
        return int(msgspec.json.decode(body)["server_time"]) * 1_000_000

    def make_parser(self, symbols: SymbolMap) -> FeedParser:
        return GateParser(symbols)

    def ws_url(self, instruments: list[Instrument]) -> str:
        return self.endpoints.ws_url

    def subscribe_messages(self, instruments: list[Instrument]) -> list[str]:
        return [self._request("subscribe", i) for i in instruments]

    def resubscribe_messages(self, instrument: Instrument) -> list[str]:
        return []  # a resync is a fresh REST snapshot; the updates keep coming

    def heartbeat_message(self) -> str | None:
        return f'{{"time":{int(time.time())},"channel":"spot.ping"}}'

    @staticmethod
    def _request(event: str, instrument: Instrument) -> str:
        payload = [instrument.venue_symbol, UPDATE_INTERVAL]
        return msgspec.json.encode({"time": int(time.time()), "channel": BOOK_CHANNEL,
                                    "event": event, "payload": payload}).decode()  # fmt: skip

    async def fetch_snapshot(
        self,
        rest: RestClient,
        instrument: Instrument,
        parser: FeedParser,
        ts_recv: Callable[[], int],
    ) -> list[MdEvent]:
        query = f"currency_pair={instrument.venue_symbol}&limit={self.snapshot_limit}&with_id=true"
        body = await rest.get(ORDER_BOOK_PATH, query=query)
        return parser.parse_rest(f"{rest.base_url}{ORDER_BOOK_PATH}?{query}", body, ts_recv())

    async def fetch_instruments(self, rest: RestClient) -> list[Instrument]:
        return instruments_from_pairs(await rest.get(PAIRS_PATH), time.time_ns())

    def audit_request(self, instrument: Instrument, levels: int) -> tuple[str, str, str, float]:
        limit = self.audit_depth(levels)
        query = f"currency_pair={instrument.venue_symbol}&limit={limit}&with_id=true"
        return ORDER_BOOK_PATH, query, "default", 1.0

    def audit_depth(self, levels: int) -> int:
        return min(super().audit_depth(levels), MAX_LIMIT)

    def trades_request(self, instrument: Instrument, limit: int) -> tuple[str, str, str, float]:
        """GET /api/v4/spot/trades, limit <= 1000, newest first
        (https://www.gate.io/docs/developers/apiv4/#retrieve-market-trades)."""
        query = f"currency_pair={instrument.venue_symbol}&limit={min(limit, 1000)}"
        return self.trades_path, query, "default", 1

    def read_public_trades(self, body: bytes, instrument: Instrument) -> list[PublicTrade]:
        """``[{"id", "create_time" (s), "create_time_ms" ("ms.fraction"), "currency_pair",
        "side" (the taker's), "amount", "price", ...}]``."""
        return [
            PublicTrade(VENUE, instrument.symbol, str(row["id"]), text(row["price"]),
                        text(row["amount"]), taker_side(row["side"]),
                        int(Decimal(str(row["create_time_ms"])) * 1_000_000))
            for row in msgspec.json.decode(body, type=TRADE_ROWS)
        ]  # fmt: skip

    def error_mapper(self) -> ErrorMapper | None:
        return error_mapper()
