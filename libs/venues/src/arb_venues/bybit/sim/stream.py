"""The simulator's Bybit v5 public spot WS (``/v5/public/spot``), served from a SimMarket.

Like Bybit, one state per topic ``orderbook.{depth}.{symbol}`` shared by every connection:
the top ``depth`` levels per side and the update id ``u``. Every push interval of the topic's
depth (``market.PUSH_INTERVAL_S``: 20 ms for 50 levels, as Bybit documents), a book that
changed its top levels in it gets one delta (changed levels, size "0" for a level that left
the window) with ``u`` + 1; a subscribe is answered by an ack and a snapshot at the current ``u``.
Faults: drop_connection closes the subscribers' sockets, skip_seq skips one ``u``,
malformed_frame sends a broken frame before the next delta.
Message shapes: https://bybit-exchange.github.io/docs/v5/ws/connect and
https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook (spot: "ts" before "type").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

import msgspec
from aiohttp import WSMsgType, web
from arb_core.tasks import stop_task
from arb_structs import Instrument, VenueSymbol

from arb_venues.bybit.market import PUSH_INTERVAL_S, SPOT_DEPTHS
from arb_venues.simapi import (
    Coalescer,
    PendingBook,
    SimLevel,
    SimMarket,
    fixed_text,
    write_outbox,
)

log = logging.getLogger("arb.sim.bybit")

MAX_ARGS = 10
MALFORMED = '{"topic":"orderbook.50.","type":"delta","data":{"s":'


def format_decimal(value: Decimal, decimals: int) -> str:
    """Bybit's number text: fixed decimals of the instrument ("1.9530"), "0" for zero."""
    return fixed_text(value, decimals) if value else "0"


@dataclass(eq=False)
class Connection:
    """One client socket: a queue and a writer task keep frames in generation order."""

    ws: web.WebSocketResponse
    conn_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    topics: set[str] = field(default_factory=set)

    def send(self, text: str) -> None:
        self.queue.put_nowait(text)

    def close(self) -> None:
        self.queue.put_nowait(None)

    async def writer(self) -> None:
        await write_outbox(self.ws, self.queue)


@dataclass(eq=False)
class TopicBook:
    topic: str
    instrument: Instrument
    depth: int
    u: int
    seq: int
    bids: dict[Decimal, Decimal]
    asks: dict[Decimal, Decimal]
    subscribers: set[Connection] = field(default_factory=set)
    # The market book's seq these top levels are of (a push of an unchanged book sends none).
    book_seq: int = -1

    def levels(self, side: dict[Decimal, Decimal], reverse: bool) -> list[list[str]]:
        return self.format(sorted(side.items(), reverse=reverse))

    def format(self, levels: list[SimLevel]) -> list[list[str]]:
        pd, sd = self.instrument.price_decimals, self.instrument.size_decimals
        return [[format_decimal(p, pd), format_decimal(s, sd)] for p, s in levels]

    def message(self, kind: str, ts_ms: int, bids: list[list[str]], asks: list[list[str]]) -> str:
        return msgspec.json.encode(
            {
                "topic": self.topic,
                "ts": ts_ms,
                "type": kind,
                "data": {
                    "s": self.instrument.venue_symbol,
                    "b": bids,
                    "a": asks,
                    "u": self.u,
                    "seq": self.seq,
                },
                "cts": ts_ms,
            }
        ).decode()


def _diff(
    old: dict[Decimal, Decimal], new: list[SimLevel]
) -> tuple[list[SimLevel], dict[Decimal, Decimal]]:
    """Changed levels of one side's top-N window (size 0 for those that left it)."""
    window = dict(new)
    changes = [(p, s) for p, s in new if old.get(p) != s]
    changes += [(p, Decimal(0)) for p in old if p not in window]
    return changes, window


