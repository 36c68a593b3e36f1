"""The MEXC parser on the docs' example push (protobuf bytes written by hand from the .proto
field numbers), the docs' replies, REST bodies and the version rule."""

from __future__ import annotations

import msgspec
import pytest
from arb_orderbook import BookSet
from arb_structs import BookDelta, BookSnapshot
from arb_venues.base import Endpoints
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import MalformedFrame
from arb_venues.mexc import schemas
from arb_venues.mexc.market import MexcMarket, instruments_from_exchange_info
from arb_venues.mexc.parser import MexcParser, proto3_json

from tests.unit.venues.mexc.helpers import (
    BTC_USDT,
    DOCS_CHANNEL,
    DOCS_SEND_TIME,
    DOCS_VERSION,
    docs_push,
    wire_push,
)

pytestmark = pytest.mark.unit

DEPTH_URL = "https://api.mexc.com/api/v3/depth?symbol=BTCUSDT&limit=1000"


def _parser() -> MexcParser:
    return MexcParser(SymbolMap([BTC_USDT]))


def test_docs_example_push_decodes_to_its_delta() -> None:
    [delta] = _parser().parse_ws(docs_push(), 7)
    assert isinstance(delta, BookDelta)
    assert (delta.venue, delta.symbol) == ("mexc", "BTC-USDT")
    assert (delta.prev_seq, delta.seq) == (DOCS_VERSION - 1, DOCS_VERSION)
    assert delta.bids == [(92877.58, 0.0)] and delta.asks == []
    assert delta.ts_event == DOCS_SEND_TIME * 1_000_000 and delta.ts_recv == 7


def test_hand_written_bytes_and_the_protobuf_package_agree() -> None:
    """The declarations in schemas.py give MEXC's field numbers: the package decodes bytes
    written by hand from the .proto files, and serialises the same message to the same bytes."""
    wire = docs_push()
    push = schemas.PushDataV3ApiWrapper.FromString(wire)
    assert push.WhichOneof("body") == "publicAggreDepths"
    body = push.publicAggreDepths
    assert (push.channel, push.symbol, push.sendTime) == (DOCS_CHANNEL, "BTCUSDT", DOCS_SEND_TIME)
    assert (body.fromVersion, body.toVersion) == (str(DOCS_VERSION), str(DOCS_VERSION))
    assert [(i.price, i.quantity) for i in body.bids] == [("92877.58", "0.00000000")]
    assert push.SerializeToString() == wire
    # The hot path's dict is the generic proto3 mapping's, key for key.
    assert schemas.push_dict(push) == schemas.proto3_dict(push)
    assert list(schemas.push_dict(push)) == ["channel", "symbol", "sendTime", "publicAggreDepths"]


def test_decode_frame_keeps_the_proto3_json_text_for_recordings() -> None:
    market = MexcMarket(Endpoints("ws://127.0.0.1:1/ws", "http://127.0.0.1:1"))
    text = market.decode_frame(docs_push())
    assert isinstance(text, bytes) and text.startswith(b"{")
    decoded = msgspec.json.decode(text)
    assert decoded["publicAggreDepths"]["fromVersion"] == str(DOCS_VERSION)
    assert decoded["sendTime"] == DOCS_SEND_TIME
    # The recorded text reads exactly as the binary push did.
    assert _parser().parse_ws(text, 1) == _parser().parse_ws(docs_push(), 1)
    assert proto3_json('{"id":0,"code":0,"msg":"PONG"}') == '{"id":0,"code":0,"msg":"PONG"}'


def test_other_bodies_of_the_wrapper_yield_no_events() -> None:
    """A deals push (body 314, not declared here) decodes with its body as unknown fields."""
    deal = b"\x0a\x05price\x12\x01\x31"
    channel = b"spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"
    raw = bytes([0x0A, len(channel)]) + channel + b"\xd2\x13" + bytes([len(deal) + 2]) + \
        b"\x0a" + bytes([len(deal)]) + deal  # fmt: skip
    assert _parser().parse_ws(raw, 1) == []


