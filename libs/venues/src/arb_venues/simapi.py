"""The contract between the simulator's core (services/simulator) and each venue's ``sim/``.

The core owns the market: one fair price per symbol, each venue's L2 book around it, order
matching, accounts, faults and ground truth. A venue's ``sim/app.py`` only speaks the protocol:
``create_app(market: SimMarket) -> aiohttp.web.Application`` serves that venue's public WS
and REST and private REST on paths identical to the real exchange's, formatting the core's
Decimal levels the way the venue does and verifying its signing scheme.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol, TypeVar, cast

from arb_structs import Instrument, Side

_log = logging.getLogger("arb.sim")

# A level as the simulator holds it: exact price and size on the instrument's grid.
SimLevel = tuple[Decimal, Decimal]


@dataclass(frozen=True, slots=True)
class SimBookUpdate:
    """One change of one venue book. Size 0 deletes the level.

    ``seq`` counts this book's updates (+1 each, from 1 after the book was created); a venue
    protocol derives its own sequence fields from it (Binance U/u, OKX seqId, Bybit u...).
    """

    symbol: str
    seq: int
    bids: list[SimLevel]
    asks: list[SimLevel]
    ts_ns: int


@dataclass(frozen=True, slots=True)
class SimBook:
    symbol: str
    seq: int
    bids: list[SimLevel]  # best (highest) first
    asks: list[SimLevel]  # best (lowest) first
    ts_ns: int


class SimOrderError(Exception):
    """An order the simulated venue refuses. ``kind``: insufficient_balance, unknown_symbol,
    duplicate_client_order_id, invalid_quantity, invalid_price, rejected."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


@dataclass(slots=True)
class SimOrder:
    order_id: str
    client_order_id: str
    symbol: str
    side: Side
    price: Decimal
    size: Decimal
    time_in_force: str  # "IOC" | "GTC" | "FOK"
    status: str  # "new" | "partially_filled" | "filled" | "canceled" | "rejected" | "expired"
    filled: Decimal = Decimal(0)
    quote_filled: Decimal = Decimal(0)  # sum(price * size) of fills
    fee: Decimal = Decimal(0)
    fee_asset: str = ""
    ts_created_ns: int = 0
    ts_updated_ns: int = 0
    fills: list[tuple[Decimal, Decimal]] = field(default_factory=list)  # (price, size)

    @property
    def avg_price(self) -> Decimal:
        return self.quote_filled / self.filled if self.filled else Decimal(0)


@dataclass(frozen=True, slots=True)
class SimTrade:
    """One print of the venue's public tape: a fill of a taker order against the book."""

    trade_id: int  # increasing per venue
    symbol: str
    price: Decimal
    size: Decimal
    side: Side  # the taker's side
    ts_ns: int


class SimFaults(Protocol):
    """Faults armed on demand (config or the control endpoint). ``take`` consumes one.

    Kinds a venue's sim app must honour where it applies: "drop_connection" (close the WS),
    "skip_seq" (skip one sequence number of a symbol), "bad_checksum" (send a wrong checksum),
    "malformed_frame" (send garbage), "lose_response" (execute an order, then close the
    connection without answering), "corrupt_book" and "bad_level" (a wrong or impossible
    level with the sequence whole). The core applies "http_429", "http_418", "http_5xx",
    "slow", "reject_order" and "partial_fill" itself.
    """

    def take(self, kind: str, symbol: str | None = None) -> bool: ...

    def take_params(self, kind: str, symbol: str | None = None) -> dict[str, object] | None:
        """As ``take``, giving the fault's parameters (e.g. bad_level's value); None when
        nothing fires."""
        ...


