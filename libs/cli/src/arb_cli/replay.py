"""arb replay: recorded captures through the venue's real parser and the book engine, offline.

Every check is on (level rules, sequence rule, checksums, crossed books). ``seconds`` is
processing time only: the files are read into memory first.

Replay refuses what it cannot read, so a wrong flag never passes for a clean run:
- the protocol of a venue that has several (Kraken v1/v2) is detected from the frames when
  ``--protocol`` is not given; a given one that yields no book is an error naming the right
  flag. Coinbase's one parser reads both its protocols; the result says which it saw;
- a file that yields no book exits 1, naming the venue (and protocol) the frames look like
  when ``--venue`` is wrong;
- malformed frames exit 1 (``--allow-bad`` replays anyway; they are counted by kind either
  way in ``bad_frame_kinds``).
Exit codes: 0 clean, 1 the input failed a check (the summary is still printed), 2 bad
arguments or an unreadable file.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from arb_orderbook import native
from arb_orderbook.bookset import BookSet
from arb_runtime.errors import ConfigError
from arb_structs import BookDelta, BookSnapshot
from arb_venues import VENUE_NAMES, checksums, get_venue, market_protocol
from arb_venues.base import Endpoints, FeedParser
from arb_venues.capture import CaptureError, Frame, iter_book_frames, merge_captures
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import MalformedFrame

from arb_cli.common import print_json

_OFFLINE = Endpoints(ws_url="ws://replay.invalid", rest_url="http://replay.invalid")
SNIFF_FRAMES = 200  # frames tried per candidate (venue, protocol) to tell what a file holds


def _parser(venue: str, protocol_version: str | None) -> FeedParser:
    protocol = market_protocol(venue, _OFFLINE, protocol_version=protocol_version)
    return protocol.make_parser(SymbolMap())


def _parse(parser: FeedParser, frame: Frame, url: str) -> tuple[list[Any], str]:
    """One frame through the parser; the events and the URL now in use."""
    ts = int(frame.ts * 1e9)
    if frame.kind == "rest":
        return parser.parse_rest(frame.url, frame.raw, ts), url
    if frame.url and frame.url != url:
        parser.use_url(frame.url)
        url = frame.url
    return parser.parse_ws(frame.raw, ts), url


def replay(venue: str, frames: list[Frame], protocol_version: str | None = None) -> dict[str, Any]:
    """One pass from fresh state; the counts of that pass and its processing seconds.

    A book the parser flags for a resync (a refused book frame, lost continuity) is marked
    SUSPECT at once, as the live engine's resync would leave it until its next snapshot.
    ``resyncs`` counts what would ask ingest for one: those flags, and every book the engine
    turned SUSPECT (gap, checksum mismatch or missing, crossed).
    """
    parser = _parser(venue, protocol_version)
    books = BookSet(checksums=checksums([venue]))
    book_events = 0
    resyncs = 0
    bad_kinds: Counter[str] = Counter()
    url = ""
    parse_ws, parse_rest = parser.parse_ws, parser.parse_rest
    apply, apply_event = books.apply, books.apply_event
    started = time.perf_counter()
    for frame in frames:  # the hot loop of the replay benchmark: kept flat
        ts = int(frame.ts * 1e9)
        try:
            if frame.kind == "rest":
                events = parse_rest(frame.url, frame.raw, ts)
            else:
                if frame.url != url and frame.url:
                    parser.use_url(frame.url)
                    url = frame.url
                events = parse_ws(frame.raw, ts)
        except MalformedFrame as exc:
            bad_kinds[exc.kind] += 1
            events = []
        for event in events:
            book_events += 1
            kind = type(event)
            if kind is BookDelta or kind is BookSnapshot:  # one book: no list of results
                result = apply(event)  # type: ignore[arg-type]
                if result.resync and result.state is not result.previous_state:
                    resyncs += 1  # the book service would ask ingest for a snapshot now
                continue
            for _, result in apply_event(event):
                if result.resync and result.state is not result.previous_state:
                    resyncs += 1
        if parser.resync_needed:
            flagged, parser.resync_needed = parser.resync_needed, set()
            resyncs += _suspect(books, parser, venue, flagged)
    seconds = time.perf_counter() - started
    counts = books.counts.get(venue)
    return {
        "venue": venue,
        "protocol": protocol_version or _default_version(venue),
        "frames": len(frames),
        "book_events": book_events,
        "books": len(books.venue_books(venue)),
        "level_updates": counts.levels if counts else 0,
        "applied": counts.applied if counts else 0,
        "stale": counts.dropped_stale if counts else 0,
        "checksums_verified": counts.checksums_ok if counts else 0,
        "checksum_failures": counts.checksum_failures if counts else 0,
        "checksums_missing": counts.checksums_missing if counts else 0,
        "gaps": counts.gaps if counts else 0,
        "crossed": counts.crossed if counts else 0,
        "bad_frames": sum(bad_kinds.values()),
        "bad_frame_kinds": dict(sorted(bad_kinds.items())),
        "resyncs": resyncs,
        "book": native.describe(),  # the compiled book ("native") or "pure (why)": docs/native.md
        "seconds": seconds,
    }


def _suspect(books: BookSet, parser: FeedParser, venue: str, flagged: set[str]) -> int:
    """Books whose venue symbol the parser flagged ("*": all of them) become SUSPECT; how
    many resyncs that asks for (a flagged book not seen yet still asks for one)."""
    marked = 0
    for book in books.venue_books(venue):
        if "*" in flagged or parser.symbols.to_venue(book.symbol) in flagged:
            books.mark_suspect(book, "resync requested by the parser (replay: no resync)")
            marked += 1
    return max(marked, 0 if "*" in flagged else len(flagged))


def _default_version(venue: str) -> str:
    versions = get_venue(venue).market.protocol_versions
    return versions[0] if versions else ""


def _candidates(venue: str | None = None) -> list[tuple[str, str | None]]:
    """(venue, protocol version) pairs to try: every version of one venue, or of all."""
    out: list[tuple[str, str | None]] = []
    for name in (venue,) if venue is not None else VENUE_NAMES:
        versions = get_venue(name).market.protocol_versions
        out += [(name, v) for v in versions] if versions else [(name, None)]
    return out


def sniff(frames: list[Frame], venue: str | None = None) -> tuple[str, str | None] | None:
    """The (venue, protocol) whose parser makes the most book events of the first frames
    (ties: the fewest malformed); None when no parser makes any."""
    sample = frames[:SNIFF_FRAMES]
    best: tuple[int, int, str, str | None] | None = None
    for name, version in _candidates(venue):
        parser = _parser(name, version)
        events = bad = 0
        url = ""
        for frame in sample:
            try:
                parsed, url = _parse(parser, frame, url)
            except MalformedFrame:
                bad += 1
                continue
            events += sum(isinstance(e, BookSnapshot | BookDelta) for e in parsed)
        if events and (best is None or (events, -bad) > (best[0], best[1])):
            best = (events, -bad, name, version)
    return None if best is None else (best[2], best[3])


def _flag(venue: str, version: str | None) -> str:
    return f"--venue {venue}" + (f" --protocol {version}" if version else "")


def load_frames(paths: list[Path]) -> list[Frame]:
    try:
        return list(iter_book_frames(merge_captures(paths)))
    except CaptureError as exc:
        raise ConfigError(str(exc)) from None


def _choose_version(venue: str, given: str | None, frames: list[Frame]) -> str | None:
    """The protocol to replay with: the given one, else the one the frames are in."""
    if given or not get_venue(venue).market.protocol_versions:
        return given
    found = sniff(frames, venue)
    return found[1] if found is not None else None


def _problem(result: dict[str, Any], frames: list[Frame], allow_bad: bool) -> str | None:
    """Why this replay is not a clean run (None when it is)."""
    venue, version = result["venue"], result["protocol"] or None
    kinds = ", ".join(f"{k} {n}" for k, n in result["bad_frame_kinds"].items())
    if result["books"] == 0:
        looks = sniff(frames)
        if looks is not None and looks != (venue, version):
            hint = f"they look like {looks[0]} frames: pass {_flag(*looks)}"
        else:
            hint = "is it a capture of this venue's order book channel?"
        bad = f" ({result['bad_frames']} malformed: {kinds})" if kinds else ""
        return (
            f"no book came out of {result['frames']} frames read as {_flag(venue, version)}"
            f"{bad}; {hint}"
        )
    if result["bad_frames"] and not allow_bad:
        return (
            f"{result['bad_frames']} of {result['frames']} frames were malformed ({kinds}), "
            "so this is not a clean replay; --allow-bad replays anyway and counts them"
        )
    return None


def run(args: argparse.Namespace) -> int:
    given = getattr(args, "protocol", None)
    try:
        get_venue(args.venue).market.for_version(given)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if args.loops < 1:
        raise ConfigError(f"--loops {args.loops}: must be 1 or more")
    frames = load_frames([Path(f) for f in args.files])
    version = _choose_version(args.venue, given, frames)
    passes = [replay(args.venue, frames, version) for _ in range(args.loops)]
    result = dict(passes[-1])
    dialects = get_venue(args.venue).market.dialects([f.raw for f in frames[:SNIFF_FRAMES]])
    if dialects is not None:
        result["protocol"] = dialects
    result["seconds"] = sum(p["seconds"] for p in passes) / len(passes)
    result["loops"] = args.loops
    seconds = result["seconds"] or 1e-9
    result["frames_per_s"] = round(result["frames"] / seconds)
    result["level_updates_per_s"] = round(result["level_updates"] / seconds)
    problem = _problem(passes[-1], frames, getattr(args, "allow_bad", False))
    if problem is not None:
        result["error"] = problem
    if args.json:
        print_json(result)
    else:
        width = max(len(k) for k in result)
        for key, value in result.items():
            shown = f"{value:.4f}" if isinstance(value, float) else value
            print(f"{key:<{width}}  {shown}")
    if problem is not None:
        print(f"arb replay: {', '.join(args.files)}: {problem}", file=sys.stderr)
        return 1
    return 0
