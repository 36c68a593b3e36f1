"""KuCoin spot public market data: ``/market/level2`` increments on a REST snapshot.

Docs (https://www.kucoin.com/docs-new/websocket-api/base-info/introduction and the pages
named below):
- the WS endpoint and a token come from ``POST /api/v1/bullet-public`` (public weight 10):
  ``data.token`` and ``data.instanceServers[]`` with ``endpoint``, ``pingInterval`` and
  ``pingTimeout`` (ms; 18000 and 10000 in the docs' example,
  https://kucoin.btc-store.de/docs/websocket/basic-info/apply-connect-token/public-token-no-authentication-required-);
  the client connects to ``<endpoint>?token=<token>&connectId=<its own id>``; "the token is
  valid for only 24 hours, and a single connection is expected to be disconnected after 24
  hours". A token is asked for before every connect (``connect_url``);
- the server first sends ``{"id": <connectId>, "type": "welcome"}``; the client sends
  ``{"id", "type": "ping"}`` every ``pingInterval`` and gets ``pong``; a connection that sent
  nothing for long is closed ("ping timeout");
- subscribe ``{"id", "type": "subscribe", "topic": "/market/level2:A,B", "response": true}``
  (answered ``ack``): "A topic supports up to 100 symbols"; at most 100 client messages per
  10 s per connection (WS error 509 "exceed max permits per second") and 300 topics a
  session (https://www.kucoin.com/docs-new/error-code/websocket);
- ``/market/level2`` pushes every change as it happens: its page names no push interval (the
  snapshot topics' pages do: ``/spotMarket/level2Depth5`` and ``level2Depth50`` "Push
  frequency: once every 100ms", https://www.kucoin.com/docs-new/3470069w0 and .../3470070w0)
  and its example push carries one change with ``sequenceStart`` = ``sequenceEnd``
  (``VenueSpec.frame_per_change``); the recording agrees: one change per ``trade.l2update``,
  a busy symbol's pushes 0 ms apart at p10 (2021);
- ``/market/level2`` only pushes increments (https://www.kucoin.com/docs-new/3470068w0):
  calibration "cache the data, get the snapshot, play back ... sequenceStart(new) <=
  sequenceEnd+1(old) and sequenceEnd(new) > sequenceEnd(old)"
  (https://www.kucoin.com.tr/docs/websocket/spot-trading/public-channels/level2-market-data);
- snapshot ``GET /api/v1/market/orderbook/level2_20`` (public weight 2) or ``level2_100``
  (public weight 4) ``?symbol=``, whose ``sequence`` is the stream's: audits by sequence;
  ``GET /api/v3/market/orderbook/level2`` (the full book) needs a signed request and is not
  used by this public adapter (its answers read the same: the 2021 recording);
- instruments ``GET /api/v2/symbols`` (public weight 4);
- REST budget: the public resource pool, 2000 weight per 30 s per IP at every VIP level
  (https://www.kucoin.com/docs-new/rate-limit); exhausted, HTTP 429 with code 429000.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import ClassVar
from urllib.parse import quote

import msgspec
from arb_structs import Instrument, MdEvent, VenueSymbol

from arb_venues.base import Endpoints, FeedParser, MarketDataProtocol
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.common.rest import ErrorMapper, RestClient
from arb_venues.common.symbols import SymbolMap
from arb_venues.common.trades import PublicTrade, taker_side, text
from arb_venues.errors import MalformedFrame, VenueUnavailable
from arb_venues.kucoin import schemas
from arb_venues.kucoin.errors import error_mapper
from arb_venues.kucoin.parser import VENUE, KucoinParser

BULLET_PATH = "/api/v1/bullet-public"
BULLET_WEIGHT = 10.0
SYMBOLS_PATH = "/api/v2/symbols"
SYMBOLS_WEIGHT = 4.0
BOOK_PATHS = {20: "/api/v1/market/orderbook/level2_20", 100: "/api/v1/market/orderbook/level2_100"}
BOOK_WEIGHTS = {20: 2.0, 100: 4.0}
DEFAULT_PING_INTERVAL_S = 18.0  # the docs' pingInterval 18000 ms
DEFAULT_PING_TIMEOUT_S = 10.0  # pingTimeout 10000 ms
TOKEN_LIFETIME_S = 24 * 3600.0
TOPIC = "/market/level2"
SYMBOLS_PER_TOPIC = 100


def step_decimals(step: str) -> int:
    """Decimals of an increment: "0.0001" -> 4, "1" -> 0."""
    exponent = Decimal(step).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def instruments_from_symbols(body: bytes | str, ts_recv: int = 0) -> list[Instrument]:
    """Spot instruments of a GET /api/v2/symbols body: ``priceIncrement`` is the tick,
    ``baseIncrement`` the lot, ``baseMinSize`` the least size, ``minFunds`` the least notional
    (in the quote). Fees are the account's: ingest sets them (arb_venues.fees)."""
    try:
        answer = schemas.symbols_decoder.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise MalformedFrame(VENUE, "symbols", str(exc)) from None
    if answer.code != "200000":
        raise MalformedFrame(VENUE, "symbols", f"code {answer.code}: {answer.msg}")
    instruments = []
    try:
        for row in answer.data:
            instruments.append(
                Instrument(
                    venue=VENUE,
                    symbol=f"{row.baseCurrency}-{row.quoteCurrency}",
                    venue_symbol=VenueSymbol(row.symbol),
                    base=row.baseCurrency,
                    quote=row.quoteCurrency,
                    tick_size=row.priceIncrement,
                    lot_size=row.baseIncrement,
                    min_size=row.baseMinSize,
                    min_notional=row.minFunds or "0",
                    price_decimals=step_decimals(row.priceIncrement),
                    size_decimals=step_decimals(row.baseIncrement),
                    status="trading" if row.enableTrading else "halted",
                    ts_recv=ts_recv,
                )
            )
    except InvalidOperation as exc:
        raise MalformedFrame(VENUE, "symbols", f"not a decimal: {exc}") from None
    return instruments


