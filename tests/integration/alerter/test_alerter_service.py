"""The alerter as a real process against a real Redis, delivering to a real HTTP receiver on
loopback that speaks both a plain JSON webhook and the Telegram Bot API's sendMessage."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from arb_structs import ExposureKind, KillSwitch
from arb_structs.codec import KILL
from arb_structs.constants import (
    ALERTER_GROUP,
    EXECUTIONS_STREAM,
    EXPOSURE_STREAM,
    KILL_KEY,
    executor_risk_key,
)

from tests.integration.recorder.support import (
    group_backlog,
    publish,
    service_env,
    start_service,
    stop_service,
    until,
)
from tests.support_proc import reap
from tests.support_web import served
from tests.unit.recorder import factories

pytestmark = pytest.mark.integration

TOKEN = "123456:test-token-never-logged"
CHAT = "-100777"


@dataclass
class Receiver:
    url: str
    webhook: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    telegram: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    webhook_status: int = 200


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    app = web.Application()
    box = Receiver(url="")

    async def hook(request: web.Request) -> web.Response:
        box.webhook.append((time.monotonic(), await request.json()))
        return web.Response(status=box.webhook_status, text="ok")

    async def send_message(request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)  # fmt: skip
        body = await request.json()
        box.telegram.append((time.monotonic(), body))
        message = {"message_id": len(box.telegram), "chat": {"id": body["chat_id"]},
                   "text": body["text"]}  # fmt: skip
        return web.json_response({"ok": True, "result": message})

    app.router.add_post("/hook", hook)
    app.router.add_post("/bot{token}/sendMessage", send_message)
    async with served(app) as url:
        box.url = url
        yield box


def alerter_env(redis_url: str, receiver: Receiver) -> dict[str, str]:
    return service_env(
        redis_url, ARB_INSTANCE="alerter-test", ARB_ALERTER_WEBHOOK_URL=f"{receiver.url}/hook",
        ARB_ALERTER_TELEGRAM_API_URL=receiver.url, ARB_ALERTER_TELEGRAM_BOT_TOKEN=TOKEN,
        ARB_ALERTER_TELEGRAM_CHAT_ID=CHAT, ARB_ALERTER_POLL_S="0.2",
    )  # fmt: skip


def rules_of(received: list[tuple[float, dict[str, Any]]]) -> list[str]:
    return [body["rule"] for _, body in received]


async def test_an_injected_unhedged_result_is_one_alert_at_the_webhook_within_2s(
    redis, redis_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    log = tmp_path / "alerter.log"
    proc = start_service("arb_alerter", alerter_env(redis_url, receiver), log)
    try:
        for stream in (EXECUTIONS_STREAM, EXPOSURE_STREAM):
            await until(lambda s=stream: _exists(redis, s), f"alerter group on {stream}")
        opp = factories.opportunity(1)
        sent = time.monotonic()
        await publish(redis, EXECUTIONS_STREAM, [factories.unhedged(opp)])
        # the executor also reports the same open position as an exposure event
        await publish(redis, EXPOSURE_STREAM, [
            factories.exposure(opp, ExposureKind.UNHEDGED, size=opp.size, ts=time.time_ns())
        ])  # fmt: skip
        await until(lambda: receiver.webhook, "an alert at the webhook", timeout=10)
        arrived, body = receiver.webhook[0]
        assert arrived - sent <= 2.0, f"alert took {arrived - sent:.2f}s"
        assert body["rule"] == "unhedged_exposure" and body["severity"] == "critical"
        assert body["fields"]["opportunity_id"] == opp.id
        assert body["fields"]["unhedged_size"] == opp.size
        # Then the kill switch and a breaker, which the alerter finds by polling state.
        await redis.set(KILL_KEY, KILL.encode(KillSwitch(reason="drill", ts=time.time_ns())))
        until_ns = time.time_ns() + 60 * 10**9
        await redis.hset(executor_risk_key("breakers"), "okx", str(until_ns))
        await until(lambda: len(receiver.webhook) >= 3, "kill switch and breaker alerts")
        await _quiet(receiver, seconds=1.5)  # polled many times meanwhile: nothing repeats
    finally:
        stop_service(proc)
        reap(proc)
    assert sorted(rules_of(receiver.webhook)) == ["breaker_open", "kill_switch",
                                                   "unhedged_exposure"]  # fmt: skip
    titles = [body["text"].splitlines()[0] for _, body in receiver.telegram]
    assert sorted(t.split()[1] for t in titles) == ["Breaker", "Kill", "Unhedged"], titles
    assert all(b["chat_id"] == CHAT for _, b in receiver.telegram)
    assert TOKEN not in log.read_text()


async def _exists(redis, stream: str) -> bool:
    return await group_backlog(redis, stream, ALERTER_GROUP) is not None


async def _quiet(receiver: Receiver, seconds: float) -> None:
    """Wait ``seconds`` and fail if any alert arrives meanwhile."""
    before = len(receiver.webhook)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert len(receiver.webhook) == before, rules_of(receiver.webhook[before:])
        await asyncio.sleep(0.05)


def arb_alerts_test(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "arb_cli", "alerts", "test", "--json"], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


async def test_arb_alerts_test_sends_one_through_every_sink_and_names_a_failing_one(
    redis_url: str, receiver: Receiver
) -> None:
    env = alerter_env(redis_url, receiver)
    result = await asyncio.to_thread(arb_alerts_test, env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        name: {"delivered": True, "error": ""} for name in ("log", "webhook", "telegram")
    }
    assert rules_of(receiver.webhook) == ["test"]
    assert len(receiver.telegram) == 1 and "test alert" in receiver.telegram[0][1]["text"]
    receiver.webhook_status = 503  # the webhook is down: retried, then reported, exit 1
    env["ARB_ALERTER_TELEGRAM_BOT_TOKEN"] = "999:wrong"
    result = await asyncio.to_thread(arb_alerts_test, env)
    assert result.returncode == 1
    outcome = json.loads(result.stdout)
    assert outcome["log"]["delivered"] is True
    assert "HTTP 503" in outcome["webhook"]["error"]
    assert "HTTP 401" in outcome["telegram"]["error"] and "999:wrong" not in result.stdout
    assert len(receiver.webhook) == 1 + 3  # three attempts at a 503
