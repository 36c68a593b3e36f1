"""The REST client over real sockets (a local aiohttp server): presets, the in-flight bound,
health_check, batch_request and the connection-reuse figures.

Each test counts what the server received, not what the client says it did."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from arb_runtime.embedded import free_port
from arb_venues.common.rest import (
    MARKET_DATA,
    ONCE,
    TRADING,
    Call,
    ConnectionConfig,
    RequestConfig,
    Response,
    RestClient,
)
from arb_venues.errors import BadRequest, RateLimited, VenueUnavailable
from prometheus_client import REGISTRY

pytestmark = pytest.mark.integration

# Retries without the presets' pauses, so the tests stay fast; what is retried is the
# preset's own rule (resend_unknown) and count.
FAST_MARKET = RequestConfig(timeout_s=2.0, max_retries=MARKET_DATA.max_retries,
                            backoff_base_s=0.001, backoff_cap_s=0.002)  # fmt: skip
FAST_TRADING = RequestConfig(timeout_s=2.0, max_retries=TRADING.max_retries,
                             backoff_base_s=0.001, backoff_cap_s=0.002,
                             resend_unknown=TRADING.resend_unknown)  # fmt: skip


@dataclass
class Venue:
    """A venue on loopback: /flaky fails ``fail`` times (with ``status``) then answers 200."""

    hits: dict[str, int] = field(default_factory=dict)
    fail: int = 0
    status: int = 503
    in_flight: int = 0
    most_in_flight: int = 0

    async def flaky(self, request: web.Request) -> web.Response:
        self.hits["flaky"] = self.hits.get("flaky", 0) + 1
        if self.fail > 0:
            self.fail -= 1
            headers = {"Retry-After": "0"} if self.status == 429 else {}
            return web.Response(status=self.status, text="try later", headers=headers)
        return web.Response(text="ok")

    async def slow(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.05)
        finally:
            self.in_flight -= 1
        return web.Response(text=request.query.get("n", ""))

    async def status_of(self, request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="status")

    async def closing(self, request: web.Request) -> web.Response:
        return web.Response(text="bye", headers={"Connection": "close"})


@pytest.fixture
async def venue() -> AsyncIterator[tuple[Venue, str]]:
    state = Venue()
    app = web.Application()
    app.router.add_get("/flaky", state.flaky)
    app.router.add_post("/flaky", state.flaky)
    app.router.add_get("/slow", state.slow)
    app.router.add_get("/status/{code}", state.status_of)
    app.router.add_get("/closing", state.closing)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield state, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def test_market_data_request_is_retried_on_5xx(venue: tuple[Venue, str]) -> None:
    state, url = venue
    state.fail = 2  # the preset's two retries are enough
    rest = RestClient("restcase", url, request=FAST_MARKET)
    try:
        assert await rest.get("/flaky") == b"ok"
    finally:
        await rest.close()
    assert state.hits["flaky"] == 3


async def test_trading_request_is_not_resent_after_a_5xx(venue: tuple[Venue, str]) -> None:
    """A 5xx leaves the outcome unknown: under TRADING it is raised after one send, even on a
    call that allows retries (the executor queries by client id instead)."""
    state, url = venue
    state.fail = 1
    rest = RestClient("restcase", url, request=FAST_TRADING)
    try:
        with pytest.raises(VenueUnavailable):
            await rest.request("POST", "/flaky", body=b"{}")  # retry=True, the default
    finally:
        await rest.close()
    assert state.hits["flaky"] == 1


async def test_trading_read_is_retried_after_a_rate_limit(venue: tuple[Venue, str]) -> None:
    """A 429 says the venue did not act: a trading call that allows retries sends it again;
    one with retry=False (a placement) never does."""
    state, url = venue
    state.fail, state.status = 1, 429
    rest = RestClient("restcase", url, request=FAST_TRADING)
    try:
        assert (await rest.request("GET", "/flaky")).body == b"ok"
        assert state.hits["flaky"] == 2
        state.fail = 1
        with pytest.raises(RateLimited):
            await rest.request("POST", "/flaky", retry=False)
    finally:
        await rest.close()
    assert state.hits["flaky"] == 3


async def test_requests_in_flight_never_exceed_the_bound(venue: tuple[Venue, str]) -> None:
    state, url = venue
    connection = ConnectionConfig(limit_per_host=8, max_in_flight=2)
    rest = RestClient("restcase", url, connection=connection, request=FAST_MARKET)
    try:
        bodies = await asyncio.gather(*(rest.get("/slow", query=f"n={i}") for i in range(8)))
    finally:
        await rest.close()
    assert bodies == [str(i).encode() for i in range(8)]
    assert state.most_in_flight == 2


async def test_batch_request_keeps_order_and_each_error_its_own(venue: tuple[Venue, str]) -> None:
    state, url = venue
    calls = [
        Call("GET", "/slow", query="n=0"),
        Call("GET", "/status/404", config=ONCE),
        Call("GET", "/slow", query="n=2"),
        Call("GET", "/status/503", config=ONCE),
        Call("GET", "/slow", query="n=4"),
    ]
    rest = RestClient("restcase", url, request=FAST_MARKET)
    try:
        results = await rest.batch_request(calls)
    finally:
        await rest.close()
    assert [type(r) for r in results] == [
        Response, BadRequest, Response, VenueUnavailable, Response,
    ]  # fmt: skip
    assert [r.body for r in results if isinstance(r, Response)] == [b"0", b"2", b"4"]
    assert state.most_in_flight >= 2  # they ran concurrently


async def test_health_check_reports_status_and_latency(venue: tuple[Venue, str]) -> None:
    _, url = venue
    rest = RestClient("restcase", url)
    try:
        up = await rest.health_check("/slow")
        down = await rest.health_check("/status/503")
    finally:
        await rest.close()
    assert (up.ok, up.status, up.error) == (True, 200, "")
    assert 0.05 <= up.latency_s < 2.0  # the endpoint sleeps 50 ms
    assert (down.ok, down.status) == (False, 503) and down.error == "status"
    closed = RestClient("restcase", f"http://127.0.0.1:{free_port()}")
    try:
        nobody = await closed.health_check("/api/v3/ping")
    finally:
        await closed.close()
    assert (nobody.ok, nobody.status) == (False, None) and nobody.error


def _gauge(name: str, venue: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"venue": venue})


async def test_connection_reuse_rate_on_keep_alive(venue: tuple[Venue, str]) -> None:
    """Sequential calls share one kept-alive connection: 1 created, 19 reused; the gauge in
    /metrics says the same. A server that closes every connection gets a ratio of 0."""
    _, url = venue
    rest = RestClient("reusecase", url)
    try:
        for _ in range(20):
            await rest.get("/slow")
        assert (rest.stats.connections_created, rest.stats.connections_reused) == (1, 19)
        assert rest.stats.reuse_ratio() == pytest.approx(0.95)
        assert _gauge("arb_venue_rest_connection_reuse_ratio", "reusecase") == pytest.approx(0.95)
        assert _gauge("arb_venue_rest_pool_utilisation_ratio", "reusecase") == 0.0
    finally:
        await rest.close()
    closing = RestClient("closecase", url)
    try:
        for _ in range(5):
            await closing.get("/closing")
    finally:
        await closing.close()
    assert (closing.stats.connections_created, closing.stats.connections_reused) == (5, 0)
    assert _gauge("arb_venue_rest_connection_reuse_ratio", "closecase") == 0.0


async def test_pool_utilisation_shows_requests_in_flight(venue: tuple[Venue, str]) -> None:
    _, url = venue
    connection = ConnectionConfig(limit_per_host=4, max_in_flight=4)
    rest = RestClient("poolcase", url, connection=connection)
    try:
        calls = [asyncio.ensure_future(rest.get("/slow")) for _ in range(2)]
        await asyncio.sleep(0.02)  # both sent, the server is sleeping
        assert _gauge("arb_venue_rest_pool_utilisation_ratio", "poolcase") == 0.5
        assert _gauge("arb_venue_rest_in_flight_requests", "poolcase") == 2
        await asyncio.gather(*calls)
        assert _gauge("arb_venue_rest_pool_utilisation_ratio", "poolcase") == 0.0
    finally:
        await rest.close()


def test_bad_configs_name_the_values() -> None:
    with pytest.raises(ValueError, match="max_in_flight=40, limit_per_host=32"):
        ConnectionConfig(max_in_flight=40)
    with pytest.raises(ValueError, match="max_retries=-1"):
        RequestConfig(timeout_s=1.0, max_retries=-1)
