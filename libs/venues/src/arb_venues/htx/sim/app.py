"""The simulator's HTX: public WS (``/feed`` mbp, ``/ws`` depth) and REST, private REST.

Public WS, both paths: ``{"sub": <topic>, "id"}`` -> ``{"id", "status": "ok", "subbed",
"ts"}``, ``{"req": <topic>, "id"}`` -> ``{"id", "rep", "status": "ok", "ts", "data"}``,
``{"unsub": ...}`` -> ``unsubbed``; an unknown topic answers ``{"status": "error",
"err-code": "bad-request", "err-msg": "invalid topic ..."}``. Topics:
``market.$symbol.mbp.$levels`` (5, 20, 150, 400) on ``/feed``: incremental pushes with
``seqNum``/``prevSeqNum`` (the core's update counter), 150 levels the changes of each 100 ms
merged into one push (prevSeqNum the seqNum of the book's previous push), the others one push
per book change (prevSeqNum = seqNum - 1), as ``market.MBP_PUSH_INTERVAL_S`` documents; its
``req`` the full book with ``seqNum``; ``market.$symbol.depth.step0`` on ``/ws``: the
whole book (150 levels) with ``version`` on every change. The server pings ``{"ping": <ms>}``
every ``ping_interval_s`` (5 s, as HTX) and closes the connection once two pings in a row
got no ``{"pong": <one of them>}``. REST: ``/market/depth``, ``/v1/common/symbols`` and
``/v1/common/timestamp`` (the venue's clock, which signed requests are judged against).

Frames are gzip binary frames, as HTX sends them (``gzip_frames=False`` serves the same JSON
as text frames, for a client that cannot inflate).

Faults honoured here: drop_connection, skip_seq (mbp: one seqNum never sent, the next
update's prevSeqNum shows the gap), malformed_frame, bad_level (an impossible number: the
fault's ``value`` as an extra bid's price, or as the best ask's size), and lose_response
(orders, sim/private.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import time
from decimal import Decimal
from functools import partial
from typing import Any

import msgspec
from aiohttp import WSMsgType, web
from arb_structs import Instrument

from arb_venues.htx.market import MBP_PUSH_INTERVAL_S, HtxMarket
from arb_venues.htx.parser import is_mbp, topic_parts
from arb_venues.htx.sim import bodies
from arb_venues.htx.sim.private import add_private_routes
from arb_venues.simapi import (
    ERROR_RESPONSE,
    Coalescer,
    PendingBook,
    SimBook,
    SimBookUpdate,
    SimMarket,
    SimTrade,
    trades_handler,
    venue_now_ns,
    write_outbox,
)

MARKET: web.AppKey[SimMarket] = web.AppKey("htx_market", SimMarket)
OPTIONS: web.AppKey[dict[str, Any]] = web.AppKey("htx_options", dict)
CONNECTIONS: web.AppKey[set[_Connection]] = web.AppKey("htx_connections", set)
COALESCERS: web.AppKey[dict[int, Coalescer]] = web.AppKey("htx_coalescers", dict)
MBP_LEVELS = (5, 20, 150, 400)
DEPTH_LEVELS = 150
PING_INTERVAL_S = 5.0  # HTX's heartbeat period
MISSED_PINGS = 2  # "If server don't get 'pong' response within two 'ping' period ... closed"


def create_app(
    market: SimMarket, *, gzip_frames: bool = True, ping_interval_s: float = PING_INTERVAL_S
) -> web.Application:
    app = web.Application()
    app[MARKET] = market
    app[OPTIONS] = {"gzip": gzip_frames, "ping_interval_s": ping_interval_s}
    app[ERROR_RESPONSE] = bodies.error_response
    connections = app[CONNECTIONS] = set()
    coalescers = app[COALESCERS] = {}
    for levels, interval_s in MBP_PUSH_INTERVAL_S.items():
        push = partial(_push_interval, connections, levels)
        coalescers[levels] = Coalescer(market, interval_s, push)
        coalescers[levels].install(app)
    app.router.add_get("/feed", _public_ws)
    app.router.add_get("/ws", _public_ws)
    app.router.add_get("/market/depth", _rest_depth)
    app.router.add_get("/v1/common/symbols", _rest_symbols)
    app.router.add_get("/v1/common/timestamp", _rest_timestamp)
    add_private_routes(app, market)
    app.router.add_get(HtxMarket.trades_path, trades_handler(
        market, lambda r: r.query.get("symbol", ""), _trades_body,
        lambda: web.json_response({"status": "error", "err-code": "invalid-parameter",
                                   "err-msg": "invalid symbol", "data": None}),
        default_limit=1, max_limit=2000, limit_param="size"))  # fmt: skip
    return app


def _venue_symbols(market: SimMarket) -> dict[str, str]:
    return {i.venue_symbol: symbol for symbol, i in market.instruments.items()}


# -- public REST ------------------------------------------------------------------------------


async def _rest_depth(request: web.Request) -> web.Response:
    market = request.app[MARKET]
    venue_symbol = request.query.get("symbol", "")
    symbol = _venue_symbols(market).get(venue_symbol)
    if symbol is None or not request.query.get("type", "").startswith("step"):
        return bodies.error(("invalid-parameter", f"invalid symbol {venue_symbol}"))
    depth = request.query.get("depth", "")
    size = int(depth) if depth in ("5", "10", "20") else DEPTH_LEVELS
    book = market.book(symbol)
    tick = {
        "ts": bodies.millis(book.ts_ns),
        "version": book.seq,
        "bids": bodies.levels(book.bids[:size]),
        "asks": bodies.levels(book.asks[:size]),
    }
    return bodies.ok(None, ch=f"market.{venue_symbol}.depth.step0", ts=bodies.now_ms(),
                     tick=tick)  # fmt: skip


async def _rest_timestamp(request: web.Request) -> web.Response:
    """``GET /v1/common/timestamp``: ``{"status": "ok", "data": <ms>}`` on the venue's clock
    (https://huobiapi.github.io/docs/spot/v1/en/#get-current-timestamp)."""
    return bodies.ok(venue_now_ns(request.app[MARKET]) // 1_000_000)


async def _rest_symbols(request: web.Request) -> web.Response:
    market = request.app[MARKET]
    rows = []
    for instrument in market.instruments.values():
        rows.append({
            "base-currency": instrument.base.lower(),
            "quote-currency": instrument.quote.lower(),
            "price-precision": instrument.price_decimals,
            "amount-precision": instrument.size_decimals,
            "symbol-partition": "main",
            "symbol": instrument.venue_symbol,
            "state": "online" if instrument.status == "trading" else "offline",
            "value-precision": 8,
            "min-order-amt": Decimal(instrument.min_size),
            "max-order-amt": Decimal(10000),
            "min-order-value": Decimal(instrument.min_notional or "0"),
            "limit-order-min-order-amt": Decimal(instrument.min_size),
            "limit-order-max-order-amt": Decimal(10000),
            "api-trading": "enabled",
        })  # fmt: skip
    return bodies.ok(rows)


# -- public WS --------------------------------------------------------------------------------


class _Connection:
    """One public WS client: its topics, the frames waiting to be sent, its heartbeat."""

    def __init__(self, ws: web.WebSocketResponse, market: SimMarket, path: str,
                 options: dict[str, Any], coalescers: dict[int, Coalescer]) -> None:  # fmt: skip
        self.ws = ws
        self.market = market
        self.coalescers = coalescers
        self.path = path
        self.gzip = bool(options["gzip"])
        self.topics: dict[str, dict[str, int]] = {}  # symbol -> topic -> levels
        # symbol -> seqNum of the book state sent: by the per-change topics, and by the
        # interval ones (a connection may hold both for one symbol; one counter for the two
        # would hide every interval push behind the per-change frames)
        self.sent_seq: dict[str, int] = {}
        self.interval_seq: dict[str, int] = {}
        self.outbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.venue_symbols = _venue_symbols(market)
        self.pings: list[int] = []  # pings sent since the last matching pong
        self.pongs = 0

    def send(self, frame: object) -> None:
        self.outbox.put_nowait(bodies.frame_bytes(frame, self.gzip))

    def send_raw(self, payload: bytes) -> None:
        """A frame whose JSON text is given (faults: garbage, impossible numbers)."""
        self.outbox.put_nowait(gzip.compress(payload, compresslevel=1) if self.gzip else payload)

    # -- book pushes ---------------------------------------------------------------------------

    def on_update(self, update: SimBookUpdate) -> None:
        topics = self.topics.get(update.symbol)
        if not topics or update.seq <= self.sent_seq.get(update.symbol, -1):
            return
        per_change = [(t, n) for t, n in topics.items() if not _interval_topic(t, n)]
        if not per_change:
            return  # the interval pushes (_push_interval) serve every topic of this book
        faults = self.market.faults
        if faults.take("drop_connection", update.symbol):
            self.outbox.put_nowait(None)
            return
        if faults.take("malformed_frame", update.symbol):
            self.send_raw(b'{"ch":"market.x.mbp.150","tick":{"bids":[[')
        skip = faults.take("skip_seq", update.symbol)
        bad = faults.take_params("bad_level", update.symbol)
        for topic, levels in per_change:
            if is_mbp(topic_parts(topic)[1]):
                if skip:
                    continue  # the next update names this seqNum as prevSeqNum: a visible gap
                tick = {
                    "seqNum": update.seq,
                    "prevSeqNum": update.seq - 1,
                    "bids": bodies.levels(update.bids),
                    "asks": bodies.levels(update.asks),
                }
                self._push(topic, tick, bad, update.symbol)
            else:
                book = self.market.book(update.symbol)
                tick = self._book_tick(book, levels)
                self._push(topic, tick, bad, update.symbol)
        self.sent_seq[update.symbol] = update.seq

    def on_interval(self, topic: str, pending: PendingBook, shared: dict[bool, bytes]) -> None:
        """One interval push of ``topic`` (built once in ``shared`` for every subscriber that
        no fault hits), with this connection's faults."""
        if pending.seq <= self.interval_seq.get(pending.symbol, -1):
            return  # its snapshot (req) is newer than anything in this push
        faults = self.market.faults
        if faults.take("drop_connection", pending.symbol):
            self.outbox.put_nowait(None)
            return
        if faults.take("malformed_frame", pending.symbol):
            self.send_raw(b'{"ch":"market.x.mbp.150","tick":{"bids":[[')
        self.interval_seq[pending.symbol] = pending.seq
        if faults.take("skip_seq", pending.symbol):
            return  # never sent: the next push's prevSeqNum names a seqNum the client lacks
        bad = faults.take_params("bad_level", pending.symbol)
        if bad is not None:
            self._push(topic, _interval_tick(pending), bad, pending.symbol)
            return
        frame = shared.get(self.gzip)
        if frame is None:
            payload = {"ch": topic, "ts": bodies.now_ms(), "tick": _interval_tick(pending)}
            frame = shared[self.gzip] = bodies.frame_bytes(payload, self.gzip)
        self.outbox.put_nowait(frame)

    def _book_tick(self, book: SimBook, levels: int) -> dict[str, object]:
        return {
            "bids": bodies.levels(book.bids[:levels]),
            "asks": bodies.levels(book.asks[:levels]),
            "version": book.seq,
            "ts": bodies.millis(book.ts_ns),
        }

    def _push(self, topic: str, tick: dict[str, object], bad: dict[str, object] | None,
              symbol: str) -> None:  # fmt: skip
        frame = {"ch": topic, "ts": bodies.now_ms(), "tick": tick}
        if bad is None:
            self.send(frame)
            return
        # An impossible number, as raw JSON text (NaN, Infinity, 1e999...): the sequence stays.
        value = str(bad.get("value", "-1"))
        raw = bodies.encode(frame).decode()
        if bad.get("field") == "size":
            book = self.market.book(symbol)
            price = bodies.encode(bodies.number(book.asks[0][0])).decode() if book.asks else "1"
            raw = raw.replace('"asks":[', f'"asks":[[{price},{value}],', 1)
        else:
            raw = raw.replace('"bids":[', f'"bids":[[{value},1],', 1)
        self.send_raw(raw.encode())

    # -- requests ------------------------------------------------------------------------------

    def on_text(self, text: str) -> None:
        try:
            request = msgspec.json.decode(text)
            if not isinstance(request, dict):
                raise ValueError(text)
        except (msgspec.DecodeError, ValueError):
            self.send({"status": "error", "ts": bodies.now_ms(), "err-code": "bad-request",
                       "err-msg": "invalid request"})  # fmt: skip
            return
        if "pong" in request:
            if request["pong"] in self.pings:
                self.pings.clear()
                self.pongs += 1
            return
        for action in ("sub", "req", "unsub"):
            if action in request:
                self._topic_request(action, str(request[action]), request.get("id"))
                return
        self.send({"status": "error", "ts": bodies.now_ms(), "id": request.get("id"),
                   "err-code": "bad-request", "err-msg": "invalid request"})  # fmt: skip

    def _levels(self, topic: str) -> tuple[str, int] | None:
        """(symbol, levels) of a topic this path serves; None for anything else."""
        venue_symbol, channel = topic_parts(topic)
        symbol = self.venue_symbols.get(venue_symbol)
        if symbol is None:
            return None
        if self.path == "/feed" and is_mbp(channel):
            levels = int(channel.split(".")[1])
            return (symbol, levels) if levels in MBP_LEVELS else None
        if self.path == "/ws" and channel == "depth.step0":
            return symbol, DEPTH_LEVELS
        return None

    def _topic_request(self, action: str, topic: str, request_id: object) -> None:
        found = self._levels(topic)
        if found is None:
            self.send({"status": "error", "ts": bodies.now_ms(), "id": request_id,
                       "err-code": "bad-request", "err-msg": f"invalid topic {topic}"})  # fmt: skip
            return
        symbol, levels = found
        if action == "unsub":
            self.topics.get(symbol, {}).pop(topic, None)
            self.send({"id": request_id, "status": "ok", "unsubbed": topic, "ts": bodies.now_ms()})
            return
        if action == "req" and _interval_topic(topic, levels):
            # HTX's refresh sits on the feed's snapshot grid: its seqNum is a push's seqNum
            # (ccxt and the docs join them by prevSeqNum == seqNum), so push what is due first.
            self.coalescers[levels].flush(symbol)
        book = self.market.book(symbol)
        if action == "req":
            data = self._book_tick(book, levels)
            if is_mbp(topic_parts(topic)[1]):
                data = {"seqNum": book.seq, "bids": data["bids"], "asks": data["asks"]}
            self.send({"id": request_id, "rep": topic, "status": "ok", "ts": bodies.now_ms(),
                       "data": data})  # fmt: skip
            return
        self.topics.setdefault(symbol, {})[topic] = levels
        seqs = self.interval_seq if _interval_topic(topic, levels) else self.sent_seq
        seqs[symbol] = max(seqs.get(symbol, -1), book.seq)
        self.send({"id": request_id, "status": "ok", "subbed": topic, "ts": bodies.now_ms()})
        if not is_mbp(topic_parts(topic)[1]):
            self.send({"ch": topic, "ts": bodies.now_ms(), "tick": self._book_tick(book, levels)})


def _interval_topic(topic: str, levels: int) -> bool:
    """Whether ``topic`` pushes at an interval (mbp with levels in MBP_PUSH_INTERVAL_S)."""
    return levels in MBP_PUSH_INTERVAL_S and is_mbp(topic_parts(topic)[1])


def _interval_tick(pending: PendingBook) -> dict[str, object]:
    bids, asks = pending.sides()
    return {"seqNum": pending.seq, "prevSeqNum": pending.prev_seq,
            "bids": bodies.levels(bids), "asks": bodies.levels(asks)}  # fmt: skip


def _push_interval(connections: set[_Connection], levels: int, pending: PendingBook) -> None:
    """Coalescer push of the ``levels``-level mbp feed: one frame per book, every subscriber."""
    shared: dict[bool, bytes] = {}  # gzip or not -> the frame
    for connection in list(connections):
        topics = connection.topics.get(pending.symbol, {})
        for topic, n in topics.items():
            if n == levels and is_mbp(topic_parts(topic)[1]):
                connection.on_interval(topic, pending, shared)


async def _heartbeat(connection: _Connection, interval: float) -> None:
    """Ping every ``interval``; close the connection once MISSED_PINGS went unanswered."""
    while True:
        await asyncio.sleep(interval)
        if len(connection.pings) >= MISSED_PINGS:
            connection.outbox.put_nowait(None)
            return
        ping = int(time.time() * 1000)
        connection.pings.append(ping)
        connection.send({"ping": ping})


async def _public_ws(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(autoping=True)
    await ws.prepare(request)
    options = request.app[OPTIONS]
    connection = _Connection(ws, request.app[MARKET], request.path, options,
                             request.app[COALESCERS])  # fmt: skip
    connections = request.app[CONNECTIONS]
    connections.add(connection)
    unsubscribe = connection.market.subscribe(connection.on_update)
    # gzip: binary messages, as HTX sends them; else the JSON as text
    writer = asyncio.create_task(write_outbox(connection.ws, connection.outbox, connection.gzip))
    heartbeat = asyncio.create_task(_heartbeat(connection, float(options["ping_interval_s"])))
    try:
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                connection.on_text(message.data)
            elif message.type == WSMsgType.BINARY:
                connection.on_text(message.data.decode(errors="replace"))
            elif message.type == WSMsgType.ERROR:
                break
    finally:
        unsubscribe()
        connections.discard(connection)
        heartbeat.cancel()
        connection.outbox.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError):
            await writer
            await heartbeat
        await ws.close()
    return ws


def _trades_body(trades: list[SimTrade], instrument: Instrument) -> object:
    """GET /market/history/trade: newest first, one group per trade, numbers as JSON
    numbers, ``direction`` the taker's."""
    now = time.time_ns() // 1_000_000
    return {"ch": f"market.{instrument.venue_symbol}.trade.detail", "status": "ok", "ts": now,
            "data": [{"id": t.trade_id, "ts": t.ts_ns // 1_000_000, "data": [
                {"id": t.trade_id, "ts": t.ts_ns // 1_000_000, "trade-id": t.trade_id,
                 "amount": float(t.size), "price": float(t.price),
                 "direction": t.side.value}]} for t in trades]}  # fmt: skip


def _num(value: Decimal) -> str:
    """A price or size as the venue writes it: plain decimal text."""
    return "0" if value == 0 else format(value.normalize(), "f")
