"""The venue's clock as this process sees it: local wall time plus a measured offset.

Signed requests carry a timestamp the venue checks against its own clock (Binance: within
``recvWindow``, 5 s by default; OKX: 30 s; Bybit: ``recv_window`` back and 1 s ahead; each
venue's trading.py names its window). A host clock a few seconds off gets every signed call
refused (Binance -1021, OKX 50102, Bybit 10002), so the signers read ``VenueClock.now_ms()``,
not ``time.time()``.

The offset is measured against the venue's documented time endpoint
(``MarketDataProtocol.server_time``): ``offset = server_time - local midpoint of the round
trip``. Of a few samples the one with the shortest round trip is kept: its error is at most
half that round trip (the server stamped somewhere inside it). It is measured before the
first signed request, again in the background every ``refresh_s`` (never on the path of a
request), and at once when the venue refuses a timestamp (``TimestampRejected``).

A clock without a source (``track`` never called) stays at offset 0: local time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from arb_venues.common import metrics
from arb_venues.errors import VenueError

log = logging.getLogger("arb.venues")

# The venue's current time in integer nanoseconds (from its time endpoint).
ServerTime = Callable[[], Awaitable[int]]


class VenueClock:
    """Local time corrected by the measured offset to one venue's clock."""

    def __init__(
        self,
        venue: str,
        *,
        refresh_s: float = 300.0,
        retry_s: float = 10.0,
        samples: int = 3,
        wall: Callable[[], int] = time.time_ns,
    ) -> None:
        if samples < 1 or refresh_s <= 0 or retry_s <= 0:
            raise ValueError(
                f"VenueClock({venue}): samples={samples}, refresh_s={refresh_s}, "
                f"retry_s={retry_s}: need samples >= 1 and positive intervals"
            )
        self.venue = venue
        self.refresh_s = refresh_s
        self.retry_s = retry_s  # after a failed measurement, the next try is this much later
        self.samples = samples
        self.wall = wall
        self.source: ServerTime | None = None
        self.offset_ns = 0  # venue time - local time
        self.round_trip_ns: int | None = None  # of the sample the offset comes from
        self.syncs = 0
        self._next_sync = 0.0  # monotonic; 0 = measure before the next signed request
        self._tried = False  # measured in line once; after that, in the background
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def track(self, source: ServerTime) -> None:
        """Measure the offset against ``source`` from now on (before the next signed call)."""
        self.source = source
        self._next_sync = 0.0
        self._tried = False

    def now_ns(self) -> int:
        return self.wall() + self.offset_ns

    def now_ms(self) -> int:
        return self.now_ns() // 1_000_000

    @property
    def synced(self) -> bool:
        return self.round_trip_ns is not None

    async def sync(self) -> int:
        """Measure the offset now (``samples`` round trips, the shortest kept); returns it.
        Raises the VenueError of the time endpoint (the old offset stays)."""
        if self.source is None:
            return self.offset_ns
        async with self._lock:
            best: tuple[int, int] | None = None  # (round trip, offset)
            for _ in range(self.samples):
                sent_wall, sent = self.wall(), time.perf_counter_ns()
                server = await self.source()
                round_trip = time.perf_counter_ns() - sent
                offset = server - (sent_wall + round_trip // 2)
                if best is None or round_trip < best[0]:
                    best = (round_trip, offset)
            self.round_trip_ns, self.offset_ns = best  # type: ignore[misc]  # samples >= 1
            self.syncs += 1
            self._next_sync = time.monotonic() + self.refresh_s
            metrics.CLOCK_OFFSET.labels(self.venue).set(self.offset_ns / 1e9)
            return self.offset_ns

    async def ready(self) -> None:
        """Before a signed request: measure first if never tried (a failure is logged and
        signing goes on with the offset there is); after that, measure again in the
        background when due (a refresh, or a retry of a failed first measurement)."""
        if self.source is None or time.monotonic() < self._next_sync:
            return
        if not self.synced and not self._tried:  # only the first: a venue whose time
            self._tried = True  # endpoint fails must not hold every later order back
            await self._sync_logged()
        elif self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._sync_logged())

    async def resync(self) -> None:
        """The venue refused a timestamp: measure again now (a failure is logged)."""
        if self.source is not None:
            await self._sync_logged()

    async def _sync_logged(self) -> None:
        try:
            await self.sync()
        except (VenueError, TimeoutError) as exc:
            self._next_sync = time.monotonic() + self.retry_s
            log.warning("%s: server time not read (%s); signing with offset %.3f s, retried in "
                        "%.0f s", self.venue, exc or "timeout", self.offset_ns / 1e9,
                        self.retry_s)  # fmt: skip

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        self._task = None
