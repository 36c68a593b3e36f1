"""The simulator's Coinbase: Advanced Trade WS and REST on Coinbase's own paths.

Served (one aiohttp app; point ws_url at "/" and rest_url at the root):
- WS "/" (wss://advanced-trade-ws.coinbase.com has no path): subscribe/unsubscribe per
  channel (level2, heartbeats), "subscriptions" acks, level2 snapshot then updates in
  ``l2_data`` frames, heartbeats every second, ``sequence_num`` per connection across all
  channels, {"type": "error", "message": ...} for bad requests, "authentication failure" for
  a bad JWT, and a disconnect when no subscribe arrives within 5 s;
- public REST: /api/v3/brokerage/market/products (``limit``, ``offset``, ``product_ids``),
  /market/products/{product_id}, /market/product_book, /api/v3/brokerage/time, the same
  product list and product at /api/v3/brokerage/products[/{product_id}] (documented as
  authenticated; a JWT sent is verified, none is needed, as cryptofeed 2.4.1 sends none),
  and the v2 currency lists /v2/currencies, /v2/currencies/crypto and /v2/exchange-rates
  that ccxt loads;
- private REST (JWT verified with signing.verify): see sim/private.py.
Faults honoured here: drop_connection, skip_seq, malformed_frame (per symbol, at the next
update of that symbol). There is no book checksum on Coinbase, so bad_checksum does not apply.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from decimal import Decimal
from functools import partial
from typing import Any

import msgspec
from aiohttp import WSMsgType, web
from arb_structs import Instrument, VenueSymbol

from arb_venues.coinbase.market import CoinbaseMarket
from arb_venues.coinbase.signing import unverified_key_name, verify
from arb_venues.coinbase.sim import private as sim_private
from arb_venues.coinbase.sim.bodies import api_error, error_response, fixed, rfc3339
from arb_venues.common.trades import other_side
from arb_venues.errors import InvalidSignature
from arb_venues.simapi import (
    ERROR_RESPONSE,
    SHARED_FRAMES,
    SharedFrames,
    SimBook,
    SimBookUpdate,
    SimLevel,
    SimMarket,
    SimTrade,
    next_frames,
    send_frames,
    trades_handler,
    venue_now_ns,
)

MARKET: web.AppKey[SimMarket] = web.AppKey("coinbase_market", SimMarket)
SUBSCRIBE_DEADLINE_S = 5.0  # "you are disconnected if no subscribe has been received within 5 s"
HEARTBEAT_INTERVAL_S = 1.0
CHANNELS = ("level2", "heartbeats")
FIAT = ("USD", "EUR", "GBP")
_encode = msgspec.json.encode
_SPLICE = 1 << 62  # a sequence_num no connection reaches: the place the real one goes
_CLOSE = b"drop_connection"  # what Connection._frame returns for that fault (by identity)


class ClientMessage(msgspec.Struct, frozen=True):
    type: str
    channel: str = ""
    product_ids: list[str] = []
    jwt: str = ""


_client_decoder = msgspec.json.Decoder(ClientMessage)


def create_app(market: SimMarket) -> web.Application:
    app = web.Application()
    app[MARKET] = market
    # The simulator core looks this up by its string name; aiohttp warns about string keys.
    app[ERROR_RESPONSE] = error_response
    app[SHARED_FRAMES] = SharedFrames()
    app.router.add_get("/", websocket_handler)
    app.router.add_get("/api/v3/brokerage/market/products", products_handler)
    app.router.add_get("/api/v3/brokerage/market/products/{product_id}", product_handler)
    app.router.add_get("/api/v3/brokerage/products", products_handler)
    app.router.add_get("/api/v3/brokerage/products/{product_id}", product_handler)
    app.router.add_get("/api/v3/brokerage/time", time_handler)
    app.router.add_get("/v2/currencies", fiat_currencies_handler)
    app.router.add_get("/v2/currencies/crypto", crypto_currencies_handler)
    app.router.add_get("/v2/exchange-rates", exchange_rates_handler)
    app.router.add_get("/api/v3/brokerage/market/product_book", product_book_handler)
    sim_private.add_routes(app, market)
    app.router.add_get(CoinbaseMarket.trades_path, trades_handler(
        market, lambda r: r.match_info["symbol"], _trades_body,
        lambda: web.json_response({"error": "NOT_FOUND", "error_details": "product not found",
                                   "message": "product not found"}, status=404),
        default_limit=100, max_limit=1000))  # fmt: skip
    return app


# -- public REST ----------------------------------------------------------------------------


def product_json(market: SimMarket, symbol: str) -> dict[str, Any]:
    instrument = market.instruments[symbol]
    trading = instrument.status == "trading"
    return {
        "product_id": instrument.venue_symbol, "price": "", "base_increment": instrument.lot_size,
        "quote_increment": instrument.tick_size, "quote_min_size": instrument.min_notional,
        "quote_max_size": "150000000", "base_min_size": instrument.min_size,
        "base_max_size": "3400", "base_name": instrument.base, "quote_name": instrument.quote,
        "watched": False, "is_disabled": False, "new": False,
        "status": "online" if trading else "offline", "cancel_only": False,
        "limit_only": False, "post_only": False, "trading_disabled": not trading,
        "auction_mode": False, "product_type": "SPOT",
        "quote_currency_id": instrument.quote, "base_currency_id": instrument.base,
        "fcm_trading_session_details": None, "mid_market_price": "", "alias": "",
        "alias_to": [], "base_display_symbol": instrument.base,
        "quote_display_symbol": instrument.quote, "view_only": False,
        "price_increment": instrument.tick_size, "display_name": instrument.venue_symbol,
        "product_venue": "CBE",
    }  # fmt: skip


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(body=_encode(payload), status=status, content_type="application/json")


def _unauthorised(request: web.Request) -> web.Response | None:
    """A 401 when the request carries a JWT that does not verify (none is fine here)."""
    if not request.headers.get("Authorization"):
        return None
    if sim_private.authenticated_key(request.app[MARKET], request) is None:
        return api_error(401, "UNAUTHENTICATED", "Unauthorized")
    return None


async def products_handler(request: web.Request) -> web.Response:
    """GET /api/v3/brokerage/market/products: ``product_ids`` (repeated) picks products,
    ``offset`` and ``limit`` page them; ``num_products`` counts the whole list
    (https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/public/list-public-products)."""
    refused = _unauthorised(request)
    if refused is not None:
        return refused
    market = request.app[MARKET]
    try:
        limit = int(request.query.get("limit", "0") or 0)
        offset = int(request.query.get("offset", "0") or 0)
    except ValueError:
        return api_error(400, "INVALID_ARGUMENT", "limit and offset must be integers")
    wanted = set(request.query.getall("product_ids", []))
    products = [product_json(market, symbol) for symbol, i in market.instruments.items()
                if not wanted or i.venue_symbol in wanted]  # fmt: skip
    page = products[offset:][:limit] if limit > 0 else products[offset:]
    return _json({"products": page, "num_products": len(products)})


async def product_handler(request: web.Request) -> web.Response:
    """GET /api/v3/brokerage/market/products/{product_id}: one product, 404 NOT_FOUND for an
    unknown one
    (https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/public/get-public-product)."""
    refused = _unauthorised(request)
    if refused is not None:
        return refused
    market = request.app[MARKET]
    symbol = symbol_of(market, request.match_info["product_id"])
    if symbol is None:
        return api_error(404, "NOT_FOUND", "ProductID is invalid")
    return _json(product_json(market, symbol))


async def time_handler(request: web.Request) -> web.Response:
    """GET /api/v3/brokerage/time
    (https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/public/get-server-time)."""
    now = venue_now_ns(request.app[MARKET])
    return _json({"iso": rfc3339(now), "epochSeconds": str(now // 1_000_000_000),
                  "epochMillis": str(now // 1_000_000)})  # fmt: skip


def _assets(market: SimMarket) -> list[str]:
    return sorted({a for i in market.instruments.values() for a in (i.base, i.quote)})


async def fiat_currencies_handler(request: web.Request) -> web.Response:
    """GET /v2/currencies (Coinbase's v2 API, which ccxt loads currencies from): the
    simulated assets that are not crypto here, i.e. USD (none when every quote is a coin)
    (https://docs.cdp.coinbase.com/coinbase-app/track-apis/currencies)."""
    fiat = [a for a in _assets(request.app[MARKET]) if a in FIAT]
    return _json({"data": [{"id": a, "name": a, "min_size": "0.01"} for a in fiat]})


async def crypto_currencies_handler(request: web.Request) -> web.Response:
    """GET /v2/currencies/crypto: the simulated crypto assets with their exponents."""
    crypto = [a for a in _assets(request.app[MARKET]) if a not in FIAT]
    rows = [{"code": a, "name": a, "color": "#000000", "sort_index": n, "exponent": 8,
             "type": "crypto", "address_regex": ""} for n, a in enumerate(crypto)]  # fmt: skip
    return _json({"data": rows})


def symbol_of(market: SimMarket, product_id: str) -> str | None:
    for symbol, instrument in market.instruments.items():
        if instrument.venue_symbol == product_id:
            return symbol
    return None


async def product_book_handler(request: web.Request) -> web.Response:
    market = request.app[MARKET]
    product_id = request.query.get("product_id", "")
    if not product_id:
        return api_error(400, "INVALID_ARGUMENT", "product_id is required")
    symbol = symbol_of(market, product_id)
    if symbol is None:
        return api_error(404, "NOT_FOUND", f"ProductID {product_id} could not be found")
    try:
        limit = int(request.query.get("limit", "0") or 0)
    except ValueError:
        return api_error(400, "INVALID_ARGUMENT", "limit must be an integer")
    book = market.book(symbol)
    instrument = market.instruments[symbol]
    p, s = instrument.price_decimals, instrument.size_decimals
    bids = book.bids[:limit] if limit > 0 else book.bids
    asks = book.asks[:limit] if limit > 0 else book.asks
    body: dict[str, Any] = {
        "pricebook": {
            "product_id": product_id,
            "bids": [{"price": fixed(px, p), "size": fixed(sz, s)} for px, sz in bids],
            "asks": [{"price": fixed(px, p), "size": fixed(sz, s)} for px, sz in asks],
            "time": rfc3339(book.ts_ns or None),
        },
    }
    if bids and asks:
        mid = (bids[0][0] + asks[0][0]) / 2
        spread = asks[0][0] - bids[0][0]
        body.update(last=str(mid), mid_market=str(mid), spread_absolute=str(spread),
                    spread_bps=str(spread / mid * 10000))  # fmt: skip
    return web.Response(body=_encode(body), content_type="application/json")


# -- WebSocket ------------------------------------------------------------------------------


class Connection:
    """One client connection: its subscriptions, its sequence_num, an ordered send queue."""

    def __init__(
        self, ws: web.WebSocketResponse, market: SimMarket, shared: SharedFrames | None = None
    ) -> None:
        self.ws = ws
        self.market = market
        self.shared = shared if shared is not None else SharedFrames()
        self.sequence = 0
        self.subscriptions: dict[str, list[str]] = {}
        self.book_seq: dict[str, int] = {}  # product -> sim seq the snapshot was taken at
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.heartbeats: asyncio.Task[None] | None = None
        self.heartbeat_counter = 0
        self.products = {i.venue_symbol: s for s, i in market.instruments.items()}

    # -- inbound ------------------------------------------------------------------------------

    def on_client_message(self, text: str) -> None:
        try:
            message = _client_decoder.decode(text)
        except msgspec.DecodeError:
            self.send_error("Failed to parse the subscription request")
            return
        if message.type not in ("subscribe", "unsubscribe"):
            self.send_error(f"unknown message type {message.type!r}")
            return
        if message.channel not in CHANNELS:
            self.send_error(f"channel {message.channel!r} is not supported")
            return
        if message.jwt and not self._jwt_ok(message.jwt):
            self.send_error("authentication failure")
            return
        unknown = [p for p in message.product_ids if p not in self.products]
        if unknown:
            self.send_error(f"Failed to subscribe: unknown product(s) {', '.join(unknown)}")
            return
        if message.type == "subscribe":
            self.subscribe(message.channel, message.product_ids)
        else:
            self.unsubscribe(message.channel, message.product_ids)

    def _jwt_ok(self, token: str) -> bool:
        key_name = unverified_key_name(token)
        secret = self.market.secret_for(key_name) if key_name else None
        if secret is None:
            return False
        try:
            verify(token, secret, uri=None, now_s=venue_now_ns(self.market) / 1e9)
        except InvalidSignature:
            return False
        return True

    def subscribe(self, channel: str, product_ids: list[str]) -> None:
        current = self.subscriptions.setdefault(channel, [])
        new = [p for p in product_ids if p not in current]
        current.extend(new)
        self.queue.put_nowait(("subscriptions", None))
        if channel == "heartbeats" and self.heartbeats is None:
            self.heartbeats = asyncio.create_task(self._beat())
        if channel == "level2":
            for product in new:
                book = self.market.book(self.products[VenueSymbol(product)])
                self.book_seq[product] = book.seq
                self.queue.put_nowait(("snapshot", (product, book)))

    def unsubscribe(self, channel: str, product_ids: list[str]) -> None:
        current = self.subscriptions.get(channel, [])
        gone = product_ids or list(current)  # no product ids: the whole channel
        self.subscriptions[channel] = [p for p in current if p not in gone]
        for product in gone:
            self.book_seq.pop(product, None)
        stop_beats = channel == "heartbeats" and not product_ids and self.heartbeats is not None
        if stop_beats and self.heartbeats is not None:
            self.heartbeats.cancel()
            self.heartbeats = None
        self.queue.put_nowait(("subscriptions", None))

    def on_update(self, update: SimBookUpdate) -> None:
        """SimMarket listener: queue the update if this connection follows that book."""
        instrument = self.market.instruments.get(update.symbol)
        if instrument is None:
            return
        product = instrument.venue_symbol
        seen = self.book_seq.get(product)
        if seen is not None and update.seq > seen:
            self.queue.put_nowait(("update", (product, update)))

    def send_error(self, message: str) -> None:
        self.queue.put_nowait(("error", message))

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_INTERVAL_S)
            self.queue.put_nowait(("heartbeat", None))

    # -- outbound ------------------------------------------------------------------------------

    def _envelope(self, channel: str, events: list[Any], ts_ns: int | None = None) -> bytes:
        self.sequence += 1
        return _encode({"channel": channel, "client_id": "", "timestamp": rfc3339(ts_ns),
                        "sequence_num": self.sequence - 1, "events": events})  # fmt: skip

    def _levels(self, product: str, side: str, levels: list[SimLevel], stamp: str
                ) -> list[dict[str, str]]:  # fmt: skip
        instrument = self.market.instruments[self.products[VenueSymbol(product)]]
        p, s = instrument.price_decimals, instrument.size_decimals
        return [{"side": side, "event_time": stamp, "price_level": fixed(px, p),
                 "new_quantity": fixed(sz, s)} for px, sz in levels]  # fmt: skip

    def _l2(self, kind: str, product: str, bids: list[SimLevel], asks: list[SimLevel],
            ts_ns: int | None) -> bytes:  # fmt: skip
        stamp = rfc3339(ts_ns)
        updates = self._levels(product, "bid", bids, stamp)
        updates += self._levels(product, "offer", asks, stamp)
        event = {"type": kind, "product_id": product, "updates": updates}
        return self._envelope("l2_data", [event], ts_ns)

    def _l2_update(self, product: str, update: SimBookUpdate) -> bytes:
        """An update's ``l2_data`` frame: its text is the same on every connection but for
        ``sequence_num``, so it is built once (``shared``) around that number."""
        head, tail = self.shared.get(("l2", product, update.seq),
                                     partial(self._l2_halves, product, update))  # fmt: skip
        self.sequence += 1
        return b"%b%d%b" % (head, self.sequence - 1, tail)

    def _l2_halves(self, product: str, update: SimBookUpdate) -> tuple[bytes, bytes]:
        sequence, self.sequence = self.sequence, _SPLICE
        try:
            frame = self._l2("update", product, update.bids, update.asks, update.ts_ns)
        finally:
            self.sequence = sequence
        head, _, tail = frame.partition(b'"sequence_num":%d,' % _SPLICE)
        return head + b'"sequence_num":', b"," + tail

    async def writer(self) -> None:
        """Every item queued when it wakes becomes its frame, and they go out in one write
        (``send_frames``): the sequence is per connection, so the frames are this
        connection's own, but not the syscall per frame."""
        while True:
            items = await next_frames(self.queue)
            frames: list[bytes] = []
            closing = False
            for kind, item in items:
                frame = self._frame(kind, item, frames)
                if frame is _CLOSE:
                    closing = True
                    break
                if frame is not None:
                    frames.append(frame)
            if frames and not self.ws.closed:
                await send_frames(self.ws, frames)
            if closing:
                await self.ws.close()
                return

    def _frame(self, kind: str, item: Any, frames: list[bytes]) -> bytes | None:
        """The frame of one queued item (None: nothing to send; ``_CLOSE``: the
        drop_connection fault). A malformed_frame fault adds its broken frame to ``frames``
        first."""
        faults = self.market.faults
        if kind == "update":
            product, update = item
            if product not in self.book_seq:
                return None  # unsubscribed after it was queued
            symbol = update.symbol
            if faults.take("drop_connection", symbol):
                return _CLOSE
            if faults.take("malformed_frame", symbol):
                frames.append(b'{"channel":"l2_data","events":[{"type":')
            if faults.take("skip_seq", symbol):
                self.sequence += 1  # one sequence_num never sent: a lost message
            self.book_seq[product] = update.seq
            return self._l2_update(product, update)
        if kind == "snapshot":
            product, book = item
            return self._snapshot(product, book)
        if kind == "subscriptions":
            return self._envelope(
                "subscriptions",
                [
                    {
                        "subscriptions": {
                            channel: products for channel, products in self.subscriptions.items()
                        }
                    }
                ],
            )
        if kind == "heartbeat":
            self.heartbeat_counter += 1
            now = rfc3339()
            return self._envelope("heartbeats", [{
                "current_time": now.replace("T", " ").replace("Z", " +0000 UTC"),
                "heartbeat_counter": str(self.heartbeat_counter)}])  # fmt: skip
        return _encode({"type": "error", "message": item})

    def _snapshot(self, product: str, book: SimBook) -> bytes:
        return self._l2("snapshot", product, book.bids, book.asks, book.ts_ns or None)


async def websocket_handler(request: web.Request) -> web.StreamResponse:
    ws = web.WebSocketResponse(autoping=True)
    await ws.prepare(request)
    connection = Connection(ws, request.app[MARKET], request.app[SHARED_FRAMES])
    stop_listening = connection.market.subscribe(connection.on_update)
    writer = asyncio.create_task(connection.writer())
    subscribed = asyncio.Event()
    deadline = asyncio.create_task(_close_unless(subscribed, ws))
    try:
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                connection.on_client_message(message.data)
                if connection.subscriptions:
                    subscribed.set()
            elif message.type == WSMsgType.ERROR:
                break
    finally:
        stop_listening()
        for task in (writer, deadline, connection.heartbeats):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                    await task
        await ws.close()
    return ws


async def _close_unless(subscribed: asyncio.Event, ws: web.WebSocketResponse) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(subscribed.wait(), SUBSCRIBE_DEADLINE_S)
        return
    await ws.close()


async def exchange_rates_handler(request: web.Request) -> web.Response:
    """GET /v2/exchange-rates?currency=USD: how much of each asset one unit of ``currency``
    buys, from the simulated books' mid prices (assets without a pair against it are left
    out) (https://docs.cdp.coinbase.com/coinbase-app/track-apis/exchange-rates)."""
    market = request.app[MARKET]
    currency = request.query.get("currency", "USD").upper()
    rates = {currency: "1"}
    for symbol, instrument in market.instruments.items():
        if instrument.quote != currency:
            continue
        book = market.book(symbol)
        if book.bids and book.asks:
            mid = (book.bids[0][0] + book.asks[0][0]) / 2
            rates[instrument.base] = format((1 / mid).normalize(), "f")
    return _json({"data": {"currency": currency, "rates": rates}})


def _trades_body(trades: list[SimTrade], instrument: Instrument) -> object:
    """GET /api/v3/brokerage/market/products/{product_id}/ticker: newest first, ``side`` the
    maker's (the taker's opposite)."""
    return {"trades": [
        {"trade_id": str(t.trade_id), "product_id": instrument.venue_symbol,
         "price": _num(t.price), "size": _num(t.size), "time": _rfc3339(t.ts_ns),
         "side": other_side(t.side).value.upper(), "exchange": ""} for t in trades],
        "best_bid": "", "best_ask": ""}  # fmt: skip


def _rfc3339(ts_ns: int) -> str:
    stamp = datetime.datetime.fromtimestamp(ts_ns // 1000 / 1e6, tz=datetime.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _num(value: Decimal) -> str:
    """A price or size as the venue writes it: plain decimal text."""
    return "0" if value == 0 else format(value.normalize(), "f")
