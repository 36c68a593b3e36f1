"""GateParser on the recorded 2021-04-22 session (shared/fixtures/README.md: 172 updates, 10
snapshots with ``id``: 159 apply, 0 gaps) and on frames that break the rules."""

from __future__ import annotations

import pytest
from arb_structs import BookDelta, BookSnapshot
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import MalformedFrame
from arb_venues.gateio.parser import GateParser

from tests.unit.venues.gateio.recorded import gateio_dir_or_skip, session

pytestmark = [pytest.mark.unit, pytest.mark.fixtures]

FRAMES = session(gateio_dir_or_skip())
URL = "https://api.gateio.ws/api/v4/spot/order_book?currency_pair=BTC_USDT&limit=100&with_id=true"


def _replay() -> tuple[dict[str, int], dict[str, int], int, int, dict[str, dict[float, float]]]:
    """Gate's own procedure, written out independently of the book service: buffer updates
    until the pair's snapshot, drop ``u <= id``, the first applied has ``U <= id+1 <= u``,
    then ``U == previous u + 1``. Returns (applied, stale, gaps, snapshots, bids by pair)."""
    parser = GateParser(SymbolMap())
    at: dict[str, int] = {}
    buffered: dict[str, list[BookDelta]] = {}
    applied: dict[str, int] = {}
    stale: dict[str, int] = {}
    bids: dict[str, dict[float, float]] = {}
    gaps = snapshots = 0

    def apply(delta: BookDelta) -> None:
        nonlocal gaps
        last = at[delta.symbol]
        if delta.seq <= last:
            stale[delta.symbol] = stale.get(delta.symbol, 0) + 1
            return
        first_u = delta.prev_seq + 1
        if not first_u <= last + 1 <= delta.seq:
            gaps += 1
        at[delta.symbol] = delta.seq
        applied[delta.symbol] = applied.get(delta.symbol, 0) + 1
        for price, size in delta.bids:
            if size == 0:
                bids[delta.symbol].pop(price, None)
            else:
                bids[delta.symbol][price] = size

    for frame in FRAMES:
        if frame.kind == "rest":
            [snap] = parser.parse_rest(frame.url, frame.raw, 1)
            assert isinstance(snap, BookSnapshot)
            snapshots += 1
            at[snap.symbol] = snap.seq
            bids[snap.symbol] = dict(snap.bids)
            for delta in buffered.pop(snap.symbol, []):
                apply(delta)
            continue
        for event in parser.parse_ws(frame.raw, 2):
            assert isinstance(event, BookDelta)
            if event.symbol in at:
                apply(event)
            else:
                buffered.setdefault(event.symbol, []).append(event)
    return applied, stale, gaps, snapshots, bids


def test_recorded_session_applies_159_updates_on_10_snapshots_without_a_gap() -> None:
    applied, stale, gaps, snapshots, _ = _replay()
    assert snapshots == 10 and len(applied) == 8  # two pairs saw only stale updates
    assert sum(applied.values()) == 159 and sum(stale.values()) == 13
    assert gaps == 0


def test_every_recorded_update_frame_is_a_delta_and_nothing_else_is() -> None:
    parser = GateParser(SymbolMap())
    deltas = others = 0
    for frame in FRAMES:
        if frame.kind != "ws":
            continue
        events = parser.parse_ws(frame.raw, 1)
        if '"channel":"spot.order_book_update","event":"update"' in frame.raw:
            assert len(events) == 1 and isinstance(events[0], BookDelta)
            deltas += 1
        else:
            assert events == []
            others += 1
    assert deltas == 172 and others > 0


def test_recorded_books_stay_uncrossed_and_positive() -> None:
    *_, bids = _replay()
    for levels in bids.values():
        assert levels and all(p > 0 and s > 0 for p, s in levels.items())


def test_update_ids_normalise_to_prev_seq_and_seq() -> None:
    frame = (
        '{"time":1,"channel":"spot.order_book_update","event":"update","result":{"t":1700000'
        '000123,"e":"depthUpdate","E":1700000000,"s":"BTC_USDT","U":48776301,"u":48776306,'
        '"b":[["19137.74","0.0001"],["19088.37","0"]],"a":[["19137.75","0.6135"]]}}'
    )
    [delta] = GateParser(SymbolMap()).parse_ws(frame, 7)
    assert isinstance(delta, BookDelta)
    assert (delta.symbol, delta.prev_seq, delta.seq) == ("BTC-USDT", 48776300, 48776306)
    assert delta.bids == [(19137.74, 0.0001), (19088.37, 0.0)]
    assert delta.ts_event == 1700000000123 * 1_000_000 and delta.ts_recv == 7


def test_bad_level_in_an_update_flags_its_book_for_a_resync() -> None:
    parser = GateParser(SymbolMap())
    frame = ('{"time":1,"channel":"spot.order_book_update","event":"update","result":{"s":'
             '"ETH_USDT","U":2,"u":3,"b":[["-5","1"]],"a":[]}}')  # fmt: skip
    with pytest.raises(MalformedFrame) as caught:
        parser.parse_ws(frame, 1)
    assert caught.value.kind == "bad_price" and parser.resync_needed == {"ETH_USDT"}


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ('{"asks":[["2","1"]],"bids":[["1","1"]]}', "snapshot"),  # no id: with_id missing
        ('{"id":9,"asks":[["2","1"]],"bids":[["1","0"]]}', "bad_size"),
        ('{"id":9,"asks":[["1","1"]],"bids":[["2","1"]]}', "crossed_snapshot"),
        ('{"id":9,"asks":[["3","1"],["2","1"]],"bids":[["1","1"]]}', "unsorted_levels"),
        ('{"id":9,"asks":[["2","nan"]],"bids":[["1","1"]]}', "bad_size"),
    ],
)
def test_refused_snapshots(body: str, kind: str) -> None:
    with pytest.raises(MalformedFrame) as caught:
        GateParser(SymbolMap()).parse_rest(URL, body, 1)
    assert caught.value.kind == kind


def test_snapshot_id_is_the_book_seq_and_other_urls_are_ignored() -> None:
    parser = GateParser(SymbolMap())
    body = '{"id":123,"current":1,"update":2,"asks":[["2.5","1"]],"bids":[["2.4","3"]]}'
    [snap] = parser.parse_rest(URL, body, 5)
    assert isinstance(snap, BookSnapshot)
    assert (snap.symbol, snap.seq, snap.bids, snap.asks) == ("BTC-USDT", 123, [(2.4, 3.0)],
                                                            [(2.5, 1.0)])  # fmt: skip
    assert parser.parse_rest("https://api.gateio.ws/api/v4/spot/currency_pairs", "[]", 1) == []
