"""Stream entries as the loops hand them out, stream ids, and where a stream ends now.

A stream id is ``<ms>-<seq>``; Redis hands out ids in increasing order per stream, from the
server's clock (never below the last id it gave). ``tails`` reads each stream's
``last-generated-id``: the loops compare it with the position they hold to notice a stream
that vanished (Redis restarted empty, or the key was deleted) or went back (Redis restarted
from an AOF that lacks the last writes).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from arb_structs.constants import PAYLOAD_FIELD
from redis.exceptions import ResponseError

StreamId = tuple[int, int]
ZERO_ID = b"0-0"


@dataclass(frozen=True, slots=True)
class Entry:
    stream: str
    id: bytes
    payload: bytes | None  # None when the entry lacks the payload field
    deliveries: int = 1


def entries_from(stream: str, raw: Sequence[Any], deliveries: int = 1) -> list[Entry]:
    """Entries of one stream from an XREAD / XREADGROUP / XCLAIM reply."""
    out = []
    for entry_id, fields in raw:
        if fields is None:  # deleted while pending
            out.append(Entry(stream, entry_id, None, deliveries))
            continue
        out.append(Entry(stream, entry_id, fields.get(PAYLOAD_FIELD), deliveries))
    return out


def entries_from_flat(stream: str, raw: Sequence[Any]) -> list[Entry]:
    """Entries of one stream from an XREAD reply as the parser gives it, before redis-py's
    callbacks: each entry ``[id, [field, value, ...]]`` (arb_runtime.lean)."""
    out = []
    for entry_id, fields in raw:
        if not fields:
            payload = None
        elif fields[0] == PAYLOAD_FIELD:  # every entry the engine writes: one field
            payload = fields[1]
        else:
            payload = dict(zip(fields[::2], fields[1::2], strict=True)).get(PAYLOAD_FIELD)
        out.append(Entry(stream, entry_id, payload))
    return out


def parse_id(value: str | bytes) -> StreamId | None:
    """``(ms, seq)`` of a concrete id (``5-1``, ``5``, ``0``); None for ``$``, ``>`` and
    anything else that names no position."""
    text = value.decode() if isinstance(value, bytes) else value
    ms, _, seq = text.partition("-")
    if not ms.isdigit() or (seq and not seq.isdigit()):
        return None
    return int(ms), int(seq or 0)


def format_id(value: StreamId) -> bytes:
    return f"{value[0]}-{value[1]}".encode()


def text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def tails(redis: aioredis.Redis, streams: Iterable[str]) -> dict[str, StreamId | None]:
    """Each stream's last generated id, None for a stream that does not exist (one round
    trip). Redis errors other than "no such key" are raised."""
    names = list(streams)
    if not names:
        return {}
    pipe = redis.pipeline(transaction=False)
    for name in names:
        pipe.xinfo_stream(name)
    replies = await pipe.execute(raise_on_error=False)
    out: dict[str, StreamId | None] = {}
    for name, reply in zip(names, replies, strict=True):
        if isinstance(reply, ResponseError):
            if "no such key" not in str(reply).lower():
                raise reply
            out[name] = None
        elif isinstance(reply, BaseException):
            raise reply
        else:
            out[name] = parse_id(reply["last-generated-id"])
    return out
