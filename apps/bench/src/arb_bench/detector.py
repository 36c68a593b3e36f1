"""Detection cost per book update: the engine only (no Redis), on realistic books.

5 venues x 20 symbols x 20 levels a side. Each symbol's fair price walks; every venue quotes
around it with its own noise and a spread of a few ticks, so most updates show no
cross-venue edge after fees. A few percent of updates dislocate one venue by 25-45 bps, which
the detector must size through both books. Each timed step is what the service does per view:
``apply_view`` then ``detect`` (the 8 ordered pairs touching that book). Opportunities are
resolved at once (as if executed) so the in-flight gate does not hide the search.

    python -m arb_bench.detector 5
"""

from __future__ import annotations

import json
import math
import random
import statistics
import sys
import time

from arb_detector.engine import Detector, DetectorParams
from arb_detector.gates import InFlightGate
from arb_structs import VenueSymbol
from arb_structs.codec import BOOK
from arb_structs.market import BookState, BookView, Instrument
from arb_structs.trading import ExecutionResult, ExecutionStatus

# Five synthetic venues with illustrative taker fees (fractions): the point is that they
# differ per venue; the engine knows venues only by name.
FEES = {
    "venue-a": "0.001",
    "venue-b": "0.001",
    "venue-c": "0.001",
    "venue-d": "0.0025",
    "venue-e": "0.002",
}
VENUES = tuple(FEES)
SYMBOLS = 20
LEVELS = 20
DISLOCATION_RATE = 0.03
POOL = 4_000


def _tick_for(price: float) -> float:
    return 10.0 ** math.floor(math.log10(price) - 4)  # about 1 bp or finer


def _views(rng: random.Random, symbols: list[str], fair: dict[str, float]) -> list[BookView]:
    """A pool of consecutive updates, one random (venue, symbol) book each."""
    out: list[BookView] = []
    seqs = dict.fromkeys(((v, s) for v in VENUES for s in symbols), 0)
    for _ in range(POOL):
        venue = rng.choice(VENUES)
        symbol = rng.choice(symbols)
        fair[symbol] *= 1.0 + rng.gauss(0.0, 0.5e-4)
        mid = fair[symbol] * (1.0 + rng.gauss(0.0, 1e-4))
        if rng.random() < DISLOCATION_RATE:
            mid *= 1.0 + rng.choice((-1, 1)) * rng.uniform(25e-4, 45e-4)
        tick = _tick_for(fair[symbol])
        best_bid = math.floor(mid / tick - rng.randint(1, 3)) * tick
        best_ask = math.ceil(mid / tick + rng.randint(1, 3)) * tick
        level_size = 5_000.0 / mid  # about 5,000 quote a level
        bids = []
        asks = []
        gap = 0.0
        for i in range(LEVELS):
            # Levels 1-3 ticks apart, best first (the detector refuses out-of-order books).
            gap += rng.randint(1, 3) * tick if i else 0.0
            bids.append((round(best_bid - gap, 10), round(level_size * rng.uniform(0.2, 3.0), 6)))
            asks.append((round(best_ask + gap, 10), round(level_size * rng.uniform(0.2, 3.0), 6)))
        seqs[(venue, symbol)] += 1
        out.append(
            BookView(
                venue=venue,
                symbol=symbol,
                state=BookState.LIVE,
                seq=seqs[(venue, symbol)],
                bids=bids,
                asks=asks,
                ts_event=0,
                ts_recv=0,
                ts_book=0,
                ts_update=0,
            )
        )
    return out


def _engine(symbols: list[str], fair: dict[str, float]) -> Detector:
    params = DetectorParams(
        min_edge_bps=5.0,
        min_net_profit=0.01,
        max_notional=20_000.0,
        max_book_age_ns=2**62,  # the pool's stamps are not real times; freshness is still checked
    )
    gate = InFlightGate(timeout_ns=2_000_000_000, reprice_fraction=5e-4, cooldown_ns=0)
    engine = Detector(params, gate)
    for venue in VENUES:
        free: dict[str, float] = {"USDT": 1e6}
        for symbol in symbols:
            base = symbol.split("-")[0]
            free[base] = 1e6 / fair[symbol]
            tick = _tick_for(fair[symbol])
            engine.set_instrument(
                Instrument(
                    venue=venue,
                    symbol=symbol,
                    venue_symbol=VenueSymbol(symbol),
                    base=base,
                    quote="USDT",
                    tick_size=f"{tick:.10f}",
                    lot_size="0.000001",
                    min_notional="5",
                    taker_fee=FEES[venue],
                )
            )
        engine.set_balances(venue, free)
    return engine


def _percentile(sorted_values: list[int], fraction: float) -> float:
    index = min(len(sorted_values) - 1, int(fraction * len(sorted_values)))
    return sorted_values[index] / 1000.0


def run(seconds: float) -> dict[str, float | int | str]:
    """Time ``apply_view`` + ``detect`` per book update for about ``seconds``; microseconds."""
    rng = random.Random(20240611)
    symbols = [f"S{i:02d}-USDT" for i in range(SYMBOLS)]
    fair = {s: 10.0 ** rng.uniform(-1.0, 4.5) for s in symbols}
    engine = _engine(symbols, fair)
    pool = _views(rng, symbols, dict(fair))
    for view in pool[: len(VENUES) * SYMBOLS * 3]:  # warm: every book present
        engine.apply_view(view)
    engine.detect(0)

    samples: list[int] = []
    hits: list[int] = []
    found_total = 0
    clock = time.perf_counter_ns
    end = time.perf_counter() + seconds
    index = 0
    while time.perf_counter() < end:
        for view in pool:
            start = clock()
            engine.apply_view(view)
            found = engine.detect(index)
            elapsed = clock() - start
            samples.append(elapsed)
            index += 1
            if found:
                hits.append(elapsed)
                found_total += len(found)
                for opportunity in found:
                    engine.resolve(_filled(opportunity.id, opportunity), index)
        if time.perf_counter() >= end:
            break

    payload = BOOK.encode(pool[0])
    decode_start = clock()
    for _ in range(2_000):
        BOOK.decode(payload)
    decode_us = (clock() - decode_start) / 2_000 / 1000.0

    samples.sort()
    hits.sort()
    return {
        "venues": len(VENUES),
        "symbols": SYMBOLS,
        "levels": LEVELS,
        "updates": len(samples),
        "opportunities": found_total,
        "updates_with_opportunity": len(hits),
        "mean_us": statistics.fmean(samples) / 1000.0,
        "p50_us": _percentile(samples, 0.50),
        "p99_us": _percentile(samples, 0.99),
        "max_us": samples[-1] / 1000.0,
        "with_opportunity_p50_us": _percentile(hits, 0.50) if hits else 0.0,
        "with_opportunity_p99_us": _percentile(hits, 0.99) if hits else 0.0,
        "decode_view_us": decode_us,
        "scope": "apply_view + detect per update, no Redis; decode_view_us apart",
    }


def _filled(opportunity_id: str, opportunity: object) -> ExecutionResult:
    return ExecutionResult(
        opportunity_id=opportunity_id,
        symbol=getattr(opportunity, "symbol", ""),
        buy_venue=getattr(opportunity, "buy_venue", ""),
        sell_venue=getattr(opportunity, "sell_venue", ""),
        status=ExecutionStatus.FILLED,
        mode="paper",
    )


if __name__ == "__main__":
    print(json.dumps(run(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0), indent=2))
