"""The simulator's Bitfinex WS v2 at ``/ws/2``: events, book channels, SEQ_ALL, checksums.

What a connection gets (the shapes of https://docs.bitfinex.com/docs/ws-general and
.../reference/ws-public-books): an ``info`` event on connect; ``conf`` sets the connection's
flags (SEQ_ALL 65536: every array message ends with the connection's next number, heartbeats
included; OB_CHECKSUM 131072: ``[CHAN_ID,"cs",CHECKSUM]`` after each book change); ``ping`` ->
``pong``; ``subscribe`` book P0 (len 1/25/100) -> ``subscribed`` with a fresh chanId, then the
snapshot; ``unsubscribe`` -> ``unsubscribed``; errors as Bitfinex's ``error`` events (10300
unknown symbol, 10301 already subscribed, 10011 precision, 10012 length, 10401 not
subscribed). A change of the market's book goes out as one message per changed level, the
deletes first (a level that left the book or the subscribed range: COUNT 0, AMOUNT 1 for a bid
and -1 for an ask), so no state in between is crossed. ``[CHAN_ID,"hb"]`` on a channel quiet
for 15 s. Numbers are written as JavaScript writes them (numbers.py), and the checksum covers
exactly that text.

Faults: drop_connection, skip_seq (a sequence number never sent; without SEQ_ALL a level
change silently not sent, which the next checksum shows), bad_checksum, malformed_frame,
corrupt_book (the best bid's size doubled on the wire, the checksum of the true book: the
client's next checksum fails), bad_level (an impossible price or amount text).
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache, partial

import msgspec
from aiohttp import WSMsgType, web
from arb_core.tasks import stop_task
from arb_structs import Instrument

from arb_venues.bitfinex import numbers
from arb_venues.bitfinex import symbols as bitfinex_symbols
from arb_venues.bitfinex.checksum import checksum
from arb_venues.bitfinex.market import DEPTHS
from arb_venues.bitfinex.parser import DEFAULT_DEPTH, OB_CHECKSUM, SEQ_ALL
from arb_venues.simapi import (
    FORMAT_CACHE_KEPT,
    SharedFrames,
    SimBook,
    SimBookUpdate,
    SimLevel,
    SimMarket,
    write_outbox,
)

# the simulator writes a book's levels again in every snapshot (bounded as simapi.fixed_text)
js_text = lru_cache(maxsize=FORMAT_CACHE_KEPT)(numbers.js_text)

HEARTBEAT_S = 15.0
BAD_CHECKSUM_MASK = 0x5A5A5A5A
_ZERO = Decimal(0)


def _dumps(value: object) -> str:
    return msgspec.json.encode(value).decode()


def level_text(price: Decimal, amount: Decimal, count: int = 1) -> str:
    """``[PRICE,COUNT,AMOUNT]`` with JavaScript's number text."""
    return f"[{js_text(price)},{count},{js_text(amount)}]"


@dataclass
class SentBook:
    """The top ``depth`` levels one subscriber holds of one book (what we sent it)."""

    depth: int
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)
    # The seq of the book these levels are the top of (-1: unknown). Two subscribers of one
    # depth at the same seq hold the same levels, so their next changes are the same too.
    seq: int = -1

    def reset(self, bids: list[SimLevel], asks: list[SimLevel]) -> list[str]:
        """A snapshot: the top ``depth`` of the given best-first levels, as level texts."""
        self.bids, self.asks = dict(bids[: self.depth]), dict(asks[: self.depth])
        return [level_text(p, s) for p, s in self.bids.items()] + [
            level_text(p, -s) for p, s in self.asks.items()
        ]

    def update(self, bids: list[SimLevel], asks: list[SimLevel]) -> list[str]:
        """Move to the new book's top ``depth``; one level text per change, deletes first."""
        new_bids, new_asks = dict(bids[: self.depth]), dict(asks[: self.depth])
        deletes = [level_text(p, Decimal(1), 0) for p in self.bids if p not in new_bids]
        deletes += [level_text(p, Decimal(-1), 0) for p in self.asks if p not in new_asks]
        sets = [level_text(p, s) for p, s in new_bids.items() if self.bids.get(p) != s]
        sets += [level_text(p, -s) for p, s in new_asks.items() if self.asks.get(p) != s]
        self.bids, self.asks = new_bids, new_asks
        return deletes + sets

    def checksum(self) -> int:
        bids = [(js_text(p), js_text(s)) for p, s in sorted(self.bids.items(), reverse=True)]
        asks = [(js_text(p), js_text(-s)) for p, s in sorted(self.asks.items())]
        return checksum(bids, asks)


