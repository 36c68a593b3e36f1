"""What a stream says about itself, for the views that show rates (``arb status``, ``arb run``,
the dashboard)."""

from __future__ import annotations

from typing import Any

from redis.exceptions import ResponseError


async def entries_added(redis: Any, stream: str) -> int:
    """How many entries were ever added to ``stream`` (trimming does not lower it); 0 when
    the stream does not exist yet."""
    try:
        info = await redis.xinfo_stream(stream)
    except ResponseError:  # no such key
        return 0
    return int(info.get("entries-added", info.get("length", 0)))
