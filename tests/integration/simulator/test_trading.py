"""Every venue's trading client, signing with the default simulated account, trades against
the simulator's market: IOC fills at the book, the order is found again, balances moved."""

from __future__ import annotations

from decimal import Decimal

import pytest
from arb_simulator import default_credentials
from arb_simulator.app import Simulator
from arb_simulator.config import SimulatorSettings
from arb_structs import OrderIntent, OrderStatus, Side
from arb_venues import VENUE_NAMES, get_venue
from arb_venues.base import Credentials
from arb_venues.common.rest import ONCE, RestClient
from pydantic import SecretStr

pytestmark = pytest.mark.integration


def trading_spec(venue: str):
    try:
        spec = get_venue(venue)
    except ImportError:
        return None
    return spec if spec.trading is not None else None


@pytest.mark.parametrize("venue", VENUE_NAMES)
async def test_ioc_order_through_the_venue_protocol_fills_and_moves_balances(venue) -> None:
    spec = trading_spec(venue)
    if spec is None:
        pytest.skip(f"{venue} has no trading client or sim app on this branch yet")
    settings = SimulatorSettings(venues=[venue], symbols=["BTC-USDT"], inject_interval_s=0)
    async with Simulator(settings) as sim:
        market = sim.venue_markets[venue]
        plain = default_credentials(venue)
        credentials = Credentials(
            plain.api_key,
            SecretStr(plain.secret),
            SecretStr(plain.passphrase) if plain.passphrase else None,
        )
        rest = RestClient(venue, sim.urls[venue]["rest"], request=ONCE)
        try:
            assert spec.trading is not None
            client = spec.trading(rest, credentials, market.instruments)
            before = market.balances(plain.api_key)
            best_ask = market.book("BTC-USDT").asks[0][0]
            client_order_id = client.client_order_id("sim-test-opportunity", "buy")
            report = await client.place_order(
                OrderIntent(venue=venue, symbol="BTC-USDT", side=Side.BUY, price=str(best_ask),
                            size="0.001", client_order_id=client_order_id)
            )  # fmt: skip
            assert report.status is OrderStatus.FILLED
            assert Decimal(report.filled_size) == Decimal("0.001")
            again = await client.get_order("BTC-USDT", client_order_id)
            assert again.status is OrderStatus.FILLED
            balances = await client.balances()
        finally:
            await rest.close()
    after = market.balances(plain.api_key)
    assert after["BTC"][0] > before["BTC"][0] and after["USDT"][0] < before["USDT"][0]
    assert Decimal(balances.balances["USDT"].free) == after["USDT"][0]
