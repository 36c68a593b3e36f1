"""The whole engine on a Redis Cluster across a primary failover (issue 19, Done-when 1).

Real processes: the simulator, ingest per venue, book, detector and a live executor trading on
the simulator's accounts, all through ``redis+cluster://`` on 3 primaries + 3 replicas. Once
trades flow, the primary serving the executor's slot (``{exec}``: the saga journal, the seen
guards, the exposure registry and stream) is SIGKILLed the moment a saga is open (journaled,
not finished), while opportunities keep coming; once trades flow again, so is the primary
of ``arb:opportunities`` (which here also serves both venues' md and book streams). After
each kill:

- books back LIVE: every venue's latest view LIVE and made after the kill;
- opportunities still found and traded after the kill.

At the end, with trading stopped:

- 0 duplicate orders and no unexplained exposure, by the simulator's ledgers (``arb chaos``'s
  verdict: every client order id placed once, every balance change at a venue explained by
  the executor's results), and no unexplained exposure in the executor's own
  reconciliation (its registry);
- no lost results (every order filled at a venue is a leg of a result);
- the consumer lag drains: the executor group has nothing pending or undelivered, and the
  book has applied every market-data entry (its checkpoint is the stream's last id);
- no service restarted: every loop rode the failover out.

Slow (about a minute): ``make test-cluster`` runs it, not ``make test``.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest
from arb_cli.engine import start_services, start_simulator, stop_simulator
from arb_cli.run import all_live, stop_children, stop_trading
from arb_cli.status import collect
from arb_cli.supervisor import Supervisor
from arb_runtime.cluster import EmbeddedCluster
from arb_runtime.redis import connect
from arb_structs import ExecutionStatus, ExposureKind
from arb_structs.constants import (
    EXECUTOR_GROUP,
    EXPOSURE_OPEN_KEY,
    OPEN_SAGAS_KEY,
    OPPORTUNITIES_STREAM,
    book_checkpoint_key,
    md_stream,
)

from tests.integration.cluster import pipeline_support as ps

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(400),
    pytest.mark.skipif(
        os.environ.get("ARB_CLUSTER_TESTS") != "1",
        reason="about a minute of the whole engine: `make test-cluster` (ARB_CLUSTER_TESTS=1)",
    ),
]

VENUES = ["binance", "okx"]
SYMBOL = "BTC-USDT"


async def _lag_drained(redis: Any) -> bool:
    """The executor group: nothing pending, and delivered up to the stream's last entry."""
    info = await redis.xinfo_stream(OPPORTUNITIES_STREAM)
    for group in await redis.xinfo_groups(OPPORTUNITIES_STREAM):
        name = group["name"].decode() if isinstance(group["name"], bytes) else group["name"]
        if name == EXECUTOR_GROUP:
            return bool(
                group["pending"] == 0 and group["last-delivered-id"] == info["last-generated-id"]
            )
    return False


async def _book_caught_up(redis: Any) -> bool:
    for venue in VENUES:
        last = (await redis.xinfo_stream(md_stream(venue)))["last-generated-id"]
        if await redis.get(book_checkpoint_key(venue)) != last:
            return False
    return True