class KucoinMarket(MarketDataProtocol):
    venue: ClassVar[str] = VENUE
    snapshot_source: ClassVar[str] = "rest"
    # 100 symbols per topic, 100 messages per 10 s: one message per 0.1 s stays inside.
    subscribe_batch: ClassVar[int] = SYMBOLS_PER_TOPIC
    subscribe_interval_s: ClassVar[float] = 0.1
    # The documented pingInterval; the token answer's own value wins (heartbeat_interval).
    heartbeat_interval_s: ClassVar[float | None] = DEFAULT_PING_INTERVAL_S
    # pingInterval + pingTimeout without a frame (our pings are answered): the link is dead.
    idle_timeout_s: ClassVar[float] = 30.0
    # The public pool, 2000 / 30 s per IP, as a bucket that can never exceed it in any 30 s
    # window (capacity + 30 s of refill = 2000).
    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {"default": BucketLimit(1000, 1000 / 30)}
    # Recent public trades (trades_request; the simulator serves the same path).
    trades_path: ClassVar[str] = "/api/v1/market/histories"
    audit_match: ClassVar[str] = "sequence"
    # Ping and server time: https://www.kucoin.com/docs-new/rest/spot-trading/market-data/get-server-time
    ping_path: ClassVar[str] = "/api/v1/timestamp"
    server_time_path: ClassVar[str] = "/api/v1/timestamp"

    def __init__(self, endpoints: Endpoints, depth: int = 0) -> None:
        super().__init__(endpoints, depth)
        if depth not in (0, 20, 100):
            raise ValueError(f"kucoin: depth {depth}: the REST snapshot has 20 or 100 levels")
        self.snapshot_levels = depth or 100
        self._request_id = 0
        self._url = ""  # the last connect URL handed out (endpoint + token + connectId)
        self._ping_interval_s = DEFAULT_PING_INTERVAL_S
        self.ping_timeout_s = DEFAULT_PING_TIMEOUT_S

    @staticmethod
    def read_server_time(body: bytes) -> int:
        """{"code":"200000","data":1729100692873} (ms)"""
        return int(msgspec.json.decode(body)["data"]) * 1_000_000

    def make_parser(self, symbols: SymbolMap) -> FeedParser:
        return KucoinParser(symbols)

    def ws_url(self, instruments: list[Instrument]) -> str:
        """The URL of the current token (``connect_url``), else the configured endpoint."""
        return self._url or self.endpoints.ws_url

    async def connect_url(self, rest: RestClient, instruments: list[Instrument]) -> str:
        """A fresh token and endpoint (POST /api/v1/bullet-public), before every connect."""
        weight = min(BULLET_WEIGHT, rest.limiter.capacity("default"))
        response = await rest.request("POST", BULLET_PATH, bucket="default", weight=weight)
        return self.use_bullet(response.body)

    def use_bullet(self, body: bytes | str) -> str:
        """The connect URL of a bullet answer (kept for ``ws_url``), with its ping interval
        kept for the heartbeat."""
        try:
            answer = schemas.bullet_decoder.decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise MalformedFrame(VENUE, "bullet", str(exc)) from None
        if answer.code != "200000" or answer.data is None or not answer.data.instanceServers:
            raise VenueUnavailable(VENUE, f"no WS server in the token answer (code "
                                   f"{answer.code} {answer.msg}); retrying")  # fmt: skip
        server = answer.data.instanceServers[0]
        if server.pingInterval > 0:
            self._ping_interval_s = server.pingInterval / 1000
        if server.pingTimeout > 0:
            self.ping_timeout_s = server.pingTimeout / 1000
        separator = "&" if "?" in server.endpoint else "?"
        token = quote(answer.data.token, safe="")
        self._url = f"{server.endpoint}{separator}token={token}&connectId={uuid.uuid4().hex}"
        return self._url

    def heartbeat_interval(self) -> float | None:
        return self._ping_interval_s

    def heartbeat_message(self) -> str | None:
        return msgspec.json.encode({"id": str(time.time_ns() // 1_000_000),
                                    "type": "ping"}).decode()  # fmt: skip

    def subscribe_messages(self, instruments: list[Instrument]) -> list[str]:
        names = [i.venue_symbol for i in instruments]
        return [
            self._subscribe(names[start : start + self.subscribe_batch])
            for start in range(0, len(names), self.subscribe_batch)
        ]

    def _subscribe(self, venue_symbols: Sequence[str]) -> str:
        self._request_id += 1
        return msgspec.json.encode({
            "id": str(self._request_id), "type": "subscribe",
            "topic": f"{TOPIC}:{','.join(venue_symbols)}", "privateChannel": False,
            "response": True,
        }).decode()  # fmt: skip

    async def fetch_snapshot(
        self,
        rest: RestClient,
        instrument: Instrument,
        parser: FeedParser,
        ts_recv: Callable[[], int],
    ) -> list[MdEvent]:
        path = BOOK_PATHS[self.snapshot_levels]
        query = f"symbol={instrument.venue_symbol}"
        weight = min(BOOK_WEIGHTS[self.snapshot_levels], rest.limiter.capacity("default"))
        body = await rest.get(path, query=query, weight=weight)
        return parser.parse_rest(f"{rest.base_url}{path}?{query}", body, ts_recv())

    async def fetch_instruments(self, rest: RestClient) -> list[Instrument]:
        weight = min(SYMBOLS_WEIGHT, rest.limiter.capacity("default"))
        body = await rest.get(SYMBOLS_PATH, weight=weight)
        return instruments_from_symbols(body, time.time_ns())

    def audit_request(self, instrument: Instrument, levels: int) -> tuple[str, str, str, float]:
        depth = self.audit_depth(levels)
        return (
            BOOK_PATHS[depth],
            f"symbol={instrument.venue_symbol}",
            "default",
            BOOK_WEIGHTS[depth],
        )

    def audit_depth(self, levels: int) -> int:
        """Four times the compared levels, as one of the two partial books (20 or 100)."""
        return 20 if 4 * levels <= 20 else 100

    def trades_request(self, instrument: Instrument, limit: int) -> tuple[str, str, str, float]:
        """GET /api/v1/market/histories: the last 100 trades, oldest first (no limit parameter)
        (https://www.kucoin.com/docs-new/rest/spot-trading/market-data/get-trade-history)."""
        return self.trades_path, f"symbol={instrument.venue_symbol}", "default", 3

    def read_public_trades(self, body: bytes, instrument: Instrument) -> list[PublicTrade]:
        """``{"code": "200000", "data": [{"sequence", "price", "size", "side" (the taker's),
        "time" (ns)}]}``."""
        rows = msgspec.json.decode(body)["data"]
        return [
            PublicTrade(VENUE, instrument.symbol, str(row["sequence"]), text(row["price"]),
                        text(row["size"]), taker_side(row["side"]), int(row["time"]))
            for row in reversed(rows)
        ]  # fmt: skip

    def error_mapper(self) -> ErrorMapper | None:
        return error_mapper()
