"""Executor latency bench, in process: opportunity received -> both orders sent (paper).

Measured per opportunity: decode the stream payload, risk checks, journal (in memory),
both legs handed to the PaperGateway (zero latency, in-memory book). Redis is not part of
the measured path; the SET NX + kill-switch read adds one round trip in the service.

    python -c "from arb_executor.bench import run; print(run(2.0))"
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

from arb_structs import BookView, Opportunity
from arb_structs.codec import OPPORTUNITY
from arb_structs.market import BookState

from arb_executor.gateway import PaperGateway
from arb_executor.journal import MemoryJournal
from arb_executor.risk import RiskLimits, RiskState
from arb_executor.saga import Saga, SagaPolicy

_BIG = Decimal(10) ** 12


def _view(venue: str) -> BookView:
    return BookView(venue=venue, symbol="BTC-USDT", state=BookState.LIVE, seq=1,
                    bids=[(101.0, 1e9)], asks=[(100.0, 1e9)], ts_event=0, ts_recv=0,
                    ts_book=0)  # fmt: skip


def _payload(i: int) -> bytes:
    now = time.time_ns()
    return OPPORTUNITY.encode(Opportunity(
        id=f"bench-{i}", symbol="BTC-USDT", buy_venue="a", sell_venue="b", size="0.01",
        buy_price="100.00", sell_price="101.00", buy_vwap=100.0, sell_vwap=101.0,
        gross_profit=0.01, net_profit=0.008, edge_bps=80.0, buy_seq=1, sell_seq=1,
        expires_ns=now + 10**12, ts_event_buy=now, ts_event_sell=now, ts_recv=now, ts_book=now,
        ts_detect=now,
    ))  # fmt: skip


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def _run(seconds: float) -> dict[str, Any]:
    views = {"a": _view("a"), "b": _view("b")}

    async def books(venue: str, symbol: str) -> BookView | None:
        return views[venue]

    gateways = {v: PaperGateway(v, books, balances={"USDT": _BIG, "BTC": _BIG}) for v in views}
    risk = RiskState(RiskLimits(pair_cooldown_ns=0, max_open_exposure=_BIG,
                                daily_loss_limit=_BIG))  # fmt: skip
    saga = Saga(gateways, MemoryJournal(), risk, SagaPolicy())
    payloads = [_payload(i) for i in range(200_000)]
    samples: list[float] = []
    end = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < end and i < len(payloads):
        ts_received = time.time_ns()
        opp = OPPORTUNITY.decode(payloads[i])
        i += 1
        if risk.check(opp, ts_received, lambda v, a: gateways[v].free(a), killed=False):
            raise RuntimeError("bench opportunity refused")
        result = await saga.execute(opp, ts_received)
        samples.append((result.ts_orders_sent - ts_received) / 1e3)
    samples.sort()
    return {
        "name": "executor_received_to_orders_sent",
        "opportunities": len(samples),
        "p50_us": round(_percentile(samples, 0.50), 1),
        "p99_us": round(_percentile(samples, 0.99), 1),
        "max_us": round(samples[-1], 1) if samples else 0.0,
        "executions_per_s": round(len(samples) / seconds, 1),
    }


def run(seconds: float = 2.0) -> dict[str, Any]:
    return asyncio.run(_run(seconds))
