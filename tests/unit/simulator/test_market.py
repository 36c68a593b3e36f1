"""The simulated market: fair prices, venue books, dislocations (pure, stepped by hand)."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from arb_simulator.book import BookParams
from arb_simulator.catalog import make_instrument, venue_symbol
from arb_simulator.market import Market, MarketConfig, VenueParams
from arb_simulator.pricing import FairPrice
from arb_structs import Side
from arb_venues.simapi import SimBookUpdate

pytestmark = pytest.mark.unit


def fake_clock(start: int = 1_700_000_000_000_000_000, step: int = 20_000_000):
    counter = itertools.count()
    return lambda: start + next(counter) * step


def make_market(**overrides) -> Market:
    config = MarketConfig(**overrides)
    return Market(config, clock_ns=fake_clock())


def test_fair_price_is_deterministic_under_a_seed() -> None:
    first = FairPrice(100.0, 0.8, 0.02, seed=7)
    second = FairPrice(100.0, 0.8, 0.02, seed=7)
    other = FairPrice(100.0, 0.8, 0.02, seed=8)
    path_first = [first.step() for _ in range(500)]
    path_second = [second.step() for _ in range(500)]
    path_other = [other.step() for _ in range(500)]
    assert path_first == path_second
    assert path_first != path_other
    assert len(set(path_first)) > 400  # it actually moves


def test_fair_price_lag_looks_back_in_steps() -> None:
    fair = FairPrice(100.0, 0.8, 0.02, seed=1)
    path = [fair.step() for _ in range(10)]
    assert fair.lagged(0) == path[-1]
    assert fair.lagged(3) == path[-4]


def test_same_seed_gives_the_same_books_and_updates() -> None:
    def run() -> list[SimBookUpdate]:
        market = make_market(seed=3, venues=("binance", "okx"))
        seen: list[SimBookUpdate] = []
        market.subscribe("okx", seen.append)
        for _ in range(50):
            market.step()
        return seen

    first, second = run(), run()
    assert [(u.seq, u.bids, u.asks) for u in first] == [(u.seq, u.bids, u.asks) for u in second]


def test_updates_hold_only_changed_levels_and_seq_counts_per_book() -> None:
    market = make_market(venues=("binance",), venue=VenueParams(rate=200.0))
    mirror = {symbol: market.book("binance", symbol).snapshot() for symbol in market.symbols}
    books = {s: ({p: q for p, q in b.bids}, {p: q for p, q in b.asks}) for s, b in mirror.items()}
    last_seq = {s: b.seq for s, b in mirror.items()}
    seen: list[SimBookUpdate] = []
    market.subscribe("binance", seen.append)
    for _ in range(100):
        market.step()
    assert len(seen) == 400  # 200/s for 2 s
    for update in seen:
        assert update.seq == last_seq[update.symbol] + 1
        last_seq[update.symbol] = update.seq
        assert update.bids or update.asks
        bids, asks = books[update.symbol]
        for side, levels in ((bids, update.bids), (asks, update.asks)):
            for price, size in levels:
                if size == 0:
                    assert price in side  # a delete names a level the book had
                    del side[price]
                else:
                    side[price] = size
    for symbol, (bids, asks) in books.items():
        book = market.book("binance", symbol).snapshot()
        assert dict(book.bids) == bids  # applying the deltas rebuilds the book exactly
        assert dict(book.asks) == asks


def test_books_sit_on_the_venue_grid_with_full_depth() -> None:
    market = make_market(venue=VenueParams(book=BookParams(depth=50)))
    for _ in range(20):
        market.step()
    for venue in market.venues:
        for symbol in market.symbols:
            instrument = make_instrument(venue, symbol)
            tick, lot = Decimal(instrument.tick_size), Decimal(instrument.lot_size)
            book = market.book(venue, symbol).snapshot()
            assert len(book.bids) >= 45 and len(book.asks) >= 45
            for price, size in book.bids + book.asks:
                assert price % tick == 0 and size % lot == 0 and size > 0
            sizes = [size for _, size in book.asks]
            assert sum(sizes[-10:]) > sum(sizes[:10])  # deeper levels are bigger


def test_books_never_cross_within_or_across_venues_without_a_dislocation() -> None:
    market = make_market(seed=11, volatility=2.0, venue=VenueParams(rate=400.0))
    for _ in range(300):
        market.step()
        for symbol in market.symbols:
            bids, asks = [], []
            for venue in market.venues:
                bid, ask = market.book(venue, symbol).best()
                assert bid is not None and ask is not None and bid < ask
                bids.append(bid)
                asks.append(ask)
            assert max(bids) < min(asks), symbol


def test_injected_dislocation_crosses_every_other_venue_by_its_bps_then_ends() -> None:
    clock_values = iter(range(0, 10**12, 20_000_000))
    market = Market(MarketConfig(), clock_ns=lambda: next(clock_values))
    truths = []
    market.truth_listeners.append(truths.append)
    market.step()
    event = market.inject("kraken", "ETH-USDT", "down", bps=30.0, size=1.5, duration_s=0.5)
    assert truths == [event]
    assert (event.venue, event.symbol, event.direction, event.bps) == (
        "kraken",
        "ETH-USDT",
        "down",
        30.0,
    )
    assert event.size == 1.5 and event.end_ns - event.start_ns == 500_000_000
    crossed_steps = 0
    while market.active_dislocations():
        book = market.book("kraken", "ETH-USDT")
        _, ask = book.best()
        bid, _ = book.best()
        assert bid is not None and ask is not None and bid < ask  # its own book stays sane
        for venue in ("binance", "okx", "bybit", "coinbase"):
            other_bid, _ = market.book(venue, "ETH-USDT").best()
            assert other_bid is not None and ask <= other_bid * Decimal(1 - 30 / 1e4)
        best_ask_size = dict(book.snapshot().asks)[ask]
        assert best_ask_size == Decimal("1.5")
        crossed_steps += 1
        market.step()
    assert crossed_steps >= 20
    _, ask = market.book("kraken", "ETH-USDT").best()
    bids = [market.book(v, "ETH-USDT").best()[0] for v in market.venues]
    assert ask is not None and all(b is not None and b < ask for b in bids)


def test_up_dislocation_puts_a_rich_bid_above_every_other_ask() -> None:
    market = make_market()
    market.step()
    market.inject("binance", "BTC-USDT", "up", bps=45.0, size=0.2, duration_s=1.0)
    bid, ask = market.book("binance", "BTC-USDT").best()
    assert bid is not None and ask is not None and bid < ask
    for venue in ("okx", "bybit", "kraken", "coinbase"):
        _, other_ask = market.book(venue, "BTC-USDT").best()
        assert other_ask is not None and bid >= other_ask * Decimal(1 + 45 / 1e4)


def test_second_dislocation_on_the_same_book_is_refused() -> None:
    market = make_market()
    market.inject("okx", "SOL-USDT", "up", 30.0, 10.0, 1.0)
    with pytest.raises(ValueError, match="already dislocated"):
        market.inject("okx", "SOL-USDT", "down", 30.0, 10.0, 1.0)
    with pytest.raises(ValueError, match="not simulated"):
        market.inject("okx", "DOGE-USDT", "down", 30.0, 10.0, 1.0)
    with pytest.raises(ValueError, match="direction"):
        market.inject("bybit", "SOL-USDT", "sideways", 30.0, 10.0, 1.0)


def test_venue_symbols_use_each_venue_spelling() -> None:
    spelled = {
        v: venue_symbol(v, "BTC-USDT") for v in ("binance", "okx", "bybit", "kraken", "coinbase")
    }
    assert spelled == {
        "binance": "BTCUSDT",
        "okx": "BTC-USDT",
        "bybit": "BTCUSDT",
        "kraken": "BTC/USDT",
        "coinbase": "BTC-USDT",
    }


@pytest.mark.parametrize("direction", ["up", "down"])
@pytest.mark.parametrize("symbol", ["BTC-USDT", "ETH-USDT", "SOL-USDT"])
def test_dislocated_book_never_locks_or_crosses_itself(symbol: str, direction: str) -> None:
    # A crossing level a few dozen bps out lies inside the opposite side's ladder when levels
    # are one tick apart (SOL): that level must leave, or the venue shows a locked book.
    market = make_market(seed=5, venue=VenueParams(rate=200.0))
    market.step()
    for bps in (25.0, 40.0, 60.0):
        market.inject("binance", symbol, direction, bps=bps, size=0.5, duration_s=0.3)
        steps = 0
        while market.active_dislocations():
            bid, ask = market.book("binance", symbol).best()
            assert bid is not None and ask is not None and bid < ask, (bps, steps)
            market.step()
            steps += 1
        assert steps > 5


def test_book_snapshot_is_shared_until_the_book_changes_and_then_follows_every_change() -> None:
    """Every connection of a tick reads the same snapshot object; any change (a tick, a fill,
    scripted levels, a dislocation) makes the next snapshot the book as the deltas built it."""
    market = make_market(venues=("okx",), venue=VenueParams(rate=100.0))
    book = market.book("okx", "BTC-USDT")
    first = book.snapshot()
    assert book.snapshot() is first  # nothing changed: one snapshot for every reader
    mirror = (dict(first.bids), dict(first.asks))

    def follow(update: SimBookUpdate) -> None:
        if update.symbol != "BTC-USDT":
            return
        for side, levels in zip(mirror, (update.bids, update.asks), strict=True):
            for price, size in levels:
                if size:
                    side[price] = size
                else:
                    side.pop(price, None)

    def check() -> None:
        snap = book.snapshot()
        assert snap.seq == book.seq
        assert (dict(snap.bids), dict(snap.asks)) == mirror

    market.subscribe("okx", follow)
    for _ in range(5):
        market.step()
        check()
    best_ask = book.snapshot().asks[0][0]
    _, update = book.take(Side.BUY, best_ask, 1, 0)  # a fill shrinks the touch
    assert update is not None
    follow(update)
    check()
    follow(book.set_levels([(best_ask - 5 * book.tick, book.lot)], [], 0))
    check()
    market.inject("okx", "BTC-USDT", "down", 30.0, 0.01, 0.05)
    for _ in range(10):  # the dislocation starts, moves and ends within these ticks
        market.step()
        check()
