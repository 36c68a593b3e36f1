"""Every venue's real protocol app served by the simulator: a client connecting the way
ingest does (the venue's MarketDataProtocol and parser) gets book events of the market."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from arb_simulator.app import Simulator
from arb_simulator.config import SimulatorSettings
from arb_structs import BookDelta, BookSnapshot
from arb_venues import VENUE_NAMES, get_venue
from arb_venues.base import Endpoints
from arb_venues.common.rest import RestClient
from arb_venues.common.symbols import SymbolMap

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def venues() -> list[str]:
    return list(VENUE_NAMES)  # every venue's spec serves a sim app (VenueSpec.sim_app)


@pytest.mark.parametrize("venue", VENUE_NAMES)
async def test_venue_client_parses_book_events_from_the_simulated_market(venue, venues) -> None:
    if venue not in venues:
        pytest.skip(f"{venue} has no sim app on this branch yet")
    settings = SimulatorSettings(venues=[venue], symbols=["BTC-USDT", "ETH-USDT"], rate=100,
                                 inject_interval_s=0)  # fmt: skip
    async with Simulator(settings) as sim:
        assert sim.skipped == []
        urls = sim.urls[venue]
        protocol = get_venue(venue).market(Endpoints(
            ws_url=urls["ws"], rest_url=urls["rest"], ws_private_url=urls.get("ws_private", "")
        ))  # fmt: skip
        instruments = list(sim.venue_markets[venue].instruments.values())
        parser = protocol.make_parser(SymbolMap(instruments))
        seen: set[str] = set()
        rest = RestClient(venue, urls["rest"])
        try:  # as the feed does: the venue may hand out its WS URL per connection (KuCoin)
            url = await protocol.connect_url(rest, instruments)
        finally:
            await rest.close()
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(url) as ws,
        ):
            for message in [*protocol.connect_messages(instruments),
                            *protocol.subscribe_messages(instruments)]:  # fmt: skip
                await ws.send_str(message)
            for _ in range(400):
                frame = await asyncio.wait_for(ws.receive(), 10)
                if frame.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    continue
                data = protocol.decode_frame(frame.data)  # as the feed does (gzip venues)
                for event in parser.parse_ws(data, time.time_ns()):
                    if isinstance(event, BookSnapshot | BookDelta):
                        assert event.venue == venue
                        seen.add(event.symbol)
                if seen == {"BTC-USDT", "ETH-USDT"}:
                    break
        assert seen == {"BTC-USDT", "ETH-USDT"}
