"""HTX's parser on the recorded session, gzip frames, the mbp channel rebuilt from recorded
books, and the frames it must refuse."""

from __future__ import annotations

import json

import pytest
from arb_structs import BookDelta, BookSnapshot
from arb_venues.base import Endpoints
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import MalformedFrame
from arb_venues.htx.market import HtxMarket, instruments_from_symbols
from arb_venues.htx.parser import HtxParser

from tests.unit.venues.htx.helpers import (
    OMG_BTC,
    gzipped,
    htx_dir_or_skip,
    mbp_frames,
    recorded_books,
    recorded_ws,
)

pytestmark = [pytest.mark.unit, pytest.mark.fixtures]

FOLDER = htx_dir_or_skip()


def test_every_recorded_full_book_push_is_one_best_first_snapshot() -> None:
    parser = HtxParser(SymbolMap())
    pushes = [f for f in recorded_ws(FOLDER) if ".depth.step0" in f and '"tick"' in f]
    events = [e for f in pushes for e in parser.parse_ws(f, 1)]
    assert len(events) == len(pushes) == 292
    assert all(isinstance(e, BookSnapshot) for e in events)
    assert len({e.symbol for e in events}) == 10
    by_symbol: dict[str, list[int]] = {}
    for event in events:
        by_symbol.setdefault(event.symbol, []).append(event.seq)
        assert event.bids[0][0] < event.asks[0][0]
    assert all(seqs == sorted(set(seqs)) for seqs in by_symbol.values())  # versions rise
    assert parser.resync_needed == set()


def test_a_gzip_frame_parses_to_what_its_decompressed_text_parses_to() -> None:
    push = next(f for f in recorded_ws(FOLDER) if ".depth.step0" in f and '"tick"' in f)
    parser = HtxParser(SymbolMap())
    assert parser.parse_ws(gzipped(push), 5) == parser.parse_ws(push, 5)
    with pytest.raises(MalformedFrame) as refused:
        parser.parse_ws(gzipped(push)[:30], 5)  # a truncated gzip stream
    assert refused.value.kind == "gzip"


def test_mbp_updates_rebuild_every_recorded_book_exactly() -> None:
    """Independent truth: each recorded full book. The refresh plus the updates, applied by
    HTX's rule (prevSeqNum == book seqNum), must give the very next recorded book."""
    refresh, updates = mbp_frames(FOLDER, "omgbtc")
    parser = HtxParser(SymbolMap([OMG_BTC]))
    [snapshot] = parser.parse_ws(refresh, 1)
    assert isinstance(snapshot, BookSnapshot)
    bids, asks, seq = dict(snapshot.bids), dict(snapshot.asks), snapshot.seq
    for raw, book in zip(updates, recorded_books(FOLDER, "omgbtc")[1:], strict=True):
        [delta] = parser.parse_ws(gzipped(raw), 2)
        assert isinstance(delta, BookDelta) and delta.prev_seq == seq
        for side, levels in ((bids, delta.bids), (asks, delta.asks)):
            for price, size in levels:
                if size:
                    side[price] = size
                else:
                    side.pop(price, None)
        seq = delta.seq
        tick = book["tick"]
        assert isinstance(tick, dict)
        assert sorted(bids.items(), reverse=True) == [tuple(lv) for lv in tick["bids"]]
        assert sorted(asks.items()) == [tuple(lv) for lv in tick["asks"]]


def test_the_mbp_subscribe_ack_asks_for_the_refresh_and_the_depth_ack_does_not() -> None:
    parser = HtxParser(SymbolMap([OMG_BTC]))
    ack = '{"id":"1","status":"ok","subbed":"market.omgbtc.mbp.150","ts":1}'
    assert parser.parse_ws(gzipped(ack), 1) == []
    assert parser.resync_needed == {"omgbtc"}
    parser.resync_needed.clear()
    parser.parse_ws(ack.replace("mbp.150", "depth.step0"), 1)
    assert parser.resync_needed == set()


def test_the_servers_ping_is_answered_at_once_with_its_own_number() -> None:
    market = HtxMarket(Endpoints(ws_url="ws://127.0.0.1:1/feed", rest_url="http://127.0.0.1:1"))
    parser = market.make_parser(SymbolMap())
    ping = next(f for f in recorded_ws(FOLDER) if '"ping"' in f)
    assert parser.parse_ws(gzipped(ping), 1) == []  # a ping is no book event
    assert [json.loads(r) for r in parser.replies] == [{"pong": json.loads(ping)["ping"]}]
    assert market.heartbeat_message() is None  # no pong of our own making, ever


@pytest.mark.parametrize(
    ("bids", "asks", "kind"),
    [
        ([["NaN", 1.0]], [[2.0, 1.0]], "bad_price"),
        ([[1.0, -3.0]], [[2.0, 1.0]], "bad_size"),
        ([[1.0, 0.0]], [[2.0, 1.0]], "bad_size"),  # size 0 describes nothing in a full book
        ([[1.0, 1.0], [1.5, 1.0]], [[2.0, 1.0]], "unsorted_levels"),
        ([[3.0, 1.0]], [[2.0, 1.0]], "crossed_snapshot"),
    ],
)
def test_an_impossible_full_book_is_refused_and_its_book_resynced(bids, asks, kind) -> None:
    parser = HtxParser(SymbolMap([OMG_BTC]))
    frame = {"ch": "market.omgbtc.depth.step0", "ts": 1,
             "tick": {"bids": bids, "asks": asks, "version": 9, "ts": 1}}  # fmt: skip
    with pytest.raises(MalformedFrame) as refused:
        parser.parse_ws(json.dumps(frame), 1)
    assert refused.value.kind == kind
    assert parser.resync_needed == {"omgbtc"}


def test_rest_depth_is_a_snapshot_at_its_version() -> None:
    body = json.dumps({"ch": "market.omgbtc.depth.step0", "status": "ok", "ts": 3,
                       "tick": {"bids": [[1.5, 2.0]], "asks": [[1.6, 1.0]], "version": 77,
                                "ts": 2}})  # fmt: skip
    parser = HtxParser(SymbolMap([OMG_BTC]))
    url = "https://api.huobi.pro/market/depth?symbol=omgbtc&type=step0"
    [snapshot] = parser.parse_rest(url, body, 4)
    assert isinstance(snapshot, BookSnapshot)
    assert (snapshot.symbol, snapshot.seq, snapshot.bids, snapshot.asks) == (
        "OMG-BTC",
        77,
        [(1.5, 2.0)],
        [(1.6, 1.0)],
    )
    assert parser.parse_rest("https://api.huobi.pro/v1/common/symbols", body, 4) == []


def test_instruments_take_the_grids_from_the_precisions() -> None:
    body = json.dumps({"status": "ok", "data": [{
        "base-currency": "btc", "quote-currency": "usdt", "price-precision": 2,
        "amount-precision": 6, "symbol-partition": "main", "symbol": "btcusdt",
        "state": "online", "value-precision": 8, "min-order-amt": 0.0001,
        "limit-order-min-order-amt": 0.0001, "min-order-value": 5, "api-trading": "enabled",
    }]})  # fmt: skip
    [btc] = instruments_from_symbols(body)
    assert (btc.symbol, btc.venue_symbol, btc.tick_size, btc.lot_size) == (
        "BTC-USDT",
        "btcusdt",
        "0.01",
        "0.000001",
    )
    assert (btc.min_size, btc.min_notional, btc.status) == ("0.0001", "5", "trading")