async def test_whole_pipeline_rides_out_a_primary_failover(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in ps.EXECUTOR_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ARB_REDIS_URL", raising=False)
    rounds: list[dict[str, Any]] = []
    cluster = EmbeddedCluster(primaries=3, replicas=1, node_timeout_ms=1000).start()
    supervisor = Supervisor(tmp_path)
    sim = None
    redis: Any = None
    try:
        url = cluster.url
        sim, urls = start_simulator(VENUES, [SYMBOL], 20.0, url, tmp_path, extra=ps.SIMULATOR_ARGS)
        initial = await ps.balances(urls["control"], VENUES)
        start_services(supervisor, VENUES, [SYMBOL], url, urls, mode="live")
        redis = await connect(url, wait_s=10)
        await ps.until(lambda: _all_live(redis), 120, "every book LIVE")
        await ps.until(lambda: _results_at_least(redis, 3), 120, "3 results before the kill")
        # First the executor's node, then (its replica now primary) the node of the
        # opportunities and of both venues' market data and book streams.
        for slot_of in (EXPOSURE_OPEN_KEY, OPPORTUNITIES_STREAM):
            rounds.append(await _failover(cluster, redis, slot_of))
        await ps.settle(redis, supervisor)
        await stop_trading(supervisor, asyncio.Event())
        await stop_children(supervisor, tuple(f"ingest-{v}" for v in VENUES), 5.0, asyncio.Event())
        await ps.until(lambda: _lag_drained(redis), 30, "the executor group's lag to drain")
        await ps.until(lambda: _book_caught_up(redis), 30, "the book to apply every md entry")
        judged = await ps.verdict(redis, urls["control"], VENUES, initial)
        restarts = {c.name: c.restarts for c in supervisor.children if c.restarts}
    finally:
        if redis is not None:
            await redis.aclose()
        await stop_children(supervisor, None, 5.0, asyncio.Event())
        stop_simulator(sim)
        cluster.stop()
    for r in rounds:
        print(
            f"\npipeline failover: primary of {r['key']} killed "
            f"({'a saga open' if r['in_flight'] else 'no saga open'}); slots served again "
            f"{r['cluster_ok_s']:.1f}s, books LIVE {r['books_live_s']:.1f}s, opportunity "
            f"{r['opportunity_s']:.1f}s, first trade {r['first_trade_s']:.1f}s, 3 trades "
            f"{r['traded_s']:.1f}s after the kill"
        )
    print(
        f"pipeline failover: {judged['results_total']} results, {judged['orders']} orders, "
        f"{judged['duplicate_orders']} duplicate; restarts {restarts}"
    )
    assert judged["filled_orders"] > 0 and len(rounds) == 2
    assert judged["duplicate_orders"] == 0, judged["duplicates"]
    assert judged["unexplained_exposure"] == [], judged["unexplained_exposure"]
    assert judged["lost_results"] == [], judged["lost_results"]
    assert judged["misrecorded"] == [], judged["misrecorded"]
    assert judged["unreported_unhedged"] == [], judged["unreported_unhedged"]
    unexplained = [
        e for e in judged["open_exposure"] if e["kind"] == ExposureKind.UNEXPLAINED.value
    ]
    assert unexplained == [], "the executor's reconciliation found exposure no record explains"
    assert restarts == {}, f"a service restarted across the failover: {restarts}"


async def _failover(cluster: EmbeddedCluster, redis: Any, key: str) -> dict[str, Any]:
    """SIGKILL the primary serving ``key`` the moment a saga is open; then until the books
    are LIVE again, an opportunity is found and 3 trades are filled after the kill."""
    victim = cluster.port_of_slot(redis.keyslot(key))
    out: dict[str, Any] = {"key": key, "in_flight": await _saga_open(redis, 30.0)}
    kill_ns, kill_t = time.time_ns(), time.monotonic()
    cluster.kill_primary(victim)
    out["cluster_ok_s"] = await asyncio.to_thread(cluster.wait_healthy, 60)
    await ps.until(lambda: ps.books_live_since(redis, VENUES, SYMBOL, kill_ns), 60,
                   f"every book LIVE again after killing :{victim}")  # fmt: skip
    out["books_live_s"] = time.monotonic() - kill_t
    await ps.until(lambda: ps.opportunities_since(redis, kill_ns), 60,
                   f"an opportunity after killing :{victim}")  # fmt: skip
    out["opportunity_s"] = time.monotonic() - kill_t
    await ps.until(lambda: _results_after(redis, kill_ns, 1), 120, "a trade after the kill")
    out["first_trade_s"] = time.monotonic() - kill_t
    await ps.until(lambda: _results_after(redis, kill_ns, 3), 120, "3 trades after the kill")
    out["traded_s"] = time.monotonic() - kill_t
    return out


async def _saga_open(redis: Any, timeout_s: float) -> bool:
    """Wait (polling every millisecond or so) until a saga is open, for ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await redis.scard(OPEN_SAGAS_KEY):
            return True
        await asyncio.sleep(0.001)
    return False


async def _all_live(redis: Any) -> bool:
    return all_live(await collect(redis), VENUES, [SYMBOL])


async def _results_at_least(redis: Any, n: int) -> list[Any] | None:
    found = await ps.results(redis)
    return found if len(found) >= n else None


async def _results_after(redis: Any, since_ns: int, n: int) -> list[Any] | None:
    found = [r for _, r in await ps.results(redis)
             if r.ts_detect > since_ns and r.status is ExecutionStatus.FILLED]  # fmt: skip
    return found if len(found) >= n else None
