"""The whole pipeline as real processes (simulator, ingest per venue, book, detector, executor
live on the simulator's accounts), started with ``arb run``'s parts (arb_cli.engine), and the
independent truth it is judged by: the simulated venues' ledgers (GET /control/ledger/{venue})
against the executor's results, by ``arb chaos``'s verdict (arb_cli.chaos_check.check)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp
from arb_cli.chaos_check import check, totals
from arb_cli.exposure import list_open, row
from arb_cli.kill import engage
from arb_cli.run import stop_children
from arb_cli.supervisor import Supervisor
from arb_history.records import result_rows
from arb_runtime.redis import REDIS_RETRYABLE
from arb_structs import BookState
from arb_structs.codec import BOOK, EXECUTION, OPPORTUNITY
from arb_structs.constants import (
    EXECUTIONS_STREAM,
    LATE_ORDERS_KEY,
    OPEN_SAGAS_KEY,
    OPPORTUNITIES_STREAM,
    PAYLOAD_FIELD,
    book_latest_key,
)

# Trades come faster than the default 2 s: more sagas in flight when the primary dies.
SIMULATOR_ARGS = ["--inject-interval", "0.7", "--seed", "7"]
# The executor's reconciliation every 2 s (default 30 s): unexplained exposure shows at once.
EXECUTOR_ENV = {"ARB_EXECUTOR_RECONCILE_INTERVAL_S": "2"}


async def until(check_: Callable[[], Awaitable[Any]], timeout_s: float, what: str) -> Any:
    """``check_()``'s first truthy answer, asked again while Redis is away; fails after
    ``timeout_s`` naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            found = await check_()
        except REDIS_RETRYABLE:
            found = None
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"gave up after {timeout_s:.0f}s waiting for {what}")


async def ledgers(control_url: str, venues: list[str]) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        out = {}
        for venue in venues:
            async with http.get(f"{control_url}/control/ledger/{venue}") as response:
                response.raise_for_status()
                out[venue] = await response.json()
        return out


async def balances(control_url: str, venues: list[str]) -> dict[str, dict[str, Decimal]]:
    return {
        v: totals(ledger["balances"]) for v, ledger in (await ledgers(control_url, venues)).items()
    }


async def results(redis: Any) -> list[tuple[str, Any]]:
    out = []
    for entry_id, fields in await redis.xrange(EXECUTIONS_STREAM):
        out.append((entry_id.decode(), EXECUTION.decode(fields[PAYLOAD_FIELD])))
    return out


async def opportunities_since(redis: Any, since_ns: int) -> list[Any]:
    found = [
        OPPORTUNITY.decode(f[PAYLOAD_FIELD]) for _, f in await redis.xrange(OPPORTUNITIES_STREAM)
    ]
    return [o for o in found if o.ts_detect > since_ns]


async def books_live_since(redis: Any, venues: list[str], symbol: str, since_ns: int) -> bool:
    """Every venue's latest view of ``symbol`` is LIVE and was made after ``since_ns``."""
    for venue in venues:
        raw = await redis.hget(book_latest_key(venue), symbol)
        if raw is None:
            return False
        view = BOOK.decode(raw)
        if view.state is not BookState.LIVE or view.ts_book <= since_ns:
            return False
    return True


async def settle(redis: Any, supervisor: Supervisor, quiet_s: float = 6.0,
                 timeout_s: float = 90.0) -> None:  # fmt: skip
    """Kill switch on (no new sagas) and the detector stopped (no new opportunities, so no
    new refusals), then until no saga is open, no late order is watched and no result was
    published for ``quiet_s``."""
    await until(lambda: _engaged(redis), 30, "the kill switch to be set")
    await stop_children(supervisor, ("detector",), 5.0, asyncio.Event())
    last: tuple[int, int, int] | None = None
    changed = time.monotonic()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            now = (int(await redis.xlen(EXECUTIONS_STREAM)), int(await redis.scard(OPEN_SAGAS_KEY)),
                   int(await redis.hlen(LATE_ORDERS_KEY)))  # fmt: skip
        except REDIS_RETRYABLE:
            await asyncio.sleep(0.5)
            continue
        if now != last:
            last, changed = now, time.monotonic()
        if now[1:] == (0, 0) and time.monotonic() - changed >= quiet_s:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"not settled in {timeout_s:.0f}s: results, open sagas, late {last}")


async def _engaged(redis: Any) -> bool:
    await engage(redis, "test: settling")
    return True


async def verdict(redis: Any, control_url: str, venues: list[str],
                  initial: dict[str, dict[str, Decimal]]) -> dict[str, Any]:  # fmt: skip
    """``arb chaos``'s verdict over this run: the ledgers against the executor's results (as
    the recorder turns them into trade rows) and its open exposure."""
    trades = []
    for entry_id, result in await results(redis):
        trade, legs = result_rows(result, entry_id, "", 0)
        trades.append(trade | {"legs": legs})
    open_exposure = [row(e) for e in await list_open(redis)]
    after = await ledgers(control_url, venues)
    return check(initial, after, trades, open_exposure, Decimal(0), {}) | {
        "open_exposure": open_exposure,
        "results_total": len(trades),
    }
