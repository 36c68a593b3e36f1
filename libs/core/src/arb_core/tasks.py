"""Cancellation that cannot be lost.

A task's cancellation can go missing inside a library: redis-py's async client may turn a
CancelledError raised while it waits on a socket into a ConnectionError, or return from the
command as if nothing happened. A loop that then goes round again (``while not stopping``)
keeps a cancelled service alive for one more XREAD BLOCK, or forever. Python (3.11+) still
remembers the request: ``Task.cancelling()`` stays > 0 until someone calls ``uncancel()``.

- ``raise_if_cancelling()``: call it after every await in a loop (and in its ``except``
  branches); it re-raises the cancellation the awaited call swallowed.
- ``stop_task(task)``: cancel a child task and wait for it, without swallowing a cancellation
  of the caller (``with suppress(CancelledError): await child`` would swallow both).
"""

from __future__ import annotations

import asyncio
from typing import Any


def cancelling() -> bool:
    """True when the current task has been asked to cancel (even if the error was lost)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def raise_if_cancelling() -> None:
    """Re-raise a cancellation of the current task that an awaited call swallowed."""
    if cancelling():
        raise asyncio.CancelledError


async def stop_task(task: asyncio.Future[Any] | None) -> None:
    """Cancel ``task`` and wait until it is done. Its own CancelledError (or any error it
    ends with) is not re-raised; a cancellation of the caller arriving meanwhile is. Safe in
    a ``finally`` of a task being cancelled: it does not raise for the earlier request."""
    if task is None:
        return
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