class SimMarket(Protocol):
    """One venue's market as its protocol server sees it."""

    venue: str
    instruments: dict[str, Instrument]  # by normalised symbol
    faults: SimFaults

    def book(self, symbol: str) -> SimBook:
        """The full current book; KeyError for an unknown symbol."""
        ...

    def subscribe(self, listener: Callable[[SimBookUpdate], None]) -> Callable[[], None]:
        """Call ``listener`` on every book update of this venue; returns unsubscribe."""
        ...

    def secret_for(self, api_key: str) -> str | None:
        """The API secret of a simulated account (to verify signatures); None if unknown."""
        ...

    def passphrase_for(self, api_key: str) -> str | None: ...

    def place_order(
        self,
        api_key: str,
        symbol: str,
        side: Side,
        price: Decimal,
        size: Decimal,
        time_in_force: str,
        client_order_id: str,
    ) -> SimOrder:
        """Match against the book now (IOC: remainder cancelled), move balances, charge fees."""
        ...

    def get_order(
        self,
        api_key: str,
        symbol: str,
        client_order_id: str | None = None,
        order_id: str | None = None,
    ) -> SimOrder | None: ...

    def cancel_order(
        self,
        api_key: str,
        symbol: str,
        client_order_id: str | None = None,
        order_id: str | None = None,
    ) -> SimOrder | None: ...

    def balances(self, api_key: str) -> dict[str, tuple[Decimal, Decimal]]:
        """asset -> (free, locked)."""
        ...

    def orders(self, api_key: str, symbol: str | None = None, since_ns: int = 0) -> list[SimOrder]:
        """The account's orders (of ``symbol``, or all) created at or after ``since_ns``,
        oldest first: what a venue's order-history endpoint lists."""
        ...


# -- appended by the simulator core (compatible: nothing above changed) ------------------------
# How a venue's sim app answers the HTTP faults the core injects (http_429, http_418,
# http_5xx) in the venue's own error shape: store a callable ``(kind, retry_after_s) ->
# web.Response`` under this key (``app[ERROR_RESPONSE] = ...``). Without it the core answers
# with a generic JSON body and, for 429/418, a Retry-After header.
from aiohttp import web as _web  # noqa: E402

ErrorResponder = Callable[[str, float], _web.StreamResponse]
ERROR_RESPONSE: _web.AppKey[ErrorResponder] = _web.AppKey("error_response")


def venue_now_ns(market: SimMarket) -> int:
    """The simulated venue's clock: wall time plus the skew armed on the market
    (``clock_skew_ns``, set by the control API's ``POST /control/clock``; a market without
    one runs on wall time). Server-time endpoints answer with it and signed requests are
    judged against it, so a client that does not track the venue's clock offset is refused
    as the real venue would refuse a host whose clock is off."""
    import time

    skew: int = getattr(market, "clock_skew_ns", 0)
    return time.time_ns() + skew


def recent_trades(market: SimMarket, symbol: str, limit: int) -> list[SimTrade]:
    """The venue's last ``limit`` public trades of ``symbol``, newest first: what its
    recent-trades endpoint serves (a market without a tape has none)."""
    tape = getattr(market, "trades", None)
    return list(tape(symbol, limit)) if tape is not None else []


def limit_of(text: str | None, default: int, maximum: int) -> int:
    """A recent-trades ``limit`` query value, within the venue's documented bounds."""
    try:
        value = int(text) if text else default
    except ValueError:
        value = default
    return max(1, min(value, maximum))


TradesBody = Callable[[list[SimTrade], Instrument], object]


def trades_handler(
    market: SimMarket,
    venue_symbol_of: Callable[[_web.Request], str],
    body: TradesBody,
    unknown_symbol: Callable[[], _web.StreamResponse],
    *,
    default_limit: int,
    max_limit: int,
    limit_param: str = "limit",
) -> Callable[[_web.Request], Awaitable[_web.StreamResponse]]:
    """A venue's recent-trades endpoint: the symbol its request names (``venue_symbol_of``),
    its last trades (``limit_param`` within the venue's bounds), newest first, answered as
    ``body`` writes them (the venue's documented shape); ``unknown_symbol`` for another."""

    async def handle(request: _web.Request) -> _web.StreamResponse:
        wanted = venue_symbol_of(request)
        for symbol, instrument in market.instruments.items():
            if instrument.venue_symbol == wanted:
                limit = limit_of(request.query.get(limit_param), default_limit, max_limit)
                payload = body(recent_trades(market, symbol, limit), instrument)
                return _web.json_response(payload, dumps=_dumps)
        return unknown_symbol()

    return handle


def _dumps(payload: object) -> str:
    import msgspec

    return msgspec.json.encode(payload).decode()


# The frame a venue sends before it closes a connection for maintenance, asking the client
# to reconnect, where its docs name one (``VenueSpec.reconnect_notice``): store a callable
# ``() -> str`` under this key. The core's maintenance sends it to every open connection.
NoticeFrame = Callable[[], str]
RECONNECT_NOTICE: _web.AppKey[NoticeFrame] = _web.AppKey("reconnect_notice")


