"""OKX after checksums (changelog "Delist initial snapshot and checksum field in order book
channels", https://my.okx.com/docs-v5/log_en): a REST snapshot, then the buffered WS updates
joined by prevSeqId <= snapshot.seqId < seqId; checksum 0 or absent is no checksum, and the
book is proven by continuity alone. Through the real OkxParser and the book engine."""

from __future__ import annotations

import json

import pytest
from arb_orderbook import OrderBook
from arb_orderbook.result import ChecksumCheck, Outcome
from arb_structs import BookDelta, BookSnapshot, BookState
from arb_venues.common.symbols import SymbolMap
from arb_venues.okx.parser import OkxParser

pytestmark = pytest.mark.unit

URL = "https://www.okx.com/api/v5/market/books?instId=BTC-USDT&sz=400"


def update(prev: int, seq: int, bid: str, checksum: object = 0) -> str:
    entry: dict[str, object] = {"asks": [["101", "1", "0", "1"]], "bids": [[bid, "2", "0", "1"]],
                                "ts": "1", "prevSeqId": prev, "seqId": seq}  # fmt: skip
    if checksum != "absent":
        entry["checksum"] = checksum
    return json.dumps({"arg": {"channel": "books", "instId": "BTC-USDT"}, "action": "update",
                       "data": [entry]})  # fmt: skip


def rest(seq: int) -> str:
    return json.dumps({"code": "0", "msg": "", "data": [{
        "asks": [["101", "1", "0", "1"]], "bids": [["99", "3", "0", "1"]], "ts": "1",
        "seqId": seq}]})  # fmt: skip


@pytest.mark.parametrize("checksum", [0, "absent"])
@pytest.mark.parametrize("snapshot_seq", [100, 102])
def test_buffered_updates_join_the_rest_snapshot_by_seq_ids(
    checksum: object, snapshot_seq: int
) -> None:
    parser = OkxParser(SymbolMap(fallback=OkxParser.normalise))
    book = OrderBook("okx", "BTC-USDT")
    for prev, seq, bid in ((90, 95, "98"), (95, 100, "98.5"), (100, 105, "99.5")):
        [delta] = parser.parse_ws(update(prev, seq, bid, checksum), 1)
        assert isinstance(delta, BookDelta) and delta.checksum is None  # 0/absent: none
        assert book.apply(delta).outcome is Outcome.BUFFERED
    [snapshot] = parser.parse_rest(URL, rest(snapshot_seq), 2)
    assert isinstance(snapshot, BookSnapshot)
    result = book.apply(snapshot)
    # Those at or below the snapshot dropped; (100, 105) joins: 100 <= seqId < 105.
    assert result.replay_dropped == 2 and result.replayed == 1
    assert (
        book.state is BookState.LIVE
        and book.seq == 105
        and result.checksum in (ChecksumCheck.NOT_CHECKED,)
    )
    assert book.best_bid() == (99.5, 2.0)


def test_a_rest_snapshot_older_than_the_first_buffered_update_is_a_gap_and_resyncs() -> None:
    parser = OkxParser(SymbolMap(fallback=OkxParser.normalise))
    book = OrderBook("okx", "BTC-USDT")
    [delta] = parser.parse_ws(update(100, 105, "99.5"), 1)
    book.apply(delta)
    [snapshot] = parser.parse_rest(URL, rest(97), 2)  # 97 < prevSeqId 100: too old
    result = book.apply(snapshot)
    assert result.gap and result.resync and book.state is BookState.SUSPECT