class SpotStream:
    """Topic books and connections of one simulated venue."""

    def __init__(self, market: SimMarket) -> None:
        self.market = market
        self.by_venue_symbol = {i.venue_symbol: i for i in market.instruments.values()}
        self.topics: dict[str, TopicBook] = {}
        self.topics_of_symbol: dict[str, list[TopicBook]] = {}
        self.connections: set[Connection] = set()
        self._coalescers: list[Coalescer] = []

    async def start(self) -> None:
        """One timer per push interval of Bybit's depths (market.PUSH_INTERVAL_S): each push
        diffs the topics of that interval against the book."""
        for interval_s in sorted(set(PUSH_INTERVAL_S.values())):
            coalescer = Coalescer(self.market, interval_s, partial(self.on_push, interval_s))
            self._coalescers.append(coalescer)
            await coalescer.start()

    async def stop(self) -> None:
        for coalescer in self._coalescers:
            await coalescer.stop()
        self._coalescers.clear()
        for connection in list(self.connections):
            with contextlib.suppress(Exception):
                await connection.ws.close()

    # -- market updates ---------------------------------------------------------------------

    def on_push(self, interval_s: float, pending: PendingBook) -> None:
        """The book of ``pending.symbol`` changed in the last ``interval_s``: a delta on every
        topic of a depth that pushes at that interval."""
        books = [b for b in self.topics_of_symbol.get(pending.symbol, ())
                 if PUSH_INTERVAL_S[b.depth] == interval_s]  # fmt: skip
        if not books or not any(b.subscribers for b in books):
            return
        faults = self.market.faults
        dropped: set[Connection] = set()
        if faults.take("drop_connection", pending.symbol):
            dropped = {c for b in books for c in b.subscribers}
            for connection in dropped:
                connection.close()
        malformed = faults.take("malformed_frame", pending.symbol)
        skip = faults.take("skip_seq", pending.symbol)
        book = self.market.book(pending.symbol)
        ts_ms = pending.ts_ns // 1_000_000
        for topic in books:  # the topic state moves on even when nobody is left to tell
            if topic.book_seq == book.seq:
                continue  # this tick's book was already diffed: nothing changed since
            topic.book_seq = book.seq
            bid_changes, topic.bids = _diff(topic.bids, book.bids[: topic.depth])
            ask_changes, topic.asks = _diff(topic.asks, book.asks[: topic.depth])
            if not bid_changes and not ask_changes:
                continue
            topic.u += 2 if skip else 1
            topic.seq = pending.seq
            text = topic.message(
                "delta", ts_ms, topic.format(bid_changes), topic.format(ask_changes)
            )
            for connection in topic.subscribers - dropped:
                if malformed:
                    connection.send(MALFORMED)
                connection.send(text)

    # -- connections ------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        connection = Connection(ws)
        self.connections.add(connection)
        writer = asyncio.create_task(connection.writer())
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self.on_request(connection, message.data)
                elif message.type == WSMsgType.ERROR:
                    break
        finally:
            for name in connection.topics:
                self.topics[name].subscribers.discard(connection)
            self.connections.discard(connection)
            await stop_task(writer)
        return ws

    def on_request(self, connection: Connection, text: str) -> None:
        try:
            request = msgspec.json.decode(text)
        except msgspec.DecodeError:
            request = None
        if not isinstance(request, dict):
            connection.send(self._reply(connection, "", False, "Invalid request: not JSON", ""))
            return
        op, req_id = str(request.get("op", "")), str(request.get("req_id", ""))
        args = request.get("args") or []
        if op == "ping":
            connection.send(self._reply(connection, "ping", True, "pong", req_id))
        elif op in ("subscribe", "unsubscribe"):
            self._subscription(connection, op, args, req_id)
        else:
            connection.send(self._reply(connection, op, False, f"Invalid op: {op}", req_id))

    def _subscription(self, connection: Connection, op: str, args: Any, req_id: str) -> None:
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            connection.send(self._reply(connection, op, False, "Invalid args", req_id))
            return
        if len(args) > MAX_ARGS:
            connection.send(self._reply(connection, op, False, f"args size >{MAX_ARGS}", req_id))
            return
        bad = [a for a in args if self._topic(a) is None]
        if bad:
            connection.send(
                self._reply(connection, op, False, f"Invalid symbol :[{','.join(bad)}]", req_id)
            )
            return
        connection.send(self._reply(connection, op, True, op, req_id))
        for name in args:
            topic = self._topic(name)
            assert topic is not None
            if op == "unsubscribe":
                topic.subscribers.discard(connection)
                connection.topics.discard(name)
                continue
            topic.subscribers.add(connection)
            connection.topics.add(name)
            book = self.market.book(topic.instrument.symbol)
            connection.send(
                topic.message(
                    "snapshot",
                    book.ts_ns // 1_000_000,
                    topic.levels(topic.bids, True),
                    topic.levels(topic.asks, False),
                )
            )

    def _topic(self, name: str) -> TopicBook | None:
        """The topic's shared book, created on first use; None for a topic Bybit refuses."""
        topic = self.topics.get(name)
        if topic is not None:
            return topic
        parts = name.split(".")
        if len(parts) != 3 or parts[0] != "orderbook" or not parts[1].isdigit():
            return None
        depth, instrument = int(parts[1]), self.by_venue_symbol.get(VenueSymbol(parts[2]))
        if depth not in SPOT_DEPTHS or instrument is None:
            return None
        book = self.market.book(instrument.symbol)
        topic = TopicBook(
            topic=name,
            instrument=instrument,
            depth=depth,
            u=max(book.seq, 1),
            seq=book.seq,
            bids=dict(book.bids[:depth]),
            asks=dict(book.asks[:depth]),
            book_seq=book.seq,
        )
        self.topics[name] = topic
        self.topics_of_symbol.setdefault(instrument.symbol, []).append(topic)
        return topic

    @staticmethod
    def _reply(connection: Connection, op: str, success: bool, message: str, req_id: str) -> str:
        reply: dict[str, Any] = {
            "success": success,
            "ret_msg": message,
            "conn_id": connection.conn_id,
        }
        if req_id:
            reply["req_id"] = req_id
        reply["op"] = op
        return msgspec.json.encode(reply).decode()
