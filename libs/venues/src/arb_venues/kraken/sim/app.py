"""The simulator's Kraken: WS v2 at ``/v2`` and WS v1 at ``/``, public and private REST.

Frames and bodies are Kraken's (frames.py): v2 numbers as JSON numbers, v1 decimals as
strings, both at the pair's decimals, with real CRC32 checksums. Faults: drop_connection,
skip_seq (an update silently not sent: only the next checksum shows it, as on Kraken),
bad_checksum, malformed_frame, lose_response (private REST, in sim/rest.py).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial

from aiohttp import WSMsgType, web
from arb_core.tasks import stop_task
from arb_structs import Instrument, LevelText

from arb_venues.kraken import symbols as kraken_symbols
from arb_venues.kraken.market import DEPTHS, KrakenMarket
from arb_venues.kraken.sim import frames
from arb_venues.kraken.sim.rest import KrakenRest, error_response
from arb_venues.simapi import (
    ERROR_RESPONSE,
    SharedFrames,
    SimBook,
    SimBookUpdate,
    SimMarket,
    SimTrade,
    trades_handler,
    write_outbox,
)

HEARTBEAT_S = 1.0  # Kraken sends a heartbeat about once a second while subscribed


@dataclass
class _Subscription:
    instrument: Instrument
    sent: frames.SentBook
    channel_id: int  # v1 only


@dataclass(eq=False)
class _Session:
    ws: web.WebSocketResponse
    version: str  # "v2" | "v1"
    subscriptions: dict[str, _Subscription] = field(default_factory=dict)  # by our symbol
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)


class KrakenSim:
    def __init__(self, market: SimMarket) -> None:
        self.market = market
        self.sessions: set[_Session] = set()
        self._channel_ids = itertools.count(336)
        self._unsubscribe: object | None = None
        self._closing: set[asyncio.Future[bool]] = set()
        self.rest = KrakenRest(market)
        self.shared = SharedFrames()

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self, _app: web.Application) -> None:
        self._unsubscribe = self.market.subscribe(self.on_update)

    async def stop(self, _app: web.Application) -> None:
        if callable(self._unsubscribe):
            self._unsubscribe()
        for session in list(self.sessions):
            await session.ws.close()

    # -- WS -------------------------------------------------------------------------------------

    async def ws_v2(self, request: web.Request) -> web.WebSocketResponse:
        return await self._serve(request, "v2")

    async def ws_v1(self, request: web.Request) -> web.WebSocketResponse:
        return await self._serve(request, "v1")

    async def _serve(self, request: web.Request, version: str) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        session = _Session(ws, version)
        self.sessions.add(session)
        writer = asyncio.create_task(write_outbox(session.ws, session.queue))
        beats = asyncio.create_task(self._heartbeats(session))
        if version == "v2":
            status = {
                "api_version": "v2",
                "connection_id": id(session),
                "system": "online",
                "version": "2.0.10",
            }
            session.queue.put_nowait(
                _dumps({"channel": "status", "type": "update", "data": [status]})
            )
        else:
            session.queue.put_nowait(
                _dumps(
                    {
                        "connectionID": id(session),
                        "event": "systemStatus",
                        "status": "online",
                        "version": "1.9.5",
                    }
                )
            )
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                for reply in self._on_request(session, message.data):
                    session.queue.put_nowait(reply)
        finally:
            self.sessions.discard(session)
            session.queue.put_nowait(None)
            await stop_task(beats)
            await writer
        return ws

    async def _heartbeats(self, session: _Session) -> None:
        beat = '{"channel":"heartbeat"}' if session.version == "v2" else '{"event":"heartbeat"}'
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            if session.subscriptions:
                session.queue.put_nowait(beat)

    def _on_request(self, session: _Session, text: str) -> list[str]:
        try:
            request = json.loads(text)
        except ValueError:
            return [_error_reply(session.version, "", "Malformed request", {})]
        if not isinstance(request, dict):
            return [_error_reply(session.version, "", "Malformed request", {})]
        if session.version == "v2":
            return self._on_v2(session, request)
        return self._on_v1(session, request)

    def _on_v2(self, session: _Session, request: dict[str, object]) -> list[str]:
        method = request.get("method")
        echo = {"req_id": request["req_id"]} if "req_id" in request else {}
        if method == "ping":
            now = _rfc3339()
            return [_dumps({"method": "pong", **echo, "time_in": now, "time_out": now})]
        params = request.get("params")
        if method not in ("subscribe", "unsubscribe") or not isinstance(params, dict):
            return [_error_reply("v2", str(method), "Method not found", echo)]
        depth = params.get("depth", 10)
        names = params.get("symbol")
        if params.get("channel") != "book" or not isinstance(names, list):
            return [_error_reply("v2", str(method), "Channel not supported", echo)]
        if depth not in DEPTHS:
            return [_error_reply("v2", str(method), f"Invalid depth {depth}", echo)]
        replies: list[str] = []
        for name in names:
            replies += self._subscribe(session, str(name), int(depth), method == "subscribe", echo)
        return replies

    def _on_v1(self, session: _Session, request: dict[str, object]) -> list[str]:
        event = request.get("event")
        echo = {"reqid": request["reqid"]} if "reqid" in request else {}
        if event == "ping":
            return [_dumps({"event": "pong", **echo})]
        subscription = request.get("subscription")
        pairs = request.get("pair")
        if event not in ("subscribe", "unsubscribe") or not isinstance(subscription, dict):
            return [_error_reply("v1", str(event), "Unsupported event", echo)]
        depth = subscription.get("depth", 10)
        if subscription.get("name") != "book" or not isinstance(pairs, list):
            return [_error_reply("v1", str(event), "Subscription name invalid", echo)]
        if depth not in DEPTHS:
            return [_error_reply("v1", str(event), "Subscription book depth not supported", echo)]
        replies: list[str] = []
        for pair in pairs:
            replies += self._subscribe(session, str(pair), int(depth), event == "subscribe", echo)
        return replies

    def _subscribe(
        self, session: _Session, name: str, depth: int, subscribe: bool, echo: dict[str, object]
    ) -> list[str]:
        symbol = kraken_symbols.normalise(name)
        instrument = self.market.instruments.get(symbol or "")
        verb = "subscribe" if subscribe else "unsubscribe"
        if instrument is None or (session.version == "v2" and "XBT" in name.split("/")):
            reason = f"Currency pair not supported {name}"
            return [_error_reply(session.version, verb, reason, {**echo, "symbol": name})]
        v2 = kraken_symbols.v2_symbol(name)
        channel = f"book-{depth}"
        if not subscribe:
            session.subscriptions.pop(instrument.symbol, None)
            if session.version == "v2":
                result = {"channel": "book", "depth": depth, "symbol": v2}
                return [
                    _dumps({"method": "unsubscribe", "result": result, "success": True, **echo})
                ]
            return [_v1_status(name, "unsubscribed", depth, channel, 0, echo)]
        sent = frames.SentBook(depth, instrument.price_decimals, instrument.size_decimals)
        subscription = _Subscription(instrument, sent, next(self._channel_ids))
        session.subscriptions[instrument.symbol] = subscription
        book = self.market.book(instrument.symbol)
        bids, asks = sent.reset(book.bids, book.asks)
        sent.seq = book.seq
        if session.version == "v2":
            now = _rfc3339()
            result = {"channel": "book", "depth": depth, "snapshot": True, "symbol": v2}
            ack = _dumps(
                {
                    "method": "subscribe",
                    "result": result,
                    "success": True,
                    **echo,
                    "time_in": now,
                    "time_out": now,
                }
            )
            return [ack, frames.v2_book("snapshot", v2, bids, asks, sent.checksum())]
        pair = kraken_symbols.v1_symbol(v2)
        status = _v1_status(pair, "subscribed", depth, channel, subscription.channel_id, echo)
        snapshot = frames.v1_snapshot(
            subscription.channel_id, channel, pair, bids, asks, _epoch_text(book.ts_ns)
        )
        return [status, snapshot]

    # -- market updates -------------------------------------------------------------------------

    def on_update(self, update: SimBookUpdate) -> None:
        faults = self.market.faults
        for session in list(self.sessions):
            subscription = session.subscriptions.get(update.symbol)
            if subscription is None or session.ws.closed:
                continue
            if faults.take("drop_connection", update.symbol):
                session.queue.put_nowait(None)
                self._closing.add(asyncio.ensure_future(session.ws.close()))
                continue
            book = self.market.book(update.symbol)
            sent = subscription.sent
            if sent.seq == book.seq:
                continue  # a later update of the tick that moved the book: already sent
            start = sent.seq
            bids, asks, value, sent.bids, sent.asks = self.shared.get(
                ("changes", update.symbol, sent.depth, start, book.seq),
                partial(_changes, sent, book))  # fmt: skip
            sent.seq = book.seq
            if not bids and not asks:
                continue
            if faults.take("skip_seq", update.symbol):
                continue  # the subscriber never hears of it; the next checksum will not match
            bad_checksum = faults.take("bad_checksum", update.symbol)
            if faults.take("malformed_frame", update.symbol):
                session.queue.put_nowait('{"channel":"book","type":"update","data":[{"symbol"')
            if bad_checksum:
                value ^= 0x5A5A5A5A
            elif session.version == "v2":  # nothing in it is the connection's: one for all
                session.queue.put_nowait(self.shared.get(
                    ("v2", update.symbol, sent.depth, start, book.seq),
                    partial(self._update_frame, session, subscription, bids, asks, value,
                            update.ts_ns)))  # fmt: skip
                continue
            session.queue.put_nowait(
                self._update_frame(session, subscription, bids, asks, value, update.ts_ns)
            )

    @staticmethod
    def _update_frame(
        session: _Session,
        subscription: _Subscription,
        bids: list[tuple[str, str]],
        asks: list[tuple[str, str]],
        value: int,
        ts_ns: int,
    ) -> str:
        v2 = subscription.instrument.venue_symbol
        if session.version == "v2":
            return frames.v2_book("update", v2, bids, asks, value, _rfc3339(ts_ns))
        channel = f"book-{subscription.sent.depth}"
        return frames.v1_update(
            subscription.channel_id,
            channel,
            kraken_symbols.v1_symbol(v2),
            bids,
            asks,
            value,
            _epoch_text(ts_ns),
        )


_Levels = dict[Decimal, Decimal]


def _changes(
    sent: frames.SentBook, book: SimBook
) -> tuple[list[LevelText], list[LevelText], int, _Levels, _Levels]:
    """Move ``sent`` to ``book``'s top levels: the changes to send, the new checksum and the
    levels sent then. Every subscriber of one depth at ``sent.seq`` shares the result, the
    levels too (SentBook replaces its dicts, never changes them in place)."""
    bids, asks = sent.update(book.bids, book.asks)
    return bids, asks, sent.checksum(), sent.bids, sent.asks


SIM_KEY = web.AppKey("kraken_sim", KrakenSim)


def create_app(market: SimMarket) -> web.Application:
    sim = KrakenSim(market)
    app = web.Application()
    app[SIM_KEY] = sim
    app[ERROR_RESPONSE] = error_response
    app.on_startup.append(sim.start)
    app.on_shutdown.append(sim.stop)
    app.router.add_get("/v2", sim.ws_v2)
    app.router.add_get("/", sim.ws_v1)
    sim.rest.add_routes(app)
    app.router.add_get(KrakenMarket.trades_path, trades_handler(
        market, lambda r: _kraken_pair(r, market), _trades_body,
        lambda: web.json_response({"error": ["EQuery:Unknown asset pair"]}),
        default_limit=1000, max_limit=1000, limit_param="count"))  # fmt: skip
    return app


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _error_reply(version: str, verb: str, reason: str, echo: dict[str, object]) -> str:
    if version == "v2":
        now = _rfc3339()
        return _dumps(
            {
                "error": reason,
                "method": verb,
                "success": False,
                **echo,
                "time_in": now,
                "time_out": now,
            }
        )
    pair = echo.get("symbol")
    extra = {"pair": pair} if pair else {}
    body = {k: v for k, v in echo.items() if k != "symbol"}
    return _dumps(
        {"errorMessage": reason, "event": "subscriptionStatus", **extra, "status": "error", **body}
    )


def _v1_status(
    pair: str, status: str, depth: int, channel: str, channel_id: int, echo: dict[str, object]
) -> str:
    body: dict[str, object] = {
        "channelName": channel,
        "event": "subscriptionStatus",
        "pair": pair,
        "status": status,
        "subscription": {"depth": depth, "name": "book"},
        **echo,
    }
    if channel_id:
        body = {"channelID": channel_id, **body}
    return _dumps(body)


def _rfc3339(ts_ns: int | None = None) -> str:
    ns = time.time_ns() if ts_ns is None or ts_ns <= 0 else ts_ns
    moment = datetime.fromtimestamp(ns // 1_000_000_000, UTC)
    micros = (ns // 1_000) % 1_000_000
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{micros:06d}Z"


def _epoch_text(ts_ns: int) -> str:
    ns = ts_ns if ts_ns > 0 else time.time_ns()
    return f"{ns // 1_000_000_000}.{(ns // 1_000) % 1_000_000:06d}"


def _trades_body(trades: list[SimTrade], instrument: Instrument) -> object:
    """GET /0/public/Trades: oldest first, ``[price, volume, time, b/s (the taker's), l, "",
    trade_id]`` under the pair's REST name, and ``last`` (ns, text)."""
    rows = [[_num(t.price), _num(t.size), round(t.ts_ns / 1e9, 6), t.side.value[0], "l", "",
             t.trade_id] for t in reversed(trades)]  # fmt: skip
    last = str(trades[0].ts_ns) if trades else "0"
    pair = kraken_symbols.rest_pair(instrument.venue_symbol)
    return {"error": [], "result": {pair: rows, "last": last}}


def _kraken_pair(request: web.Request, market: SimMarket) -> str:
    symbol = kraken_symbols.normalise(request.query.get("pair", ""))
    instrument = market.instruments.get(symbol or "")
    return instrument.venue_symbol if instrument is not None else ""


def _num(value: Decimal) -> str:
    """A price or size as the venue writes it: plain decimal text."""
    return "0" if value == 0 else format(value.normalize(), "f")
