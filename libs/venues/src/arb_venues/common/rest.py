"""One REST client for every venue: pooled aiohttp session, rate budgets, honest retries.

    rest = RestClient("binance", url, connection=ConnectionConfig(), request=MARKET_DATA)

- ``ConnectionConfig``: the pool (connections per host, connect timeout, keep-alive) and the
  bound on requests in flight at once (a semaphore; a request waiting for it holds no
  connection).
- ``RequestConfig``: timeout and retry policy, per client and per call. Two presets:
  ``MARKET_DATA`` (short timeout, two retries with jittered backoff) and ``TRADING``
  (never resends a request whose outcome is unknown).
- Retries only what is retryable (RateLimited after its Retry-After, VenueUnavailable,
  RequestTimeout, TimestampRejected after the clock is measured again) and only when the
  caller allows it (``retry=True``, the default) and the config does: under ``TRADING`` a
  timeout, a 5xx or a connection lost after sending is raised at once, whatever the call,
  because the venue may have acted on it. Order placement also passes ``retry=False``: an
  order is sent once, and the executor resolves a lost answer by querying its client order id
  (arb_executor.saga), never by sending it again.
- ``health_check(path)``: status and latency of the venue's ping/time endpoint;
  ``batch_request(calls)``: many calls at once, answers in order, each failure in its own
  slot.
- ``clock``: the venue's clock offset (arb_venues.common.clock); signers read it, the client
  measures it before the first signed call and again when the venue refuses a timestamp.
- Metrics (arb_venues.common.metrics): latency, outcomes, connections created vs reused and
  the reuse ratio, requests in flight and the pool's utilisation, per venue.

Signature reuse: none. A signature is reused only where the venue's docs say a signed value
may authenticate more than one request; every HMAC scheme here signs the timestamp with the
request's own path, query and body, so each request needs its own. Coinbase's JWT (valid two
minutes, bound to method, host and path: https://docs.cdp.coinbase.com/get-started/authentication/jwt-authentication)
is the one candidate, and its docs do not say that one JWT may serve several requests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from types import SimpleNamespace

import aiohttp
from arb_core.backoff import Backoff
from multidict import CIMultiDictProxy

from arb_venues.common import metrics
from arb_venues.common.clock import VenueClock
from arb_venues.common.ratelimit import BucketLimit, Limiter, RateLimiter
from arb_venues.errors import (
    RATE_LIMIT_STATUSES,
    BadRequest,
    RateLimited,
    RequestTimeout,
    TimestampRejected,
    VenueError,
    VenueUnavailable,
)

# Returns (query, body, headers) of one attempt; called before every attempt.
Signer = Callable[[], tuple[str, bytes | str | None, Mapping[str, str]]]


@dataclass(frozen=True, slots=True)
class ConnectionConfig:
    """How a client connects: its pool and how many requests it has in flight at once."""

    # Connections open to the venue's host at once (aiohttp's limit_per_host).
    limit_per_host: int = 32
    # TCP (and TLS) handshake of a new connection; the request's own timeout bounds the rest.
    connect_timeout_s: float = 3.0
    # An idle pooled connection is closed after this (venues close theirs after ~60 s).
    keepalive_s: float = 30.0
    # Requests in flight at once (a semaphore); more wait their turn before taking a
    # connection. At most limit_per_host, so none waits inside the pool.
    max_in_flight: int = 32

    def __post_init__(self) -> None:
        if not (0 < self.max_in_flight <= self.limit_per_host):
            raise ValueError(
                f"ConnectionConfig: max_in_flight={self.max_in_flight}, limit_per_host="
                f"{self.limit_per_host}: need 0 < max_in_flight <= limit_per_host"
            )
        if self.connect_timeout_s <= 0 or self.keepalive_s <= 0:
            raise ValueError(
                f"ConnectionConfig: connect_timeout_s={self.connect_timeout_s}, keepalive_s="
                f"{self.keepalive_s}: both must be > 0"
            )


@dataclass(frozen=True, slots=True)
class RequestConfig:
    """How one class of requests is sent: its timeout and what is retried, how often."""

    timeout_s: float
    # Retries of a retryable failure, when the call allows retries (``retry=True``).
    max_retries: int
    # Full-jitter exponential backoff between retries (arb_core.backoff).
    backoff_base_s: float = 0.1
    backoff_cap_s: float = 2.0
    # Whether a request whose outcome is unknown (RequestTimeout, VenueUnavailable: no
    # answer, 5xx, connection lost after sending) may be sent again. False: only failures
    # that prove the venue did not act (RateLimited, TimestampRejected) are retried.
    resend_unknown: bool = True

    def __post_init__(self) -> None:
        if self.timeout_s <= 0 or self.max_retries < 0:
            raise ValueError(
                f"RequestConfig: timeout_s={self.timeout_s}, max_retries={self.max_retries}: "
                "need timeout_s > 0 and max_retries >= 0"
            )

    @property
    def backoff(self) -> Backoff:
        return Backoff(self.backoff_base_s, self.backoff_cap_s)

    def with_timeout(self, timeout_s: float) -> RequestConfig:
        return replace(self, timeout_s=timeout_s)


# Public market data (snapshots, instruments, audits, server time): a short timeout, two
# retries with jitter; a snapshot that fails after them is asked for again by the feed.
MARKET_DATA = RequestConfig(timeout_s=3.0, max_retries=2, backoff_base_s=0.2, backoff_cap_s=2.0)
# Private trading calls: nothing whose outcome is unknown is sent twice (the executor looks
# an order up by client id instead); reads are retried after a rate limit or a refused
# timestamp only. The executor sets the timeout (ARB_EXECUTOR_ORDER_TIMEOUT_S).
TRADING = RequestConfig(
    timeout_s=5.0, max_retries=2, backoff_base_s=0.05, backoff_cap_s=0.5, resend_unknown=False
)
# One attempt, nothing retried (health checks, clock samples, tests of a single answer).
ONCE = RequestConfig(timeout_s=3.0, max_retries=0)


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes
    seconds: float


# Maps a non-2xx (or a 2xx carrying a venue error code) to the venue's exception; None = ok.
ErrorMapper = Callable[[Response], VenueError | None]


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After") or headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def default_error_mapper(venue: str) -> ErrorMapper:
    def mapper(response: Response) -> VenueError | None:
        if response.status < HTTPStatus.BAD_REQUEST:
            return None
        text = response.body[:200].decode(errors="replace")
        if response.status in RATE_LIMIT_STATUSES:
            return RateLimited(
                venue, f"rate limited: {text}", http_status=response.status,
                retry_after_s=retry_after_seconds(response.headers),
            )  # fmt: skip
        if response.status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            return VenueUnavailable(venue, f"server error: {text}", http_status=response.status)
        return BadRequest(venue, f"request refused: {text}", http_status=response.status)

    return mapper


@dataclass
class RestStats:
    requests: int = 0
    connections_created: int = 0
    connections_reused: int = 0
    rate_limit_hits: int = 0
    retries: int = 0
    in_flight: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def reuse_ratio(self) -> float:
        """Share of requests sent on a pooled connection (0 before any request)."""
        total = self.connections_created + self.connections_reused
        return self.connections_reused / total if total else 0.0


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """One probe of the venue's ping/time endpoint."""

    venue: str
    path: str
    ok: bool  # a 2xx answer
    status: int | None  # HTTP status; None: no answer (``error`` says why)
    latency_s: float  # from send to full body (to the failure when there was no answer)
    error: str = ""


