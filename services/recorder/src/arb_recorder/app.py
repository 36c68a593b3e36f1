"""Recorder wiring: the database (migrated before anything is read), then one consumer of the
recorder group per stream, all writing through one connection."""

from __future__ import annotations

import asyncio
import logging

from arb_history.database import open_database
from arb_runtime.service import ServiceContext
from arb_runtime.streams import GroupConsumer
from arb_structs.constants import (
    EXECUTIONS_STREAM,
    EXPOSURE_STREAM,
    OPPORTUNITIES_STREAM,
    RECORDER_GROUP,
)

from arb_recorder.config import RecorderSettings
from arb_recorder.errors import RecorderStopping
from arb_recorder.recording import Recording

log = logging.getLogger("arb.recorder")

STREAMS = (EXECUTIONS_STREAM, OPPORTUNITIES_STREAM, EXPOSURE_STREAM)


async def main(ctx: ServiceContext) -> None:
    settings: RecorderSettings = ctx.settings
    db = open_database(
        settings.database_url,
        busy_timeout_s=settings.busy_timeout_s,
        connect_timeout_s=settings.connect_timeout_s,
    )
    recording = Recording(db, ctx.health, ctx.stopping, retry_initial_s=settings.retry_initial_s,
                          retry_max_s=settings.retry_max_s)  # fmt: skip
    try:
        try:
            await recording.prepare()
        except RecorderStopping:
            return  # stopped before the database ever answered: nothing was read
        consumers = [
            GroupConsumer(
                ctx.redis,
                stream,
                RECORDER_GROUP,
                settings.instance,
                recording.handle,
                count=settings.read_count,
                claim_idle_ms=settings.claim_idle_ms,
                max_deliveries=settings.max_deliveries,
                start_id=settings.start_from,
            )
            for stream in STREAMS
        ]
        log.info("recording %s into %s", ", ".join(STREAMS), db.shown)
        async with asyncio.TaskGroup() as group:
            for consumer in consumers:
                group.create_task(consumer.run(ctx.stopping), name=f"record {consumer.stream}")
    finally:
        await db.close()