# Frames of one book update built once for every connection that subscribed the same thing.
# The market calls each listener (a venue app's connection) with a whole tick's updates in
# turn, so one update's frame is asked for once per connection: the first builds it, the
# others send the same text. A key names everything the value depends on (the channel, the
# symbol and the update's or the book's seq at least); a connection whose frame a fault
# changes builds its own and leaves the shared one alone. The values may also be the work
# several frames share (a diff of the top levels and its checksum).
SHARED_FRAMES_KEPT = 1024  # about a tick of every book and channel of one venue
_T = TypeVar("_T")


# Number text a simulated venue writes into its frames and REST bodies, memoised: a book's
# levels are written again in every snapshot. The memo is bounded, and small enough to fill
# within minutes: a price drifts to new levels for ever, so a cache sized for hours of drift
# (it was 65,536 entries in each of five venue folders, about 100 MB together) grows the
# simulator's memory for an hour before it stops, which a soak cannot tell from a leak.
FORMAT_CACHE_KEPT = 1 << 14


@functools.lru_cache(maxsize=FORMAT_CACHE_KEPT)
def fixed_text(value: Decimal, decimals: int) -> str:
    """``value`` with exactly ``decimals`` decimals, never an exponent ("1.9530" for 4)."""
    return format(value.quantize(Decimal(1).scaleb(-decimals)), "f")


class SharedFrames:
    """One venue app's frames of the latest updates, by key (see above)."""

    __slots__ = ("_values",)

    def __init__(self) -> None:
        self._values: dict[object, object] = {}

    def get(self, key: object, build: Callable[[], _T]) -> _T:
        """The value under ``key``: built by ``build`` once, then the same object."""
        values = self._values
        if key in values:
            return cast(_T, values[key])
        if len(values) >= SHARED_FRAMES_KEPT:
            values.clear()
        value = values[key] = build()
        return value


SHARED_FRAMES: _web.AppKey[SharedFrames] = _web.AppKey("shared_frames", SharedFrames)


# A book channel that pushes at a documented interval, not once per change (HTX mbp.150 every
# 100 ms, Bitget books every 200 ms): the changes of each book since its last push, merged
# (a later size of a price wins; size 0 deletes), handed to ``push`` once an interval. The
# interval is the venue's fact, read from its folder; the app builds each push's frame once
# for every subscriber of the channel.


@dataclass(slots=True)
class PendingBook:
    """The merged changes of one book since its last push."""

    symbol: str
    prev_seq: int  # the book's seq at its previous push (its first update's seq - 1 at first)
    seq: int  # the book's seq of the last update merged
    ts_ns: int
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)

    def sides(self) -> tuple[list[SimLevel], list[SimLevel]]:
        """The changed levels, best first."""
        return (sorted(self.bids.items(), reverse=True), sorted(self.asks.items()))


class Coalescer:
    """The pushes of one interval channel of one venue app (see above): install it on the app
    (it listens to the market and runs its timer while the app runs)."""

    def __init__(
        self, market: SimMarket, interval_s: float, push: Callable[[PendingBook], None]
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"{market.venue}: push interval {interval_s} s: must be > 0")
        self.market = market
        self.interval_s = interval_s
        self.push = push
        self.pending: dict[str, PendingBook] = {}
        self.pushed_seq: dict[str, int] = {}  # symbol -> the book's seq at its last push
        self._unsubscribe: Callable[[], None] | None = None
        self._task: asyncio.Task[None] | None = None

    def install(self, app: _web.Application) -> None:
        app.on_startup.append(lambda _app: self.start())
        app.on_cleanup.append(lambda _app: self.stop())

    def on_update(self, update: SimBookUpdate) -> None:
        pending = self.pending.get(update.symbol)
        if pending is None:
            prev = self.pushed_seq.get(update.symbol, update.seq - 1)
            pending = self.pending[update.symbol] = PendingBook(
                update.symbol, prev, update.seq, update.ts_ns
            )
        pending.seq, pending.ts_ns = update.seq, update.ts_ns
        pending.bids.update(update.bids)
        pending.asks.update(update.asks)

    def flush(self, symbol: str | None = None) -> None:
        """Push every book that changed since its last push (the timer calls it), or only
        ``symbol``'s now: a venue whose snapshot request answers at a push's seq (HTX's
        ``req``) pushes first, so the snapshot and the pushes share one seq chain."""
        if symbol is None:
            due, self.pending = list(self.pending.values()), {}
        else:
            one = self.pending.pop(symbol, None)
            due = [one] if one is not None else []
        for pending in due:
            self.pushed_seq[pending.symbol] = pending.seq
            try:
                self.push(pending)
            except Exception:  # one bad push must not stop the channel
                _log.exception("%s: push of %s failed", self.market.venue, pending.symbol)

    async def start(self) -> None:
        """Listen to the market and push on the timer (``install`` calls it at app startup)."""
        self._unsubscribe = self.market.subscribe(self.on_update)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due += self.interval_s
            delay = due - loop.time()
            if delay < -self.interval_s:  # fell behind (a starved loop): no burst to catch up
                due = loop.time()
                delay = 0.0
            await asyncio.sleep(max(0.0, delay))
            self.flush()