@dataclass(frozen=True, slots=True)
class Call:
    """One request of a ``batch_request``: the arguments of ``RestClient.request``."""

    method: str
    path: str
    query: str = ""
    body: bytes | str | None = None
    headers: Mapping[str, str] | None = None
    bucket: str = "default"
    weight: float = 1.0
    retry: bool = True
    sign: Signer | None = None
    config: RequestConfig | None = None


class RestClient:
    """HTTP for one venue base URL. Use one per venue per process; close it on shutdown."""

    def __init__(
        self,
        venue: str,
        base_url: str,
        *,
        limiter: Limiter | None = None,
        error_mapper: ErrorMapper | None = None,
        connection: ConnectionConfig | None = None,
        request: RequestConfig = MARKET_DATA,
        clock: VenueClock | None = None,
    ) -> None:
        self.venue = venue
        self.base_url = base_url.rstrip("/")
        self.limiter: Limiter = limiter or RateLimiter({"default": BucketLimit(50, 20)})
        self.error_mapper = error_mapper or default_error_mapper(venue)
        self.connection = connection or ConnectionConfig()
        self.config = request
        self.clock = clock or VenueClock(venue)
        self.stats = RestStats()
        self._pool = metrics.pool_usage(venue)
        self._in_flight = asyncio.Semaphore(self.connection.max_in_flight)
        self._session: aiohttp.ClientSession | None = None

    def _trace(self) -> aiohttp.TraceConfig:
        trace = aiohttp.TraceConfig()

        async def created(_s: aiohttp.ClientSession, _c: SimpleNamespace, _p: object) -> None:
            self.stats.connections_created += 1
            self._pool.created += 1
            metrics.REST_CONNECTIONS.labels(self.venue, "created").inc()

        async def reused(_s: aiohttp.ClientSession, _c: SimpleNamespace, _p: object) -> None:
            self.stats.connections_reused += 1
            self._pool.reused += 1
            metrics.REST_CONNECTIONS.labels(self.venue, "reused").inc()

        trace.on_connection_create_end.append(created)
        trace.on_connection_reuseconn.append(reused)
        return trace

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.connection.limit_per_host,
                limit_per_host=self.connection.limit_per_host,
                keepalive_timeout=self.connection.keepalive_s,
            )
            self._session = aiohttp.ClientSession(connector=connector,
                                                  trace_configs=[self._trace()])  # fmt: skip
            self._pool.connection_limit += self.connection.limit_per_host
        return self._session

    async def close(self) -> None:
        await self.clock.close()
        if self._session is not None:
            if not self._session.closed:
                self._pool.connection_limit -= self.connection.limit_per_host
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        bucket: str = "default",
        weight: float = 1.0,
        retry: bool = True,
        sign: Signer | None = None,
        config: RequestConfig | None = None,
    ) -> Response:
        """Send one request; raise the venue's error for a failure.

        ``query`` is sent verbatim (already encoded). ``sign``, when given, is called before
        every attempt (timestamps must be fresh, read from ``self.clock``) and returns
        (query, body, headers). ``config`` overrides the client's RequestConfig for this
        call; ``retry=False`` sends it once whatever the config says.
        """
        conf = config or self.config
        attempt = 0
        while True:
            attempt += 1
            await self.limiter.acquire(bucket, weight)
            send_query, send_body, send_headers = query, body, dict(headers or {})
            if sign is not None:
                await self.clock.ready()
                send_query, send_body, extra = sign()
                send_headers.update(extra)
            url = f"{self.base_url}{path}" + (f"?{send_query}" if send_query else "")
            try:
                response = await self._send(method, url, send_body, send_headers, bucket,
                                            conf.timeout_s)  # fmt: skip
                error = self.error_mapper(response)
            except VenueError as exc:
                error = exc
            if error is None:
                self._count(bucket, "ok")
                return response
            self._count(bucket, type(error).__name__)
            if isinstance(error, RateLimited):
                self.stats.rate_limit_hits += 1
                metrics.REST_RATE_LIMIT_HITS.labels(self.venue).inc()
                pause = error.retry_after_s if error.retry_after_s is not None else 1.0
                self.limiter.pause_all(pause)
            if isinstance(error, TimestampRejected):
                await self.clock.resync()  # the next signed call (or this one's retry) uses it
            unknown = isinstance(error, (RequestTimeout, VenueUnavailable))
            if not (
                retry and error.retryable and attempt <= conf.max_retries
                and (conf.resend_unknown or not unknown)
            ):  # fmt: skip
                raise error
            self.stats.retries += 1
            if not isinstance(error, RateLimited):  # the limiter already waits Retry-After
                await asyncio.sleep(conf.backoff.delay(attempt - 1))

    async def _send(
        self,
        method: str,
        url: str,
        body: bytes | str | None,
        headers: dict[str, str],
        bucket: str,
        timeout_s: float,
    ) -> Response:
        timeout = aiohttp.ClientTimeout(total=timeout_s,
                                        connect=self.connection.connect_timeout_s)  # fmt: skip
        async with self._in_flight:
            started = time.perf_counter()
            self.stats.requests += 1
            self.stats.in_flight += 1
            self._pool.in_flight += 1
            metrics.REST_IN_FLIGHT.labels(self.venue).inc()
            try:
                async with self.session().request(method, url, data=body, headers=headers,
                                                  timeout=timeout) as resp:  # fmt: skip
                    payload = await resp.read()
                    resp_headers: CIMultiDictProxy[str] = resp.headers
                    status = resp.status
            except TimeoutError as exc:
                raise RequestTimeout(
                    self.venue, f"{method} {url}: no answer within {timeout_s}s"
                ) from exc
            except aiohttp.ClientError as exc:
                raise VenueUnavailable(self.venue, f"{method} {url}: {exc}") from exc
            finally:
                self.stats.in_flight -= 1
                self._pool.in_flight -= 1
                metrics.REST_IN_FLIGHT.labels(self.venue).dec()
        seconds = time.perf_counter() - started
        metrics.REST_REQUEST_SECONDS.labels(self.venue, bucket).observe(seconds)
        return Response(status, dict(resp_headers), payload, seconds)

    def _count(self, bucket: str, outcome: str) -> None:
        self.stats.outcomes[outcome] = self.stats.outcomes.get(outcome, 0) + 1
        metrics.REST_RESULTS.labels(self.venue, bucket, outcome).inc()

    async def get(self, path: str, *, query: str = "", bucket: str = "default",
                  weight: float = 1.0, config: RequestConfig | None = None) -> bytes:  # fmt: skip
        return (await self.request("GET", path, query=query, bucket=bucket, weight=weight,
                                   config=config)).body  # fmt: skip

    async def batch_request(self, calls: Sequence[Call]) -> list[Response | Exception]:
        """Send ``calls`` concurrently (bounded by ``max_in_flight`` and the rate budgets);
        the answers in the order of ``calls``, each failure (a VenueError, or any other
        Exception) in its own slot: one failed call fails no other."""

        async def one(call: Call) -> Response | Exception:
            try:
                return await self.request(
                    call.method, call.path, query=call.query, body=call.body,
                    headers=call.headers, bucket=call.bucket, weight=call.weight,
                    retry=call.retry, sign=call.sign, config=call.config,
                )  # fmt: skip
            except Exception as exc:
                return exc

        return list(await asyncio.gather(*(one(call) for call in calls)))

    async def health_check(self, path: str, *, query: str = "", bucket: str = "default",
                           timeout_s: float | None = None) -> HealthCheck:  # fmt: skip
        """Status and latency of one GET of the venue's ping/time endpoint ``path``, sent once
        through the rate budget; never raises for the venue's answer or its absence."""
        await self.limiter.acquire(bucket, 1.0)
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        started = time.perf_counter()
        try:
            response = await self._send("GET", url, None, {}, bucket,
                                        timeout_s or ONCE.timeout_s)  # fmt: skip
        except VenueError as exc:
            check = HealthCheck(self.venue, path, False, None, time.perf_counter() - started,
                                str(exc))  # fmt: skip
        else:
            ok = HTTPStatus.OK <= response.status < HTTPStatus.MULTIPLE_CHOICES
            error = "" if ok else response.body[:200].decode(errors="replace")
            check = HealthCheck(self.venue, path, ok, response.status, response.seconds, error)
        metrics.REST_HEALTH_SECONDS.labels(self.venue).set(check.latency_s)
        metrics.REST_HEALTHY.labels(self.venue).set(1 if check.ok else 0)
        return check
