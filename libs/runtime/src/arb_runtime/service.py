"""The lifecycle every service shares: settings, logs, Redis, /metrics, health, clean stop.

    run_service("book", BookSettings, main)   # main(ctx) -> Awaitable[None]

SIGTERM or SIGINT sets ``ctx.stopping``; main returns after draining; the producer is
flushed and Redis closed. A ConfigError or RedisUnavailable prints one line and exits 2.

Health goes to ``arb:health:{service}:{ctx.health.instance}`` every 2 s. A service whose
processes share an instance name (one host runs one ingest per venue) makes its own
distinct before or while it runs (``process_instance``): the beat follows a rename and
deletes the old key. ``ctx.restarts`` notices a restarted Redis and calls the hooks services
register there. Durability of the server (arb_runtime.durability) is logged once at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import redis.asyncio as aioredis
from arb_core import memtrace
from arb_structs import Health
from arb_structs.codec import HEALTH
from arb_structs.constants import health_key
from redis.exceptions import RedisError

from arb_runtime.config import ServiceSettings, load_settings
from arb_runtime.durability import probe
from arb_runtime.errors import ArbError, ConfigError
from arb_runtime.logging import setup_logging
from arb_runtime.metrics import HealthState, start_http
from arb_runtime.redact import redact
from arb_runtime.redis import connect
from arb_runtime.streams import StreamProducer
from arb_runtime.tasks import stop_task
from arb_runtime.watch import RedisRestarts

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
    restarts: RedisRestarts | None = None


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
    redis = await connect(settings.redis_url, wait_s=settings.redis_wait_s)
    producer = StreamProducer(redis)
    health = HealthState(service=name, instance=settings.health_instance())
    runner = None
    metrics_url = ""
    if settings.metrics_port:
        try:
            runner = await start_http(health, settings.metrics_host, settings.metrics_port)
        except OSError as exc:
            await redis.aclose()
            raise ConfigError(metrics_bind_error(settings, exc)) from None
        metrics_url = f"http://{settings.metrics_host}:{settings.metrics_port}/metrics"
    restarts = RedisRestarts(redis)
    ctx = ServiceContext(name, settings, redis, producer, stopping, health, metrics_url, restarts)
    beat = asyncio.create_task(_publish_health(ctx))
    watch = asyncio.create_task(restarts.run(stopping))
    log.info("%s started (instance %s)", name, settings.instance)
    with contextlib.suppress(RedisError):  # only a log line: never a reason not to start
        log.info("%s", (await probe(redis)).describe())
    try:
        await main(ctx)
    finally:
        await stop_task(beat)
        await stop_task(watch)
        health.status = "down"
        health.ready = False
        with contextlib.suppress(Exception):
            producer.set(health_key(name, health.instance), _health_bytes(ctx), px=HEALTH_TTL_MS)
        await producer.close()
        if runner is not None:
            await runner.cleanup()
        await redis.aclose()
        log.info("%s stopped", name)


def metrics_bind_error(settings: ServiceSettings, exc: OSError) -> str:
    """The one line for a /metrics port that cannot be bound (taken by another process, as
    when one ARB_METRICS_PORT is given to several services on one host)."""
    prefix = str(settings.model_config.get("env_prefix") or "ARB_")
    reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)  # uvloop: no strerror
    return (
        f"{prefix}METRICS_PORT (or ARB_METRICS_PORT)={settings.metrics_port} on "
        f"{settings.metrics_host}: {reason}; give each process on this host its "
        f"own port ({prefix}METRICS_PORT), or 0 to turn /metrics off"
    )


def _health_bytes(ctx: ServiceContext) -> bytes:
    h = ctx.health
    return HEALTH.encode(Health(service=h.service, instance=h.instance, status=h.status,
                                ready=h.ready, detail=dict(h.detail), ts=time.time_ns(),
                                metrics_url=ctx.metrics_url,
                                started=int(h.started * 1e9)))  # fmt: skip


async def _publish_health(ctx: ServiceContext) -> None:
    key = health_key(ctx.name, ctx.health.instance)
    while True:
        if health_key(ctx.name, ctx.health.instance) != key:  # renamed: drop the old key
            ctx.producer.command("DEL", key)
            key = health_key(ctx.name, ctx.health.instance)
        ctx.producer.set(key, _health_bytes(ctx), px=HEALTH_TTL_MS)
        await asyncio.sleep(2.0)


def _redacted_excepthook(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    """A crash's traceback, as Python prints it, without the secrets in its messages."""
    sys.stderr.write(redact("".join(traceback.format_exception(kind, value, tb))))


def run_service(name: str, settings_cls: type[ServiceSettings], main: Main,
                **overrides: Any) -> None:  # fmt: skip
    """The body of every service's ``main()``: exits 2 with one clear line on bad config."""
    sys.excepthook = _redacted_excepthook
    try:
        settings = load_settings(settings_cls, **overrides)
    except ConfigError as exc:
        print(f"{name}: {redact(str(exc))}", file=sys.stderr)
        raise SystemExit(2) from None
    setup_logging(name, settings.log_level, settings.log_format)
    memtrace.start_from_env(name)  # a diagnosis run only (ARB_TRACEMALLOC_DUMP)
    try:
        import uvloop

        uvloop.run(serve(name, settings, main))
    except ArbError as exc:
        print(f"{name}: {redact(str(exc))}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        pass
