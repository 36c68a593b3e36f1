"""Alerter wiring: sinks, then the consumer groups on results and exposure events beside the
state poll, all feeding one dispatcher."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from arb_runtime.service import ServiceContext
from arb_runtime.streams import GroupConsumer
from arb_structs.constants import ALERTER_GROUP, EXECUTIONS_STREAM, EXPOSURE_STREAM

from arb_alerter import health
from arb_alerter.config import AlerterSettings
from arb_alerter.dispatch import Dispatcher
from arb_alerter.sinks import build_sinks
from arb_alerter.watch import Watcher

log = logging.getLogger("arb.alerter")


def dispatcher_for(settings: AlerterSettings, session: aiohttp.ClientSession) -> Dispatcher:
    return Dispatcher(build_sinks(settings, session), dedup_s=settings.dedup_s,
                      per_minute=settings.rate_limit_per_minute,
                      attempts=settings.send_attempts)  # fmt: skip


async def main(ctx: ServiceContext) -> None:
    settings: AlerterSettings = ctx.settings
    async with aiohttp.ClientSession() as session:
        dispatcher = dispatcher_for(settings, session)
        watcher = Watcher(ctx.redis, settings, dispatcher)
        seeded = await watcher.seed_daily_loss()
        consumers = [
            GroupConsumer(ctx.redis, EXECUTIONS_STREAM, ALERTER_GROUP, settings.instance,
                          watcher.on_result),
            GroupConsumer(ctx.redis, EXPOSURE_STREAM, ALERTER_GROUP, settings.instance,
                          watcher.on_exposure),
        ]  # fmt: skip
        for consumer in consumers:
            await consumer.ensure_group()  # from now on nothing is missed
        names = [sink.name for sink in dispatcher.sinks]
        health.watching(ctx.health, names)
        log.info("alerting to %s (%d of today's results read)", ", ".join(names) or "nothing",
                 seeded)  # fmt: skip

        async def report() -> None:
            while not ctx.stopping.is_set():
                health.delivered(ctx.health, dispatcher.sent, dispatcher.failed,
                                 dispatcher.last_error)  # fmt: skip
                await asyncio.sleep(1.0)

        async with asyncio.TaskGroup() as group:
            for consumer in consumers:
                group.create_task(consumer.run(ctx.stopping))
            group.create_task(watcher.poll(ctx.stopping))
            reporter = group.create_task(report())
            await ctx.stopping.wait()
            reporter.cancel()