# Sending: a venue app's writer task takes every frame its queue holds when it wakes (all the
# frames one market tick made for the connection) and hands them to the socket in one write,
# not one write (one send system call) a frame. aiohttp writes an uncompressed WS message as
# one header and the payload, synchronously; ``send_frames`` does the same for several at once,
# and falls back to aiohttp's own send where a connection compresses its messages.
_OP_TEXT, _OP_BINARY = 0x81, 0x82  # FIN + opcode (RFC 6455 section 5.2)
_T_frame = TypeVar("_T_frame")


async def next_frames(queue: asyncio.Queue[_T_frame]) -> list[_T_frame]:
    """The next frame of ``queue`` (waiting for one), and every frame already behind it."""
    frames = [await queue.get()]
    while frames[-1] is not None and not queue.empty():
        frames.append(queue.get_nowait())
    return frames


_T_text = TypeVar("_T_text", str, bytes)


async def write_outbox(
    ws: _web.WebSocketResponse, outbox: asyncio.Queue[_T_text | None], binary: bool = False
) -> None:
    """A connection's writer: every frame queued when it wakes goes out in one write
    (``send_frames``; as binary messages with ``binary``); ``None`` in the queue, or the
    socket closing, ends it (closed)."""
    while True:
        frames = await next_frames(outbox)
        texts: list[_T_text] = [frame for frame in frames if frame is not None]
        if texts and not ws.closed:
            try:
                await send_frames(ws, texts, binary=binary)
            except (ConnectionError, RuntimeError):
                return
        if frames[-1] is None or ws.closed:
            await ws.close()
            return


async def send_frames(
    ws: _web.WebSocketResponse, frames: list[str] | list[bytes], binary: bool = False
) -> None:
    """Send ``frames`` in order as text (or binary) WS messages. ConnectionError once the
    connection is closing."""
    # aiohttp's WebSocketWriter (3.14: transport, protocol, compress): private, so every part
    # is looked up with a fallback to aiohttp's own send should a release rename one
    writer = getattr(ws, "_writer", None)
    transport = getattr(writer, "transport", None)
    protocol: Any = getattr(writer, "protocol", None)
    if (len(frames) == 1 or writer is None or transport is None
            or not hasattr(protocol, "_paused") or not hasattr(protocol, "_drain_helper")
            or getattr(writer, "compress", True) or getattr(writer, "_closing", True)):  # fmt: skip
        for frame in frames:
            data = frame.encode() if isinstance(frame, str) else frame
            await ws.send_frame(data, _web.WSMsgType.BINARY if binary else _web.WSMsgType.TEXT)
        return
    if transport.is_closing():
        raise ConnectionResetError("the WS transport is closing")
    opcode = _OP_BINARY if binary else _OP_TEXT
    parts: list[bytes] = []
    for frame in frames:
        data = frame.encode() if isinstance(frame, str) else frame
        size = len(data)
        if size < 126:
            parts.append(_HEADER_SHORT.pack(opcode, size))
        elif size < 65536:
            parts.append(_HEADER_MEDIUM.pack(opcode, 126, size))
        else:
            parts.append(_HEADER_LONG.pack(opcode, 127, size))
        parts.append(data)
    transport.write(b"".join(parts))
    if protocol._paused:  # the peer reads slowly: wait as aiohttp does
        await protocol._drain_helper()


_HEADER_SHORT = struct.Struct("!BB")
_HEADER_MEDIUM = struct.Struct("!BBH")
_HEADER_LONG = struct.Struct("!BBQ")
