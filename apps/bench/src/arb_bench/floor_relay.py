"""The floor's minimal processes: the engine's path with no work in it.

    python -m arb_bench.floor_relay ingest --redis URL --venue coinbase --symbols BTC-USDT,... \
        --ws-url ws://... --rest-url http://... --out STREAM
    python -m arb_bench.floor_relay relay --redis URL --in S1,S2 --out STREAM
    python -m arb_bench.floor_relay reader --redis URL --in STREAM --samples FILE

``ingest`` connects and subscribes like the venue's ingest (its connect URL, first messages,
subscribes and heartbeats), stamps each WS frame on receipt (``time.time_ns()``, as ingest
stamps ``ts_recv``) and XADDs the raw frame and the stamp, pipelining everything one loop
turn received into one round trip. ``relay`` XREADs (BLOCK, like the book service) and,
conflating as the book service does (one view per book per read, carrying the newest frame's
``ts_recv``), XADDs the newest entry of each input stream in that read on, with the time it
read it; those writes go out ahead of its next XREAD, in the same write, as the book
service's do.
``reader`` XREADs and stamps, like the detector; on SIGTERM it writes every sample
(``ts_recv ts_hop1 ts_read`` per line) to ``--samples`` and exits. The same libraries as the
services (aiohttp, uvloop, and the services' Redis transport: each process's writes and
reads on an ``arb_runtime.lean.LeanLink``, as the stream producer and the ordered reader
send them), no parsing, no book, no detection.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
from arb_runtime.lean import LeanLink
from arb_runtime.redis import connect
from arb_structs.constants import MD_MAXLEN

RAW = b"raw"
TS_RECV = b"ts_recv"
TS_HOP1 = b"ts_hop1"
READ_COUNT = 500  # entries per XREAD, as the book service reads
BLOCK_MS = 1000


def _stopping() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _until(stop: asyncio.Event, work: Any) -> None:
    """Run ``work`` until ``stop`` is set, then cancel it. The read loops also check ``stop``
    after each read, so that however the cancel lands the reader gets to writing its samples
    (the bench waits 10 s for them, then kills it)."""
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    for pending in (task, waiter):
        pending.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pending
    error = task.exception() if task.done() and not task.cancelled() else None
    if error is not None:
        raise error


async def ingest(args: argparse.Namespace) -> None:
    from arb_simulator.catalog import make_instrument
    from arb_venues import get_venue
    from arb_venues.base import Endpoints
    from arb_venues.common.rest import RestClient

    stop = _stopping()
    redis: Any = await connect(args.redis)
    protocol = get_venue(args.venue).market(Endpoints(ws_url=args.ws_url, rest_url=args.rest_url))
    instruments = [make_instrument(args.venue, s) for s in args.symbols.split(",")]
    pending: list[tuple[str | bytes, int]] = []
    wake = asyncio.Event()
    link = LeanLink(redis)

    async def write() -> None:
        while True:
            await wake.wait()
            wake.clear()
            batch, pending[:] = pending[:], []
            await link.pipeline([_xadd(args.out, RAW, raw, TS_RECV, ts) for raw, ts in batch])

    async def heartbeat(ws: aiohttp.ClientWebSocketResponse) -> None:
        interval = protocol.heartbeat_interval()
        while interval and not ws.closed:
            await asyncio.sleep(interval)
            message = protocol.heartbeat_message()
            if message is not None:
                await ws.send_str(message)

    async def receive() -> None:
        rest = RestClient(args.venue, args.rest_url, error_mapper=protocol.error_mapper())
        try:
            url = await protocol.connect_url(rest, instruments)  # KuCoin: a token first
        finally:
            await rest.close()
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(url, max_msg_size=0) as ws,
        ):
            for first in protocol.connect_messages(instruments):
                await ws.send_str(first)
            for subscribe in protocol.subscribe_messages(instruments):
                await ws.send_str(subscribe)
            beat = asyncio.ensure_future(heartbeat(ws))
            try:
                async for message in ws:
                    if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                        pending.append((message.data, time.time_ns()))
                        wake.set()
            finally:
                beat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await beat

    writer = asyncio.ensure_future(write())
    try:
        await _until(stop, receive())
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        await redis.aclose()


async def relay(args: argparse.Namespace) -> None:
    stop = _stopping()
    redis: Any = await connect(args.redis)
    positions: dict[str, bytes | str] = {s: "0-0" for s in args.inputs.split(",")}
    link = LeanLink(redis)  # the book service's reader, which carries its producer's writes

    async def loop() -> None:
        ops: list[tuple[Any, ...]] = []
        while not stop.is_set():
            answer = await _xread(link, positions, ops)
            now = time.time_ns()
            ops = []
            for stream, entries in answer:
                # conflated as the book service conflates: one entry on per input per read,
                # the newest, carrying its receipt stamp
                newest_id, fields = entries[-1]
                got = _fields(fields)
                ops.append(_xadd(args.out, RAW, got[RAW], TS_RECV, got[TS_RECV], TS_HOP1, now))
                positions[stream.decode()] = newest_id

    try:
        await _until(stop, loop())
    finally:
        await redis.aclose()


async def reader(args: argparse.Namespace) -> None:
    stop = _stopping()
    redis: Any = await connect(args.redis)
    positions: dict[str, bytes | str] = {args.inputs: "0-0"}
    samples: list[tuple[int, int, int]] = []
    reads = LeanLink(redis)

    async def loop() -> None:
        while not stop.is_set():
            answer = await _xread(reads, positions)
            now = time.time_ns()
            for _, entries in answer:
                for entry_id, fields in entries:
                    got = _fields(fields)
                    samples.append((int(got[TS_RECV]), int(got[TS_HOP1]), now))
                    positions[args.inputs] = entry_id

    try:
        await _until(stop, loop())
    finally:
        await redis.aclose()
        text = "".join(f"{a} {b} {c}\n" for a, b, c in samples)
        await asyncio.to_thread(Path(args.samples).write_text, text)


def _xadd(stream: str, *fields: Any) -> tuple[Any, ...]:
    return ("XADD", stream, "MAXLEN", "~", MD_MAXLEN, "*", *fields)


async def _xread(
    link: LeanLink, positions: dict[str, bytes | str], writes: Sequence[tuple[Any, ...]] = ()
) -> list[Any]:
    """XREAD as the ordered reader sends it, after ``writes`` as it carries a producer's;
    ``[(stream, entries)]`` (RESP3 or RESP2)."""
    xread = ("XREAD", "COUNT", READ_COUNT, "BLOCK", BLOCK_MS, "STREAMS", *positions,
             *positions.values())  # fmt: skip
    if writes:
        answer = await link.command_after(writes, _written, *xread, block_ms=BLOCK_MS)
    else:
        answer = await link.command(*xread, block_ms=BLOCK_MS)
    if type(answer) is dict:
        return list(answer.items())
    return list(answer or ())


def _written(replies: list[Any] | BaseException) -> None:
    """The floor keeps no producer: a write that failed ends the run, as the read's error."""
    if isinstance(replies, list):
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply


def _fields(flat: list[Any]) -> dict[bytes, Any]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m arb_bench.floor_relay")
    sub = parser.add_subparsers(dest="role", required=True)
    p = sub.add_parser("ingest")
    p.add_argument("--redis", required=True)
    p.add_argument("--venue", required=True)
    p.add_argument("--symbols", required=True)
    p.add_argument("--ws-url", required=True)
    p.add_argument("--rest-url", default="http://127.0.0.1:1")
    p.add_argument("--out", required=True)
    p = sub.add_parser("relay")
    p.add_argument("--redis", required=True)
    p.add_argument("--in", dest="inputs", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("reader")
    p.add_argument("--redis", required=True)
    p.add_argument("--in", dest="inputs", required=True)
    p.add_argument("--samples", required=True)
    args = parser.parse_args()
    import uvloop

    uvloop.run({"ingest": ingest, "relay": relay, "reader": reader}[args.role](args))


if __name__ == "__main__":
    main()