def test_rest_snapshot_carries_last_update_id() -> None:
    body = '{"lastUpdateId":1112416,"bids":[["14.0000","49999.0"]],"asks":[["15.00000","1.0"]]}'
    [snap] = _parser().parse_rest(DEPTH_URL, body, 3)
    assert isinstance(snap, BookSnapshot) and snap.seq == 1112416
    assert snap.bids == [(14.0, 49999.0)] and snap.asks == [(15.0, 1.0)]
    assert _parser().parse_rest("https://api.mexc.com/api/v3/time", "{}", 1) == []


def test_docs_order_book_example_is_refused_as_crossed() -> None:
    """The docs' "Order Book" example has its bid (15) above its ask (14): impossible."""
    body = (
        '{"lastUpdateId":1112416,"bids":[["15.00000","49999.00000"]],"asks":[["14.0000","1.0000"]]}'
    )
    with pytest.raises(MalformedFrame) as info:
        _parser().parse_rest(DEPTH_URL, body, 1)
    assert info.value.kind == "crossed_snapshot"


def test_bad_level_in_a_push_flags_its_book() -> None:
    parser = _parser()
    raw = wire_push(DOCS_CHANNEL, "BTCUSDT", 5, 6, bids=[("NaN", "1")])
    with pytest.raises(MalformedFrame) as info:
        parser.parse_ws(raw, 1)
    assert info.value.kind == "bad_price" and parser.resync_needed == {"BTCUSDT"}


def _book_after(frames: list[bytes], last_update_id: int) -> tuple[object, int]:
    parser, books = _parser(), BookSet()
    snapshot = (f'{{"lastUpdateId":{last_update_id},"bids":[["100.0","1"]],'
                '"asks":[["101.0","1"]]}')  # fmt: skip
    results = [books.apply(e) for e in parser.parse_rest(DEPTH_URL, snapshot, 1)]
    for frame in frames:
        for event in parser.parse_ws(frame, 2):
            results.append(books.apply(event))
    book = books.get("mexc", "BTC-USDT")
    assert book is not None
    return book, len(results)


def test_version_rule_drops_stale_straddles_then_chains() -> None:
    frames = [
        wire_push(DOCS_CHANNEL, "BTCUSDT", 8, 9, bids=[("99.0", "5")]),  # stale: toVersion <= 10
        wire_push(DOCS_CHANNEL, "BTCUSDT", 10, 12, bids=[("100.5", "2")]),  # straddles 10
        wire_push(DOCS_CHANNEL, "BTCUSDT", 13, 13, asks=[("101.0", "0")]),  # fromVersion = 12 + 1
    ]
    book, _ = _book_after(frames, 10)
    assert book.seq == 13  # type: ignore[attr-defined]
    assert book.state.name == "LIVE"  # type: ignore[attr-defined]


def test_a_version_gap_is_not_applied() -> None:
    frames = [
        wire_push(DOCS_CHANNEL, "BTCUSDT", 11, 12, bids=[("100.5", "2")]),
        wire_push(DOCS_CHANNEL, "BTCUSDT", 14, 15, bids=[("100.6", "2")]),  # 13 is missing
    ]
    book, _ = _book_after(frames, 10)
    assert book.seq == 12  # type: ignore[attr-defined]
    assert book.state.name != "LIVE"  # type: ignore[attr-defined]


def test_instruments_from_exchange_info() -> None:
    body = msgspec.json.encode({"timezone": "CST", "serverTime": 1, "symbols": [
        {"symbol": "BTCUSDT", "status": "1", "baseAsset": "BTC", "baseAssetPrecision": 6,
         "quoteAsset": "USDT", "quotePrecision": 2, "quoteAssetPrecision": 2,
         "baseSizePrecision": "0.000001", "quoteAmountPrecision": "1.000000",
         "isSpotTradingAllowed": True},
        {"symbol": "TOMO3LUSDT", "status": "ENABLED", "baseAsset": "TOMO3L",
         "baseAssetPrecision": 2, "quoteAsset": "USDT", "quotePrecision": 3,
         "quoteAssetPrecision": 3, "baseSizePrecision": "0.0001", "quoteAmountPrecision": "5",
         "isSpotTradingAllowed": False},
    ]})  # fmt: skip
    [btc] = instruments_from_exchange_info(body)
    assert (btc.symbol, btc.venue_symbol, btc.tick_size, btc.lot_size) == (
        "BTC-USDT", "BTCUSDT", "0.01", "0.000001")  # fmt: skip
    assert (btc.min_size, btc.min_notional, btc.status) == ("0.000001", "1", "trading")
