"""Every fault of the issue, armed both ways (settings ``faults`` at start, and POST
/control/faults while running), seen from outside by a real client over real sockets.

OKX serves every kind but bad_checksum, whose effect is seen on Kraken (real CRC32 over the
levels; OKX's checksum is 0 in production).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from arb_simulator import default_credentials
from arb_simulator.app import Simulator
from arb_simulator.config import FaultSpec, SimulatorSettings
from arb_structs import BookDelta, BookSnapshot, OrderIntent, OrderStatus, Side
from arb_venues import get_venue
from arb_venues.base import Credentials, Endpoints
from arb_venues.common.rest import ONCE, RestClient
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import MalformedFrame, RequestTimeout, VenueRejected, VenueUnavailable
from arb_venues.okx.errors import error_mapper
from arb_venues.okx.trading import OkxTrading
from pydantic import SecretStr

from tests.unit.venues.kraken.helpers import ReferenceBook

pytestmark = pytest.mark.integration

SYMBOL = "BTC-USDT"
Probe = Callable[[Simulator, str], Awaitable[None]]


async def _ws_events(sim: Simulator, venue: str) -> AsyncIterator[tuple[str, Any]]:
    """(raw frame, parsed events or the MalformedFrame) as the venue's adapter reads them;
    ("closed", None) when the server closes the socket."""
    urls = sim.urls[venue]
    protocol = get_venue(venue).market(Endpoints(ws_url=urls["ws"], rest_url=urls["rest"]))
    instruments = [sim.venue_markets[venue].instruments[SYMBOL]]
    parser = protocol.make_parser(SymbolMap(instruments))
    async with aiohttp.ClientSession() as http, http.ws_connect(protocol.ws_url(instruments)) as ws:
        for message in protocol.subscribe_messages(instruments):
            await ws.send_str(message)
        for _ in range(2_000):
            message = await ws.receive(timeout=10)
            if message.type is not aiohttp.WSMsgType.TEXT:
                yield "closed", None
                return
            try:
                yield message.data, parser.parse_ws(message.data, 1)
            except MalformedFrame as exc:
                yield message.data, exc


async def probe_drop_connection(sim: Simulator, venue: str) -> None:
    seen = [raw async for raw, _ in _ws_events(sim, venue)]
    assert seen[-1] == "closed"


async def probe_skip_seq(sim: Simulator, venue: str) -> None:
    last: int | None = None
    async for _, events in _ws_events(sim, venue):
        for event in events if isinstance(events, list) else []:
            if isinstance(event, BookSnapshot):
                last = event.seq
            elif isinstance(event, BookDelta) and last is not None:
                if event.prev_seq != last:
                    assert event.prev_seq > last  # a gap the book rule sees
                    return
                last = event.seq
    raise AssertionError("no sequence gap seen")


async def probe_malformed_frame(sim: Simulator, venue: str) -> None:
    async for _, events in _ws_events(sim, venue):
        if isinstance(events, MalformedFrame):
            return
    raise AssertionError("no malformed frame seen")


async def probe_bad_checksum(sim: Simulator, venue: str) -> None:
    book = ReferenceBook()
    async for _, events in _ws_events(sim, venue):
        for event in events if isinstance(events, list) else []:
            book.apply(event)
        if book.checksums_bad:
            assert book.checksums_ok >= 1  # the good ones still check out
            return
    raise AssertionError("no bad checksum seen")


def _http_probe(status: int) -> Probe:
    async def probe(sim: Simulator, venue: str) -> None:
        url = f"{sim.urls[venue]['rest']}/api/v5/market/books?instId={SYMBOL}"
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            assert response.status == status
            if status in (418, 429):
                assert float(response.headers["Retry-After"]) >= 1
            async with http.get(url) as after:  # one occurrence: the venue recovers
                assert after.status == 200

    return probe


async def probe_slow(sim: Simulator, venue: str) -> None:
    url = f"{sim.urls[venue]['rest']}/api/v5/market/books?instId={SYMBOL}"
    async with aiohttp.ClientSession() as http:
        started = time.monotonic()
        async with http.get(url) as response:
            assert response.status == 200
        assert time.monotonic() - started >= 0.3  # the armed delay_s


def _trading(sim: Simulator) -> OkxTrading:
    creds = default_credentials("okx")
    rest = RestClient("okx", sim.urls["okx"]["rest"], error_mapper=error_mapper, request=ONCE)
    credentials = Credentials(
        api_key=creds.api_key,
        secret=SecretStr(creds.secret),
        passphrase=SecretStr(creds.passphrase or ""),
    )
    return OkxTrading(rest, credentials, dict(sim.venue_markets["okx"].instruments))


def _taking_intent(sim: Simulator, client_id: str) -> OrderIntent:
    """An IOC buy of the whole best ask at its price: fills completely unless a fault acts."""
    price, size = sim.venue_markets["okx"].book(SYMBOL).asks[0]
    return OrderIntent(venue="okx", symbol=SYMBOL, side=Side.BUY, price=str(price),
                       size=str(size), client_order_id=client_id)  # fmt: skip


async def probe_reject_order(sim: Simulator, venue: str) -> None:
    trading = _trading(sim)
    try:
        with pytest.raises(VenueRejected) as refused:  # OKX answers 50028
            await trading.place_order(_taking_intent(sim, "arbReject1"))
        assert refused.value.api_code == "50028" and not refused.value.retryable
        assert sim.venue_markets["okx"].orders_total == 0
    finally:
        await trading.rest.close()


async def probe_partial_fill(sim: Simulator, venue: str) -> None:
    trading = _trading(sim)
    try:
        intent = _taking_intent(sim, "arbPartial1")
        report = await trading.place_order(intent)
        assert report.status is OrderStatus.CANCELED
        assert 0 < Decimal(report.filled_size) < Decimal(intent.size)
    finally:
        await trading.rest.close()


async def probe_lose_response(sim: Simulator, venue: str) -> None:
    trading = _trading(sim)
    try:
        intent = _taking_intent(sim, "arbLost1")
        with pytest.raises((VenueUnavailable, RequestTimeout)):
            await trading.place_order(intent)
        found = await trading.get_order(SYMBOL, intent.client_order_id)
        assert found.status is OrderStatus.FILLED  # executed: the answer was what got lost
        assert sim.venue_markets["okx"].orders_total == 1
    finally:
        await trading.rest.close()


FAULTS: dict[str, tuple[str, dict[str, Any], Probe]] = {
    "drop_connection": ("okx", {}, probe_drop_connection),
    "skip_seq": ("okx", {}, probe_skip_seq),
    "bad_checksum": ("kraken", {}, probe_bad_checksum),
    "malformed_frame": ("okx", {}, probe_malformed_frame),
    "http_429": ("okx", {"retry_after_s": 2.0}, _http_probe(429)),
    "http_418": ("okx", {"retry_after_s": 2.0}, _http_probe(418)),
    "http_5xx": ("okx", {"status": 503}, _http_probe(503)),
    "slow": ("okx", {"delay_s": 0.3}, probe_slow),
    "reject_order": ("okx", {}, probe_reject_order),
    "partial_fill": ("okx", {}, probe_partial_fill),
    "lose_response": ("okx", {}, probe_lose_response),
}


@pytest.mark.parametrize("armed_by", ["settings", "control"])
@pytest.mark.parametrize("kind", list(FAULTS))
async def test_fault_armed_by_settings_or_control_fires_once_as_the_client_sees_it(
    kind: str, armed_by: str
) -> None:
    venue, params, probe = FAULTS[kind]
    spec = {"venue": venue, "kind": kind, **params}
    faults = [FaultSpec(**spec)] if armed_by == "settings" else []
    settings = SimulatorSettings(venues=[venue], symbols=[SYMBOL], rate=100.0,
                                 inject_interval_s=0, faults=faults)  # fmt: skip
    async with Simulator(settings) as sim:
        if armed_by == "control":
            async with (
                aiohttp.ClientSession() as http,
                http.post(f"{sim.control_url}/control/faults", json=spec) as response,
            ):
                assert response.status == 200, await response.text()
        await asyncio.wait_for(probe(sim, venue), 20)
        assert sim.faults[venue].fired_total.get(kind) == 1


@pytest.mark.parametrize("kind", ["drop_connection", "skip_seq", "malformed_frame"])
async def test_coinbase_ws_faults_show_through_its_own_writer(kind: str) -> None:
    """Coinbase numbers each connection's frames itself (``sequence_num``) and writes all the
    frames one wake-up finds at once: each WS fault still reaches the client, in order."""
    faults = [FaultSpec(venue="coinbase", kind=kind)]
    settings = SimulatorSettings(venues=["coinbase"], symbols=[SYMBOL], rate=100.0,
                                 inject_interval_s=0, faults=faults)  # fmt: skip
    async with Simulator(settings) as sim:
        await asyncio.wait_for(FAULTS[kind][2](sim, "coinbase"), 20.0)
