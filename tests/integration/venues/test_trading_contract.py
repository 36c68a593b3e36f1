"""The trading contract every venue's TradingClient passes against its simulated venue, over
real sockets: what the executor's reconciliation relies on.

- ``recent_orders`` lists the account's orders since a time, the engine's and anyone else's,
  with fill totals and fees equal to the simulator's own ledger (not the client's numbers);
- an order whose placement answer was lost, read back by client id, carries its fee;
- the engine's client ids are recognisable and carry their saga group.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from arb_simulator import default_credentials
from arb_simulator.app import Simulator
from arb_simulator.config import SimulatorSettings
from arb_structs import OrderIntent, OrderReport, Side
from arb_venues import VENUE_NAMES, get_venue
from arb_venues.base import Credentials, Endpoints, TradingClient
from arb_venues.common.clientids import is_engine_client_order_id, saga_group, saga_group_of
from arb_venues.common.rest import ONCE, RestClient
from arb_venues.errors import VenueError
from pydantic import SecretStr

pytestmark = pytest.mark.integration

SYMBOL = "BTC-USDT"
FOREIGN_ID = "manual7"  # an order someone else placed on the account (valid on every venue)


@pytest.fixture(params=VENUE_NAMES)
async def venue(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Simulator, TradingClient]]:
    name: str = request.param
    spec = get_venue(name)
    assert spec.trading is not None
    settings = SimulatorSettings(venues=[name], symbols=[SYMBOL], inject_interval_s=0)
    async with Simulator(settings) as sim:
        plain = default_credentials(name)
        credentials = Credentials(
            plain.api_key,
            SecretStr(plain.secret),
            SecretStr(plain.passphrase) if plain.passphrase else None,
        )
        url = sim.urls[name]["rest"]
        market = spec.market(Endpoints(ws_url="", rest_url=url))
        rest = RestClient(name, url, request=ONCE, error_mapper=market.error_mapper())
        try:
            yield sim, spec.trading(rest, credentials, sim.venue_markets[name].instruments)
        finally:
            await rest.close()


def _intent(client: TradingClient, sim: Simulator, side: Side, client_id: str,
            size: str = "0.002") -> OrderIntent:  # fmt: skip
    book = sim.venue_markets[client.venue].book(SYMBOL)
    tick = Decimal(sim.venue_markets[client.venue].instruments[SYMBOL].tick_size)
    price = book.asks[0][0] + 20 * tick if side is Side.BUY else book.bids[0][0] - 20 * tick
    return OrderIntent(venue=client.venue, symbol=SYMBOL, side=side, price=str(price),
                       size=size, client_order_id=client_id)  # fmt: skip


def _ledger(sim: Simulator, venue: str) -> dict[str, Any]:
    """The simulator's own orders of the default account, by client id."""
    market = sim.venue_markets[venue]
    return {o.client_order_id: o for o in market.orders(default_credentials(venue).api_key)}


def _matches(report: OrderReport, order: Any) -> None:
    assert Decimal(report.filled_size) == order.filled, report
    assert Decimal(report.fee or "0") == order.fee, report
    if order.fee:
        assert report.fee_asset == order.fee_asset, report
    if report.quote_filled:
        assert Decimal(report.quote_filled) == order.quote_filled, report
    assert abs(report.ts_created - order.ts_created_ns) < 1_000_000_000, report


async def test_recent_orders_list_every_order_with_the_ledgers_fills_and_fees(venue) -> None:
    sim, client = venue
    since = time.time_ns() - 1_000_000_000
    ours_buy = client.client_order_id("contract-opp", "buy")
    ours_sell = client.client_order_id("contract-opp", "sell")
    assert is_engine_client_order_id(ours_buy) and not is_engine_client_order_id(FOREIGN_ID)
    assert saga_group(ours_buy) == saga_group(ours_sell) == saga_group_of("contract-opp")
    assert len(ours_buy) <= client.client_order_id_max_len
    await client.place_order(_intent(client, sim, Side.BUY, ours_buy))
    sim.faults[client.venue].arm("partial_fill")
    await client.place_order(_intent(client, sim, Side.SELL, ours_sell, size="0.004"))
    await client.place_order(_intent(client, sim, Side.BUY, FOREIGN_ID, size="0.001"))

    listed = {r.client_order_id: r for r in await client.recent_orders([SYMBOL], since)}
    ledger = _ledger(sim, client.venue)
    assert set(listed) == set(ledger) == {ours_buy, ours_sell, FOREIGN_ID}
    for client_id, order in ledger.items():
        _matches(listed[client_id], order)
        assert listed[client_id].side is order.side
    assert ledger[ours_sell].filled < Decimal("0.004")  # the partial fill is in the listing
    later = await client.recent_orders([SYMBOL], time.time_ns() + 5_000_000_000)
    assert [r for r in later if r.client_order_id in ledger] == []


async def test_order_read_back_after_a_lost_answer_carries_the_venues_fee(venue) -> None:
    sim, client = venue
    lost = client.client_order_id("contract-lost", "buy")
    sim.faults[client.venue].arm("lose_response")
    with pytest.raises(VenueError):
        await client.place_order(_intent(client, sim, Side.BUY, lost))
    order = _ledger(sim, client.venue)[lost]
    assert order.filled > 0 and order.fee > 0  # it executed; only the answer was lost
    _matches(await client.get_order(SYMBOL, lost), order)


async def test_private_requests_in_flight_at_once_are_all_accepted(venue) -> None:
    """The executor places both legs, reads balances and reconciles at once. A venue whose
    nonce must grow with every request of the key (Kraken, Bitfinex) refuses the lower one
    when two requests overtake each other on the way: found in a 12-venue live run (Bitfinex
    10114 "nonce: small", the venue marked degraded). Every request here must be accepted and
    every order must be at the venue once."""
    sim, client = venue
    sim.faults[client.venue].arm("slow", delay_s=0.2)  # the first to arrive is overtaken
    ids = [client.client_order_id(f"contract-many-{n}", "buy") for n in range(4)]
    market = sim.venue_markets[client.venue]
    tick = Decimal(market.instruments[SYMBOL].tick_size)
    price = (market.book(SYMBOL).asks[0][0] * Decimal("1.01") / tick).to_integral_value() * tick
    calls = [client.place_order(OrderIntent(venue=client.venue, symbol=SYMBOL, side=Side.BUY,
                                            price=str(price), size="0.001", client_order_id=cid))
             for cid in ids]  # fmt: skip
    calls += [client.balances() for _ in range(8)]
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    refused = [repr(o) for o in outcomes if isinstance(o, BaseException)]
    assert refused == [], refused
    ledger = _ledger(sim, client.venue)
    assert set(ids) <= set(ledger)
    assert all(ledger[cid].filled > 0 for cid in ids)
