"""Dashboard wiring: the live state (backfilled from the streams), the page on one port, and
the two loops that keep every browser current."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web
from arb_runtime.service import ServiceContext

from arb_dashboard import health
from arb_dashboard.config import DashboardSettings
from arb_dashboard.errors import PortInUse
from arb_dashboard.live import LiveState
from arb_dashboard.web import History, build_app

log = logging.getLogger("arb.dashboard")


async def main(ctx: ServiceContext) -> None:
    settings: DashboardSettings = ctx.settings
    live = LiveState(ctx.redis, settings)
    await live.backfill()
    history = History(settings.database_url)
    runner = web.AppRunner(build_app(live, settings, history), access_log=None,
                           shutdown_timeout=2.0)  # fmt: skip
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port)
        try:
            await site.start()
        except OSError as exc:
            raise PortInUse(
                f"ARB_DASHBOARD_PORT={settings.port} on {settings.host}: {exc.strerror or exc}; "
                "choose another port or stop what uses this one"
            ) from None
        port = runner.addresses[0][1] if runner.addresses else settings.port
        url = f"http://{settings.host}:{port}/"
        health.serving(ctx.health, url, settings.kill_token is not None)
        log.info("dashboard on %s (kill switch button %s)", url,
                 "on" if settings.kill_token else "off", extra={"url": url})  # fmt: skip
        async with asyncio.TaskGroup() as group:
            group.create_task(live.tail(ctx.stopping))
            group.create_task(live.tick(ctx.stopping))

            async def report() -> None:
                while not ctx.stopping.is_set():
                    health.clients(ctx.health, len(live.clients))
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(ctx.stopping.wait(), 2.0)

            group.create_task(report())
    finally:
        for ws in list(live.clients):
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"dashboard stopping")
        await runner.cleanup()
        await history.close()
