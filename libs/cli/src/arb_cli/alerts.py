"""arb alerts test: one test alert through every configured sink (ARB_ALERTER_* settings, the
same the alerter reads), and what each answered."""

from __future__ import annotations

import argparse
import asyncio
import socket
import time

import aiohttp
from arb_alerter.alerts import Alert, Severity
from arb_alerter.app import dispatcher_for
from arb_alerter.config import AlerterSettings
from arb_runtime.config import load_settings
from arb_runtime.logging import setup_logging

from arb_cli.common import print_json

ONLY_LOG = ("only the log sink is configured: set ARB_ALERTER_WEBHOOK_URL, or "
            "ARB_ALERTER_TELEGRAM_BOT_TOKEN and ARB_ALERTER_TELEGRAM_CHAT_ID")  # fmt: skip


def test_alert() -> Alert:
    host = socket.gethostname()
    return Alert(rule="test", key=f"test:{time.time_ns()}", severity=Severity.INFO,
                 title="cexarb test alert",
                 text=f"Sent by `arb alerts test` on {host}: this sink works.",
                 fields={"host": host})  # fmt: skip


async def _send(settings: AlerterSettings) -> dict[str, str]:
    async with aiohttp.ClientSession() as session:
        dispatcher = dispatcher_for(settings, session)
        if not dispatcher.sinks:
            return {}
        return await dispatcher.send_all(test_alert())


def test(args: argparse.Namespace) -> int:
    settings = load_settings(AlerterSettings)
    setup_logging("alerts", "INFO", settings.log_format)
    outcomes = asyncio.run(_send(settings))
    if args.json:
        print_json({name: {"delivered": not error, "error": error}
                    for name, error in outcomes.items()})  # fmt: skip
    else:
        if not outcomes:
            print("no sink configured: ARB_ALERTER_LOG_ALERTS is off and no webhook or Telegram "
                  "chat is set")  # fmt: skip
        for name, error in outcomes.items():
            print(f"{name}: {'delivered' if not error else 'FAILED: ' + error}")
        if list(outcomes) == ["log"]:
            print(ONLY_LOG)
    if not outcomes:
        return 2
    return 0 if not any(outcomes.values()) else 1
