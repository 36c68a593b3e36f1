"""The hot path's own Redis connection: commands packed and sent at once, replies as the
parser (hiredis) hands them over.

A client's ``xread`` or pipeline goes through redis-py's connection pool (a lock each way),
its pipeline object, its retry wrapper, its command packer (Python) and its reply callbacks
(XREAD's builds a dict per entry): Python work on every hop of every message. The stream
producer's writer and each ordered reader own one ``LeanLink`` instead: one connection of
the client's pool (its address, credentials, database, TLS, timeouts), held by the link and
used by one task at a time; the client's ``aclose()`` closes it with the others.
``make bench``'s pipeline section measures the hops, and its floor uses the same link.

A reader whose service also writes (the book service, the detector) sends the writes its
last batch left and its next XREAD in one write (``command_after``; the stream producer's
``carry``): the writes' replies come in first, then the read's. One write and one wake-up a
batch instead of two, on one connection instead of a read's and a write's.

Faults are the client's: an outage raises one of ``arb_runtime.redis.REDIS_RETRYABLE``
(the connection is dropped first, so a reply of a cancelled or failed command can never be
read as the next one's), and the caller's loop retries it as before. Nothing is retried
here: a write whose connection broke after it was sent is the caller's one at-least-once
case, as with the pipeline. An error reply (``ResponseError``) is an answer: ``pipeline``
returns it in its op's place.

Single servers only: a Redis Cluster client keeps redis-py's paths (``lean_link`` gives None).
Replies are RESP2's or RESP3's, whichever the connection speaks (redis-py 8 asks for RESP3):
XREAD's is a list of ``[stream, entries]`` in one, a map of them in the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Sequence
from typing import Any

import redis.asyncio as aioredis
from hiredis import pack_command  # C; redis-py's asyncio packer is Python (redis[hiredis])
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ResponseError

# What ``command_after`` tells about the ops it sent first: their replies, or what failed.
Written = Callable[[list[Any] | BaseException], None]


class LeanLink:
    """One connection of the client's pool, held; ``pipeline`` and ``command``, one caller
    at a time. Commands are packed by hiredis: their arguments are str, bytes, int or float
    (anything else is a TypeError, as redis-py refuses it with a DataError)."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._pool = redis.connection_pool
        self._conn: AbstractConnection | None = None
        self._busy = False

    def _claim(self) -> None:
        if self._busy:  # two tasks on one connection would read each other's replies
            raise RuntimeError("a LeanLink is used by one task at a time")
        self._busy = True

    async def _open(self) -> AbstractConnection:
        if self._conn is None:
            # Taken from the client's pool and kept: the client's aclose() closes it too.
            self._conn = await self._pool.get_connection()  # type: ignore[no-untyped-call]
        return self._conn

    async def pipeline(self, ops: Sequence[Sequence[Any]]) -> list[Any]:
        """Every op in one write; each op's reply, or its ResponseError, in order."""
        self._claim()
        try:
            conn = await self._open()
            packed = b"".join([pack_command(tuple(op)) for op in ops])
            await conn.send_packed_command(packed, check_health=False)
            return await _replies(conn, len(ops))
        except BaseException:
            await self._drop()
            raise
        finally:
            self._busy = False

    async def command(self, *args: Any, block_ms: int | None = None) -> Any:
        """One command's reply; an error reply is raised (ResponseError). ``block_ms``: how
        long the command may block in Redis (XREAD BLOCK), added to the read timeout."""
        self._claim()
        try:
            conn = await self._open()
            await conn.send_packed_command(pack_command(args), check_health=False)
            async with _deadline(conn, block_ms or 0):
                return await conn.read_response(timeout=math.inf)
        except ResponseError:
            raise  # an answer: the connection is in step
        except BaseException:
            await self._drop()
            raise
        finally:
            self._busy = False

    async def command_after(
        self,
        ops: Sequence[Sequence[Any]],
        written: Written,
        *args: Any,
        block_ms: int | None = None,
    ) -> Any:
        """``ops``, then one command, in one write: a producer's writes carried by a reader's
        next XREAD, one round trip for both. ``written`` is called exactly once: with the
        ops' replies (each, or its ResponseError, in order) as soon as they are in, before
        the command's reply (an XREAD may block ``block_ms`` in Redis); or with the exception
        that ended the round trip before they were. The command's reply is returned, an
        error reply raised (ResponseError), as ``command`` does."""
        self._claim()
        told = False
        try:
            conn = await self._open()
            packed = [pack_command(tuple(op)) for op in ops]
            packed.append(pack_command(args))
            await conn.send_packed_command(b"".join(packed), check_health=False)
            replies = await _replies(conn, len(ops))
            told = True
            written(replies)
            async with _deadline(conn, block_ms or 0):
                return await conn.read_response(timeout=math.inf)
        except ResponseError:
            raise  # the command's own answer: the connection is in step
        except BaseException as exc:
            await self._drop()
            if not told:
                told = True
                written(exc)
            raise
        finally:
            self._busy = False

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.disconnect(nowait=True)
            await self._pool.release(conn)  # the pool reconnects it when it hands it out

    async def close(self) -> None:
        await self._drop()


async def _replies(conn: AbstractConnection, count: int) -> list[Any]:
    """The next ``count`` replies, each or its ResponseError (an answer: the replies after it
    still come), within one deadline."""
    replies: list[Any] = []
    async with _deadline(conn, 0):
        for _ in range(count):
            try:
                replies.append(await conn.read_response(timeout=math.inf))
            except ResponseError as exc:
                replies.append(exc)
    return replies


def _deadline(
    conn: AbstractConnection, block_ms: int
) -> contextlib.AbstractAsyncContextManager[Any]:
    """The connection's socket timeout (plus ``block_ms``) over all of a round trip's replies:
    one timer a round trip, not one a reply. A reply that does not come by then is an outage
    (TimeoutError, one of REDIS_RETRYABLE)."""
    if conn.socket_timeout is None:
        return contextlib.nullcontext()
    return asyncio.timeout(conn.socket_timeout + block_ms / 1000)


def lean_link(redis: aioredis.Redis) -> LeanLink | None:
    """A LeanLink for ``redis``, or None where redis-py's own path must stay (a Redis
    Cluster, or a subclass). The link takes its connection on its first command."""
    if type(redis) is not aioredis.Redis:
        return None  # a cluster; or a subclass or stand-in that changes how commands run
    return LeanLink(redis)
