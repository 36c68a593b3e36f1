"""Live accounts: one LiveGateway per venue with credentials, and their balances kept fresh.

Per venue with credentials (``ARB_EXECUTOR_CREDENTIALS__<VENUE>__API_KEY`` / ``__SECRET`` /
``__PASSPHRASE`` / ``__REST_URL``): a RestClient on the venue's REST base URL with the
venue's own error mapping and request weights, the venue's TradingClient signing with the
credentials, and the instruments (tick, lot) from Redis (``arb:ref:instruments:{venue}``,
written by ingest) or, when ingest has not written them yet, from the venue's public REST.

A venue that does not answer at start (down, or slower than ``venue_start_timeout_s``) does
not stop the executor: its gateway starts degraded (refused) and is taken back when a
balance read succeeds. Instruments that could not be loaded are loaded again then.

``BalanceKeeper`` refreshes every gateway's balances from REST every ``refresh_s`` (a
degraded venue every ``retry_s``) and publishes them to ``arb:balances:{venue}`` (the
detector sizes opportunities by them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar

import redis.asyncio as aioredis
from arb_runtime.streams import StreamProducer
from arb_structs import Instrument
from arb_structs.codec import BALANCES, INSTRUMENT
from arb_structs.constants import balances_key, instruments_key
from arb_venues import get_venue, venue_specs
from arb_venues.base import Credentials, Endpoints
from arb_venues.common.ratelimit import Limiter
from arb_venues.common.rest import TRADING, RestClient
from arb_venues.common.shared_ratelimit import venue_limiter
from arb_venues.errors import VenueError
from arb_venues.fees import with_account_fees
from arb_venues.spec import VenueSpec

from arb_executor.config import ExecutorSettings, VenueCredentials
from arb_executor.errors import GatewayNotConfigured
from arb_executor.gateway import OrderGateway
from arb_executor.live import LiveGateway

log = logging.getLogger("arb.executor")
T = TypeVar("T")


def rest_client(
    spec: VenueSpec,
    base_url: str,
    *,
    timeout_s: float,
    limiter: Limiter | None = None,
    shared: aioredis.Redis | None = None,
) -> RestClient:
    """A RestClient for one venue's private REST: its error mapping and request weights, the
    ``TRADING`` preset and the venue's clock offset.

    Order calls are sent once (``retry=False`` in every TradingClient), and under ``TRADING``
    nothing whose outcome is unknown is resent: queries retry only a rate limit or a refused
    timestamp. Signed timestamps use the offset to the venue's clock, measured against its
    time endpoint before the first signed call and every few minutes
    (arb_venues.common.clock). With ``shared`` (a Redis client) the venue's budgets and
    Retry-After pauses are shared by every process (RedisRateLimiter); else per process.
    """
    market = spec.market(Endpoints(ws_url="", rest_url=base_url))
    rest = RestClient(
        spec.name, base_url, limiter=limiter or venue_limiter(spec.name, spec.rest_limits, shared),
        error_mapper=market.error_mapper(), request=TRADING.with_timeout(timeout_s),
    )  # fmt: skip
    market.track_clock(rest)
    return rest


async def load_instruments(
    redis: aioredis.Redis, spec: VenueSpec, rest: RestClient
) -> dict[str, Instrument]:
    """The venue's instruments by symbol: Redis first, else the venue's public REST."""
    r: Any = redis  # bytes replies
    raw: dict[bytes, bytes] = await r.hgetall(instruments_key(spec.name))
    if raw:
        return {k.decode(): INSTRUMENT.decode(v) for k, v in raw.items()}
    market = spec.market(Endpoints(ws_url="", rest_url=rest.base_url))
    fetched = with_account_fees(await market.fetch_instruments(rest))
    log.info("%s: %d instruments from REST (none in Redis yet)", spec.name, len(fetched))
    return {i.symbol: i for i in fetched}


def passphrase_venues() -> list[str]:
    """The venues whose API keys come with a passphrase (``VenueSpec.credentials``)."""
    return [spec.name for spec in venue_specs() if spec.credentials.passphrase]


def credentials_of(venue: str, creds: VenueCredentials) -> Credentials:
    if not creds.api_key or not creds.secret.get_secret_value():
        raise GatewayNotConfigured(
            f"{venue}: empty API key or secret; set ARB_EXECUTOR_CREDENTIALS__"
            f"{venue.upper()}__API_KEY and __SECRET"
        )
    return Credentials(creds.api_key, creds.secret, creds.passphrase)


def credentials_problem(settings: ExecutorSettings) -> str | None:
    """What live trading cannot start with, found without a call to any venue (one line naming
    the variable and the fix), or None: no credentials at all, a venue that is not one or has
    no trading client, an empty key or secret. ``arb run`` asks it before starting anything."""
    if not settings.credentials:
        return (
            "ARB_EXECUTOR_MODE=live but no credentials: set ARB_EXECUTOR_CREDENTIALS__<VENUE>__"
            f"API_KEY and __SECRET (and __PASSPHRASE for {', '.join(passphrase_venues())}), or "
            "use ARB_EXECUTOR_MODE=paper"
        )
    for venue, creds in sorted(settings.credentials.items()):
        try:
            spec = get_venue(venue)
        except ValueError as exc:
            return f"ARB_EXECUTOR_CREDENTIALS__{venue.upper()}: {exc}"
        if spec.trading is None:
            return f"{venue}: no trading client yet; remove its credentials"
        try:
            credentials_of(venue, creds)
        except GatewayNotConfigured as exc:
            return str(exc)
    return None


async def live_gateways(
    settings: ExecutorSettings,
    redis: aioredis.Redis,
) -> dict[str, LiveGateway]:
    """One LiveGateway per venue with credentials, balances loaded. Raises
    GatewayNotConfigured (one line naming the venue and the fix) for a bad setup."""
    problem = credentials_problem(settings)
    if problem:
        raise GatewayNotConfigured(problem)
    out: dict[str, LiveGateway] = {}
    try:
        for venue, creds in sorted(settings.credentials.items()):
            spec = get_venue(venue)
            rest = rest_client(
                spec, creds.rest_url or spec.endpoints.rest_url,
                timeout_s=settings.order_timeout_s,
                shared=redis if settings.shared_rate_limits else None,
            )  # fmt: skip
            credentials = credentials_of(venue, creds)

            async def loader(spec: VenueSpec = spec, rest: RestClient = rest
                             ) -> dict[str, Instrument]:  # fmt: skip
                return await load_instruments(redis, spec, rest)

            try:
                instruments = await _bounded(loader(), settings.venue_start_timeout_s)
            except (VenueError, TimeoutError) as exc:  # retried before its first balance read
                log.error("%s: instruments not loaded (%s); retried", venue, exc or "timeout")
                instruments = {}
            trading = spec.trading
            assert trading is not None  # credentials_problem refused a venue without one
            client = trading(rest, credentials, instruments)
            out[venue] = LiveGateway(client, call_timeout_s=settings.order_timeout_s * 4,
                                     loader=loader)  # fmt: skip
        await asyncio.gather(*(_first_snapshot(g, settings.venue_start_timeout_s)
                               for g in out.values()))  # fmt: skip
    except BaseException:
        await close_all(out)
        raise
    return out


async def _bounded(call: Awaitable[T], timeout_s: float) -> T:
    async with asyncio.timeout(timeout_s):
        return await call


async def _first_snapshot(gateway: LiveGateway, timeout_s: float) -> None:
    """The first balance read, bounded: a venue slow or down starts degraded."""
    try:
        snapshot = await _bounded(gateway.snapshot(), timeout_s)
    except TimeoutError:
        gateway.set_degraded(f"no balances within {timeout_s}s at start")
        return
    except VenueError:
        return  # snapshot() marked it degraded with the venue's error
    log.info("%s: live account ready at %s (%d assets)", gateway.venue,
             gateway.client.rest.base_url, len(snapshot.balances))  # fmt: skip


async def close_all(gateways: Mapping[str, OrderGateway]) -> None:
    for gateway in gateways.values():
        if isinstance(gateway, LiveGateway):
            with contextlib.suppress(Exception):
                await gateway.close()


class BalanceKeeper:
    """Refreshes balances from REST every ``refresh_s`` (a degraded venue every
    ``retry_s``: that is how it is taken back) and publishes them. One loop per venue: a
    slow venue never holds up another's balances."""

    def __init__(
        self, producer: StreamProducer, gateways: Mapping[str, OrderGateway], refresh_s: float,
        retry_s: float = 1.0,
    ) -> None:  # fmt: skip
        self.producer = producer
        self.gateways = gateways
        self.refresh_s = refresh_s
        self.retry_s = min(retry_s, refresh_s)
        self.refreshes = 0

    async def refresh(self, venue: str) -> bool:
        try:
            snapshot = await self.gateways[venue].snapshot()
        except Exception as exc:  # advisory: the next round tries again
            log.warning("%s: balances not refreshed: %s", venue, exc)
            return False
        self.producer.set(balances_key(venue), BALANCES.encode(snapshot))
        self.refreshes += 1
        return True

    async def run(self, stopping: asyncio.Event) -> None:
        await asyncio.gather(*(self._venue(v, stopping) for v in self.gateways))

    async def _venue(self, venue: str, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            ok = await self.refresh(venue)
            degraded = not ok or getattr(self.gateways[venue], "degraded", False)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(),
                                       self.retry_s if degraded else self.refresh_s)  # fmt: skip
