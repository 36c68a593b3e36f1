"""The ground-truth log: every injected dislocation as a TruthEvent, to JSONL and/or Redis.

JSONL (one msgspec-JSON object per line) is appended and flushed as each event happens; the
Redis stream (``SIM_TRUTH_STREAM``, MessagePack in the ``d`` field like every stream) is written
by one background task, so the market clock never waits on Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import IO, Any

import msgspec
from arb_runtime.tasks import stop_task
from arb_structs import TruthEvent
from arb_structs.codec import TRUTH
from arb_structs.constants import PAYLOAD_FIELD, SIM_TRUTH_STREAM

from arb_simulator.errors import SimulatorError

log = logging.getLogger(__name__)

TRUTH_MAXLEN = 100_000
_json = msgspec.json.Encoder()


class TruthLog:
    def __init__(self, path: Path | None = None, redis: Any | None = None) -> None:
        """``redis``: a redis.asyncio client (the caller owns and closes it)."""
        self.path = path
        self.redis = redis
        self.written = 0
        self._pending = 0  # events queued or in flight to Redis
        self._drained = asyncio.Event()
        self._drained.set()
        self._file: IO[bytes] | None = None
        self._queue: asyncio.Queue[TruthEvent] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("ab")
            except OSError as exc:
                raise SimulatorError(
                    f"truth log {self.path}: cannot open for append ({exc.strerror or exc}); "
                    "choose a writable path or unset ARB_SIMULATOR_TRUTH_PATH"
                ) from exc
        if self.redis is not None:
            self._task = asyncio.create_task(self._write_redis(), name="truth-redis")

    def __call__(self, event: TruthEvent) -> None:
        """A market truth listener: write the event (file now, Redis soon)."""
        if self._file is not None:
            self._file.write(_json.encode(event) + b"\n")
            self._file.flush()
        if self.redis is not None:
            self._pending += 1
            self._drained.clear()
            self._queue.put_nowait(event)
        self.written += 1

    async def _write_redis(self) -> None:
        assert self.redis is not None
        while True:
            event = await self._queue.get()
            batch = [event]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for item in batch:
                        pipe.xadd(
                            SIM_TRUTH_STREAM,
                            {PAYLOAD_FIELD: TRUTH.encode(item)},
                            maxlen=TRUTH_MAXLEN,
                            approximate=True,
                        )
                    await pipe.execute()
            except Exception as exc:  # keep the simulator up; the JSONL still has them
                log.warning("truth stream %s: %d event(s) not written: %s", SIM_TRUTH_STREAM,
                            len(batch), exc)  # fmt: skip
            finally:
                self._pending -= len(batch)
                if self._pending <= 0:
                    self._drained.set()

    async def flush(self) -> None:
        """Wait until every queued event reached Redis (tests, shutdown)."""
        if self._task is not None:
            await self._drained.wait()

    async def stop(self) -> None:
        if self._task is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.flush(), 2.0)
            await stop_task(self._task)
            self._task = None
        if self._file is not None:
            self._file.close()
            self._file = None


def read_truth(path: Path) -> list[TruthEvent]:
    """The events of a JSONL truth log."""
    decoder = msgspec.json.Decoder(TruthEvent)
    return [decoder.decode(line) for line in path.read_bytes().splitlines() if line.strip()]
