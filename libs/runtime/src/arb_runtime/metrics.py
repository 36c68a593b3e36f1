"""Runtime metrics and the /metrics, /healthz, /readyz HTTP endpoints of every service."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

PRODUCER_ROUND_TRIPS = Counter("arb_producer_round_trips_total", "Pipelined writes sent to Redis.")
PRODUCER_BATCH_SIZE = Histogram(
    "arb_producer_batch_commands", "Commands per pipelined write.",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000),
)  # fmt: skip
PRODUCER_ERRORS = Counter("arb_producer_errors_total", "Commands Redis refused.")
PRODUCER_DROPPED = Counter("arb_producer_dropped_total", "Commands shed while Redis was away.")
CONSUMER_PROCESSED = Counter("arb_consumer_processed_total", "Entries acked.", ["stream"])
CONSUMER_FAILURES = Counter("arb_consumer_failures_total", "Handler failures.", ["stream"])
CONSUMER_RECLAIMED = Counter("arb_consumer_reclaimed_total", "Entries reclaimed.", ["stream"])
CONSUMER_DEAD_LETTERED = Counter(
    "arb_consumer_dead_lettered_total", "Entries sent to the dead-letter stream.", ["stream"]
)


@dataclass
class HealthState:
    """What /healthz and /readyz say; the service updates it as it runs."""

    service: str
    instance: str
    ready: bool = False
    status: str = "ok"
    detail: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.time)

    def set_ready(self, ready: bool) -> None:
        self.ready = ready

    def set_detail(self, key: str, value: object) -> None:
        self.detail[key] = str(value)

    def as_dict(self) -> dict[str, object]:
        return {
            "service": self.service, "instance": self.instance, "status": self.status,
            "ready": self.ready, "uptime_s": round(time.time() - self.started, 1),
            "detail": self.detail,
        }  # fmt: skip


def make_app(health: HealthState) -> web.Application:
    async def metrics_handler(_: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(_: web.Request) -> web.Response:
        status = 200 if health.status != "down" else 503
        return web.Response(status=status, text=json.dumps(health.as_dict()),
                            content_type="application/json")  # fmt: skip

    async def readyz(_: web.Request) -> web.Response:
        return web.Response(
            status=200 if health.ready else 503,
            text=json.dumps(health.as_dict()),
            content_type="application/json",
        )

    app = web.Application()
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


async def start_http(health: HealthState, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(make_app(health), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner
