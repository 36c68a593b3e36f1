"""cryptofeed, fed the recorded frames without a network.

Per frame: the feed's own ``message_handler(raw, conn, ts)``, the coroutine its WS connection
handler awaits for every message. That is cryptofeed's JSON decode (yapic, Decimal numbers),
its per-venue book code on its ``OrderBook`` (the C ``order_book`` package) and its
``book_callback`` to one no-op L2_BOOK callback, with ``checksum_validation=True`` (OKX's and
Kraken's CRC32, computed by ``order_book``) and its sequence rule where it has one (Binance's
``U``/``u``). Set-up outside the timing: the symbol table is filled from the recording instead
of the venue's REST listing; Binance's REST snapshot request (``http_conn.read``) is answered
with the recorded snapshot of that symbol (Gate's and KuCoin's the same way, by
``currency_pair`` / ``symbol``). A feed object is built fresh for every pass. Bitfinex: its
handler checks the connection's SEQ_ALL number on every message (the 2021 recording has no
OB_CHECKSUM frames). HTX: the recording is ``depth.step0`` (whole-book pushes), which
cryptofeed speaks; its handler gunzips every frame, so the frames are gzipped again before the
timing (HTX's wire form) and the gunzip's own share is reported apart. KuCoin: the feed's
constructor asks ``bullet-public`` for its endpoint (answered with the recorded one) and its
snapshot request is signed, so it gets a throwaway key; Gate and KuCoin sequence rules are
cryptofeed's own (``U``/``u``, ``sequenceStart``).

What cryptofeed 2.4.1 cannot replay here: Coinbase (it speaks only Advanced Trade
``l2_data``; the recording is the Exchange ``level2`` feed) and Kraken v2 (it speaks v1 only).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time
import zlib
from typing import Any
from urllib.parse import parse_qs, urlparse

from arb_bench.peers.recorded_ids import market_ids

MEASURES = ("Feed.message_handler per frame (yapic JSON, Decimal, order_book OrderBook, "
            "book_callback), checksum_validation=True")  # fmt: skip

Frames = list[tuple[str, str, float, str]]


class _Conn:
    """What the handlers use of a connection: its address, its id, and ``write`` (HTX's
    handler answers the recorded pings; the answer goes nowhere)."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.uuid = "replay"

    async def write(self, msg: str) -> None:
        return None


class _RecordedHttp:
    """Answers the feed's REST snapshot requests with the recorded snapshots, per symbol."""

    def __init__(self, frames: Frames) -> None:
        self.bodies: dict[str, list[str]] = {}
        for kind, url, _, raw in frames:
            if kind == "rest":
                self.bodies.setdefault(_rest_symbol(url), []).append(raw)

    async def read(self, address: str, **_: Any) -> str:
        bodies = self.bodies[_rest_symbol(address)]
        return bodies.pop(0) if len(bodies) > 1 else bodies[0]

    async def close(self) -> None:
        return None


def _rest_symbol(url: str) -> str:
    """The instrument a REST snapshot URL asks for: ``symbol`` (Binance, KuCoin) or
    ``currency_pair`` (Gate)."""
    query = parse_qs(urlparse(url).query)
    return (query.get("symbol") or query["currency_pair"])[0]


class _NoBullet:
    """KuCoin's feed asks ``POST /api/v1/bullet-public`` for its WS endpoint when it is built:
    answered with the recorded endpoint (set-up, outside the timing; no network)."""

    def write(self, address: str, **_: Any) -> dict[str, Any]:
        endpoint = ADDRESS["kucoin"].split("?")[0]
        server = {"endpoint": endpoint, "pingInterval": 18000}
        return {"data": {"token": "TOKEN", "instanceServers": [server]}}


# KuCoin's feed signs its level2 snapshot request (/api/v3, a signed endpoint): a key it can
# sign with, never sent anywhere (the request is answered from the recording).
KUCOIN_REPLAY_KEYS = {"kucoin": {"key_id": "replay", "key_secret": "replay",
                                 "key_passphrase": "replay"}}  # fmt: skip

ADDRESS = {
    "binance": "wss://stream.binance.com:9443/stream",
    "okx": "wss://ws.okx.com:8443/ws/v5/public",
    "bybit": "wss://stream.bybit.com/v5/public/linear",
    "kraken": "wss://ws.kraken.com",
    "bitfinex": "wss://api.bitfinex.com/ws/2",
    "htx": "wss://api.huobi.pro/ws",
    "gateio": "wss://api.gateio.ws/ws/v4/",
    "kucoin": "wss://push-private.kucoin.com/endpoint?token=TOKEN",
}


