"""The simulator's Crypto.com market-data WS (``/exchange/v1/market``), served from a SimMarket.

One state per channel ``book.{instrument}.{depth}`` (depth 10 or 50) shared by every
connection: the top levels and the update sequence ``u``. Every ``market.UPDATE_FREQUENCY_MS``
(10 ms, as the delta subscription documents; simapi's Coalescer) a change of the top levels
since the last push becomes, for delta subscribers (``book_subscription_type``
``SNAPSHOT_AND_UPDATE``), one ``book.update`` push with ``u`` and ``pu`` (the previous ``u``),
levels ``[price, quantity, orders]`` (quantity "0" for a level that left); for snapshot
subscribers (``SNAPSHOT``, the documented default) a whole ``book`` push. A subscribe is
answered by an ack and a snapshot at the current ``u``. The server sends ``public/heartbeat``
every ``heartbeat_interval_s`` (30 s, as Crypto.com) and closes a connection (code 1000) whose
last heartbeat got no ``public/respond-heartbeat`` with its id by the next one.
Faults: drop_connection closes the subscribers' sockets, skip_seq advances ``u`` past one
update (``pu`` then names a ``u`` nobody received), malformed_frame sends a broken frame
before the next push. Shapes: https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html
("book.{instrument_name}.{depth}", "Websocket Heartbeats", "Response Format").
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import WSMsgType, web
from arb_core.tasks import stop_task
from arb_structs import Instrument, VenueSymbol

from arb_venues.cryptocom.market import UPDATE_FREQUENCY_MS
from arb_venues.simapi import Coalescer, PendingBook, SimLevel, SimMarket, fixed_text, write_outbox

log = logging.getLogger("arb.sim.cryptocom")

DEPTHS = (10, 50)
SNAPSHOT = "SNAPSHOT"
DELTA = "SNAPSHOT_AND_UPDATE"
MALFORMED = '{"id":-1,"method":"subscribe","code":0,"result":{"channel":"book.update","data":'
INVALID_REQUEST = 40003
METHOD_NOT_FOUND = 40002


# Crypto.com's number text: fixed decimals of the instrument.
format_decimal = fixed_text


@dataclass(eq=False)
class Connection:
    ws: web.WebSocketResponse
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    channels: dict[str, str] = field(default_factory=dict)  # channel -> subscription type
    pending_heartbeat: int | None = None

    def send(self, text: str) -> None:
        self.queue.put_nowait(text)

    def close(self) -> None:
        self.queue.put_nowait(None)

    async def writer(self) -> None:
        await write_outbox(self.ws, self.queue)


@dataclass(eq=False)
class ChannelBook:
    channel: str
    instrument: Instrument
    depth: int
    u: int
    bids: dict[Decimal, Decimal]
    asks: dict[Decimal, Decimal]
    subscribers: set[Connection] = field(default_factory=set)
    # The market book's seq these top levels are of: a push finds nothing new when the book
    # has not moved since this channel's last push.
    book_seq: int = -1

    def format(self, levels: list[SimLevel]) -> list[list[str]]:
        pd, sd = self.instrument.price_decimals, self.instrument.size_decimals
        return [
            [format_decimal(p, pd), format_decimal(s, sd), "1" if s else "0"] for p, s in levels
        ]

    def push(self, channel: str, data: dict[str, Any]) -> str:
        return msgspec.json.encode(
            {
                "id": -1,
                "method": "subscribe",
                "code": 0,
                "result": {
                    "instrument_name": self.instrument.venue_symbol,
                    "subscription": self.channel,
                    "channel": channel,
                    "depth": self.depth,
                    "data": [data],
                },
            }
        ).decode()

    def snapshot(self, ts_ms: int) -> str:
        return self.push(
            "book",
            {
                "bids": self.format(sorted(self.bids.items(), reverse=True)),
                "asks": self.format(sorted(self.asks.items())),
                "t": ts_ms,
                "tt": ts_ms,
                "u": self.u,
            },
        )


def _diff(
    old: dict[Decimal, Decimal], new: list[SimLevel]
) -> tuple[list[SimLevel], dict[Decimal, Decimal]]:
    window = dict(new)
    changes = [(p, s) for p, s in new if old.get(p) != s]
    changes += [(p, Decimal(0)) for p in old if p not in window]
    return changes, window


class MarketStream:
    """Channel books and connections of the simulated Crypto.com market-data WS."""

    heartbeat_interval_s: float = 30.0

    def __init__(self, market: SimMarket) -> None:
        self.market = market
        self.by_venue_symbol = {i.venue_symbol: i for i in market.instruments.values()}
        self.channels: dict[str, ChannelBook] = {}
        self.channels_of_symbol: dict[str, list[ChannelBook]] = {}
        self.connections: set[Connection] = set()
        self._pushes = Coalescer(market, UPDATE_FREQUENCY_MS / 1000, self.on_push)
        self._heartbeat_ids = itertools.count(int(time.time() * 1000))

    async def start(self) -> None:
        await self._pushes.start()

    async def stop(self) -> None:
        await self._pushes.stop()
        for connection in list(self.connections):
            with contextlib.suppress(Exception):
                await connection.ws.close()

    # -- market updates ---------------------------------------------------------------------

    def on_push(self, pending: PendingBook) -> None:
        """One push interval's changes of a book (the Coalescer calls it): each of its
        channels sends what changed in its top levels since its last push."""
        books = self.channels_of_symbol.get(pending.symbol)
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
        for channel in books:
            if channel.book_seq == book.seq:
                continue  # this tick's book was already diffed: nothing changed since
            channel.book_seq = book.seq
            bid_changes, channel.bids = _diff(channel.bids, book.bids[: channel.depth])
            ask_changes, channel.asks = _diff(channel.asks, book.asks[: channel.depth])
            if not bid_changes and not ask_changes:
                continue
            previous = channel.u + (1 if skip else 0)  # skip: the pushed pu names a lost u
            channel.u += 2 if skip else 1
            delta = channel.push(
                "book.update",
                {
                    "update": {
                        "bids": channel.format(sorted(bid_changes, reverse=True)),
                        "asks": channel.format(sorted(ask_changes)),
                    },
                    "t": ts_ms,
                    "tt": ts_ms,
                    "u": channel.u,
                    "pu": previous,
                },
            )
            snapshot = None
            for connection in channel.subscribers - dropped:
                if malformed:
                    connection.send(MALFORMED)
                if connection.channels.get(channel.channel) == DELTA:
                    connection.send(delta)
                else:
                    snapshot = snapshot or channel.snapshot(ts_ms)
                    connection.send(snapshot)

    # -- connections ------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        connection = Connection(ws)
        self.connections.add(connection)
        writer = asyncio.create_task(connection.writer())
        heartbeat = asyncio.create_task(self._heartbeats(connection))
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self.on_request(connection, message.data)
                elif message.type == WSMsgType.ERROR:
                    break
        finally:
            for name in connection.channels:
                self.channels[name].subscribers.discard(connection)
            self.connections.discard(connection)
            await stop_task(heartbeat)
            await stop_task(writer)
        return ws

    async def _heartbeats(self, connection: Connection) -> None:
        while not connection.ws.closed:
            await asyncio.sleep(self.heartbeat_interval_s)
            if connection.pending_heartbeat is not None:
                log.info("heartbeat %s unanswered: closing", connection.pending_heartbeat)
                connection.close()
                return
            connection.pending_heartbeat = next(self._heartbeat_ids)
            connection.send(
                msgspec.json.encode(
                    {"id": connection.pending_heartbeat, "method": "public/heartbeat", "code": 0}
                ).decode()
            )

    def on_request(self, connection: Connection, text: str) -> None:
        try:
            request = msgspec.json.decode(text)
        except msgspec.DecodeError:
            request = None
        if not isinstance(request, dict):
            connection.send(_reply(-1, "ERROR", INVALID_REQUEST, "INVALID_REQUEST", text))
            return
        method, request_id = str(request.get("method", "")), request.get("id", -1)
        params = request.get("params") or {}
        if method == "public/respond-heartbeat":
            if request_id == connection.pending_heartbeat:
                connection.pending_heartbeat = None
            return
        if method in ("subscribe", "unsubscribe") and isinstance(params, dict):
            self._subscription(connection, method, request_id, params, text)
        else:
            connection.send(_reply(request_id, method or "ERROR", METHOD_NOT_FOUND,
                                   "METHOD_NOT_FOUND", text))  # fmt: skip

    def _subscription(
        self, connection: Connection, method: str, request_id: Any, params: dict[str, Any],
        text: str,
    ) -> None:  # fmt: skip
        channels = params.get("channels")
        kind = params.get("book_subscription_type", SNAPSHOT)
        if (
            not isinstance(channels, list)
            or not all(isinstance(c, str) for c in channels)
            or kind not in (SNAPSHOT, DELTA)
            or any(self._channel(c) is None for c in channels)
        ):
            connection.send(_reply(request_id, method, INVALID_REQUEST, "INVALID_REQUEST", text))
            return
        connection.send(_reply(request_id, method, 0))
        for name in channels:
            channel = self._channel(name)
            assert channel is not None
            if method == "unsubscribe":
                channel.subscribers.discard(connection)
                connection.channels.pop(name, None)
                continue
            channel.subscribers.add(connection)
            connection.channels[name] = kind
            book = self.market.book(channel.instrument.symbol)
            connection.send(channel.snapshot(book.ts_ns // 1_000_000))

    def _channel(self, name: str) -> ChannelBook | None:
        channel = self.channels.get(name)
        if channel is not None:
            return channel
        parts = name.split(".")
        if len(parts) != 3 or parts[0] != "book" or not parts[2].isdigit():
            return None
        depth, instrument = int(parts[2]), self.by_venue_symbol.get(VenueSymbol(parts[1]))
        if depth not in DEPTHS or instrument is None:
            return None
        book = self.market.book(instrument.symbol)
        channel = ChannelBook(
            channel=name, instrument=instrument, depth=depth, u=max(book.seq, 1),
            bids=dict(book.bids[:depth]), asks=dict(book.asks[:depth]), book_seq=book.seq,
        )  # fmt: skip
        self.channels[name] = channel
        self.channels_of_symbol.setdefault(instrument.symbol, []).append(channel)
        return channel


def _reply(request_id: Any, method: str, code: int, message: str = "", original: str = "") -> str:
    reply: dict[str, Any] = {"id": request_id, "method": method, "code": code}
    if message:
        reply["message"] = message
    if original:
        reply["original"] = original
    return msgspec.json.encode(reply).decode()
