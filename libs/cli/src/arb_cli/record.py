"""arb record: a live or simulated venue session into a capture file that `arb replay` reads.

    arb record --venue okx --symbols BTC-USDT,ETH-USDT --duration 60 --out okx.jsonl
    arb record --venue binance --symbols BTC-USDT --ws-url ws://127.0.0.1:41234 \
        --rest-url http://127.0.0.1:41235 --max-frames 500 --out sim.jsonl

The session runs through the venue's real MarketDataProtocol and the same MarketDataFeed
ingest uses (staged subscribes, heartbeats, reconnects, paced REST snapshots); its wire tap
writes every connect, sent message, received frame and REST snapshot body, in the order the
parser saw them, in the JSONL capture format of shared/fixtures/README.md. The instruments
answer is fetched (to find the venue symbols) but not recorded: it is reference data, not book
data, and a replay normalises symbols without it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from arb_runtime.errors import ArbError, ConfigError
from arb_structs import BookDelta, BookSnapshot, Instrument, MdMessage
from arb_venues import get_venue, market_protocol
from arb_venues.base import Endpoints, MarketDataProtocol
from arb_venues.capture import CaptureError, CaptureWriter
from arb_venues.common.feed import MarketDataFeed
from arb_venues.common.ratelimit import RateLimiter
from arb_venues.common.rest import RestClient
from arb_venues.errors import VenueError

from arb_cli.common import print_json

log = logging.getLogger("arb.record")


class RecordError(ArbError):
    """The session could not be recorded (venue unreachable, nothing received)."""


@dataclass
class RecordResult:
    venue: str
    out: str
    records: int = 0  # lines written
    frames: int = 0  # WS frames received (recv records)
    snapshots: int = 0  # REST snapshot bodies (http_response records)
    sent: int = 0
    connects: int = 0
    book_events: int = 0  # BookSnapshot/BookDelta the live parser produced
    bad_frames: int = 0
    seconds: float = 0.0


def build_protocol(
    venue: str,
    ws_url: str | None = None,
    rest_url: str | None = None,
    *,
    depth: int = 0,
    protocol_version: str | None = None,
) -> MarketDataProtocol:
    try:
        real = get_venue(venue).endpoints
        endpoints = Endpoints(ws_url=ws_url or real.ws_url, rest_url=rest_url or real.rest_url)
        return market_protocol(venue, endpoints, depth=depth, protocol_version=protocol_version)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


async def pick_instruments(
    protocol: MarketDataProtocol, rest: RestClient, symbols: list[str]
) -> list[Instrument]:
    """The instruments of ``symbols``; every one must be listed by the venue."""
    try:
        available = {i.symbol: i for i in await protocol.fetch_instruments(rest)}
    except VenueError as exc:
        raise RecordError(
            f"{protocol.venue}: cannot list instruments at {protocol.endpoints.rest_url}: {exc}; "
            "check --rest-url (and that the venue or the simulator is up)"
        ) from None
    missing = [s for s in symbols if s not in available]
    if missing:
        raise ConfigError(
            f"--symbols: {', '.join(missing)} not listed by {protocol.venue}; it lists e.g. "
            f"{', '.join(sorted(available)[:8])}"
        )
    return [available[s] for s in symbols]


async def record(
    protocol: MarketDataProtocol,
    symbols: list[str],
    out: Path,
    *,
    duration_s: float = 0.0,
    max_frames: int = 0,
    stopping: asyncio.Event | None = None,
) -> RecordResult:
    """Record until ``duration_s`` passed, ``max_frames`` frames arrived or ``stopping`` is set
    (0 = no such bound). The file is complete (flushed, whole lines) when this returns."""
    stopping = stopping or asyncio.Event()
    result = RecordResult(venue=protocol.venue, out=str(out))
    rest = RestClient(protocol.venue, protocol.endpoints.rest_url,
                      limiter=RateLimiter(protocol.rest_limits),
                      error_mapper=protocol.error_mapper())  # fmt: skip
    try:
        instruments = await pick_instruments(protocol, rest, symbols)
    except BaseException:
        await rest.close()
        raise
    try:
        writer = CaptureWriter(out)
    except CaptureError as exc:
        await rest.close()
        raise ConfigError(f"--out: {exc}") from None

    def tap(kind: str, url: str, raw: str | bytes) -> None:
        if stopping.is_set():
            return  # frames the loop receives while it winds down are not part of the session
        writer.write(kind, url, raw)
        if kind == "recv":
            result.frames += 1
            if max_frames and result.frames >= max_frames:
                stopping.set()
        elif kind == "http_response":
            result.snapshots += 1
        elif kind == "send":
            result.sent += 1

    def emit(event: MdMessage) -> None:
        if isinstance(event, BookSnapshot | BookDelta):
            result.book_events += 1

    feed = MarketDataFeed(protocol, instruments, emit, rest=rest, tap=tap)
    loop = asyncio.get_running_loop()
    timer = loop.call_later(duration_s, stopping.set) if duration_s > 0 else None
    started = time.perf_counter()
    try:
        await feed.run(stopping)
    finally:
        if timer is not None:
            timer.cancel()
        writer.close()
        result.records = writer.records
        result.seconds = round(time.perf_counter() - started, 3)
        result.connects = feed.stats.connects
        result.bad_frames = sum(feed.stats.bad_frames.values())
    return result


def _symbols(text: str) -> list[str]:
    symbols = [s.strip().upper() for s in text.split(",") if s.strip()]
    if not symbols:
        raise ConfigError("--symbols: give at least one BASE-QUOTE symbol, e.g. BTC-USDT")
    return symbols


async def _main(args: argparse.Namespace) -> RecordResult:
    protocol = build_protocol(args.venue, args.ws_url, args.rest_url, depth=args.depth,
                              protocol_version=args.protocol)  # fmt: skip
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C ends the session cleanly
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stopping.set)
    return await record(protocol, _symbols(args.symbols), Path(args.out),
                        duration_s=args.duration, max_frames=args.max_frames,
                        stopping=stopping)  # fmt: skip


def run(args: argparse.Namespace) -> int:
    if args.duration < 0:
        raise ConfigError(f"--duration {args.duration}: seconds, 0 or more (0 = until Ctrl-C)")
    if args.max_frames < 0:
        raise ConfigError(f"--max-frames {args.max_frames}: 0 or more (0 = no limit)")
    if args.duration == 0 and args.max_frames == 0:
        print("arb record: recording until Ctrl-C (set --duration or --max-frames to bound it)")
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    result = asyncio.run(_main(args))
    if args.json:
        print_json(asdict(result))
    else:
        print(f"recorded {result.frames} frames, {result.snapshots} REST snapshots, "
              f"{result.book_events} book events from {result.venue} in {result.seconds:.1f}s "
              f"-> {result.out} ({result.records} records)")  # fmt: skip
    if result.frames == 0:
        print(f"arb record: no frame received from {args.venue}; check --ws-url and --symbols",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0
