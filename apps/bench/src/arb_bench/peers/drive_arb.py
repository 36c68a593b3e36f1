"""Our side: ``arb replay``'s own code path (``arb_cli.replay.replay``), every check on.

One pass = the venue's real parser and a fresh BookSet over every frame: the sequence rule,
checksums where the venue sends them, crossed-book checks. ``replay`` times its frame loop.
"""

from __future__ import annotations

import time
from typing import Any

from arb_cli.replay import replay
from arb_orderbook.bookset import BookSet
from arb_structs.market import BookDelta, BookSnapshot
from arb_venues import market_protocol
from arb_venues.base import Endpoints
from arb_venues.capture import Frame
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import MalformedFrame

MEASURES = "arb replay: the venue's parser and the book engine, every check on"


def measure(
    venue: str,
    protocol: str | None,
    frames: list[tuple[str, str, float, str]],
    loops: int,
    want_tops: bool = True,
) -> dict[str, Any]:
    """``loops`` timed passes; with ``want_tops`` an untimed one more for the final books
    (the bench asks for them once a round)."""
    ours = [Frame(kind, url, ts, raw, order) for order, (kind, url, ts, raw) in enumerate(frames)]
    passes = []
    cpu = []
    for _ in range(loops):
        started = time.process_time()  # around the call: its set-up costs ~5 µs
        passes.append(replay(venue, ours, protocol))
        cpu.append(time.process_time() - started)
    last = passes[-1]
    checks = {k: last[k] for k in ("frames", "book_events", "books", "level_updates",
                                   "checksums_verified", "checksum_failures", "gaps", "crossed",
                                   "bad_frames") if k in last}  # fmt: skip
    return {"seconds": [p["seconds"] for p in passes], "cpu_seconds": cpu, "checks": checks,
            "measures": MEASURES, "book": last["book"],
            "tops": tops(venue, protocol, ours) if want_tops else None}  # fmt: skip


def tops(venue: str, protocol: str | None, frames: list[Frame]) -> list[list[float | None]]:
    """Best bid and ask of every book after the recording (an untimed pass), to show that
    every implementation ended with the same books."""
    offline = Endpoints(ws_url="ws://replay.invalid", rest_url="http://replay.invalid")
    parser = market_protocol(venue, offline, protocol_version=protocol).make_parser(SymbolMap())
    books = BookSet()
    for frame in frames:
        ts = int(frame.ts * 1e9)
        try:
            events = (parser.parse_rest(frame.url, frame.raw, ts) if frame.kind == "rest"
                      else parser.parse_ws(frame.raw, ts))  # fmt: skip
        except MalformedFrame:
            continue
        for event in events:
            if isinstance(event, BookSnapshot | BookDelta):
                books.apply(event)
    out = []
    for book in books.venue_books(venue):
        bid, ask = book.best_bid(), book.best_ask()
        out.append([bid[0] if bid else None, ask[0] if ask else None])
    return sorted(out, key=str)