def _feed_class(venue: str) -> Any:
    from cryptofeed.exchanges import OKX, Binance, Bitfinex, Bybit, Gateio, Huobi, Kraken, KuCoin

    return {"binance": Binance, "okx": OKX, "bybit": Bybit, "kraken": Kraken,
            "bitfinex": Bitfinex, "htx": Huobi, "gateio": Gateio,
            "kucoin": KuCoin}[venue]  # fmt: skip


def measure(venue: str, protocol: str | None, frames: Frames, loops: int) -> dict[str, Any]:
    if venue == "coinbase":
        return {"unsupported": "cryptofeed 2.4.1 speaks only Coinbase Advanced Trade l2_data; "
                "the recording is the Exchange level2 feed"}  # fmt: skip
    if venue == "kraken" and protocol != "v1":
        return {"unsupported": "cryptofeed 2.4.1 speaks Kraken WS v1 only"}
    if venue not in ADDRESS:
        return {"unsupported": f"no cryptofeed driver for {venue} yet"}
    from cryptofeed.defines import L2_BOOK
    from cryptofeed.symbols import Symbols

    cls = _feed_class(venue)
    symbols = market_ids(venue, frames)
    Symbols.set(cls.id, {s: s for s in symbols}, {})
    conn = _Conn(ADDRESS[venue])
    books = 0

    async def on_book(book: Any, receipt: float) -> None:
        nonlocal books
        books += 1

    final: list[Any] = []

    extra: dict[str, Any] = {}
    if venue == "kucoin":
        cls.http_sync = _NoBullet()
        extra["config"] = KUCOIN_REPLAY_KEYS
    # HTX sends every frame gzip and cryptofeed's handler gunzips it; the recording holds the
    # text, so the wire bytes are made again here, outside the timing
    wire = _gzip if venue == "htx" else _as_is
    ws = [(wire(raw), ts) for kind, _, ts, raw in frames if kind == "ws"]

    async def one_pass() -> tuple[float, float]:
        feed = cls(symbols=symbols, channels=[L2_BOOK], callbacks={L2_BOOK: on_book},
                   checksum_validation=True, **extra)  # fmt: skip
        feed.http_conn = _RecordedHttp(frames)
        if hasattr(feed, "_reset"):
            feed._reset()
        handler = feed.message_handler
        cpu_started, started = time.process_time(), time.perf_counter()
        for raw, ts in ws:
            await handler(raw, conn, ts)
        spent, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        final[:] = list(feed._l2_book.values())
        return spent, cpu

    loop = asyncio.new_event_loop()
    try:
        seconds, cpu_seconds = [], []
        for _ in range(loops):
            books = 0
            spent, cpu = loop.run_until_complete(one_pass())
            seconds.append(spent)
            cpu_seconds.append(cpu)
    finally:
        loop.close()
    tops = sorted((_top(b.book) for b in final), key=str)
    checks: dict[str, Any] = {"book_callbacks": books, "symbols": len(symbols)}
    note = ""
    if venue == "htx":
        checks["gunzip_seconds"] = _gunzip_seconds([raw for raw, _ in ws])
        note = (
            "includes cryptofeed's gunzip of every frame (HTX's wire form; ours reads the "
            f"recorded text): {checks['gunzip_seconds']:.6f} s of each pass, timed apart"
        )
    if venue == "kraken":
        checks["checksums_checked"] = _kraken_checked(frames)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "checks": checks,
        "note": note,
        "measures": MEASURES,
        "tops": tops,
    }


def _gunzip_seconds(wire: list[Any]) -> float:
    """What the gunzip alone costs over the frames, the way cryptofeed's HTX handler does it."""
    started = time.perf_counter()
    for raw in wire:
        zlib.decompress(raw, 16 + zlib.MAX_WBITS)
    return round(time.perf_counter() - started, 6)


def _gzip(raw: str) -> bytes | str:
    return gzip.compress(raw.encode())


def _as_is(raw: str) -> bytes | str:
    return raw


def _kraken_checked(frames: Frames) -> int:
    """Kraken v1 updates whose checksum cryptofeed compares: it looks for ``c`` in the first
    side object of a message only, so an update carrying both sides (``c`` in the second) goes
    unchecked. Counted outside the timing, with cryptofeed's own condition."""
    checked = 0
    for kind, _, _, raw in frames:
        msg = json.loads(raw) if kind == "ws" else None
        if isinstance(msg, list) and str(msg[-2]).startswith("book"):
            body = msg[1:-2]
            checked += "as" not in body[0] and "c" in body[0]
    return checked


def _top(book: Any) -> list[float | None]:
    bid = float(book.bids.index(0)[0]) if len(book.bids) else None
    ask = float(book.asks.index(0)[0]) if len(book.asks) else None
    return [bid, ask]
