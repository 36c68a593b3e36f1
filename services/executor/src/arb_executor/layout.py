"""The one-time rename of the executor's keys into one Redis Cluster slot.

Before layout 2 the executor's state was spread by name (``arb:exec:saga:<id>``,
``arb:exec:open``, ``arb:exec:ledger:{venue}``, the stream ``arb:exposure``), so a transaction
over several of them (a saga's first write, ``arb exposure close``) was CROSSSLOT on a Redis
Cluster. Layout 2 puts every one under the ``{exec}`` hash tag (arb_structs.constants). At
start every executor calls ``migrate``:

- ``arb:{exec}:layout`` says "2": nothing to do (one GET; every later start).
- Otherwise one executor takes the lock ``arb:{exec}:layout:lock`` (SET NX PX) and moves
  every old key, the others wait for the layout key (or for the lock to expire, when the
  one that held it died, and take over). Nobody uses the new keys before the layout key is
  set, so the mover never races a running executor.
- A key moves with DUMP + PTTL, RESTORE (without REPLACE) under its new name, DEL of the old
  one: the same on one server and on a cluster (where RENAME across slots is CROSSSLOT), the
  value, its TTL and a stream's consumer groups kept. A key whose new name exists already
  is left where it is, with a warning, except an empty stream nobody wrote to (a recorder or
  an alerter that started first created its group there): the old stream replaces it.
  Every step can be repeated: a mover that died halfway leaves old keys that the next one
  moves, and new keys that it does not touch.

Executors of the old layout must be stopped first: a write to an old name after it moved is
not moved again.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from typing import Any

from arb_runtime.shards import RELEASE_IF_OURS
from arb_structs.constants import (
    EXEC_PREFIX,
    EXECUTOR_LAYOUT_KEY,
    EXECUTOR_LAYOUT_LOCK_KEY,
    EXPOSURE_STREAM,
    PREFIX,
)
from redis.exceptions import ResponseError

from arb_executor.errors import ExecutorError

log = logging.getLogger("arb.executor")

LAYOUT = b"2"
OLD_PREFIX = f"{PREFIX}:exec:"
OLD_EXPOSURE_STREAM = f"{PREFIX}:exposure"
_OLD_LEDGER = re.compile(rf"^{re.escape(OLD_PREFIX)}ledger:\{{([^}}]*)\}}(.*)$")

# Extend the lock only while it is ours (1), else 0; released by RELEASE_IF_OURS.
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


# What an executor of the old layout always leaves (one key each: EXISTS per key, any slot).
_OLD_MARKERS = (f"{OLD_PREFIX}exposure", OLD_EXPOSURE_STREAM, f"{OLD_PREFIX}open",
                f"{OLD_PREFIX}orders", f"{OLD_PREFIX}epoch")  # fmt: skip


async def not_migrated(redis: Any) -> bool:
    """This dataset still has the executor's state under the old names: no executor of this
    version has started on it yet (``arb exposure`` says so instead of showing nothing)."""
    if await redis.get(EXECUTOR_LAYOUT_KEY) == LAYOUT:
        return False
    for key in _OLD_MARKERS:
        if await redis.exists(key):
            return True
    return False


def new_name(old: str) -> str | None:
    """The layout-2 name of an old executor key, None for a name that is not one."""
    if old == OLD_EXPOSURE_STREAM:
        return EXPOSURE_STREAM
    if not old.startswith(OLD_PREFIX):
        return None
    ledger = _OLD_LEDGER.match(old)
    if ledger:  # arb:exec:ledger:{okx}[:roll] -> arb:{exec}:ledger:okx[:roll]
        return f"{EXEC_PREFIX}:ledger:{ledger.group(1)}{ledger.group(2)}"
    return EXEC_PREFIX + ":" + old[len(OLD_PREFIX) :]


async def migrate(
    redis: Any, *, lock_ms: int = 30_000, wait_s: float = 120.0, batch: int = 200
) -> int:
    """Bring this dataset to layout 2 (see the module); how many keys this call moved."""
    if await redis.get(EXECUTOR_LAYOUT_KEY) == LAYOUT:
        return 0
    token = secrets.token_hex(8)
    deadline = time.monotonic() + wait_s
    waiting = False
    while not await redis.set(EXECUTOR_LAYOUT_LOCK_KEY, token, nx=True, px=lock_ms):
        if await redis.get(EXECUTOR_LAYOUT_KEY) == LAYOUT:
            return 0
        if time.monotonic() > deadline:
            raise ExecutorError(
                f"the executor's key migration held by another executor did not finish in "
                f"{wait_s:.0f}s (lock {EXECUTOR_LAYOUT_LOCK_KEY}); check that executor's log, "
                f"or delete the lock if no executor is starting"
            )
        if not waiting:
            log.info("another executor is renaming the executor's keys; waiting for it")
            waiting = True
        await asyncio.sleep(0.1)
    extend = redis.register_script(_EXTEND)
    release = redis.register_script(RELEASE_IF_OURS)
    try:
        if await redis.get(EXECUTOR_LAYOUT_KEY) == LAYOUT:  # done while we waited
            return 0
        moved = await _move_all(redis, extend, token, lock_ms, batch)
        await redis.set(EXECUTOR_LAYOUT_KEY, LAYOUT)
    finally:
        await release(keys=[EXECUTOR_LAYOUT_LOCK_KEY], args=[token])
    if moved:
        log.info("renamed %d executor keys into the {exec} hash slot (layout 2)", moved)
    return moved


async def _move_all(redis: Any, extend: Any, token: str, lock_ms: int, batch: int) -> int:
    names: list[str] = [OLD_EXPOSURE_STREAM]
    async for raw in redis.scan_iter(match=f"{OLD_PREFIX}*", count=1000):
        names.append(raw.decode() if isinstance(raw, bytes) else str(raw))
    moved = 0
    for i, old in enumerate(names):
        if i % batch == 0 and not await extend(keys=[EXECUTOR_LAYOUT_LOCK_KEY],
                                               args=[token, lock_ms]):  # fmt: skip
            raise ExecutorError(
                "lost the lock of the executor's key migration (it expired while renaming); "
                "restart the executor to carry on where it stopped"
            )
        new = new_name(old)
        if new is not None and await move(redis, old, new):
            moved += 1
    return moved


async def move(redis: Any, old: str, new: str) -> bool:
    """Move one key (value, TTL, a stream's groups) to ``new``; False when ``old`` is gone or
    ``new`` holds data already (then ``old`` stays, with a warning)."""
    dumped = await redis.dump(old)
    if dumped is None:
        return False
    left = int(await redis.pttl(old))  # -1: no TTL, -2: expired since the DUMP
    if left == -2:
        return False
    ttl = max(0, left)
    try:
        await redis.restore(new, ttl, dumped)
    except ResponseError as exc:
        if "BUSYKEY" not in str(exc):
            raise
        if not await _untouched_stream(redis, new):
            log.warning("executor key %s not renamed to %s: that name holds data already; "
                        "merge or delete one of them by hand", old, new)  # fmt: skip
            return False
        await redis.restore(new, ttl, dumped, replace=True)
    await redis.delete(old)
    return True


async def _untouched_stream(redis: Any, key: str) -> bool:
    """An empty stream no entry was ever added to (only XGROUP CREATE ... MKSTREAM)."""
    kind = await redis.type(key)
    if (kind.decode() if isinstance(kind, bytes) else str(kind)) != "stream":
        return False
    info = await redis.xinfo_stream(key)
    last = info.get("last-generated-id")
    last_id = last.decode() if isinstance(last, bytes) else str(last)
    return int(info.get("length", 0)) == 0 and last_id == "0-0"
