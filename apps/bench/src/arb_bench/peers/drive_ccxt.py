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

What ccxt cannot replay here: Kraken v1 (ccxt.pro speaks Kraken WS v2 only). Coinbase's
recording is the Exchange ``level2`` feed, ccxt's ``coinbaseexchange``.
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
}
EXCHANGE = {"binance": "binance", "okx": "okx", "bybit": "bybit",
            "coinbase": "coinbaseexchange", "kraken": "kraken"}  # fmt: skip


def _market(venue: str, market_id: str) -> dict[str, Any]:
    """A market record as ``load_markets`` would leave it, for one recorded instrument."""
    if venue == "kraken":
        base, quote = market_id.split("/")
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

    exchange = getattr(ccxt.pro, EXCHANGE[venue])(
        {"options": {"watchOrderBook": {"checksum": checksum}}}
    )
    exchange.set_markets([_market(venue, m) for m in market_ids])
    client = exchange.client(URL[venue])
    for market_id in market_ids:
        symbol = exchange.markets_by_id[market_id][0]["symbol"]
        # what watch_order_book leaves behind: the subscription and an empty book
        hash_ = {"binance": f"orderbook::{symbol}", "okx": f"books:{symbol}",
                 "bybit": f"orderbook:{symbol}", "coinbase": f"level2:{market_id}",
                 "kraken": f"orderbook:{symbol}"}[venue]  # fmt: skip
        client.subscriptions[hash_] = {"symbol": symbol, "limit": 1000, "type": "spot",
                                       "params": {}}  # fmt: skip
        if venue == "binance":
            exchange.orderbooks[symbol] = exchange.order_book({}, 1000)
    return exchange, client


def measure(venue: str, protocol: str | None, frames: Frames, loops: int) -> dict[str, Any]:
    if venue == "kraken" and protocol == "v1":
        return {"unsupported": "ccxt.pro speaks Kraken WS v2 only"}
    if venue not in URL:
        return {"unsupported": f"no ccxt driver for {venue} yet"}
    market_ids = recorded_ids.market_ids(venue, frames)

    final: list[Any] = []

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
            body = json.loads(snapshot_bodies.pop(symbol))
            book = exchange.parse_order_book(body, symbol)
            book["nonce"] = exchange.safe_integer(body, "lastUpdateId")
            return book

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
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        final[:] = list(exchange.orderbooks.values())
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
    checks = {"books": books, "markets": len(market_ids), "checksum": checksum}
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
