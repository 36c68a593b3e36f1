"""ccxt (ccxt.pro, the WebSocket side), fed the recorded frames without a network.

Per frame: the WS client's own ``Client.handle_text_or_binary_message(raw)``, the call its
receive loop makes for every text frame: JSON decode, then the exchange's ``handle_message``,
which routes to its ``handle_order_book`` and keeps the book in ccxt's ``OrderBook`` /
``OrderBookSide`` classes (floats) and resolves the watcher's message hash. Checks are ccxt's
own: Binance's ``U``/``u`` continuity (with its snapshot-then-buffered-diffs start), OKX's
``seqId``/``prevSeqId`` (the 2022 recording has none, and ccxt no longer checks OKX's
checksum), Kraken v2's CRC32 with ``watchOrderBook.checksum`` turned on (when it runs: see
``note``). Set-up outside the timing: markets from the recording instead of ``load_markets``,
one order book per symbol as ``watch_order_book`` would open it, and the subscription entries a
watcher leaves on the client. Binance's REST snapshot (a ``rest`` frame) is given to the
exchange's own ``fetch_order_book_snapshot`` with the network step answered by the recorded
body, parsed with the exchange's ``parse_order_book``, inside the timing like every frame.
An exchange object is built fresh for every pass.

Gate and KuCoin buffer updates until a REST snapshot; ccxt asks for it (``load_order_book``)
after its own count of buffered updates (``snapshotDelay``), here where the recorder asked
instead (its ``rest`` frame, inside the timing; ``snapshotDelay`` set beyond the recording and
the rate limiter off, no network). KuCoin: the exchange's own ``fetch_order_book`` with a
throwaway key, so it asks for the signed full book the recorder asked for, its HTTP step
answered by the recorded body; ccxt drops stale updates but checks no gap. Gate: ccxt 4.5's
``fetch_order_book`` wants the ``current`` field the 2021 snapshot has not, so the body goes
through the exchange's ``parse_order_book`` with ``id`` as nonce, as for Binance; its rule
(``U`` == nonce + 1) is ccxt's. Bitfinex: its channels come from the recorded ``subscribed``
events; ccxt reads no SEQ_ALL number and the recording has no OB_CHECKSUM frames.

What ccxt cannot replay here: Kraken v1 (ccxt.pro speaks Kraken WS v2 only); HTX (its spot
book is the incremental ``mbp`` feed; the recording is ``depth.step0`` whole-book pushes).
Coinbase's recording is the Exchange ``level2`` feed, ccxt's ``coinbaseexchange``.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

from arb_bench.peers import recorded_ids

MEASURES = ("Client.handle_text_or_binary_message per frame (JSON decode, "
            "exchange.handle_message -> handle_order_book, OrderBook sides)")  # fmt: skip

Frames = list[tuple[str, str, float, str]]

URL = {
    "binance": "wss://stream.binance.com:9443/stream",
    "okx": "wss://ws.okx.com:8443/ws/v5/public",
    "bybit": "wss://stream.bybit.com/v5/public/linear",
    "coinbase": "wss://ws-feed.exchange.coinbase.com",
    "kraken": "wss://ws.kraken.com/v2",
    "bitfinex": "wss://api.bitfinex.com/ws/2",
    "gateio": "wss://api.gateio.ws/ws/v4/",
    "kucoin": "wss://push-private.kucoin.com/endpoint?token=TOKEN",
}
EXCHANGE = {"binance": "binance", "okx": "okx", "bybit": "bybit",
            "coinbase": "coinbaseexchange", "kraken": "kraken", "bitfinex": "bitfinex",
            "gateio": "gate", "kucoin": "kucoin"}  # fmt: skip
# Gate and KuCoin: the snapshot is asked for where the recorder asked (its ``rest`` frame), not
# after ccxt's own count of buffered updates, which is set beyond any recording
SNAPSHOT_AT_REST_FRAME = ("gateio", "kucoin")
# the snapshot's update id where ccxt's own REST parsing is stood in for (see the docstring)
NONCE = {"binance": "lastUpdateId", "gateio": "id"}


def _market(venue: str, market_id: str) -> dict[str, Any]:
    """A market record as ``load_markets`` would leave it, for one recorded instrument."""
    if venue == "kraken":
        base, quote = market_id.split("/")
        spot = True
    elif venue == "bitfinex":  # tBTCUSD, tTESTBTC:TESTUSD
        pair = market_id[1:]
        base, quote = pair.split(":") if ":" in pair else (pair[:3], pair[3:])
        spot = True
    elif venue == "gateio":
        base, quote = market_id.split("_")
        spot = True
    elif venue == "kucoin":
        base, quote = market_id.split("-")
        spot = True
    elif venue in ("okx", "coinbase"):
        base, quote = market_id.split("-")[:2]
        spot = market_id.count("-") == 1
    else:  # binance, bybit: concatenated; the quote is one of the usual ones
        quote = next(q for q in ("USDT", "USDC", "BTC", "ETH", "EUR", "BNB") if
                     market_id.endswith(q))  # fmt: skip
        base = market_id[: -len(quote)]
        spot = venue == "binance"
    symbol = f"{base}/{quote}" if spot else f"{base}/{quote}:{quote}"
    if venue == "okx" and not spot:
        symbol = f"{market_id}"  # futures and swaps keep their own id as symbol here
    return {
        "id": market_id, "symbol": symbol, "base": base, "quote": quote, "baseId": base,
        "quoteId": quote, "type": "spot" if spot else "swap", "spot": spot, "swap": not spot,
        "future": False, "option": False, "contract": not spot, "linear": None if spot else True,
        "inverse": None, "active": True, "precision": {}, "limits": {},
        "info": {"wsname": market_id} if venue == "kraken" else {},
    }  # fmt: skip


def _exchange(venue: str, market_ids: list[str], checksum: bool) -> tuple[Any, Any]:
    import ccxt.pro

    options: dict[str, Any] = {"checksum": checksum}
    config: dict[str, Any] = {}
    if venue in SNAPSHOT_AT_REST_FRAME:
        options["snapshotDelay"] = 10**9
        # the recorded request's own throttle is no work of the book; the network is answered
        config["enableRateLimit"] = False
    if venue == "kucoin":
        # with a key, ccxt asks the signed full book (/api/v3), the request the recorder made; the
        # key signs and is never sent (the request is answered from the recording)
        config.update(apiKey="replay", secret="replay", password="replay")
    exchange = getattr(ccxt.pro, EXCHANGE[venue])({"options": {"watchOrderBook": options},
                                                   **config})  # fmt: skip
    exchange.set_markets([_market(venue, m) for m in market_ids])
    client = exchange.client(URL[venue])
    for market_id in market_ids:
        symbol = exchange.markets_by_id[market_id][0]["symbol"]
        # what watch_order_book leaves behind: the subscription and an empty book
        if venue == "bitfinex":
            continue  # its channels are the recorded "subscribed" events, kept by ccxt itself
        hash_ = _book_hash(venue, market_id, symbol)
        # Gate: the recorder's limit (ccxt's spot default is 50); KuCoin: none, the full book
        limit = {"gateio": 100, "kucoin": None}.get(venue, 1000)
        client.subscriptions[hash_] = {"symbol": symbol, "limit": limit, "type": "spot",
                                       "params": {}}  # fmt: skip
        if venue in ("binance", "gateio"):  # their handle_order_book_subscription's book
            exchange.orderbooks[symbol] = exchange.order_book({}, limit)
    return exchange, client


def _book_hash(venue: str, market_id: str, symbol: str) -> str:
    """The subscription key ``watch_order_book`` leaves on the client."""
    return {"binance": f"orderbook::{symbol}", "okx": f"books:{symbol}",
            "bybit": f"orderbook:{symbol}", "coinbase": f"level2:{market_id}",
            "kraken": f"orderbook:{symbol}", "gateio": f"orderbook:{symbol}",
            "kucoin": f"/market/level2:{market_id}"}[venue]  # fmt: skip


def _rest_id(url: str) -> str:
    query = parse_qs(urlparse(url).query)
    return (query.get("symbol") or query["currency_pair"])[0]


def measure(venue: str, protocol: str | None, frames: Frames, loops: int) -> dict[str, Any]:
    if venue == "kraken" and protocol == "v1":
        return {"unsupported": "ccxt.pro speaks Kraken WS v2 only"}
    if venue == "htx":
        return {"unsupported": "ccxt.pro's HTX spot book is the mbp.<n> incremental feed; the "
                "recording is depth.step0 whole-book pushes, which ccxt only buffers "
                "waiting for an mbp snapshot"}  # fmt: skip
    if venue not in URL:
        return {"unsupported": f"no ccxt driver for {venue} yet"}
    market_ids = recorded_ids.market_ids(venue, frames)

    final: list[Any] = []
    refused: list[str] = []  # books whose recorded snapshot ccxt would not start from

    async def one_pass(checksum: bool) -> tuple[float, float, int]:
        exchange, client = _exchange(venue, market_ids, checksum)
        try:
            return await _timed(exchange, client)
        finally:
            await exchange.close()

    async def _timed(exchange: Any, client: Any) -> tuple[float, float, int]:
        handle = client.handle_text_or_binary_message
        by_symbol = {m: exchange.markets_by_id[m][0]["symbol"] for m in market_ids}
        snapshot_bodies: dict[str, str] = {}

        async def recorded_snapshot(symbol: str, limit: Any = None, params: Any = None) -> Any:
            body = json.loads(snapshot_bodies[symbol])
            book = exchange.parse_order_book(body, symbol)
            book["nonce"] = exchange.safe_integer(body, NONCE[venue])
            return book

        async def recorded_fetch(url: str, *_: Any, **__: Any) -> Any:
            return json.loads(snapshot_bodies[by_symbol[_rest_id(url)]])

        if venue == "kucoin":  # the exchange's own fetch_order_book, its request answered
            exchange.fetch = recorded_fetch
        else:
            exchange.fetch_rest_order_book_safe = recorded_snapshot
        cpu_started, started = time.process_time(), time.perf_counter()
        for kind, url, _, raw in frames:
            if kind == "ws":
                handle(raw)
            elif venue == "binance":
                market_id = parse_qs(urlparse(url).query)["symbol"][0]
                symbol = by_symbol[market_id]
                snapshot_bodies[symbol] = raw
                subscription = {"symbol": symbol, "limit": 1000, "type": "spot", "params": {}}
                await exchange.fetch_order_book_snapshot(client, None, subscription)
            elif venue in SNAPSHOT_AT_REST_FRAME:
                market_id = _rest_id(url)
                symbol = by_symbol[market_id]
                snapshot_bodies[symbol] = raw
                hash_ = _book_hash(venue, market_id, symbol)
                limit = client.subscriptions[hash_]["limit"]
                await exchange.load_order_book(client, f"orderbook:{symbol}", symbol, limit, {})
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        final[:] = list(exchange.orderbooks.values())
        if venue in SNAPSHOT_AT_REST_FRAME:
            nonce = {s: exchange.safe_integer(b, "nonce") for s, b in exchange.orderbooks.items()}
            refused[:] = [s for s in by_symbol.values() if nonce.get(s) is None]
        return seconds, cpu, len(exchange.orderbooks)

    loop = asyncio.new_event_loop()
    checksum = venue == "kraken"  # the only venue here whose checksum ccxt can check
    note = ""
    try:
        if checksum:
            try:
                loop.run_until_complete(one_pass(True))
            except Exception as exc:
                checksum = False
                note = (
                    f"ccxt's own Kraken checksum fails on its float levels "
                    f"({type(exc).__name__}: {exc}); measured with it off, ccxt's default"
                )
        seconds, cpu_seconds = [], []
        books = 0
        for _ in range(loops):
            spent, cpu, books = loop.run_until_complete(one_pass(checksum))
            seconds.append(spent)
            cpu_seconds.append(cpu)
    finally:
        loop.close()
    checks: dict[str, Any] = {"books": books, "markets": len(market_ids), "checksum": checksum}
    if refused:
        checks["snapshots_refused"] = list(refused)
        note = (
            f"ccxt refused the recorded snapshot of {', '.join(refused)} ('nonce is behind the "
            "cache'): its start rule wants the snapshot id >= the first buffered update's "
            "first id, the venue's allows id + 1; live it would ask again, a replay has only "
            "the recorded snapshot, so that book ends empty"
        )
    tops = sorted((_top(b) for b in final), key=str)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "checks": checks,
        "note": note,
        "measures": MEASURES,
        "tops": tops,
    }


def _top(book: Any) -> list[float | None]:
    bid = float(book["bids"][0][0]) if len(book["bids"]) else None
    ask = float(book["asks"][0][0]) if len(book["asks"]) else None
    return [bid, ask]
