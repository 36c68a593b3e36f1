"""The shared real recordings as normalised book events, through each venue's own parser.

One parser per venue: tests, ``arb replay`` and the book-engine benchmark all read recorded
sessions with ``arb_venues.capture`` + the venue adapter's FeedParser, never with private
decoders of their own.

    events = venue_book_events("okx", [fixtures / "okx" / "cryptofeed_OKX.ws.1.0.jsonl"])
    datasets = recorded_book_events(fixtures)   # {"okx": [...], "binance": [...], ...}

Which files are a venue's recording is the venue's fact: ``VenueSpec.recording``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from arb_structs import BookDelta, BookSnapshot

from arb_venues import market_protocol, venue_specs
from arb_venues.base import Endpoints
from arb_venues.capture import iter_book_frames, merge_captures
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import MalformedFrame

BookEvent = BookSnapshot | BookDelta


def recordings() -> dict[str, tuple[str, ...]]:
    """The recording of every venue that has one (files relative to shared/fixtures, whose
    README.md describes them), by venue."""
    return {spec.name: spec.recording.files for spec in venue_specs() if spec.recording}


_OFFLINE = Endpoints(ws_url="ws://recorded.invalid", rest_url="http://recorded.invalid")


def venue_book_events(
    venue: str, paths: Sequence[Path], *, protocol_version: str | None = None
) -> list[BookEvent]:
    """Book events of the capture files (merged by recorder time), in order, from a fresh
    parser of ``venue``. Frames that are not book data are skipped; a malformed frame raises
    MalformedFrame (recordings are meant to be clean)."""
    protocol = market_protocol(venue, _OFFLINE, protocol_version=protocol_version)
    parser = protocol.make_parser(SymbolMap())
    events: list[BookEvent] = []
    for frame in iter_book_frames(merge_captures(paths)):
        ts = int(frame.ts * 1e9)
        if frame.kind == "rest":
            parsed = parser.parse_rest(frame.url, frame.raw, ts)
        else:
            parsed = parser.parse_ws(frame.raw, ts)
        events.extend(e for e in parsed if isinstance(e, BookSnapshot | BookDelta))
    return events


def recorded_book_events(fixtures_dir: Path) -> dict[str, list[BookEvent]]:
    """Every venue recording that exists under ``fixtures_dir``, by venue."""
    out: dict[str, list[BookEvent]] = {}
    for venue, names in recordings().items():
        paths = [fixtures_dir / name for name in names]
        if all(path.is_file() for path in paths):
            out[venue] = venue_book_events(venue, paths)
    return out


__all__ = ["BookEvent", "MalformedFrame", "recorded_book_events", "recordings",
           "venue_book_events"]  # fmt: skip
