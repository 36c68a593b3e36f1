"""Server time and clock-offset tracking over real sockets, against the simulator.

The simulated venue's clock is skewed through the control API (``POST /control/clock``), as a
host whose clock is off sees a real venue. Without offset tracking every signed call is
refused with the venue's own timestamp code (Binance -1021, OKX 50102, Bybit 10002, HTX
api-signature-not-valid, KuCoin 400002, Bitget 40008, Gate REQUEST_EXPIRED, MEXC 700003;
Coinbase's JWT lifetime a bare 401); with it
(``market.track_clock(rest)``, what the executor does) the same calls succeed, and the
measured offset matches the skew. The simulator's ledger, not the client, says whether the
order exists.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest
from arb_simulator import default_credentials
from arb_simulator.app import Simulator
from arb_simulator.config import SimulatorSettings
from arb_structs import OrderIntent, Side
from arb_venues import get_venue
from arb_venues.base import Credentials, Endpoints, MarketDataProtocol, TradingClient
from arb_venues.common.rest import TRADING, RestClient
from arb_venues.errors import TimestampRejected, VenueError
from pydantic import SecretStr

pytestmark = pytest.mark.integration

SYMBOL = "BTC-USDT"
# The venues whose signed requests carry a timestamp the venue judges and names when it
# refuses it: query ms (Binance, MEXC), ISO header (OKX), header ms (Bybit, KuCoin, Bitget),
# ISO query (HTX), header seconds (Gate).
VENUES = ("binance", "okx", "bybit", "htx", "kucoin", "bitget", "gateio", "mexc")
# Venues with a server-time endpoint but no timestamp code: Kraken signs a nonce (only its
# AddOrder deadline reads the clock), Coinbase answers an expired JWT with a bare 401.
TIME_ONLY = ("kraken", "coinbase")
SKEW_S = 40.0  # outside their windows (5 s, 30 s, 5 s back / 1 s ahead, 5 s, 30 s, 5 s)
SKEWS_S = {"htx": 400.0, "gateio": 100.0}  # HTX's Timestamp is good for 5 minutes, Gate's 60 s
CODES = {"binance": -1021, "okx": "50102", "bybit": 10002, "htx": "api-signature-not-valid",
         "kucoin": "400002", "bitget": "40008", "gateio": "REQUEST_EXPIRED",
         "mexc": 700003}  # fmt: skip


def _skew_of(venue: str) -> float:
    return SKEWS_S.get(venue, SKEW_S)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    settings = SimulatorSettings(venues=[*VENUES, *TIME_ONLY], symbols=[SYMBOL],
                                 inject_interval_s=0)  # fmt: skip
    async with Simulator(settings) as simulator:
        yield simulator


async def _skew(sim: Simulator, venue: str, seconds: float) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{sim.control_url}/control/clock", json={"venue": venue, "skew_s": seconds}
        ) as answer,  # fmt: skip
    ):
        assert answer.status == 200, await answer.text()


def _client(sim: Simulator, venue: str) -> tuple[MarketDataProtocol, TradingClient]:
    spec = get_venue(venue)
    assert spec.trading is not None
    url = sim.urls[venue]["rest"]
    market = spec.market(Endpoints(ws_url="", rest_url=url))
    rest = RestClient(venue, url, error_mapper=market.error_mapper(), request=TRADING)
    plain = default_credentials(venue)
    passphrase = SecretStr(plain.passphrase) if plain.passphrase else None
    credentials = Credentials(plain.api_key, SecretStr(plain.secret), passphrase)
    return market, spec.trading(rest, credentials, sim.venue_markets[venue].instruments)


def _intent(sim: Simulator, venue: str, client_id: str) -> OrderIntent:
    market = sim.venue_markets[venue]
    tick = Decimal(market.instruments[SYMBOL].tick_size)
    price = market.book(SYMBOL).asks[0][0] + 20 * tick
    return OrderIntent(venue=venue, symbol=SYMBOL, side=Side.BUY, price=str(price),
                       size="0.002", client_order_id=client_id)  # fmt: skip


def _ledger_ids(sim: Simulator, venue: str) -> set[str]:
    api_key = default_credentials(venue).api_key
    return {o.client_order_id for o in sim.venue_markets[venue].orders(api_key)}


@pytest.mark.parametrize("venue", [*VENUES, *TIME_ONLY])
async def test_server_time_reads_the_venues_clock(sim: Simulator, venue: str) -> None:
    market, client = _client(sim, venue)
    try:
        await _skew(sim, venue, _skew_of(venue))
        wall = time.time_ns()
        served = await market.server_time(client.rest)
        assert abs((served - wall) / 1e9 - _skew_of(venue)) < 1.0
        check = await market.health_check(client.rest)
        assert check.ok and check.status == 200 and check.latency_s < 1.0
    finally:
        await _skew(sim, venue, 0)
        await client.rest.close()


@pytest.mark.parametrize("sign", [1, -1], ids=["ahead", "behind"])
@pytest.mark.parametrize("venue", VENUES)
async def test_skewed_venue_refuses_untracked_and_accepts_tracked(
    sim: Simulator, venue: str, sign: int
) -> None:
    skew_s = sign * _skew_of(venue)
    await _skew(sim, venue, skew_s)
    ids = {"plain": client_order_id(venue, "plain", skew_s),
           "tracked": client_order_id(venue, "tracked", skew_s)}  # fmt: skip
    _, plain = _client(sim, venue)
    tracked_market, tracked = _client(sim, venue)
    tracked_market.track_clock(tracked.rest)
    try:
        with pytest.raises(TimestampRejected) as refused:
            await plain.place_order(_intent(sim, venue, ids["plain"]))
        assert refused.value.api_code == CODES[venue]
        report = await tracked.place_order(_intent(sim, venue, ids["tracked"]))
        assert report.client_order_id == ids["tracked"]
        assert await tracked.balances()
    finally:
        await _skew(sim, venue, 0)
        await plain.rest.close()
        await tracked.rest.close()
    ledger = _ledger_ids(sim, venue)
    assert ids["tracked"] in ledger and ids["plain"] not in ledger
    assert abs(tracked.rest.clock.offset_ns / 1e9 - skew_s) < 0.5
    assert plain.rest.clock.syncs == 0 and plain.rest.clock.offset_ns == 0


@pytest.mark.parametrize("venue", VENUES)
async def test_a_refused_timestamp_measures_the_offset_again(sim: Simulator, venue: str) -> None:
    """The venue's clock jumps after the offset was measured: the next signed read is refused
    once, the clock is measured again at once, and the read's retry succeeds."""
    market, client = _client(sim, venue)
    market.track_clock(client.rest)
    try:
        assert await client.balances()
        assert client.rest.clock.syncs == 1
        await _skew(sim, venue, _skew_of(venue))
        assert await client.balances()  # refused, re-measured, sent again
        assert client.rest.clock.syncs == 2
        assert abs(client.rest.clock.offset_ns / 1e9 - _skew_of(venue)) < 0.5
        assert client.rest.stats.outcomes.get("TimestampRejected") == 1
    finally:
        await _skew(sim, venue, 0)
        await client.rest.close()


