"""arb replay: recorded captures through the venue's real parser and the book engine, offline.

Every check is on (sequence rule, checksums, crossed books). ``seconds`` is processing time
only: the files are read into memory first.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from arb_orderbook.bookset import BookSet
from arb_runtime.errors import ConfigError
from arb_venues import checksums, get_venue, market_protocol
from arb_venues.base import Endpoints, FeedParser
from arb_venues.capture import CaptureError, Frame, iter_book_frames, merge_captures
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import MalformedFrame

from arb_cli.common import print_json


def replay(venue: str, frames: list[Frame], protocol_version: str | None = None) -> dict[str, Any]:
    """One pass from fresh state; the counts of that pass and its processing seconds."""
    protocol = market_protocol(
        venue,
        Endpoints(ws_url="ws://replay.invalid", rest_url="http://replay.invalid"),
        protocol_version=protocol_version,
    )
    parser: FeedParser = protocol.make_parser(SymbolMap())
    books = BookSet(checksums=checksums([venue]))
    book_events = bad_frames = 0
    started = time.perf_counter()
    for frame in frames:
        ts = int(frame.ts * 1e9)
        try:
            if frame.kind == "rest":
                events = parser.parse_rest(frame.url, frame.raw, ts)
            else:
                events = parser.parse_ws(frame.raw, ts)
        except MalformedFrame:
            bad_frames += 1
            continue
        for event in events:
            book_events += 1
            books.apply_event(event)
    seconds = time.perf_counter() - started
    counts = books.counts.get(venue)
    return {
        "venue": venue,
        "frames": len(frames),
        "book_events": book_events,
        "books": len(books.venue_books(venue)),
        "level_updates": counts.levels if counts else 0,
        "applied": counts.applied if counts else 0,
        "stale": counts.dropped_stale if counts else 0,
        "checksums_verified": counts.checksums_ok if counts else 0,
        "checksum_failures": counts.checksum_failures if counts else 0,
        "gaps": counts.gaps if counts else 0,
        "crossed": counts.crossed if counts else 0,
        "bad_frames": bad_frames,
        "seconds": seconds,
    }


def load_frames(paths: list[Path]) -> list[Frame]:
    try:
        return list(iter_book_frames(merge_captures(paths)))
    except CaptureError as exc:
        raise ConfigError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    version = getattr(args, "protocol", None)
    try:
        get_venue(args.venue).market.for_version(version)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if args.loops < 1:
        raise ConfigError(f"--loops {args.loops}: must be 1 or more")
    frames = load_frames([Path(f) for f in args.files])
    passes = [replay(args.venue, frames, version) for _ in range(args.loops)]
    result = dict(passes[-1])
    result["seconds"] = sum(p["seconds"] for p in passes) / len(passes)
    result["loops"] = args.loops
    seconds = result["seconds"] or 1e-9
    result["frames_per_s"] = round(result["frames"] / seconds)
    result["level_updates_per_s"] = round(result["level_updates"] / seconds)
    if args.json:
        print_json(result)
        return 0
    width = max(len(k) for k in result)
    for key, value in result.items():
        shown = f"{value:.4f}" if isinstance(value, float) else value
        print(f"{key:<{width}}  {shown}")
    return 0
