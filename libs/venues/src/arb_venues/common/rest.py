"""One REST client for every venue: pooled aiohttp session, rate budgets, honest retries.

Retries only what is retryable (RateLimited after its Retry-After, VenueUnavailable,
connection errors) and only when the caller allows it: order placement passes ``retry=False``
and resolves an ambiguous outcome by querying the client order id instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace

import aiohttp
from arb_core.backoff import Backoff
from multidict import CIMultiDictProxy

from arb_venues.common import metrics
from arb_venues.common.ratelimit import BucketLimit, Limiter, RateLimiter
from arb_venues.errors import (
    RateLimited,
    RequestTimeout,
    VenueError,
    VenueUnavailable,
)


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
        if response.status < 400:
            return None
        text = response.body[:200].decode(errors="replace")
        if response.status in (418, 429):
            return RateLimited(
                venue, f"rate limited: {text}", http_status=response.status,
                retry_after_s=retry_after_seconds(response.headers),
            )  # fmt: skip
        if response.status >= 500:
            return VenueUnavailable(venue, f"server error: {text}", http_status=response.status)
        from arb_venues.errors import BadRequest

        return BadRequest(venue, f"request refused: {text}", http_status=response.status)

    return mapper


@dataclass
class RestStats:
    requests: int = 0
    connections_created: int = 0
    connections_reused: int = 0
    rate_limit_hits: int = 0
    retries: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


class RestClient:
    """HTTP for one venue base URL. Use one per venue per process; close it on shutdown."""

    def __init__(
        self,
        venue: str,
        base_url: str,
        *,
        limiter: Limiter | None = None,
        error_mapper: ErrorMapper | None = None,
        timeout_s: float = 5.0,
        max_retries: int = 3,
        backoff_base_s: float = 0.2,
        backoff_cap_s: float = 5.0,
        pool_size: int = 32,
    ) -> None:
        self.venue = venue
        self.base_url = base_url.rstrip("/")
        self.limiter: Limiter = limiter or RateLimiter({"default": BucketLimit(50, 20)})
        self.error_mapper = error_mapper or default_error_mapper(venue)
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff = Backoff(backoff_base_s, backoff_cap_s)
        self.pool_size = pool_size
        self.stats = RestStats()
        self._session: aiohttp.ClientSession | None = None

    def _trace(self) -> aiohttp.TraceConfig:
        trace = aiohttp.TraceConfig()

        async def created(_s: aiohttp.ClientSession, _c: SimpleNamespace, _p: object) -> None:
            self.stats.connections_created += 1
            metrics.REST_CONNECTIONS.labels(self.venue, "created").inc()

        async def reused(_s: aiohttp.ClientSession, _c: SimpleNamespace, _p: object) -> None:
            self.stats.connections_reused += 1
            metrics.REST_CONNECTIONS.labels(self.venue, "reused").inc()

        trace.on_connection_create_end.append(created)
        trace.on_connection_reuseconn.append(reused)
        return trace

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.pool_size, keepalive_timeout=30)
            self._session = aiohttp.ClientSession(
                connector=connector, trace_configs=[self._trace()],
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
            )  # fmt: skip
        return self._session

    async def close(self) -> None:
        if self._session is not None:
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
        sign: Callable[[], tuple[str, bytes | str | None, Mapping[str, str]]] | None = None,
    ) -> Response:
        """Send one request; raise the venue's error for a failure.

        ``query`` is sent verbatim (already encoded). ``sign``, when given, is called before
        every attempt (timestamps must be fresh) and returns (query, body, headers).
        """
        attempt = 0
        while True:
            attempt += 1
            await self.limiter.acquire(bucket, weight)
            send_query, send_body, send_headers = query, body, dict(headers or {})
            if sign is not None:
                send_query, send_body, extra = sign()
                send_headers.update(extra)
            url = f"{self.base_url}{path}" + (f"?{send_query}" if send_query else "")
            try:
                response = await self._send(method, url, send_body, send_headers, bucket)
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
            if not (retry and error.retryable and attempt <= self.max_retries):
                raise error
            self.stats.retries += 1
            if not isinstance(error, RateLimited):  # the limiter already waits Retry-After
                await asyncio.sleep(self.backoff.delay(attempt - 1))

    async def _send(
        self, method: str, url: str, body: bytes | str | None, headers: dict[str, str], bucket: str
    ) -> Response:
        started = time.perf_counter()
        self.stats.requests += 1
        try:
            async with self.session().request(method, url, data=body, headers=headers) as resp:
                payload = await resp.read()
                resp_headers: CIMultiDictProxy[str] = resp.headers
                status = resp.status
        except TimeoutError as exc:
            raise RequestTimeout(
                self.venue, f"{method} {url}: no answer within {self.timeout_s}s"
            ) from exc
        except aiohttp.ClientError as exc:
            raise VenueUnavailable(self.venue, f"{method} {url}: {exc}") from exc
        seconds = time.perf_counter() - started
        metrics.REST_REQUEST_SECONDS.labels(self.venue, bucket).observe(seconds)
        return Response(status, dict(resp_headers), payload, seconds)

    def _count(self, bucket: str, outcome: str) -> None:
        self.stats.outcomes[outcome] = self.stats.outcomes.get(outcome, 0) + 1
        metrics.REST_RESULTS.labels(self.venue, bucket, outcome).inc()

    async def get(self, path: str, *, query: str = "", bucket: str = "default",
                  weight: float = 1.0) -> bytes:  # fmt: skip
        return (await self.request("GET", path, query=query, bucket=bucket, weight=weight)).body
