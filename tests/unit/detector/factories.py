"""Small builders for detector tests (views, instruments, results, a wired engine)."""

from __future__ import annotations

from arb_detector.engine import Detector, DetectorParams
from arb_detector.gates import InFlightGate
from arb_detector.sharding import Shard
from arb_structs.market import BookState, BookView, Instrument
from arb_structs.trading import ExecutionResult, ExecutionStatus

NOW = 1_700_000_000_000_000_000  # ns
MS = 1_000_000


def view(
    venue: str,
    asks=(),
    bids=(),
    *,
    symbol: str = "BTC-USDT",
    seq: int = 1,
    state: BookState = BookState.LIVE,
    age_ms: float = 10,
    now: int = NOW,
) -> BookView:
    stamp = now - int(age_ms * MS)
    return BookView(
        venue=venue,
        symbol=symbol,
        state=state,
        seq=seq,
        bids=list(bids),
        asks=list(asks),
        ts_event=stamp - 2 * MS,
        ts_recv=stamp,
        ts_book=stamp + MS // 10,
        ts_update=stamp,
    )


def instrument(
    venue: str,
    symbol: str = "BTC-USDT",
    *,
    tick: str = "0.01",
    lot: str = "0.0001",
    fee: str = "0.001",
    min_notional: str = "0",
) -> Instrument:
    base, quote = symbol.split("-")
    return Instrument(
        venue=venue,
        symbol=symbol,
        venue_symbol=symbol.replace("-", ""),
        base=base,
        quote=quote,
        tick_size=tick,
        lot_size=lot,
        min_notional=min_notional,
        taker_fee=fee,
    )


def result(
    opportunity_id: str,
    status: ExecutionStatus,
    *,
    symbol: str = "BTC-USDT",
    buy: str = "binance",
    sell: str = "okx",
) -> ExecutionResult:
    return ExecutionResult(
        opportunity_id=opportunity_id,
        symbol=symbol,
        buy_venue=buy,
        sell_venue=sell,
        status=status,
        mode="paper",
    )


def detector(
    venues=("binance", "okx"),
    symbols=("BTC-USDT",),
    *,
    quote: float = 1_000_000.0,
    base: float = 100.0,
    shard: Shard | None = None,
    **params,
) -> Detector:
    params.setdefault("min_edge_bps", 5.0)
    gate = InFlightGate(
        timeout_ns=params.pop("timeout_ns", 2_000 * MS),
        reprice_fraction=params.pop("reprice_fraction", 0.0005),
        cooldown_ns=params.pop("cooldown_ns", 3_000 * MS),
    )
    engine = Detector(DetectorParams(**params), gate, shard)
    for venue in venues:
        balances: dict[str, float] = {}
        for symbol in symbols:
            engine.set_instrument(instrument(venue, symbol))
            b, q = symbol.split("-")
            balances[b] = base
            balances[q] = quote
        engine.set_balances(venue, balances)
    return engine
