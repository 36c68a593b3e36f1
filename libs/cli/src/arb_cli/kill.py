"""arb kill / arb resume: the global kill switch (the executor checks it before every order)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import time
from typing import Any

from arb_runtime.redis import connect
from arb_structs import KillSwitch
from arb_structs.codec import KILL
from arb_structs.constants import KILL_KEY

from arb_cli.common import redis_url_from_env


async def engage(redis: Any, reason: str) -> None:
    """Set the kill switch on ``redis`` (by the user running this)."""
    value = KillSwitch(reason=reason, ts=time.time_ns(), by=getpass.getuser())
    await redis.set(KILL_KEY, KILL.encode(value))


async def _set(engaged: bool, reason: str) -> None:
    redis = await connect(redis_url_from_env())
    try:
        if engaged:
            await engage(redis, reason)
        else:
            await redis.delete(KILL_KEY)
    finally:
        await redis.aclose()


def kill(args: argparse.Namespace) -> int:
    asyncio.run(_set(True, args.reason))
    print(f"kill switch engaged ({args.reason}): no new orders")
    return 0


def resume(args: argparse.Namespace) -> int:
    asyncio.run(_set(False, ""))
    print("kill switch released")
    return 0
