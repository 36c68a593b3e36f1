"""The lifecycle every service shares: settings, logs, Redis, /metrics, health, clean stop.

    run_service("book", BookSettings, main)   # main(ctx) -> Awaitable[None]

SIGTERM or SIGINT sets ``ctx.stopping``; main returns after draining; the producer is
flushed and Redis closed. A ConfigError or RedisUnavailable prints one line and exits 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from arb_structs import Health
from arb_structs.codec import HEALTH
from arb_structs.constants import health_key

from arb_runtime.config import ServiceSettings, load_settings
from arb_runtime.errors import ArbError, ConfigError
from arb_runtime.logging import setup_logging
from arb_runtime.metrics import HealthState, start_http
from arb_runtime.redis import connect
from arb_runtime.streams import StreamProducer
from arb_runtime.tasks import stop_task

log = logging.getLogger("arb.service")

HEALTH_TTL_MS = 10_000


@dataclass
class ServiceContext:
    name: str
    settings: Any
    redis: aioredis.Redis
    producer: StreamProducer
    stopping: asyncio.Event
    health: HealthState
    metrics_url: str = ""


Main = Callable[[ServiceContext], Awaitable[None]]


async def serve(name: str, settings: ServiceSettings, main: Main,
                stopping: asyncio.Event | None = None) -> None:  # fmt: skip
    """Run ``main`` with a context until it returns or ``stopping`` is set (signals set it)."""
    if not settings.redis_url:
        raise ConfigError(
            f"ARB_REDIS_URL is not set: {name} needs a Redis URL (redis://host:port/0); "
            "`arb run` starts an embedded one for you"
        )
    stopping = stopping or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stopping.set)
    redis = await connect(settings.redis_url)
    producer = StreamProducer(redis)
    health = HealthState(service=name, instance=settings.instance)
    runner = None
    metrics_url = ""
    if settings.metrics_port:
        runner = await start_http(health, settings.metrics_host, settings.metrics_port)
        metrics_url = f"http://{settings.metrics_host}:{settings.metrics_port}/metrics"
    ctx = ServiceContext(name, settings, redis, producer, stopping, health, metrics_url)
    beat = asyncio.create_task(_publish_health(ctx))
    log.info("%s started (instance %s)", name, settings.instance)
    try:
        await main(ctx)
    finally:
        await stop_task(beat)
        health.status = "down"
        health.ready = False
        with contextlib.suppress(Exception):
            producer.set(health_key(name, settings.instance), _health_bytes(ctx), px=HEALTH_TTL_MS)
        await producer.close()
        if runner is not None:
            await runner.cleanup()
        await redis.aclose()
        log.info("%s stopped", name)


def _health_bytes(ctx: ServiceContext) -> bytes:
    h = ctx.health
    return HEALTH.encode(Health(service=h.service, instance=h.instance, status=h.status,
                                ready=h.ready, detail=dict(h.detail), ts=time.time_ns(),
                                metrics_url=ctx.metrics_url,
                                started=int(h.started * 1e9)))  # fmt: skip


async def _publish_health(ctx: ServiceContext) -> None:
    key = health_key(ctx.name, ctx.health.instance)
    while True:
        ctx.producer.set(key, _health_bytes(ctx), px=HEALTH_TTL_MS)
        await asyncio.sleep(2.0)


def run_service(name: str, settings_cls: type[ServiceSettings], main: Main,
                **overrides: Any) -> None:  # fmt: skip
    """The body of every service's ``main()``: exits 2 with one clear line on bad config."""
    try:
        settings = load_settings(settings_cls, **overrides)
    except ConfigError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    setup_logging(name, settings.log_level, settings.log_format)
    try:
        import uvloop

        uvloop.run(serve(name, settings, main))
    except ArbError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        pass
