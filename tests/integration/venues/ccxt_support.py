"""What every ccxt.pro test against a venue's simulator does: watch a book while the simulated
market moves (each book seen must be uncrossed and sorted), then stop the market and read
ccxt's own book once the last pushes have arrived, beside the simulator's (the truth)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from arb_simulator import VenueMarket

Levels = list[tuple[float, float]]
Book = tuple[Levels, Levels]  # bids, asks


def top(levels: Any, depth: int = 10) -> Levels:
    return [(float(level[0]), float(level[1])) for level in list(levels)[:depth]]


async def watch_while_moving(exchange: Any, market: VenueMarket, *, unified: str = "BTC/USDT",
                             limit: int | None = None, seconds: float = 4.0,
                             timeout_s: float = 20.0, depth: int = 10) -> int:  # fmt: skip
    """Step the market every 20 ms for ``seconds`` while ccxt's ``watch_order_book`` runs;
    returns how many books it gave (each checked uncrossed and sorted)."""
    stop = asyncio.Event()

    async def move() -> None:
        while not stop.is_set():
            market.market.step()
            await asyncio.sleep(0.02)

    mover = asyncio.create_task(move())
    try:
        books = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            book = await asyncio.wait_for(exchange.watch_order_book(unified, limit), timeout_s)
            bids, asks = top(book["bids"], depth), top(book["asks"], depth)
            assert bids and asks and bids[0][0] < asks[0][0], (bids[:1], asks[:1])  # uncrossed
            assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
            books += 1
        return books
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await mover


async def settled(exchange: Any, market: VenueMarket, *, symbol: str = "BTC-USDT",
                  unified: str = "BTC/USDT", depth: int = 10,
                  wait_s: float = 5.0) -> tuple[Book, Book]:  # fmt: skip
    """(ccxt's book, the simulator's), top ``depth`` a side, once they agree or ``wait_s``
    has passed: the market has stopped, so the pushes still on the wire are the last ones."""
    truth = market.book(symbol)
    want = (top(truth.bids, depth), top(truth.asks, depth))
    got: Book = ([], [])
    for _ in range(int(wait_s / 0.05)):
        book = exchange.orderbooks[unified]
        got = (top(book["bids"], depth), top(book["asks"], depth))
        if got == want:
            break
        await asyncio.sleep(0.05)
    return got, want
