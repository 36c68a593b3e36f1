"""What each adapter asks for an audit, and that reading an audit snapshot leaves the live
parser's state alone (it is never a resync snapshot)."""

from __future__ import annotations

import json

import pytest
from arb_structs import Instrument
from arb_venues import market_protocol
from arb_venues.base import Endpoints
from arb_venues.common.symbols import SymbolMap
from arb_venues.kraken.parser import KrakenParser
from arb_venues.okx.parser import OkxParser

pytestmark = pytest.mark.unit

ENDPOINTS = Endpoints(ws_url="ws://127.0.0.1:1", rest_url="http://127.0.0.1:1")


def _instrument(venue: str, venue_symbol: str) -> Instrument:
    return Instrument(venue=venue, symbol="BTC-USDT", venue_symbol=venue_symbol, base="BTC",
                      quote="USDT", tick_size="0.1", lot_size="0.001")  # fmt: skip


@pytest.mark.parametrize(
    ("venue", "venue_symbol", "mode", "path", "query"),
    [
        ("binance", "BTCUSDT", "sequence", "/api/v3/depth", "symbol=BTCUSDT&limit=40"),
        ("okx", "BTC-USDT", "sequence", "/api/v5/market/books", "instId=BTC-USDT&sz=40"),
        ("bybit", "BTCUSDT", "content", "/v5/market/orderbook",
         "category=spot&symbol=BTCUSDT&limit=40"),
        ("kraken", "BTC/USDT", "content", "/0/public/Depth", "pair=XBTUSDT&count=40"),
        ("coinbase", "BTC-USDT", "content", "/api/v3/brokerage/market/product_book",
         "product_id=BTC-USDT&limit=40"),
    ],
)  # fmt: skip
def test_each_venue_audits_through_its_rest_depth_call(
    venue: str, venue_symbol: str, mode: str, path: str, query: str
) -> None:
    protocol = market_protocol(venue, ENDPOINTS)
    assert protocol.audit_mode() == mode
    got_path, got_query, _, weight = protocol.audit_request(_instrument(venue, venue_symbol), 10)
    assert (got_path, got_query) == (path, query) and weight >= 1


def test_bybit_audits_by_sequence_only_on_the_1000_level_stream() -> None:
    assert market_protocol("bybit", ENDPOINTS, depth=1000).audit_mode() == "sequence"
    assert market_protocol("bybit", ENDPOINTS, depth=50).audit_mode() == "content"


def _okx_rest(seq: int, bid: str) -> str:
    return json.dumps({"code": "0", "msg": "", "data": [{
        "asks": [["101", "1", "0", "1"]], "bids": [[bid, "2", "0", "1"]], "ts": "1",
        "seqId": seq}]})  # fmt: skip


def test_an_okx_audit_snapshot_does_not_touch_the_seq_chain() -> None:
    parser = OkxParser(SymbolMap(fallback=OkxParser.normalise))
    url = "http://x/api/v5/market/books?instId=BTC-USDT&sz=40"
    [snapshot] = parser.parse_rest(url, _okx_rest(100, "100"), 1)
    [audit] = parser.parse_audit(url, _okx_rest(120, "99"), 2)
    assert (audit.seq, audit.bids) == (120, [(99.0, 2.0)])
    # The live chain still stands at 100: the same REST answer again is a duplicate.
    assert parser.parse_rest(url, _okx_rest(100, "100"), 3) == []
    assert parser.duplicate_snapshots == 1 and snapshot.seq == 100


def test_a_kraken_audit_snapshot_does_not_advance_the_book_counter() -> None:
    parser = KrakenParser(SymbolMap(fallback=KrakenParser.normalise))
    body = json.dumps({"error": [], "result": {"XXBTZUSD": {
        "asks": [["101.0", "1.0", 1]], "bids": [["100.0", "2.0", 1]]}}})  # fmt: skip
    url = "http://x/0/public/Depth?pair=XBTUSD&count=40"
    [first] = parser.parse_rest(url, body, 1)
    [audit] = parser.parse_audit(url, body, 2)
    [second] = parser.parse_rest(url, body, 3)
    assert second.seq == first.seq + 1 and audit.bids == [(100.0, 2.0)]