def client_order_id(venue: str, name: str, skew_s: float) -> str:
    spec = get_venue(venue)
    assert spec.trading is not None
    return spec.trading.client_order_id(f"clock-{name}-{skew_s:+.0f}", "buy")


async def test_coinbase_judges_the_jwt_lifetime_on_its_own_clock(sim: Simulator) -> None:
    """A JWT lives two minutes from the signer's clock: a host 300 s behind Coinbase signs
    tokens that expired before they were sent (a 401, nothing placed); with the offset
    tracked the same call places the order."""
    venue = "coinbase"
    await _skew(sim, venue, 300.0)
    _, plain = _client(sim, venue)
    tracked_market, tracked = _client(sim, venue)
    tracked_market.track_clock(tracked.rest)
    ids = {
        "plain": client_order_id(venue, "plain", 300),
        "tracked": client_order_id(venue, "tracked", 300),
    }
    try:
        with pytest.raises(VenueError) as refused:
            await plain.place_order(_intent(sim, venue, ids["plain"]))
        assert refused.value.code == 401
        report = await tracked.place_order(_intent(sim, venue, ids["tracked"]))
        assert report.client_order_id == ids["tracked"]
    finally:
        await _skew(sim, venue, 0)
        await plain.rest.close()
        await tracked.rest.close()
    ledger = _ledger_ids(sim, venue)
    assert ids["tracked"] in ledger and ids["plain"] not in ledger
    assert abs(tracked.rest.clock.offset_ns / 1e9 - 300.0) < 0.5