@dataclass
class _Channel:
    chan_id: int
    instrument: Instrument
    venue_symbol: str
    sent: SentBook
    last_sent: float = 0.0


@dataclass(eq=False)
class _Session:
    ws: web.WebSocketResponse
    flags: int = 0
    seq: int = 0
    channels: dict[int, _Channel] = field(default_factory=dict)
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)

    def by_symbol(self, symbol: str) -> list[_Channel]:
        return [c for c in self.channels.values() if c.instrument.symbol == symbol]

    def event(self, value: dict[str, object]) -> None:
        self.queue.put_nowait(_dumps(value))

    def array(self, chan: _Channel, body: str) -> None:
        """``[CHAN_ID, body]`` (+ the connection's next number with SEQ_ALL)."""
        chan.last_sent = time.monotonic()
        if self.flags & SEQ_ALL:
            self.seq += 1
            self.queue.put_nowait(f"[{chan.chan_id},{body},{self.seq}]")
        else:
            self.queue.put_nowait(f"[{chan.chan_id},{body}]")


class BitfinexStream:
    def __init__(self, market: SimMarket) -> None:
        self.market = market
        self.sessions: set[_Session] = set()
        self._chan_ids = itertools.count(17_000)
        self._unsubscribe: object | None = None
        self._closing: set[asyncio.Future[bool]] = set()
        self.server_id = secrets.token_hex(8)
        self.shared = SharedFrames()

    async def start(self, _app: web.Application) -> None:
        self._unsubscribe = self.market.subscribe(self.on_update)

    async def stop(self, _app: web.Application) -> None:
        if callable(self._unsubscribe):
            self._unsubscribe()
        for session in list(self.sessions):
            await session.ws.close()

    def instrument(self, venue_symbol: str) -> Instrument | None:
        for instrument in self.market.instruments.values():
            if venue_symbol in (instrument.venue_symbol, spelled(instrument)):
                return instrument
        return None

    async def serve(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        session = _Session(ws)
        self.sessions.add(session)
        writer = asyncio.create_task(write_outbox(session.ws, session.queue))
        beats = asyncio.create_task(self._heartbeats(session))
        session.event({"event": "info", "version": 2, "serverId": self.server_id,
                       "platform": {"status": 1}})  # fmt: skip
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._on_request(session, message.data)
        finally:
            self.sessions.discard(session)
            session.queue.put_nowait(None)
            await stop_task(beats)
            await writer
        return ws

    async def _heartbeats(self, session: _Session) -> None:
        while True:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            for chan in list(session.channels.values()):
                if now - chan.last_sent >= HEARTBEAT_S:
                    session.array(chan, '"hb"')

    # -- requests -------------------------------------------------------------------------------

    def _on_request(self, session: _Session, text: str) -> None:
        try:
            request = msgspec.json.decode(text)
        except msgspec.DecodeError:
            request = None
        if not isinstance(request, dict):
            session.event({"event": "error", "msg": "event: invalid", "code": 10000})
            return
        kind = request.get("event")
        if kind == "conf":
            flags = request.get("flags")
            if not isinstance(flags, int):
                session.event({"event": "error", "msg": "conf: invalid", "code": 10050})
                return
            session.flags = flags
            session.event({"event": "conf", "status": "OK", "flags": flags})
        elif kind == "ping":
            session.event({"event": "pong", "ts": time.time_ns() // 1_000_000,
                           "cid": request.get("cid", 0)})  # fmt: skip
        elif kind == "subscribe":
            self._subscribe(session, request)
        elif kind == "unsubscribe":
            chan_id = request.get("chanId")
            if isinstance(chan_id, int) and session.channels.pop(chan_id, None) is not None:
                session.event({"event": "unsubscribed", "status": "OK", "chanId": chan_id})
            else:
                session.event({"event": "error", "msg": "unsubscribe: invalid", "code": 10401,
                               "chanId": chan_id})  # fmt: skip
        else:
            session.event({"event": "error", "msg": "event: invalid", "code": 10000})

    def _subscribe(self, session: _Session, request: dict[str, object]) -> None:
        symbol = str(request.get("symbol", ""))
        prec = str(request.get("prec", "P0"))
        length = str(request.get("len", str(DEFAULT_DEPTH)))
        echo = {"channel": request.get("channel"), "symbol": symbol, "prec": prec, "len": length}
        if request.get("channel") != "book":
            session.event({"event": "error", "msg": "channel: unknown", "code": 10302, **echo})
            return
        instrument = self.instrument(symbol)
        if instrument is None:
            session.event({"event": "error", "msg": "symbol: invalid", "code": 10300, **echo})
            return
        if prec != "P0":
            session.event({"event": "error", "msg": "prec: invalid", "code": 10011, **echo})
            return
        if not length.isdigit() or int(length) not in DEPTHS:
            session.event({"event": "error", "msg": "len: invalid", "code": 10012, **echo})
            return
        if session.by_symbol(instrument.symbol):
            session.event({"event": "error", "msg": "subscribe: dup", "code": 10301, **echo})
            return
        chan = _Channel(next(self._chan_ids), instrument, symbol, SentBook(int(length)))
        session.channels[chan.chan_id] = chan
        pair = symbol.removeprefix(bitfinex_symbols.PREFIX)
        session.event({"event": "subscribed", "channel": "book", "chanId": chan.chan_id,
                       "symbol": symbol, "prec": prec, "freq": request.get("freq", "F0"),
                       "len": length, "pair": pair})  # fmt: skip
        book = self.market.book(instrument.symbol)
        session.array(chan, "[" + ",".join(chan.sent.reset(book.bids, book.asks)) + "]")
        chan.sent.seq = book.seq
        if session.flags & OB_CHECKSUM:
            session.array(chan, f'"cs",{chan.sent.checksum()}')

    # -- market updates ---------------------------------------------------------------------

    def on_update(self, update: SimBookUpdate) -> None:
        faults = self.market.faults
        for session in list(self.sessions):
            channels = session.by_symbol(update.symbol)
            if not channels or session.ws.closed:
                continue
            if faults.take("drop_connection", update.symbol):
                session.queue.put_nowait(None)
                continue
            book = self.market.book(update.symbol)
            for chan in channels:
                self._push(session, chan, book, update.symbol)

    def _push(self, session: _Session, chan: _Channel, book: SimBook, symbol: str) -> None:
        faults = self.market.faults
        sent = chan.sent
        if sent.seq == book.seq:
            return  # a later update of the tick that moved the book: already sent
        shared, sent.bids, sent.asks, value_cs = self.shared.get(
            ("changes", symbol, sent.depth, sent.seq, book.seq), partial(_changes, sent, book)
        )
        sent.seq = book.seq
        if not shared:
            return
        changes = list(shared)  # the faults below change this connection's copy only
        if faults.take("malformed_frame", symbol):
            session.queue.put_nowait(f"[{chan.chan_id},[60000,1,")
        if faults.take("skip_seq", symbol):
            if session.flags & SEQ_ALL:
                session.seq += 1  # a number never sent: the client sees the jump
            else:
                changes = changes[1:]  # a change never sent: the next checksum shows it
        if faults.take("corrupt_book", symbol) and sent.bids:
            price, size = max(sent.bids.items())
            changes.append(level_text(price, size * 2))
        bad = faults.take_params("bad_level", symbol)
        if bad is not None:
            value = str(bad.get("value", "NaN"))
            if bad.get("field") == "size":
                changes.append(f"[{js_text(next(iter(sent.asks), Decimal(1)))},1,{value}]")
            else:
                changes.append(f"[{value},1,1]")
        for change in changes:
            session.array(chan, change)
        if session.flags & OB_CHECKSUM:
            if faults.take("bad_checksum", symbol):
                value_cs ^= BAD_CHECKSUM_MASK
            session.array(chan, f'"cs",{value_cs}')


_Levels = dict[Decimal, Decimal]


def _changes(sent: SentBook, book: SimBook) -> tuple[list[str], _Levels, _Levels, int]:
    """Move ``sent`` to ``book``'s top levels: the level texts to send, the levels sent then
    and their checksum. Every subscriber of one depth at ``sent.seq`` shares the result, the
    levels too (SentBook replaces its dicts, never changes them in place)."""
    changes = sent.update(book.bids, book.asks)
    return changes, sent.bids, sent.asks, sent.checksum()


def spelled(instrument: Instrument) -> str:
    """The Bitfinex spelling of an instrument's pair (tBTCUST), whatever the catalog wrote."""
    return bitfinex_symbols.spell(instrument.base, instrument.quote)
