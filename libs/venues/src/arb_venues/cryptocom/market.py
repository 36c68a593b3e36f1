"""Crypto.com Exchange v1 public market data: one WS connection, snapshots from the WS itself.

Docs (https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html):
- "Websocket Root Endpoints": market data ``wss://stream.crypto.com/exchange/v1/market``;
  REST ``https://api.crypto.com/exchange/v1/{method}``;
- "book.{instrument_name}.{depth}": depth 10 or 50; ``{"id", "method": "subscribe",
  "params": {"channels": ["book.BTC_USD.50"], "book_subscription_type":
  "SNAPSHOT_AND_UPDATE", "book_update_frequency": 10}, "nonce"}`` sends a snapshot, then
  deltas every 10 ms (or 100 ms) chained by ``u``/``pu``; on a broken chain, re-subscribe
  (here: unsubscribe + subscribe of that channel, snapshot_source "ws");
- "Websocket Heartbeats": the server's ``public/heartbeat`` every 30 s must be answered with
  ``public/respond-heartbeat`` and the same id (the parser's ``replies``), else the server
  closes the connection (termination code 1000);
- "Common Issues": WS rate limits are pro-rated on the calendar second the connection opened,
  so wait 1 s after connecting before the first request (``connect_delay_s``);
- "Rate Limits": market-data WS 100 requests/s; public REST 100 requests/s per method per IP;
- ``public/get-book?instrument_name=&depth=`` (up to 50 levels, no sequence: audits compare
  by content); ``public/get-instruments`` (spot rows are ``inst_type`` ``CCY_PAIR``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import ClassVar

import msgspec
from arb_structs import Instrument, VenueSymbol

from arb_venues.base import Endpoints, FeedParser, MarketDataProtocol
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.common.rest import ErrorMapper, RestClient
from arb_venues.common.symbols import SymbolMap
from arb_venues.common.trades import PublicTrade, taker_side, text
from arb_venues.cryptocom import errors as codes
from arb_venues.cryptocom import schemas
from arb_venues.cryptocom.parser import VENUE, CryptocomParser
from arb_venues.errors import MalformedFrame

API_PREFIX = "/exchange/v1"
WS_PATH = API_PREFIX + "/market"
GET_BOOK_PATH = API_PREFIX + "/public/get-book"
INSTRUMENTS_PATH = API_PREFIX + "/public/get-instruments"
DEPTHS = (10, 50)
DEFAULT_DEPTH = 50
REST_MAX_DEPTH = 50
SUBSCRIPTION_TYPE = "SNAPSHOT_AND_UPDATE"
# How often the delta subscription pushes: ``book_update_frequency`` 10 ms (its default; 100 is
# the other choice), each ``book.update`` the changes of that interval
# (https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html#book-instrument_name-depth).
# No Crypto.com recording is in the shared fixtures to check it against.
UPDATE_FREQUENCY_MS = 10
CHANNELS_PER_SUBSCRIBE = 10
SPOT_TYPE = "CCY_PAIR"


def decimals_of(step: str) -> int:
    try:
        exponent = Decimal(step).normalize().as_tuple().exponent
    except InvalidOperation as exc:
        raise MalformedFrame(VENUE, "instruments", f"step {step!r} is not a number") from exc
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def parse_instruments(body: bytes | str, ts_recv: int = 0) -> list[Instrument]:
    """The tradable spot pairs (``CCY_PAIR``) of a public/get-instruments answer. The answer
    gives no minimum notional: 0 (the venue refuses below its minimum with 415)."""
    try:
        envelope = schemas.ENVELOPE.decode(body)
        error = codes.error_for_code(envelope.code, envelope.message)
        if error is not None:
            raise error
        result = schemas.INSTRUMENTS.decode(envelope.result)
    except msgspec.DecodeError as exc:
        raise MalformedFrame(VENUE, "instruments", str(exc)) from None
    instruments = []
    for row in result.data:
        if row.inst_type != SPOT_TYPE or not row.tradable:
            continue
        tick, lot = row.price_tick_size, row.qty_tick_size
        instruments.append(
            Instrument(
                venue=VENUE,
                symbol=f"{row.base_ccy}-{row.quote_ccy}",
                venue_symbol=VenueSymbol(row.symbol),
                base=row.base_ccy,
                quote=row.quote_ccy,
                tick_size=tick,
                lot_size=lot,
                min_size=lot,
                min_notional="0",
                price_decimals=decimals_of(tick),
                size_decimals=decimals_of(lot),
                status="trading",
                ts_recv=ts_recv,
            )
        )
    return instruments


class CryptocomMarket(MarketDataProtocol):
    venue: ClassVar[str] = VENUE
    snapshot_source: ClassVar[str] = "ws"
    subscribe_batch: ClassVar[int] = CHANNELS_PER_SUBSCRIBE
    # 100 requests/s on a market-data connection: 10 a second leaves room for resyncs.
    subscribe_interval_s: ClassVar[float] = 0.1
    connect_delay_s: ClassVar[float] = 1.0
    # The server's heartbeat comes every 30 s and deltas (empty ones too) every 10 ms.
    idle_timeout_s: ClassVar[float] = 45.0
    # 100 requests/s per method per IP: half of it per process.
    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {"default": BucketLimit(50, 50)}
    # Recent public trades (trades_request; the simulator serves the same path).
    trades_path: ClassVar[str] = "/exchange/v1/public/get-trades"
    audit_match: ClassVar[str] = "content"

    def __init__(self, endpoints: Endpoints, depth: int = 0) -> None:
        depth = depth or DEFAULT_DEPTH
        if depth not in DEPTHS:
            raise ValueError(
                f"cryptocom book depth {depth} does not exist; use one of "
                f"{', '.join(map(str, DEPTHS))}"
            )
        super().__init__(endpoints, depth)
        self._request_id = 0

    def make_parser(self, symbols: SymbolMap) -> FeedParser:
        return CryptocomParser(symbols)

    def channel(self, instrument: Instrument) -> str:
        return f"book.{instrument.venue_symbol}.{self.depth}"

    def ws_url(self, instruments: list[Instrument]) -> str:
        base = self.endpoints.ws_url.rstrip("/")
        return base if base.endswith(WS_PATH) else base + WS_PATH

    def subscribe_messages(self, instruments: list[Instrument]) -> list[str]:
        channels = [self.channel(i) for i in instruments]
        return [
            self._request("subscribe", channels[start : start + CHANNELS_PER_SUBSCRIBE])
            for start in range(0, len(channels), CHANNELS_PER_SUBSCRIBE)
        ]

    def resubscribe_messages(self, instrument: Instrument) -> list[str]:
        channels = [self.channel(instrument)]
        return [self._request("unsubscribe", channels), self._request("subscribe", channels)]

    def _request(self, method: str, channels: list[str]) -> str:
        self._request_id += 1
        params: dict[str, object] = {"channels": channels}
        if method == "subscribe":
            params["book_subscription_type"] = SUBSCRIPTION_TYPE
            params["book_update_frequency"] = UPDATE_FREQUENCY_MS
        message = {"id": self._request_id, "method": method, "params": params,
                   "nonce": int(time.time() * 1000)}  # fmt: skip
        return msgspec.json.encode(message).decode()

    async def fetch_instruments(self, rest: RestClient) -> list[Instrument]:
        body = await rest.get(INSTRUMENTS_PATH)
        return parse_instruments(body, time.time_ns())

    def audit_request(self, instrument: Instrument, levels: int) -> tuple[str, str, str, float]:
        depth = min(REST_MAX_DEPTH, self.audit_depth(levels))
        return (
            GET_BOOK_PATH,
            f"instrument_name={instrument.venue_symbol}&depth={depth}",
            ("default"),
            1.0,
        )

    def trades_request(self, instrument: Instrument, limit: int) -> tuple[str, str, str, float]:
        """GET public/get-trades, count <= 150, newest first
        (https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html#public-get-trades)."""
        query = f"instrument_name={instrument.venue_symbol}&count={min(limit, 150)}"
        return self.trades_path, query, "default", 1

    def read_public_trades(self, body: bytes, instrument: Instrument) -> list[PublicTrade]:
        """``{"code": 0, "result": {"data": [{"d" (trade id), "s" (BUY/SELL, the taker's),
        "p", "q", "t" (ms), "tn" (ns, text), "i"}]}}``."""
        rows = msgspec.json.decode(body)["result"]["data"]
        return [
            PublicTrade(VENUE, instrument.symbol, str(row["d"]), text(row["p"]), text(row["q"]),
                        taker_side(row["s"]), int(row["tn"]))
            for row in rows
        ]  # fmt: skip

    def error_mapper(self) -> ErrorMapper | None:
        return codes.map_response
