"""Mutation fuzz of every venue parser on recorded frames, through the book engine.

For each venue a short real session (a snapshot and the updates after it; Kraken, which has
no multi-message recording, from the simulator's encoder) is replayed with one to three of
its book frames mutated the way a broken or hostile feed would: a number turned into NaN,
Infinity, inf, a negative, zero, a huge or exponent text, a field dropped, a type swapped,
levels reordered or duplicated, the text cut short. The properties, after every frame:

- the parser raises nothing but the project's own errors (MalformedFrame and the other
  ArbErrors); nothing else escapes;
- no LIVE book holds a non-finite, negative or zero-priced level, a size that is not finite
  and positive, or a crossed top.

Bounded for ``make test`` (ARB_FUZZ_EXAMPLES examples per venue, default 100); ``make fuzz``
runs thousands.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from arb_orderbook import BookSet, OrderBook, OrderBookError
from arb_orderbook.result import ApplyResult
from arb_runtime.errors import ArbError
from arb_structs import BookState
from arb_venues import VENUE_NAMES, market_protocol
from arb_venues.base import Endpoints, FeedParser
from arb_venues.capture import Frame, merge_captures
from arb_venues.common.symbols import SymbolMap
from arb_venues.recorded import recordings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.venues.bitget.helpers import docs_session
from tests.unit.venues.cryptocom import instruments as cryptocom_docs
from tests.unit.venues.kraken.helpers import scripted_session
from tests.unit.venues.mexc import helpers as mexc_docs
from tests.unit.venues.mexc.test_contract import DEPTH_URL as MEXC_DEPTH_URL
from tests.unit.venues.mexc.test_contract import SNAPSHOT as MEXC_SNAPSHOT
from tests.unit.venues.okx.helpers import fixtures_path

pytestmark = [pytest.mark.unit, pytest.mark.fixtures]

FIXTURES = fixtures_path()
if FIXTURES is None:
    pytest.skip("recorded exchange data not found (set ARB_FIXTURES_DIR)", allow_module_level=True)

EXAMPLES = int(os.environ.get("ARB_FUZZ_EXAMPLES", "100"))
OFFLINE = Endpoints(ws_url="ws://fuzz.invalid", rest_url="http://fuzz.invalid")
# What a number (or any leaf) becomes.
NASTY: list[Any] = [
    "NaN", "nan", "Infinity", "-Infinity", "inf", "-inf", "-5", "-0.000001", "0", "-0", "0.0",
    "1e400", "1e308", "1e-400", "2e-320", "1e5", "1E-5", "1.5e+3", "", " 1", "1 ", "+1",
    "0x10", "1_000", ".5", "5.", "abc", "\u0661", None, True, False, 0, -1, 1e300, 12345, [], {},
    "[]",
]  # fmt: skip


@dataclass(frozen=True)
class Session:
    venue: str
    version: str | None
    frames: list[Frame]

    def book_frames(self) -> list[int]:
        return [i for i, f in enumerate(self.frames) if f.kind in ("ws", "rest")]


def _ws(raw: str, url: str = "", ts: float = 0.0) -> Frame:
    return Frame("ws", url, ts, raw, 0)


def _recorded(names: tuple[str, ...], keep: Callable[[Frame], bool], limit: int) -> list[Frame]:
    assert FIXTURES is not None
    frames = [f for f in merge_captures([FIXTURES / n for n in names]) if f.kind in ("ws", "rest")]
    return [f for f in frames if keep(f)][:limit]


def _mexc_docs_session() -> list[Frame]:
    """No recording of MEXC exists: a REST snapshot, the docs' example push and two after it,
    each push as the feed hands it to the parser (protobuf decoded to its JSON form)."""
    market = market_protocol("mexc", OFFLINE)
    channel, version = mexc_docs.DOCS_CHANNEL, mexc_docs.DOCS_VERSION
    pushes = [mexc_docs.docs_push(),
              mexc_docs.wire_push(channel, "BTCUSDT", version + 1, version + 3,
                                  bids=[("92877.01", "0.4")], asks=[("92877.59", "0")]),
              mexc_docs.wire_push(channel, "BTCUSDT", version + 4, version + 4,
                                  asks=[("92877.60", "1.25")])]  # fmt: skip
    texts = [market.decode_frame(push) for push in pushes]
    return [Frame("rest", MEXC_DEPTH_URL, 0.0, MEXC_SNAPSHOT, 0),
            *(_ws(text if isinstance(text, str) else text.decode()) for text in texts)]  # fmt: skip


def _sessions() -> dict[str, Session]:
    assert FIXTURES is not None
    coinbase_at = [
        _ws((FIXTURES / "coinbase" / name).read_text())
        for name in ("nautilus_ws_l2_data_snapshot.json", "nautilus_ws_l2_data_update.json")
    ]
    kraken_v2, _ = scripted_session("v2")
    kraken_v1, _ = scripted_session("v1")
    bitget = docs_session()  # no recording of Bitget exists: the docs' example book
    sessions = {
        "okx": Session("okx", None, _recorded(
            ("okx/cryptofeed_OKX.ws.1.0.jsonl",),
            lambda f: '"instId":"BTC-USDT"' in f.raw and '"books"' in f.raw, 30)),
        "binance": Session("binance", None, _recorded(
            ("binance/cryptofeed_BINANCE.ws.1.0.jsonl",
             "binance/cryptofeed_BINANCE.http.0.0.jsonl"),
            lambda f: "NKNUSDT" in f.url or '"s":"NKNUSDT"' in f.raw, 40)),
        "bybit": Session("bybit", None, _recorded(
            ("bybit/nautilus_2024-12-01_XRPUSDT_ob500.jsonl",), lambda f: True, 30)),
        "coinbase": Session("coinbase", None, _recorded(
            ("coinbase/cryptofeed_COINBASE.ws.28.0.jsonl",),
            lambda f: '"product_id":"BAND-GBP"' in f.raw.replace(" ", ""), 30) + coinbase_at),
        "kraken_v2": Session("kraken", "v2", [_ws(raw) for raw in kraken_v2]),
        "kraken_v1": Session("kraken", "v1", [_ws(raw) for raw in kraken_v1]),
        "bitget": Session("bitget", None, [_ws(raw) for raw in (bitget[0], *bitget[1])]),
        "cryptocom": Session("cryptocom", None, [_ws(raw) for raw in (
            cryptocom_docs.DOC_SNAPSHOT, cryptocom_docs.DOC_UPDATE, cryptocom_docs.DOC_UPDATE_2,
            cryptocom_docs.DOC_EMPTY_UPDATE)]),
    }  # fmt: skip
    sessions["mexc"] = Session("mexc", None, _mexc_docs_session())
    # Every other recorded venue: the first frames of its recording (all its books).
    for venue, names in recordings().items():
        if not any(session.venue == venue for session in sessions.values()):
            sessions[venue] = Session(venue, None, _recorded(names, lambda f: True, 40))
    return sessions


SESSIONS = _sessions()


def test_every_venue_is_fuzzed() -> None:
    assert {session.venue for session in SESSIONS.values()} == set(VENUE_NAMES)


def _parser(session: Session) -> FeedParser:
    protocol = market_protocol(session.venue, OFFLINE, protocol_version=session.version)
    return protocol.make_parser(SymbolMap())


def assert_sound(book: OrderBook) -> None:
    """What a LIVE book may never hold."""
    if book.state is not BookState.LIVE:
        return
    for side in (book.bids, book.asks):
        for price in side.prices:
            size = side.sizes[price]
            assert 0.0 < price < math.inf, f"{book.venue} {book.symbol}: price {price!r}"
            assert 0.0 < size < math.inf, f"{book.venue} {book.symbol}: size {size!r} @ {price}"
        assert side.prices == sorted(side.prices), f"{book.symbol}: side out of order"
    best_bid, best_ask = book.bids.best(), book.asks.best()
    if best_bid is not None and best_ask is not None:
        assert best_bid < best_ask, f"{book.venue} {book.symbol}: crossed {best_bid} >= {best_ask}"


def replay(session: Session, mutated: dict[int, str]) -> int:
    """The session with some frames replaced, every property checked after each frame; how
    many frames the parser refused."""
    parser = _parser(session)
    books = BookSet()
    refused = 0
    for index, frame in enumerate(session.frames):
        raw = mutated.get(index, frame.raw)
        try:
            if frame.kind == "rest":
                events = parser.parse_rest(frame.url, raw, index)
            else:
                events = parser.parse_ws(raw, index)
        except ArbError:  # MalformedFrame above all: the project's own, counted by the feed
            refused += 1
            events = []
        for event in events:
            try:
                touched: list[tuple[OrderBook, ApplyResult]] = books.apply_event(event)
            except OrderBookError:  # the engine's own refusal (raised before any change)
                continue
            for book, _ in touched:
                assert_sound(book)
        for book in books:  # a flagged book is resynced by the feed: SUSPECT until then
            if "*" in parser.resync_needed or parser.symbols.to_venue(book.symbol) in (
                parser.resync_needed
            ):
                books.mark_suspect(book, "flagged by the parser")
        parser.resync_needed.clear()
        for book in books:
            assert_sound(book)
    return refused


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a decoded JSON value (the root excluded)."""
    out: list[tuple[Any, ...]] = []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in items:
        out.append((*path, key))
        out += _paths(child, (*path, key))
    return out


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


