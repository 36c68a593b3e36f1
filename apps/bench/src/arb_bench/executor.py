"""Executor latency benches: opportunity received -> both orders sent (and acked).

``run(seconds)`` (paper, in process): per opportunity, decode the stream payload, risk
checks, journal (in memory), both legs handed to the PaperGateway (zero latency, in-memory
book). Redis is not part of the measured path; the SET NX + kill-switch read adds one
round trip in the service.

``run_sim(seconds)`` (live, loopback): the simulator runs in this process on real sockets;
LiveGateways sign and send both IOC legs over HTTP (pooled connections) to two simulated
venues (Binance: HMAC hex in the query; OKX: HMAC base64 headers). "Sent" is the later of
the two legs' ``ts_sent`` (the order handed to the REST client, after signing), "ack" the
later of the two answers; ``rest_connection_reuse_rate`` is the share of the run's REST
requests sent on a kept-alive connection (the seed's target: > 95 %). The journal is in
memory here (the service adds one Redis round trip before sending). The simulator shares
the event loop, so its matching and its market clock are inside the ack time, as a venue's
latency would be. The venues' order-rate budgets are lifted so back-to-back opportunities
measure latency, not the account's order budget.

    python -c "from arb_bench.executor import run, run_sim; print(run(2.0), run_sim(3.0))"
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

from arb_executor.gateway import PaperGateway
from arb_executor.journal import MemoryJournal
from arb_executor.risk import RiskLimits, RiskState
from arb_executor.saga import Saga, SagaPolicy
from arb_structs import BookView, Instrument, Opportunity, VenueSymbol
from arb_structs.codec import OPPORTUNITY
from arb_structs.market import BookState
from arb_venues import VENUE_NAMES

_BIG = Decimal(10) ** 12


def _view(venue: str) -> BookView:
    return BookView(venue=venue, symbol="BTC-USDT", state=BookState.LIVE, seq=1,
                    bids=[(101.0, 1e9)], asks=[(100.0, 1e9)], ts_event=0, ts_recv=0,
                    ts_book=0)  # fmt: skip


# The synthetic venues' instrument (paper fills charge its taker fee).
_INSTRUMENT = Instrument(
    venue="a", symbol="BTC-USDT", venue_symbol=VenueSymbol("BTCUSDT"), base="BTC", quote="USDT",
    tick_size="0.01", lot_size="0.0001", taker_fee="0.001",
)  # fmt: skip


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

    async def instruments(venue: str, symbol: str) -> Instrument | None:
        return _INSTRUMENT

    gateways = {
        v: PaperGateway(v, books, balances={"USDT": _BIG, "BTC": _BIG}, instruments=instruments)
        for v in views
    }
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
        "mode": "paper",
        "n": len(samples),
        "opportunities": len(samples),
        "p50_us": round(_percentile(samples, 0.50), 1),
        "p99_us": round(_percentile(samples, 0.99), 1),
        "max_us": round(samples[-1], 1) if samples else 0.0,
        "executions_per_s": round(len(samples) / seconds, 1),
    }


def run(seconds: float = 2.0) -> dict[str, Any]:
    return asyncio.run(_run(seconds))


SIM_VENUES = VENUE_NAMES[:2]  # two signing schemes: an HMAC in the query, one in headers


async def _run_sim(seconds: float) -> dict[str, Any]:
    from arb_executor.accounts import rest_client
    from arb_executor.live import LiveGateway
    from arb_simulator import default_credentials
    from arb_simulator.app import Simulator
    from arb_simulator.config import SimulatorSettings
    from arb_venues import get_venue
    from arb_venues.base import Credentials
    from arb_venues.common.ratelimit import BucketLimit, RateLimiter
    from pydantic import SecretStr

    symbol = "BTC-USDT"
    settings = SimulatorSettings(venues=list(SIM_VENUES), symbols=[symbol], inject_interval_s=0)
    sent: list[float] = []
    acked: list[float] = []
    async with Simulator(settings) as sim:
        gateways: dict[str, LiveGateway] = {}
        for venue in SIM_VENUES:
            spec = get_venue(venue)
            assert spec.trading is not None
            plain = default_credentials(venue)
            passphrase = SecretStr(plain.passphrase) if plain.passphrase else None
            creds = Credentials(plain.api_key, SecretStr(plain.secret), passphrase)
            # The venues' order budgets (Binance: 10 orders/s) are lifted: this measures the
            # code path and loopback, not how long an account may wait for its next order.
            unlimited = RateLimiter({"default": BucketLimit(1e9, 1e9)})
            rest = rest_client(spec, sim.urls[venue]["rest"], timeout_s=2.0, limiter=unlimited)
            instruments = sim.venue_markets[venue].instruments
            gateways[venue] = LiveGateway(spec.trading(rest, creds, instruments))
        try:
            for gateway in gateways.values():
                await gateway.snapshot()
            risk = RiskState(RiskLimits(pair_cooldown_ns=0, max_open_exposure=_BIG,
                                        daily_loss_limit=_BIG))  # fmt: skip
            saga = Saga(gateways, MemoryJournal(), risk, SagaPolicy(mode="live"))
            end = time.perf_counter() + seconds
            i = 0
            while time.perf_counter() < end:
                buy, sell = SIM_VENUES if i % 2 == 0 else SIM_VENUES[::-1]  # keep inventory flat
                payload = _sim_payload(sim, f"bench-sim-{i}", buy, sell, symbol)
                i += 1
                ts_received = time.time_ns()
                opp = OPPORTUNITY.decode(payload)
                if risk.check(opp, ts_received, lambda v, a: gateways[v].free(a), killed=False):
                    raise RuntimeError("bench opportunity refused")
                result = await saga.execute(opp, ts_received)
                if result.ts_orders_sent and result.ts_acks:
                    sent.append((result.ts_orders_sent - ts_received) / 1e3)
                    acked.append((result.ts_acks - ts_received) / 1e3)
        finally:
            # Measured in this run: the share of requests sent on a kept-alive connection.
            created = sum(g.client.rest.stats.connections_created for g in gateways.values())
            reused = sum(g.client.rest.stats.connections_reused for g in gateways.values())
            for gateway in gateways.values():
                await gateway.close()
    sent.sort()
    acked.sort()
    return {
        "name": "executor_received_to_orders_sent_live_sim",
        "mode": "live-sim",
        "venues": list(SIM_VENUES),
        "n": len(sent),
        "p50_us": round(_percentile(sent, 0.50), 1),
        "p99_us": round(_percentile(sent, 0.99), 1),
        "ack_p50_us": round(_percentile(acked, 0.50), 1),
        "ack_p99_us": round(_percentile(acked, 0.99), 1),
        "executions_per_s": round(len(sent) / seconds, 1),
        "rest_connections_created": created,
        "rest_connections_reused": reused,
        "rest_connection_reuse_rate": round(reused / (created + reused), 4)
        if created + reused
        else 0.0,
    }


def _sim_payload(sim: Any, opp_id: str, buy: str, sell: str, symbol: str) -> bytes:
    """An opportunity at the simulated touch, 20 ticks of room so both IOCs fill."""
    buy_market, sell_market = sim.venue_markets[buy], sim.venue_markets[sell]
    buy_tick = Decimal(buy_market.instruments[symbol].tick_size)
    sell_tick = Decimal(sell_market.instruments[symbol].tick_size)
    buy_price = buy_market.book(symbol).asks[0][0] + 20 * buy_tick
    sell_price = sell_market.book(symbol).bids[0][0] - 20 * sell_tick
    now = time.time_ns()
    return OPPORTUNITY.encode(Opportunity(
        id=opp_id, symbol=symbol, buy_venue=buy, sell_venue=sell, size="0.001",
        buy_price=str(buy_price), sell_price=str(sell_price), buy_vwap=float(buy_price),
        sell_vwap=float(sell_price), gross_profit=0.0, net_profit=0.0, edge_bps=0.0,
        buy_seq=1, sell_seq=1, expires_ns=now + 10**10, ts_event_buy=now, ts_event_sell=now,
        ts_recv=now, ts_book=now, ts_detect=now, quote="USDT",
    ))  # fmt: skip


def run_sim(seconds: float = 3.0) -> dict[str, Any]:
    """Live mode against the simulator over loopback; finishes within ``seconds`` + ~1 s."""
    return asyncio.run(_run_sim(seconds))
