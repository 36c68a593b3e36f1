"""The simulator's OKX: v5 public WS and REST, private REST, on OKX's own paths.

Public WS ``/ws/v5/public``: ``ping`` -> ``pong``; subscribe acks
``{"event":"subscribe","arg":...,"connId":...}``; a bad request answers
``{"event":"error","code":"60012",...}`` (60018 for an unknown instId); ``books`` pushes
a snapshot (prevSeqId -1) then updates with ``prevSeqId``/``seqId`` and ``checksum: 0``,
as production does since 2026-06-23: each update the changes of one
``market.BOOKS_PUSH_INTERVAL_S`` (100 ms) merged (prevSeqId the seqId of the book's previous
push); the tick-by-tick channels push one update per book change; ``books5`` / ``bbo-tbt``
push top-5 / top-1 snapshots.
Set ``initial_snapshot=False`` to serve the post-delisting protocol (no WS snapshot: clients
take ``GET /api/v5/market/books``). Faults honoured here: drop_connection, skip_seq,
bad_checksum, malformed_frame, corrupt_book, bad_level (public WS) and lose_response (orders,
see sim/private.py). corrupt_book and bad_level keep the sequence whole: corrupt_book (while
armed) sends the best bid once at twice its true size and from then on never mentions that
price again, so the client's book keeps a level the market and its REST snapshot do not hold,
with every seqId in place: only an audit can see it; bad_level adds one level with an
impossible number (the fault's ``value`` as an extra bid's price, or as the best ask's size).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Sequence
from decimal import Decimal
from functools import partial
from typing import Any, NamedTuple

import msgspec
from aiohttp import WSMsgType, web
from arb_structs import Instrument

from arb_venues.okx import errors as codes
from arb_venues.okx.market import BOOKS_PUSH_INTERVAL_S, REST_BOOK_DEPTH, OkxMarket
from arb_venues.okx.sim import bodies as simformat
from arb_venues.okx.sim.private import add_private_routes
from arb_venues.simapi import (
    ERROR_RESPONSE,
    RECONNECT_NOTICE,
    SHARED_FRAMES,
    Coalescer,
    PendingBook,
    SharedFrames,
    SimBook,
    SimBookUpdate,
    SimLevel,
    SimMarket,
    SimTrade,
    trades_handler,
    venue_now_ns,
    write_outbox,
)

MARKET: web.AppKey[SimMarket] = web.AppKey("okx_market", SimMarket)
INITIAL_SNAPSHOT: web.AppKey[bool] = web.AppKey("okx_initial_snapshot", bool)
CONNECTIONS: web.AppKey[set[_Connection]] = web.AppKey("okx_connections", set)
CHANNEL_DEPTH = {"books": 400, "books5": 5, "bbo-tbt": 1, "books-l2-tbt": 400,
                 "books50-l2-tbt": 50}  # fmt: skip
# Channels of a snapshot then incremental updates with seqId/prevSeqId (the others push a
# whole top-N each time). books-l2-tbt (400 levels) and books50-l2-tbt (50) are the
# tick-by-tick ones; production limits them to logged-in VIP tiers, the simulator serves them
# to anyone (https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel).
INCREMENTAL = ("books", "books-l2-tbt", "books50-l2-tbt")
INTERVAL_CHANNEL = "books"  # pushes every BOOKS_PUSH_INTERVAL_S (on_interval), not per change
BAD_CHECKSUM = 1234567  # any non-zero value: production sends 0, so it never matches


def service_upgrade_notice() -> str:
    """OKX's notice 30 s before a service upgrade closes the connection
    (https://www.okx.com/docs-v5/en/#overview-websocket-notification)."""
    return msgspec.json.encode({
        "event": "notice", "code": "64008", "connId": secrets.token_hex(4),
        "msg": "The connection will soon be closed for a service upgrade. Please reconnect.",
    }).decode()  # fmt: skip


def create_app(market: SimMarket, *, initial_snapshot: bool = True) -> web.Application:
    app = web.Application()
    app[MARKET] = market
    app[INITIAL_SNAPSHOT] = initial_snapshot
    app[ERROR_RESPONSE] = simformat.error_response
    app[RECONNECT_NOTICE] = service_upgrade_notice
    app[SHARED_FRAMES] = SharedFrames()
    connections = app[CONNECTIONS] = set()
    Coalescer(market, BOOKS_PUSH_INTERVAL_S, partial(_push_interval, connections)).install(app)
    app.router.add_get("/ws/v5/public", _public_ws)
    app.router.add_get("/api/v5/market/books", _rest_books)
    app.router.add_get("/api/v5/public/instruments", _rest_instruments)
    app.router.add_get("/api/v5/public/time", _rest_time)
    app.router.add_get("/api/v5/market/ticker", _rest_ticker)
    add_private_routes(app, market)
    app.router.add_get(OkxMarket.trades_path, trades_handler(
        market, lambda r: r.query.get("instId", ""), _trades_body,
        lambda: web.json_response({"code": "51001", "msg": "Instrument ID doesn't exist.",
                                   "data": []}),
        default_limit=100, max_limit=500))  # fmt: skip
    return app


def _inst_ids(market: SimMarket) -> dict[str, str]:
    """venue instId -> normalised symbol."""
    return {i.venue_symbol: symbol for symbol, i in market.instruments.items()}


# -- public REST ------------------------------------------------------------------------------


def _requested_symbol(request: web.Request) -> tuple[str, str] | web.Response:
    """(symbol, instId) of the request's ``instId``, or OKX's answer to a missing/unknown one."""
    inst_id = request.query.get("instId", "")
    if not inst_id:
        return simformat.error(codes.PARAMETER_ERROR, param="instId")
    symbol = _inst_ids(request.app[MARKET]).get(inst_id)
    if symbol is None:
        return simformat.body(codes.INSTRUMENT_MISSING[0], codes.INSTRUMENT_MISSING[2], data=[])
    return symbol, inst_id


async def _rest_books(request: web.Request) -> web.Response:
    market = request.app[MARKET]
    found = _requested_symbol(request)
    if isinstance(found, web.Response):
        return found
    symbol, _ = found
    try:
        size = min(REST_BOOK_DEPTH, max(1, int(request.query.get("sz", "1"))))
    except ValueError:
        return simformat.error(codes.PARAMETER_ERROR, param="sz")
    book = market.book(symbol)
    row = {
        "asks": simformat.levels(book.asks[:size]),
        "bids": simformat.levels(book.bids[:size]),
        "ts": simformat.millis(book.ts_ns),
        "seqId": book.seq,
    }
    return simformat.body(data=[row])


async def _rest_time(request: web.Request) -> web.Response:
    """GET /api/v5/public/time: ``{"code":"0","msg":"","data":[{"ts":"<ms>"}]}`` on the
    venue's clock (simapi.venue_now_ns;
    https://www.okx.com/docs-v5/en/#public-data-rest-api-get-system-time)."""
    return simformat.body(data=[{"ts": simformat.millis(venue_now_ns(request.app[MARKET]))}])


async def _rest_ticker(request: web.Request) -> web.Response:
    """GET /api/v5/market/ticker?instId=: the best bid and ask with their sizes, the last
    price (the mid here) and the book's time; the 24 h fields are the simulator's constants
    (https://www.okx.com/docs-v5/en/#order-book-trading-market-data-get-ticker)."""
    market = request.app[MARKET]
    found = _requested_symbol(request)
    if isinstance(found, web.Response):
        return found
    symbol, inst_id = found
    book = market.book(symbol)
    (bid, bid_size), (ask, ask_size) = book.bids[0], book.asks[0]
    last = simformat.number((bid + ask) / 2)
    row = {
        "instType": "SPOT", "instId": inst_id, "last": last, "lastSz": "0",
        "askPx": simformat.number(ask), "askSz": simformat.number(ask_size),
        "bidPx": simformat.number(bid), "bidSz": simformat.number(bid_size),
        "open24h": last, "high24h": last, "low24h": last, "volCcy24h": "0", "vol24h": "0",
        "ts": simformat.millis(book.ts_ns), "sodUtc0": last, "sodUtc8": last,
    }  # fmt: skip
    return simformat.body(data=[row])


async def _rest_instruments(request: web.Request) -> web.Response:
    market = request.app[MARKET]
    inst_type = request.query.get("instType", "")
    if not inst_type:
        return simformat.error(codes.PARAMETER_ERROR, param="instType")
    rows = []
    if inst_type == "SPOT":
        for instrument in market.instruments.values():
            rows.append(
                {
                    "instType": "SPOT",
                    "instId": instrument.venue_symbol,
                    "baseCcy": instrument.base,
                    "quoteCcy": instrument.quote,
                    "tickSz": instrument.tick_size,
                    "lotSz": instrument.lot_size,
                    "minSz": instrument.min_size,
                    "maxLmtSz": "10000000",
                    "maxMktSz": "1000000",
                    "state": "live" if instrument.status == "trading" else "suspend",
                    "ruleType": "normal",
                    "listTime": "1606468572000",
                    "uly": "",
                    "instFamily": "",
                }
            )
    return simformat.body(data=rows)


# -- public WS --------------------------------------------------------------------------------


class _Connection:
    """One public WS client: its subscriptions and the frames waiting to be sent."""

    def __init__(self, ws: web.WebSocketResponse, market: SimMarket, initial: bool,
                 shared: SharedFrames) -> None:  # fmt: skip
        self.ws = ws
        self.market = market
        self.shared = shared
        self.initial = initial
        self.conn_id = secrets.token_hex(4)
        self.channels: dict[str, set[str]] = {}  # symbol -> channels
        self.sent_seq: dict[str, int] = {}  # symbol -> seqId of the book state sent
        self.pushed_seq: dict[str, int] = {}  # the same for the interval channel (books)
        self.corrupt: dict[str, str] = {}  # symbol -> price text corrupt_book falsified
        # (channel, symbol) -> the top levels last sent on a channel shallower than the book
        # (books50-l2-tbt): its updates are the changes of that top-N view.
        self.views: dict[tuple[str, str], tuple[dict[str, str], dict[str, str]]] = {}
        self.outbox: asyncio.Queue[str | None] = asyncio.Queue()
        self.inst_ids = _inst_ids(market)

    def send(self, frame: dict[str, Any]) -> None:
        self.outbox.put_nowait(msgspec.json.encode(frame).decode())

    def on_update(self, update: SimBookUpdate) -> None:
        channels = self.channels.get(update.symbol, set()) - {INTERVAL_CHANNEL}
        if not channels or update.seq <= self.sent_seq.get(update.symbol, -1):
            return  # (the interval pushes, on_interval, serve books)
        faults = self.market.faults
        if faults.take("drop_connection", update.symbol):
            self.outbox.put_nowait(None)
            return
        if faults.take("malformed_frame", update.symbol):
            self.outbox.put_nowait('{"arg":{"channel":"books"},"data":[{"asks":')
        skip = faults.take("skip_seq", update.symbol)
        inst_id = self.market.instruments[update.symbol].venue_symbol
        faults_taken = False  # bad_checksum, corrupt_book and bad_level: once per update
        faulty: tuple[list[list[str]], list[list[str]]] | None = None
        checksum = 0
        for channel in sorted(channels):
            if channel in INCREMENTAL:
                if skip:
                    continue  # the next update names this seqId as prevSeqId: a visible gap
                if CHANNEL_DEPTH[channel] < len(self.market.book(update.symbol).bids):
                    bids, asks = self._view_changes(channel, update.symbol)
                else:
                    if not faults_taken:
                        faults_taken = True
                        checksum = BAD_CHECKSUM if faults.take("bad_checksum", update.symbol) else 0
                        faulty = self._corrupted(update.symbol, update.bids, update.asks)
                    if faulty is None and not checksum:  # nothing of it is this connection's
                        self.outbox.put_nowait(self.shared.get(
                            (channel, update.symbol, update.seq - 1, update.seq),
                            partial(_update_frame, channel, inst_id, update.ts_ns, update.seq - 1,
                                    update.seq, update.bids, update.asks)))  # fmt: skip
                        continue
                    bids, asks = faulty or (
                        simformat.levels(update.bids),
                        simformat.levels(update.asks),
                    )
                self.send(_update_body(channel, inst_id, update.ts_ns, update.seq - 1, update.seq,
                                       bids, asks, checksum))  # fmt: skip
            else:
                self.push_top(channel, inst_id, self.market.book(update.symbol))
        self.sent_seq[update.symbol] = update.seq

    def on_interval(self, pending: PendingBook) -> None:
        """One interval push of ``books`` (the merged changes of ``pending``), built once for
        every subscriber that no fault hits, with this connection's faults."""
        symbol = pending.symbol
        if INTERVAL_CHANNEL not in self.channels.get(symbol, ()):
            return
        if pending.seq <= self.pushed_seq.get(symbol, -1):
            return  # its snapshot is newer than anything in this push
        faults = self.market.faults
        if faults.take("drop_connection", symbol):
            self.outbox.put_nowait(None)
            return
        if faults.take("malformed_frame", symbol):
            self.outbox.put_nowait('{"arg":{"channel":"books"},"data":[{"asks":')
        self.pushed_seq[symbol] = pending.seq
        if faults.take("skip_seq", symbol):
            return  # never sent: the next push's prevSeqId names a seqId the client lacks
        inst_id = self.market.instruments[symbol].venue_symbol
        checksum = 0
        if CHANNEL_DEPTH[INTERVAL_CHANNEL] < len(self.market.book(symbol).bids):
            bids, asks = self._view_changes(INTERVAL_CHANNEL, symbol)
        else:
            checksum = BAD_CHECKSUM if faults.take("bad_checksum", symbol) else 0
            changed_bids, changed_asks = pending.sides()
            faulty = self._corrupted(symbol, changed_bids, changed_asks)
            if faulty is None and not checksum:  # nothing of it is this connection's
                key = (INTERVAL_CHANNEL, symbol, pending.prev_seq, pending.seq)
                self.outbox.put_nowait(self.shared.get(key, partial(
                    _update_frame, INTERVAL_CHANNEL, inst_id, pending.ts_ns, pending.prev_seq,
                    pending.seq, changed_bids, changed_asks)))  # fmt: skip
                return
            bids, asks = faulty or (simformat.levels(changed_bids), simformat.levels(changed_asks))
        self.send(_update_body(INTERVAL_CHANNEL, inst_id, pending.ts_ns, pending.prev_seq,
                               pending.seq, bids, asks, checksum))  # fmt: skip

    def _view(self, channel: str, book: SimBook) -> tuple[dict[str, str], dict[str, str]]:
        depth = CHANNEL_DEPTH[channel]
        bids = {lv[0]: lv[1] for lv in simformat.levels(book.bids[:depth])}
        asks = {lv[0]: lv[1] for lv in simformat.levels(book.asks[:depth])}
        self.views[(channel, book.symbol)] = (bids, asks)
        return bids, asks

    def _view_changes(self, channel: str, symbol: str
                      ) -> tuple[list[list[str]], list[list[str]]]:  # fmt: skip
        """What changed in the channel's top-N view since it was last sent: levels that
        entered or changed with their size, levels that left with size 0 (as OKX does)."""
        old_bids, old_asks = self.views.get((channel, symbol), ({}, {}))
        new_bids, new_asks = self._view(channel, self.market.book(symbol))

        def diff(old: dict[str, str], new: dict[str, str]) -> list[list[str]]:
            rows = [[p, z, "0", "1"] for p, z in new.items() if old.get(p) != z]
            return rows + [[p, "0", "0", "0"] for p in old if p not in new]

        return diff(old_bids, new_bids), diff(old_asks, new_asks)

    def _corrupted(self, symbol: str, changed_bids: Sequence[SimLevel],
                   changed_asks: Sequence[SimLevel]
                   ) -> tuple[list[list[str]], list[list[str]]] | None:  # fmt: skip
        """The changed levels as sent with the corrupt_book / bad_level faults applied; None
        when neither fires (the levels are the update's own)."""
        update = _Changes(symbol, changed_bids, changed_asks)
        faults = self.market.faults
        book = None
        changed = False
        bids: list[list[str]] = []
        asks: list[list[str]] = []
        if faults.take("corrupt_book", update.symbol):
            changed = True
            bids, asks = simformat.levels(update.bids), simformat.levels(update.asks)
            falsified = self.corrupt.get(update.symbol)
            if falsified is not None:  # keep the lie: never send that price's true size
                bids = [lv for lv in bids if lv[0] != falsified]
            else:
                book = self.market.book(update.symbol)
                if book.bids:
                    price, size = book.bids[0]
                    text = self.corrupt[update.symbol] = simformat.number(price)
                    bids = [lv for lv in bids if lv[0] != text]
                    bids.append([text, simformat.number(size * 2), "0", "1"])
        else:
            self.corrupt.pop(update.symbol, None)  # disarmed: the next true change heals it
        bad = faults.take_params("bad_level", update.symbol)
        if bad is not None:
            if not changed:
                bids, asks = simformat.levels(update.bids), simformat.levels(update.asks)
            changed = True
            value = str(bad.get("value", "NaN"))
            if bad.get("field") == "size":
                book = book or self.market.book(update.symbol)
                if book.asks:
                    text = simformat.number(book.asks[0][0])
                    asks = [lv for lv in asks if lv[0] != text] + [[text, value, "0", "1"]]
            else:
                bids = [*bids, [value, "1", "0", "1"]]
        return (bids, asks) if changed else None

    def push_top(self, channel: str, inst_id: str, book: SimBook) -> None:
        depth = CHANNEL_DEPTH[channel]
        self.send(
            {
                "arg": {"channel": channel, "instId": inst_id},
                "data": [
                    {
                        "asks": simformat.levels(book.asks[:depth]),
                        "bids": simformat.levels(book.bids[:depth]),
                        "instId": inst_id,
                        "ts": simformat.millis(book.ts_ns),
                        "seqId": book.seq,
                    }
                ],
            }
        )

    def error(self, code: str, msg: str) -> None:
        self.send({"event": "error", "code": code, "msg": msg, "connId": self.conn_id})

    def on_text(self, text: str) -> None:
        if text == "ping":
            self.outbox.put_nowait("pong")
            return
        try:
            request = msgspec.json.decode(text)
            op, args = request["op"], request["args"]
            if op not in ("subscribe", "unsubscribe") or not isinstance(args, list) or not args:
                raise ValueError(op)
            pairs = [(str(a["channel"]), str(a["instId"])) for a in args]
        except (msgspec.DecodeError, KeyError, TypeError, ValueError):
            self.error("60012", f"Invalid request: {text[:200]}")
            return
        for channel, inst_id in pairs:
            symbol = self.inst_ids.get(inst_id)
            if channel not in CHANNEL_DEPTH or symbol is None:
                self.error(
                    "60018",
                    f"Wrong URL or channel:{channel},instId:{inst_id} doesn't "
                    "exist. Please use the correct URL, channel and parameters "
                    "referring to API document.",
                )
                continue
            arg = {"channel": channel, "instId": inst_id}
            if op == "unsubscribe":
                self.channels.get(symbol, set()).discard(channel)
                self.send({"event": "unsubscribe", "arg": arg, "connId": self.conn_id})
                continue
            self.channels.setdefault(symbol, set()).add(channel)
            self.send({"event": "subscribe", "arg": arg, "connId": self.conn_id})
            self.snapshot(channel, symbol, inst_id)

    def snapshot(self, channel: str, symbol: str, inst_id: str) -> None:
        book = self.market.book(symbol)
        self.sent_seq[symbol] = max(self.sent_seq.get(symbol, -1), book.seq)
        self.pushed_seq[symbol] = max(self.pushed_seq.get(symbol, -1), book.seq)
        if channel not in INCREMENTAL:
            self.push_top(channel, inst_id, book)
        elif self.initial or channel != "books":  # the tick-by-tick ones keep their snapshot
            depth = CHANNEL_DEPTH[channel]
            self._view(channel, book)
            self.send(
                {
                    "arg": {"channel": channel, "instId": inst_id},
                    "action": "snapshot",
                    "data": [
                        {
                            "asks": simformat.levels(book.asks[:depth]),
                            "bids": simformat.levels(book.bids[:depth]),
                            "ts": simformat.millis(book.ts_ns),
                            "checksum": 0,
                            "prevSeqId": -1,
                            "seqId": book.seq,
                        }
                    ],
                }
            )


async def _public_ws(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(autoping=True)
    await ws.prepare(request)
    connection = _Connection(ws, request.app[MARKET], request.app[INITIAL_SNAPSHOT],
                             request.app[SHARED_FRAMES])  # fmt: skip
    connections = request.app[CONNECTIONS]
    connections.add(connection)
    unsubscribe = connection.market.subscribe(connection.on_update)
    writer = asyncio.create_task(write_outbox(connection.ws, connection.outbox))
    try:
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                connection.on_text(message.data)
            elif message.type == WSMsgType.ERROR:
                break
    finally:
        unsubscribe()
        connections.discard(connection)
        connection.outbox.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        await ws.close()
    return ws


class _Changes(NamedTuple):
    """The changed levels of one update or one interval push, by book."""

    symbol: str
    bids: Sequence[SimLevel]
    asks: Sequence[SimLevel]


def _push_interval(connections: set[_Connection], pending: PendingBook) -> None:
    """Coalescer push of ``books``: one frame per book for every subscriber."""
    for connection in list(connections):
        connection.on_interval(pending)


def _update_frame(channel: str, inst_id: str, ts_ns: int, prev_seq: int, seq: int,
                  bids: Sequence[SimLevel], asks: Sequence[SimLevel]) -> str:  # fmt: skip
    body = _update_body(channel, inst_id, ts_ns, prev_seq, seq, simformat.levels(bids),
                        simformat.levels(asks), 0)  # fmt: skip
    return msgspec.json.encode(body).decode()


def _update_body(channel: str, inst_id: str, ts_ns: int, prev_seq: int, seq: int,
                 bids: list[list[str]], asks: list[list[str]],
                 checksum: int) -> dict[str, Any]:  # fmt: skip
    return {
        "arg": {"channel": channel, "instId": inst_id},
        "action": "update",
        "data": [
            {
                "asks": asks,
                "bids": bids,
                "ts": simformat.millis(ts_ns),
                "checksum": checksum,
                "prevSeqId": prev_seq,
                "seqId": seq,
            }
        ],
    }


def _trades_body(trades: list[SimTrade], instrument: Instrument) -> object:
    """GET /api/v5/market/trades: newest first, ``side`` the taker's."""
    return {"code": "0", "msg": "", "data": [
        {"instId": instrument.venue_symbol, "side": t.side.value, "sz": _num(t.size),
         "px": _num(t.price), "source": "0", "tradeId": str(t.trade_id),
         "ts": str(t.ts_ns // 1_000_000)} for t in trades]}  # fmt: skip


def _num(value: Decimal) -> str:
    """A price or size as the venue writes it: plain decimal text."""
    return "0" if value == 0 else format(value.normalize(), "f")
