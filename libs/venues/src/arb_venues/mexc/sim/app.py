"""The simulator's side of MEXC spot: ``create_app(market)`` serves the same protocols.

Public WS ``/ws`` (docs "Websocket Market Streams"): JSON requests ``{"method":
"SUBSCRIPTION" | "UNSUBSCRIPTION", "params": [...]}`` answered ``{"id": 0, "code": 0,
"msg": <the channels, comma-separated>}``, ``{"method": "PING"}`` answered ``{"id": 0,
"code": 0, "msg": "PONG"}``; a channel it does not serve, or one past the 30 a connection
may hold, is answered ``{"id": 0, "code": 0, "msg": "Not Subscribed successfully! [...]"}``
(the simulator's wording). More than 100 messages in a second, or no valid subscription 30 s
after connecting, closes the connection. ``spot@public.aggre.depth.v3.api.pb@(100ms|10ms)@<SYM>``
pushes, every interval with changes, one binary protobuf ``PushDataV3ApiWrapper`` whose
``publicAggreDepths`` holds the absolute sizes of the levels changed in versions
``fromVersion..toVersion`` (the core's per-book update counter), so ``/api/v3/depth``'s
``lastUpdateId`` (= book seq) lines up with them as on MEXC.

Faults: drop_connection, skip_seq (an interval's push is never sent: the next fromVersion
jumps), malformed_frame (bytes that are no protobuf message), bad_level (the fault's
``value`` as an extra bid's price, or as the best ask's size), lose_response (sim/rest.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import WSMsgType, web
from arb_core.tasks import stop_task
from arb_structs import Instrument, Side

from arb_venues.mexc import schemas
from arb_venues.mexc.market import INTERVALS_S, MexcMarket
from arb_venues.mexc.parser import DEPTH_CHANNEL, PONG, channel_parts
from arb_venues.mexc.sim import bodies
from arb_venues.mexc.sim.rest import SimRest, add_routes
from arb_venues.simapi import ERROR_RESPONSE, SimBookUpdate, SimMarket, SimTrade, trades_handler

MAX_SUBSCRIPTIONS = 30
MAX_MESSAGES_PER_SECOND = 100
NO_SUBSCRIPTION_TIMEOUT_S = 30.0
_encoder = msgspec.json.Encoder()


@dataclass
class _Pending:
    first: int
    last: int
    ts_ns: int
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)


@dataclass
class _Channel:
    symbol: str  # normalised
    venue_symbol: str
    interval_s: float
    due: float = 0.0


@dataclass(eq=False)  # identity-hashed: kept in a set
class _Client:
    ws: web.WebSocketResponse
    channels: dict[str, _Channel] = field(default_factory=dict)
    pending: dict[str, _Pending] = field(default_factory=dict)  # by channel
    received: list[float] = field(default_factory=list)  # message times, last second

    def on_update(self, update: SimBookUpdate) -> None:
        for name, channel in self.channels.items():
            if channel.symbol != update.symbol:
                continue
            pending = self.pending.get(name)
            if pending is None:
                pending = self.pending[name] = _Pending(update.seq, update.seq, update.ts_ns)
            pending.last, pending.ts_ns = update.seq, update.ts_ns
            pending.bids.update(update.bids)
            pending.asks.update(update.asks)


class MexcSim:
    def __init__(self, market: SimMarket, no_subscription_timeout_s: float) -> None:
        self.market = market
        self.no_subscription_timeout_s = no_subscription_timeout_s
        self.clients: set[_Client] = set()
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self, app: web.Application) -> None:
        self._unsubscribe = self.market.subscribe(self._on_update)

    async def stop(self, app: web.Application) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        for client in list(self.clients):
            await client.ws.close()

    def _on_update(self, update: SimBookUpdate) -> None:
        for client in self.clients:
            client.on_update(update)

    def channel(self, name: str) -> _Channel | None:
        """The depth channel ``name`` serves, or None (other channels, unknown symbols)."""
        stream, venue_symbol = channel_parts(name)
        base, _, interval = stream.rpartition("@")
        if base != DEPTH_CHANNEL or interval not in INTERVALS_S:
            return None
        for symbol, instrument in self.market.instruments.items():
            if instrument.venue_symbol == venue_symbol:
                return _Channel(symbol, venue_symbol, INTERVALS_S[interval])
        return None

    async def serve(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        client = _Client(ws)
        self.clients.add(client)
        try:
            await ws.prepare(request)
        except BaseException:
            self.clients.discard(client)
            raise
        flusher = asyncio.create_task(self._flush_loop(client))
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                if self._over_limit(client):
                    break  # MEXC disconnects a connection over 100 messages a second
                reply = self._request(client, message.data)
                if reply is not None:
                    await ws.send_str(_encoder.encode(reply).decode())
        finally:
            self.clients.discard(client)
            await stop_task(flusher)
            await ws.close()
        return ws

    @staticmethod
    def _over_limit(client: _Client) -> bool:
        now = time.monotonic()
        client.received = [t for t in client.received if now - t < 1.0]
        client.received.append(now)
        return len(client.received) > MAX_MESSAGES_PER_SECOND

    def _request(self, client: _Client, text: str) -> dict[str, Any] | None:
        try:
            request = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return {"id": 0, "code": 0, "msg": "Not Subscribed successfully! Reason: bad json"}
        if not isinstance(request, dict):
            return {"id": 0, "code": 0, "msg": "Not Subscribed successfully! Reason: bad request"}
        method, params = request.get("method"), request.get("params") or []
        ident = request.get("id", 0)
        if method == "PING":
            return {"id": ident, "code": 0, "msg": PONG}
        if method not in ("SUBSCRIPTION", "UNSUBSCRIPTION") or not isinstance(params, list):
            return {"id": ident, "code": 0, "msg": "Not Subscribed successfully! [] Reason: "
                    "unknown method"}  # fmt: skip
        names = [p for p in params if isinstance(p, str)]
        if method == "UNSUBSCRIPTION":
            for name in names:
                client.channels.pop(name, None)
                client.pending.pop(name, None)
            return {"id": ident, "code": 0, "msg": ",".join(names)}
        refused = []
        for name in names:
            channel = self.channel(name)
            if channel is None or (
                name not in client.channels and len(client.channels) >= MAX_SUBSCRIPTIONS
            ):
                refused.append(name)
                continue
            client.channels[name] = channel
        if refused:
            return {"id": ident, "code": 0,
                    "msg": f"Not Subscribed successfully! [{','.join(refused)}].  "
                           "Reason: not served or over 30 subscriptions"}  # fmt: skip
        return {"id": ident, "code": 0, "msg": ",".join(names)}

    async def _flush_loop(self, client: _Client) -> None:
        faults = self.market.faults
        loop = asyncio.get_running_loop()
        opened = loop.time()
        while not client.ws.closed:
            fast = any(c.interval_s < 0.1 for c in client.channels.values())
            await asyncio.sleep(0.01 if fast else 0.05)
            now = loop.time()
            if not client.channels and now - opened > self.no_subscription_timeout_s:
                await client.ws.close()  # "no valid subscription ... disconnect after 30 s"
                return
            if faults.take("drop_connection"):
                await client.ws.close()
                return
            if faults.take("malformed_frame"):
                await client.ws.send_bytes(b"\x0a\xff\xff\xff\xff\x0f garbage")
            for name in list(client.pending):
                channel = client.channels.get(name)
                if channel is None:
                    client.pending.pop(name, None)
                    continue
                if now < channel.due:
                    continue
                channel.due = now + channel.interval_s
                pending = client.pending.pop(name)
                if faults.take("skip_seq", channel.symbol):
                    continue  # this interval's push is lost: the next fromVersion jumps
                await client.ws.send_bytes(self._frame(name, channel, pending))

    def _frame(self, name: str, channel: _Channel, pending: _Pending) -> bytes:
        bids = sorted(pending.bids.items(), reverse=True)
        asks = sorted(pending.asks.items())
        bad = self.market.faults.take_params("bad_level", channel.symbol)
        frame = bodies.depth_push(name, channel.venue_symbol, pending.first, pending.last,
                                  bids, asks, pending.ts_ns // 1_000_000)  # fmt: skip
        if bad is None:
            return frame
        # An impossible number as the level's text (NaN, -1, 1e999...): the versions stay.
        push = schemas.PushDataV3ApiWrapper.FromString(frame)
        value = str(bad.get("value", "-1"))
        body = push.publicAggreDepths
        if bad.get("field") == "size":
            book = self.market.book(channel.symbol)
            price = bodies.text(book.asks[0][0]) if book.asks else "1"
            body.asks.add(price=price, quantity=value)
        else:
            body.bids.add(price=value, quantity="1")
        serialised: bytes = push.SerializeToString()
        return serialised


SIM_KEY = web.AppKey("mexc_sim", MexcSim)
REST_KEY = web.AppKey("mexc_rest", SimRest)


def create_app(
    market: SimMarket, *, no_subscription_timeout_s: float = NO_SUBSCRIPTION_TIMEOUT_S
) -> web.Application:
    """MEXC's public WS + REST and private REST over ``market``."""
    app = web.Application()
    sim, rest = MexcSim(market, no_subscription_timeout_s), SimRest(market)
    app[SIM_KEY], app[REST_KEY] = sim, rest
    app[ERROR_RESPONSE] = bodies.error_response
    app.router.add_get("/ws", sim.serve)
    add_routes(app, rest)
    app.on_startup.append(sim.start)
    app.on_shutdown.append(sim.stop)
    app.router.add_get(MexcMarket.trades_path, trades_handler(
        market, lambda r: r.query.get("symbol", ""), _trades_body,
        lambda: web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400),
        default_limit=500, max_limit=1000))  # fmt: skip
    return app


def _trades_body(trades: list[SimTrade], instrument: Instrument) -> object:
    """GET /api/v3/trades: oldest first, ``id`` null as MEXC documents it."""
    return [{"id": None, "price": _num(t.price), "qty": _num(t.size),
             "quoteQty": _num(t.price * t.size), "time": t.ts_ns // 1_000_000,
             "isBuyerMaker": t.side is Side.SELL, "isBestMatch": True,
             "tradeType": "ASK" if t.side is Side.SELL else "BID"}
            for t in reversed(trades)]  # fmt: skip


def _num(value: Decimal) -> str:
    """A price or size as the venue writes it: plain decimal text."""
    return "0" if value == 0 else format(value.normalize(), "f")
