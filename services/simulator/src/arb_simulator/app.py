"""The simulator's wiring: the market, its clock, one server per venue, the control API.

    sim = Simulator(SimulatorSettings(venues=["binance", "okx"]))
    await sim.start()
    sim.urls     # {"binance": {"ws": "ws://127.0.0.1:41234", "rest": "http://..."}, ...}
    ...
    await sim.stop()

The clock task steps the market every ``1 / tick_hz`` s on the event loop's clock; when the
loop falls behind it runs the missed ticks (up to MAX_CATCH_UP_S of them, then it resets its
schedule rather than spiral), so the book update rate holds on average. In replay mode (settings
``replay``) there is no market: one server serves the capture under ``replay_venue``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from arb_runtime.tasks import stop_task
from arb_structs import TruthEvent
from arb_venues import VENUE_NAMES, get_venue
from arb_venues.base import Endpoints
from arb_venues.simapi import SimMarket

from arb_simulator import metrics
from arb_simulator.config import FaultSpec, SimulatorSettings
from arb_simulator.connections import Connections
from arb_simulator.control import create_control_app
from arb_simulator.errors import SimulatorConfigError
from arb_simulator.faults import ArmedFault, Faults
from arb_simulator.market import Market
from arb_simulator.replay import ReplayCapture
from arb_simulator.requestlog import RequestLog, install_request_log
from arb_simulator.scheduler import DislocationScheduler
from arb_simulator.server import AppServer, install_faults, load_sim_app
from arb_simulator.truth import TruthLog
from arb_simulator.venue import VenueMarket

log = logging.getLogger(__name__)

# How far behind the clock may fall and still run every tick it missed: time, not ticks, so a
# hiccup of the loop costs no updates at any tick rate (5 ticks at the default 50 Hz, as
# before; 100 at 1,000 Hz, where 5 ticks were 5 ms and a busy box lost 3 % of the updates).
MAX_CATCH_UP_S = 0.1
AppFactory = Callable[[SimMarket], web.Application]


class Simulator:
    def __init__(
        self,
        settings: SimulatorSettings | None = None,
        redis: Any | None = None,
        apps: Mapping[str, AppFactory] | None = None,
    ) -> None:
        """``redis``: a redis.asyncio client for the truth stream (else from settings).
        ``apps``: protocol app factories by venue, instead of ``arb_venues.<venue>``'s."""
        self.settings = settings if settings is not None else SimulatorSettings()
        self._apps = dict(apps or {})
        self._redis = redis
        self._own_redis = False
        self.market: Market | None = None
        self.replay: ReplayCapture | None = None
        self.faults: dict[str, Faults] = {}
        self.venue_markets: dict[str, VenueMarket] = {}
        self.requests: dict[str, RequestLog] = {}  # REST requests each venue received
        self.scheduler: DislocationScheduler | None = None
        self.servers: dict[str, AppServer] = {}
        self.connections: dict[str, Connections] = {}
        self._watch_task: asyncio.Task[None] | None = None
        self.skipped: list[str] = []
        self.control: AppServer | None = None
        self.truth_log: TruthLog | None = None
        self.running = False
        self._clock_task: asyncio.Task[None] | None = None
        self._reported: dict[str, int] = {}
        s = self.settings
        if s.replay:
            self.replay = ReplayCapture.from_files(s.replay, s.replay_speed)
            return
        self.market = Market(s.market_config())
        for venue in s.venues:
            self.faults[venue] = Faults(venue)
            self.venue_markets[venue] = VenueMarket(self.market, venue, self.faults[venue])
        for spec in s.faults:
            self.arm_fault(spec)
        self.scheduler = DislocationScheduler(self.market, s.injection_plan(), s.seed)

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        s = self.settings
        try:
            if self.replay is not None:
                server = AppServer(
                    s.replay_venue,
                    self.replay.create_app(),
                    s.host,
                    s.port_for(s.replay_venue),
                    _real_endpoints(s.replay_venue),
                )
                await server.start()
                self.servers[s.replay_venue] = server
            else:
                await self._start_market()
            self.control = AppServer(
                "control", create_control_app(self), s.host, s.control_listen_port()
            )
            await self.control.start()
        except BaseException:
            await self.stop()
            raise
        self.running = True
        log.info("simulator up: %s; control %s", self.urls, self.control_url)

    async def _start_market(self) -> None:
        s = self.settings
        assert self.market is not None
        if self._redis is None and s.redis_url:
            from arb_runtime.redis import connect  # one server or a Redis Cluster

            self._redis = await connect(s.redis_url, ping=False)
            self._own_redis = True
        self.truth_log = TruthLog(s.truth_path, self._redis)
        await self.truth_log.start()
        self.market.truth_listeners.append(self.truth_log)
        self.market.truth_listeners.append(_count_dislocation)
        for venue, venue_market in self.venue_markets.items():
            factory = self._apps.get(venue)
            loaded: tuple[web.Application, Endpoints | None] | None
            if factory is not None:
                loaded = factory(venue_market), None
            else:
                loaded = load_sim_app(venue, venue_market)
            if loaded is None:
                self.skipped.append(venue)
                continue
            app, endpoints = loaded
            install_faults(app, self.faults[venue])
            self.requests[venue] = RequestLog()
            install_request_log(app, self.requests[venue])  # outermost: as the venue saw it
            connections = Connections(venue, self._lifetime(venue))
            connections.install(app)
            self.connections[venue] = connections
            server = AppServer(venue, app, s.host, s.port_for(venue), endpoints)
            await server.start()
            self.servers[venue] = server
        self._clock_task = asyncio.create_task(self._run_clock(), name="simulator-clock")
        self._watch_task = asyncio.create_task(self._watch_connections(), name="simulator-conns")

    def _lifetime(self, venue: str) -> float | None:
        """The venue's connection lifetime as this run enforces it; None = not enforced."""
        scale = self.settings.lifetime_scale
        if not scale:
            return None
        try:
            return get_venue(venue).connection_lifetime_s * scale
        except (ImportError, AttributeError):
            return None  # a test's own app under a made-up venue name

    async def _watch_connections(self) -> None:
        """Lifetimes enforced and maintenance windows run, venue by venue."""
        s = self.settings
        lifetimes = [c.lifetime_s for c in self.connections.values() if c.lifetime_s]
        tick = min([0.2, *(t / 50 for t in lifetimes)])
        loop = asyncio.get_running_loop()
        every = s.maintenance_every_s
        venues = sorted(self.connections)
        # Staggered: venue i first goes down at (i + 1) / n of the period.
        next_maintenance = {
            v: loop.time() + every * (i + 1) / len(venues) for i, v in enumerate(venues)
        }
        while True:
            await asyncio.sleep(tick)
            now = loop.time()
            for venue, connections in self.connections.items():
                connections.sweep()
                if every and now >= next_maintenance[venue]:
                    next_maintenance[venue] = now + every
                    connections.maintenance(s.maintenance_notice_s, s.maintenance_gap_s)

    def maintenance(
        self, venue: str, notice_s: float | None = None, gap_s: float | None = None
    ) -> dict[str, Any]:
        """Maintenance of one venue's WS server now (the control API); ValueError names an
        unknown venue."""
        connections = self.connections.get(venue)
        if connections is None:
            raise ValueError(f"venue {venue!r} is not served; venues: {sorted(self.connections)}")
        return connections.maintenance(
            self.settings.maintenance_notice_s if notice_s is None else notice_s,
            self.settings.maintenance_gap_s if gap_s is None else gap_s,
        )

    def halt(self, venue: str, duration_s: float) -> dict[str, Any]:
        """``venue`` down for declared maintenance (the control API); ValueError names an
        unknown venue."""
        connections = self.connections.get(venue)
        if connections is None:
            raise ValueError(f"venue {venue!r} is not served; venues: {sorted(self.connections)}")
        return connections.halt(duration_s)

    def cut(self, venue: str, conn_id: int | None = None) -> dict[str, Any]:
        """Close one WS connection of ``venue`` now, without warning (the control API);
        ValueError names an unknown venue or connection."""
        connections = self.connections.get(venue)
        if connections is None:
            raise ValueError(f"venue {venue!r} is not served; venues: {sorted(self.connections)}")
        return connections.cut(conn_id)

    async def stop(self) -> None:
        self.running = False
        if self._clock_task is not None:
            await stop_task(self._clock_task)
            self._clock_task = None
        if self._watch_task is not None:
            await stop_task(self._watch_task)
            self._watch_task = None
        for connections in self.connections.values():
            await connections.stop()
        if self.control is not None:
            await self.control.stop()
            self.control = None
        for server in self.servers.values():
            await server.stop()
        self.servers.clear()
        if self.truth_log is not None:
            await self.truth_log.stop()
        if self._own_redis and self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
            self._redis = None

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def pause(self) -> None:
        """Stop the market clock: every book holds still (the servers keep serving), so a
        client's book can be compared with the simulator's at one moment."""
        if self._clock_task is not None:
            await stop_task(self._clock_task)
            self._clock_task = None

    def resume(self) -> None:
        """Start the market clock again after ``pause``."""
        if self._clock_task is None and self.market is not None:
            self._clock_task = asyncio.create_task(self._run_clock(), name="simulator-clock")

    # -- the clock ------------------------------------------------------------------------

    async def _run_clock(self) -> None:
        market, scheduler = self.market, self.scheduler
        assert market is not None and scheduler is not None
        loop = asyncio.get_running_loop()
        dt = market.dt_s
        due = loop.time()
        last_report = due
        while True:
            due += dt
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif -delay > MAX_CATCH_UP_S:
                metrics.CLOCK_LAG.set(-delay)
                due = loop.time()  # too far behind: drop the backlog, keep the pace
            try:
                market.step()
                scheduler.on_step()
            except Exception:
                log.exception("market step failed; the clock goes on")
            if due - last_report >= 1.0:
                last_report = due
                self._report_metrics()
            if delay <= 0:
                await asyncio.sleep(0)  # let the servers send what this tick produced

    def _report_metrics(self) -> None:
        assert self.market is not None
        for venue, total in self.market.updates_total.items():
            metrics.BOOK_UPDATES.labels(venue).inc(total - self._reported.get(venue, 0))
            self._reported[venue] = total
        for venue, venue_market in self.venue_markets.items():
            key = f"orders:{venue}"
            metrics.ORDERS.labels(venue).inc(venue_market.orders_total - self._reported.get(key, 0))
            self._reported[key] = venue_market.orders_total
            fired = sum(self.faults[venue].fired_total.values())
            key = f"faults:{venue}"
            metrics.FAULTS_FIRED.labels(venue).inc(fired - self._reported.get(key, 0))
            self._reported[key] = fired

    # -- what the control API and the CLI read ----------------------------------------------

    @property
    def urls(self) -> dict[str, dict[str, str]]:
        """Per venue: "ws" and "rest" (and "ws_private") URLs to put in its Endpoints: the
        venue's real URLs with scheme, host and port replaced, paths kept."""
        return {venue: server.urls() for venue, server in self.servers.items()}

    @property
    def control_url(self) -> str:
        return self.control.http_url if self.control is not None else ""

    def arm_fault(self, spec: FaultSpec) -> ArmedFault:
        faults = self.faults.get(spec.venue)
        if faults is None:
            raise SimulatorConfigError(
                f"fault for venue {spec.venue!r}: not simulated; venues: {sorted(self.faults)}"
            )
        symbols = self.market.symbols if self.market is not None else ()
        if spec.symbol is not None and spec.symbol not in symbols:
            raise SimulatorConfigError(
                f"fault for symbol {spec.symbol!r}: not simulated; symbols: {list(symbols)}"
            )
        return faults.arm(
            spec.kind,
            symbol=spec.symbol,
            count=spec.count,
            duration_s=spec.duration_s,
            retry_after_s=spec.retry_after_s,
            delay_s=spec.delay_s,
            status=spec.status,
            path=spec.path,
            method=spec.method,
            value=spec.value,
            field=spec.field,
        )

    def truth_events(self) -> list[TruthEvent]:
        return list(self.market.truth) if self.market is not None else []

    def status(self) -> dict[str, Any]:
        market = self.market
        return {
            "running": self.running,
            "mode": "replay" if self.replay is not None else "market",
            "steps": market.steps if market is not None else 0,
            "updates_total": dict(market.updates_total) if market is not None else {},
            "truth_events": len(market.truth) if market is not None else 0,
            "active_dislocations": [
                f"{v}/{s}" for v, s in (market.active_dislocations() if market else [])
            ],
            "orders_total": {v: m.orders_total for v, m in self.venue_markets.items()},
            "skipped_venues": self.skipped,
            "replay_clients": self.replay.clients if self.replay is not None else 0,
            "cpu_seconds": round(time.process_time(), 4),  # this process, user + system
        }


def _count_dislocation(event: TruthEvent) -> None:
    metrics.DISLOCATIONS.labels(event.venue, event.symbol).inc()


def _real_endpoints(venue: str) -> Endpoints | None:
    """A known venue's real endpoints (their paths are the recorded ones); None otherwise."""
    if venue not in VENUE_NAMES:
        return None
    try:
        return get_venue(venue).endpoints
    except ImportError:
        return None
