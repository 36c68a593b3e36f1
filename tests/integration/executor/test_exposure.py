"""Exposure is published, blocks what it must, and closes: by trade, and by `arb exposure close`.

- An order whose outcome stays unknown (the venue answers 503 to it and to every query) is
  escalated at once as unhedged exposure; once the venue answers, the saga is resolved by
  query, the position hedged, and the exposure closed (CLOSED event, registry empty, the
  ledger flat, and the two results together carry exactly the ledger's PnL).
- A trade nobody's records explain (placed by hand on the account) is unexplained exposure
  for the venue and the assets it moved; those assets are refused until an operator runs
  `arb exposure close`, which leaves an ACKNOWLEDGED record with who did it.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from arb_cli.main import main as arb_main
from arb_simulator import default_credentials
from arb_structs import ExposureKind, OrderIntent, Side
from arb_structs.trading import ExecutionStatus
from arb_venues import get_venue
from arb_venues.base import Credentials, Endpoints
from arb_venues.common.rest import RestClient
from pydantic import SecretStr

from tests.integration.executor.live_support import (
    SYMBOL,
    SimStack,
    live_executor,
    result_of,
    results,
    send,
    wait_for,
)
from tests.integration.executor.record_support import (
    engine_orders,
    exposure_events,
    ledger_cash,
    net_base,
    open_exposure,
)

pytestmark = pytest.mark.integration
VENUES = ["binance", "okx"]


async def test_unknown_outcome_is_escalated_then_resolved_and_the_exposure_closed(
    redis, redis_url
) -> None:
    async with SimStack(VENUES) as stack, live_executor(
        stack, redis, redis_url, late_order_wait_s=0.0, resolve_poll_s=0.2,
        order_query_attempts=2,
    ):  # fmt: skip
        stack.arm("okx", "http_5xx", duration_s=1.5, path="/api/v5/trade/order")
        await send(redis, stack.opportunity("unknown-sell", "binance", "okx"))
        first = await result_of(redis, "unknown-sell")
        assert first.status is ExecutionStatus.UNHEDGED and "unknown" in first.reason, first
        opened = await wait_for(lambda: open_exposure(redis), 5.0, "exposure published")
        assert [(e.kind, e.venue, e.asset, e.size) for e in opened] == [
            (ExposureKind.UNHEDGED, "binance", "BTC", "0.001")
        ]

        async def second() -> object:
            found = [r for r in await results(redis) if r.opportunity_id == "unknown-sell"]
            return found[1] if len(found) > 1 else None

        resolved = await wait_for(second, 15.0, "the saga resolved by query")
        await wait_for(lambda: _closed(redis), 5.0, "exposure closed")
    assert resolved.status is ExecutionStatus.HEDGED and resolved.unhedged_size == "0", resolved
    assert net_base(stack, VENUES) == 0
    events = [e for e in await exposure_events(redis) if e.opportunity_id == "unknown-sell"]
    assert [e.kind for e in events] == [ExposureKind.UNHEDGED, ExposureKind.CLOSED]
    assert len({e.id for e in events}) == 1 and events[-1].size == "0"
    orders = [o for v in VENUES for o in engine_orders(stack, v)]
    total = Decimal(first.realised_pnl) + Decimal(resolved.realised_pnl)
    assert total == ledger_cash(orders)  # no fill counted twice, none missing


async def _closed(redis) -> bool:
    return not await open_exposure(redis)


async def test_unexplained_trade_blocks_its_assets_until_arb_exposure_close(
    redis, redis_url
) -> None:
    async with SimStack(VENUES) as stack, live_executor(
        stack, redis, redis_url, reconcile_interval_s=0.3
    ):  # fmt: skip
        await _trade_by_hand(stack, "binance", "0.002")

        async def both_open() -> list[object] | None:
            found = await open_exposure(redis)
            return found if {e.asset for e in found} == {"BTC", "USDT"} else None

        found = await wait_for(both_open, 10.0, "unexplained exposure on BTC and USDT")
        by_asset = {e.asset: e for e in found}
        assert by_asset["BTC"].kind is ExposureKind.UNEXPLAINED
        manual = _ledger_order(stack, "binance", "manual7")  # what the venue did, exactly
        btc_moved = manual.filled - (manual.fee if manual.fee_asset == "BTC" else 0)
        usdt_moved = -manual.quote_filled - (manual.fee if manual.fee_asset == "USDT" else 0)
        assert (by_asset["BTC"].venue, Decimal(by_asset["BTC"].size)) == ("binance", btc_moved)
        assert Decimal(by_asset["USDT"].size) == usdt_moved
        await send(redis, stack.opportunity("while-unexplained", "binance", "okx"))
        refused = await result_of(redis, "while-unexplained")
        assert (refused.status, refused.reason) == (ExecutionStatus.REFUSED, "exposure_unexplained")
        assert stack.orders("okx") == 0

        for args in (["close", "binance", "BTC"], ["--ack", "binance", "USDT"]):
            done = await _arb(redis_url, "exposure", *args, "--actor", "ops-tester")
            assert done.returncode == 0, done.stderr
        assert await open_exposure(redis) == []
        await asyncio.sleep(1.5)  # several reconciliation rounds: the ledger took them in
        assert await open_exposure(redis) == []
        await send(redis, stack.opportunity("after-ack", "binance", "okx"))
        traded = await result_of(redis, "after-ack")
        assert traded.status is ExecutionStatus.FILLED, traded
    acked = [e for e in await exposure_events(redis) if e.kind is ExposureKind.ACKNOWLEDGED]
    assert sorted(e.asset for e in acked) == ["BTC", "USDT"]
    assert all(e.actor == "ops-tester" and e.ts and e.size == "0" for e in acked)
    listed = await _arb(redis_url, "exposure", "--json")
    assert listed.returncode == 0 and '"open":[]' in listed.stdout


def _ledger_order(stack: SimStack, venue: str, client_order_id: str) -> Any:
    market = stack.sim.venue_markets[venue]
    return next(o for o in market.orders(default_credentials(venue).api_key)
                if o.client_order_id == client_order_id)  # fmt: skip


async def _trade_by_hand(stack: SimStack, venue: str, size: str) -> None:
    """An order on the account that no engine record knows (a client id not ours)."""
    spec = get_venue(venue)
    assert spec.trading is not None
    url = stack.sim.urls[venue]["rest"]
    rest = RestClient(venue, url, error_mapper=spec.market(Endpoints("", url)).error_mapper())
    plain = default_credentials(venue)
    market = stack.sim.venue_markets[venue]
    client = spec.trading(rest, Credentials(plain.api_key, SecretStr(plain.secret)),
                          market.instruments)  # fmt: skip
    tick = Decimal(market.instruments[SYMBOL].tick_size)
    price = (market.book(SYMBOL).asks[0][0] * Decimal("1.001") / tick).to_integral_value() * tick
    try:
        await client.place_order(OrderIntent(venue=venue, symbol=SYMBOL, side=Side.BUY,
                                             price=str(price), size=size,
                                             client_order_id="manual7"))  # fmt: skip
    finally:
        await rest.close()


async def _arb(redis_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The real `arb` command line (parser, registration, command), run in a thread of
    this process: the same code a shell runs, without paying a Python start per call."""

    def call() -> subprocess.CompletedProcess[str]:
        out, err = io.StringIO(), io.StringIO()
        code = 0
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            _env("ARB_REDIS_URL", redis_url),
        ):
            try:
                arb_main(list(args))
            except SystemExit as exc:
                code = int(exc.code or 0)
        return subprocess.CompletedProcess(["arb", *args], code, out.getvalue(), err.getvalue())

    return await asyncio.to_thread(call)


@contextlib.contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            del os.environ[name]
        else:
            os.environ[name] = before