@st.composite
def mutation(draw: st.DrawFn, raw: str) -> str:
    """One hostile edit of one frame's text."""
    try:
        decoded = json.loads(raw)
    except ValueError:
        decoded = None
    if decoded is None or not isinstance(decoded, dict | list) or draw(st.integers(0, 19)) == 0:
        cut = draw(st.integers(0, max(0, len(raw) - 1)))
        return raw[:cut]  # the text cut short
    paths = _paths(decoded)
    if not paths:
        return raw
    path = draw(st.sampled_from(paths))
    parent, key = _get(decoded, path[:-1]), path[-1]
    value = parent[key]
    kind = draw(
        st.sampled_from(["replace", "replace", "replace", "drop", "swap", "reorder", "dup"])
    )
    if kind == "replace":
        parent[key] = draw(st.sampled_from(NASTY))
    elif kind == "drop" and isinstance(parent, dict):
        del parent[key]
    elif kind == "swap":  # the same value as the other JSON type
        if isinstance(value, str):
            try:
                parent[key] = float(value)
            except ValueError:
                parent[key] = len(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            parent[key] = str(value)
        else:
            parent[key] = json.dumps(value)
    elif kind == "reorder" and isinstance(value, list) and len(value) > 1:
        order = draw(st.permutations(range(len(value))))
        parent[key] = [value[i] for i in order]
    elif kind == "dup" and isinstance(value, list) and value:
        at = draw(st.integers(0, len(value) - 1))
        parent[key] = [*value[: at + 1], value[at], *value[at + 1 :]]
    else:
        parent[key] = draw(st.sampled_from(NASTY))
    return json.dumps(decoded)


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_the_recorded_session_itself_is_sound_and_clean(name: str) -> None:
    assert replay(SESSIONS[name], {}) == 0


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_mutated_frames_never_escape_or_reach_a_live_book(name: str) -> None:
    session = SESSIONS[name]
    targets = session.book_frames()

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        chosen = data.draw(st.lists(st.sampled_from(targets), min_size=1, max_size=3, unique=True))
        mutated = {i: data.draw(mutation(session.frames[i].raw)) for i in chosen}
        replay(session, mutated)

    run()
