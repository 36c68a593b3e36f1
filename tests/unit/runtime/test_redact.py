"""Secrets out of messages: what ``redact`` masks and what it leaves readable."""

from __future__ import annotations

import io
import json
import logging

import pytest
from arb_runtime.logging import setup_logging
from arb_runtime.redact import redact

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        ("GET http://x/api/v3/order?symbol=BTCUSDT&timestamp=1&signature=9f3acafe",
         "9f3acafe", "symbol=BTCUSDT&timestamp=1&signature=***"),
        ("POST /v5/order sign=abc123def&api_key=KEYKEY1", "abc123def", "api_key=***"),
        ("ARB_REDIS_URL=redis://:hunter2@10.0.0.5:6379/0: refused", "hunter2",
         "redis://:***@10.0.0.5:6379/0"),
        ("rediss://app:s3cr3t@cache:6380/1", "s3cr3t", "rediss://app:***@cache:6380/1"),
        ("headers {'X-MBX-APIKEY': 'vmPUZE6mv9SD', 'Accept': 'json'}", "vmPUZE6mv9SD",
         "'Accept': 'json'"),
        ("OK-ACCESS-SIGN: b64sig== OK-ACCESS-PASSPHRASE: pass-phrase-1", "pass-phrase-1",
         "OK-ACCESS-SIGN: ***"),
        ("Authorization: Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl", "c2lnbmF0dXJl",
         "Authorization: Bearer ***"),
        ("passphrase=open-sesame&x=1", "open-sesame", "&x=1"),
    ],
)  # fmt: skip
def test_secret_values_are_masked_and_the_rest_stays(text: str, secret: str, kept: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert kept in cleaned


@pytest.mark.parametrize(
    "text",
    [
        "binance BTC-USDT: LIVE -> SUSPECT (gap at seq 12)",
        "lease arb:shard:ingest:okx:2:0 claimed (ttl 10000 ms)",
        "http://127.0.0.1:8080/api/v3/depth?symbol=BTCUSDT&limit=100",
        "signal SIGTERM received; design=ok",
    ],
)
def test_ordinary_messages_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_log_lines_carry_no_secret_in_message_arguments_traceback_or_extra_fields() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    setup_logging("test")
    stream = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    log = logging.getLogger("arb.test")
    try:
        log.error("GET %s failed", "https://api.x/api/v3/order?symbol=B&signature=canary1")
        try:
            raise ConnectionError("cannot reach redis://:canary2@db:6379/0")
        except ConnectionError:
            log.exception("redis gone")
        log.warning("sent", extra={"url": "https://x/y?sign=canary3&a=1"})
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 3
    text = stream.getvalue()
    for canary in ("canary1", "canary2", "canary3"):
        assert canary not in text
    assert lines[0]["msg"].endswith("signature=*** failed")
    assert "redis://:***@db:6379/0" in lines[1]["exc"]
    assert lines[2]["url"] == "https://x/y?sign=***&a=1"
