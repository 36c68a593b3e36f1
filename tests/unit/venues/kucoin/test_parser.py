"""The KuCoin parser and market on the recorded 2021 session and the docs' messages.

shared/fixtures/README.md: 3,853 ``trade.l2update`` and 9 REST snapshots with ``sequence``;
3,805 increments apply, 0 gaps. Both KuCoin's own calibration rule (written from the docs,
on the raw fields) and the book engine's rule (on the parser's events) must find exactly that.
"""

from __future__ import annotations

import json

import msgspec
import pytest
from arb_structs import BookDelta, BookSnapshot
from arb_venues.base import Endpoints
from arb_venues.errors import MalformedFrame
from arb_venues.kucoin.market import KucoinMarket, instruments_from_symbols
from arb_venues.kucoin.parser import KucoinParser

from tests.unit.venues.kucoin.helpers import (
    BTC_USDT,
    EngineBooks,
    ReferenceBooks,
    kucoin_dir_or_skip,
    session,
)

pytestmark = [pytest.mark.unit, pytest.mark.fixtures]

FOLDER = kucoin_dir_or_skip()
FRAMES = session(FOLDER)


def test_recording_holds_3853_updates_and_9_snapshots_that_kucoins_rule_applies_3805() -> None:
    books = ReferenceBooks()
    updates = 0
    for frame in FRAMES:
        if frame.kind == "rest":
            books.snapshot(
                frame.url.split("symbol=")[1], int(json.loads(frame.raw)["data"]["sequence"])
            )
        elif frame.kind == "ws" and "trade.l2update" in frame.raw:
            data = json.loads(frame.raw)["data"]
            books.update(data["symbol"], data["sequenceStart"], data["sequenceEnd"])
            updates += 1
    assert updates == 3853
    assert books.counts["snapshots"] == 9
    assert books.counts["applied"] == 3805 and books.counts["gaps"] == 0


def test_parser_events_apply_3805_increments_with_no_gap_and_never_cross() -> None:
    parser = KucoinParser()
    books = EngineBooks()
    deltas = snapshots = 0
    for frame in FRAMES:
        events = (parser.parse_rest(frame.url, frame.raw, 1) if frame.kind == "rest"
                  else parser.parse_ws(frame.raw, 1))  # fmt: skip
        for event in events:
            deltas += isinstance(event, BookDelta)
            snapshots += isinstance(event, BookSnapshot)
            books.on(event)
    assert (snapshots, deltas) == (9, 3853)
    assert books.counts["applied"] == 3805
    assert books.counts["gaps"] == 0 and books.counts["crossed"] == 0
    assert parser.resync_needed == set() and parser.welcomes == 1


def test_price_zero_changes_are_dropped_but_still_advance_the_sequence() -> None:
    raw = next(f.raw for f in FRAMES if '["0","0",' in f.raw and "trade.l2update" in f.raw)
    data = json.loads(raw)["data"]
    [delta] = KucoinParser().parse_ws(raw, 7)
    assert isinstance(delta, BookDelta)
    assert (delta.prev_seq, delta.seq) == (data["sequenceStart"] - 1, data["sequenceEnd"])
    sides = data["changes"]["bids"] + data["changes"]["asks"]
    real = [c for c in sides if c[0] != "0"]
    assert len(delta.bids) + len(delta.asks) == len(real) < len(sides)
    assert all(price > 0 for price, _ in delta.bids + delta.asks)


def test_docs_increment_example_maps_to_start_minus_one_and_end() -> None:
    # The docs' example (https://www.kucoin.com/docs-new/3470068w0).
    raw = json.dumps({
        "topic": "/market/level2:BTC-USDT", "type": "message", "subject": "trade.l2update",
        "data": {"changes": {"asks": [["67993.3", "1.21427407", "14701689783"]], "bids": []},
                 "sequenceEnd": 14701689783, "sequenceStart": 14701689783,
                 "symbol": "BTC-USDT", "time": 1729816425625},
    })  # fmt: skip
    [delta] = KucoinParser().parse_ws(raw, 5)
    assert isinstance(delta, BookDelta)
    assert (delta.symbol, delta.prev_seq, delta.seq) == ("BTC-USDT", 14701689782, 14701689783)
    assert delta.asks == [(67993.3, 1.21427407)] and delta.bids == []
    assert delta.ts_event == 1729816425625 * 1_000_000 and delta.ts_recv == 5


def test_error_frame_and_a_crossed_snapshot_are_malformed() -> None:
    parser = KucoinParser()
    with pytest.raises(MalformedFrame, match="token is invalid"):
        parser.parse_ws('{"id":"x","type":"error","code":401,"data":"token is invalid"}', 1)
    body = (
        '{"code":"200000","data":{"sequence":"5","time":1,"bids":[["10","1"]],"asks":[["9","1"]]}}'
    )
    with pytest.raises(MalformedFrame) as caught:
        parser.parse_rest("http://x/api/v1/market/orderbook/level2_100?symbol=BTC-USDT", body, 1)
    assert caught.value.kind == "crossed_snapshot"
    refused = '{"code":"400100","msg":"Parameter Error"}'
    with pytest.raises(MalformedFrame, match="400100"):
        parser.parse_rest("http://x/api/v1/market/orderbook/level2_20?symbol=BTC-USDT", refused, 1)
    assert parser.parse_rest("http://x/api/v2/symbols", "{}", 1) == []


def test_a_bad_level_in_an_update_flags_its_book_for_a_resync() -> None:
    parser = KucoinParser()
    raw = ('{"type":"message","topic":"/market/level2:BTC-USDT","subject":"trade.l2update",'
           '"data":{"symbol":"BTC-USDT","sequenceStart":5,"sequenceEnd":5,"changes":'
           '{"asks":[["0","0","5"]],"bids":[["Infinity","1","5"]]}}}')  # fmt: skip
    with pytest.raises(MalformedFrame) as caught:
        parser.parse_ws(raw, 1)
    assert caught.value.kind == "bad_price"  # the price-0 change is no error; Infinity is
    assert parser.resync_needed == {"BTC-USDT"}


def test_subscribe_messages_carry_up_to_100_symbols_a_topic() -> None:
    market = KucoinMarket(Endpoints(ws_url="wss://ws-api-spot.kucoin.com/", rest_url=""))
    many = [msgspec.structs.replace(BTC_USDT, symbol=f"C{i}-USDT", venue_symbol=f"C{i}-USDT")
            for i in range(250)]  # fmt: skip
    messages = [json.loads(m) for m in market.subscribe_messages(many)]
    assert [len(m["topic"].split(":")[1].split(",")) for m in messages] == [100, 100, 50]
    assert all(m["type"] == "subscribe" and m["response"] is True for m in messages)
    assert messages[0]["topic"].startswith("/market/level2:C0-USDT,C1-USDT")
    assert len({m["id"] for m in messages}) == 3


def test_token_answer_gives_the_connect_url_and_the_ping_interval() -> None:
    # The docs' answer shape (Apply Connect Token, public).
    body = json.dumps({"code": "200000", "data": {"token": "tok=en", "instanceServers": [{
        "endpoint": "wss://ws-api-spot.kucoin.com/", "encrypt": True, "protocol": "websocket",
        "pingInterval": 18000, "pingTimeout": 10000}]}})  # fmt: skip
    market = KucoinMarket(Endpoints(ws_url="wss://ws-api-spot.kucoin.com/", rest_url=""))
    url = market.use_bullet(body)
    assert url.startswith("wss://ws-api-spot.kucoin.com/?token=tok%3Den&connectId=")
    assert market.ws_url([]) == url
    assert market.heartbeat_interval() == 18.0 and market.ping_timeout_s == 10.0
    assert market.heartbeat_interval() + market.ping_timeout_s <= market.idle_timeout_s
    ping = json.loads(market.heartbeat_message() or "")
    assert ping["type"] == "ping" and ping["id"]
    other = market.use_bullet(body.replace("18000", "5000"))
    assert other != url and market.heartbeat_interval() == 5.0  # a fresh connectId each time


def test_symbols_answer_gives_the_grids() -> None:
    body = json.dumps({"code": "200000", "data": [{
        "symbol": "BTC-USDT", "name": "BTC-USDT", "baseCurrency": "BTC", "quoteCurrency": "USDT",
        "feeCurrency": "USDT", "market": "USDS", "baseMinSize": "0.00001",
        "quoteMinSize": "0.1", "baseMaxSize": "10000000000", "quoteMaxSize": "99999999",
        "baseIncrement": "0.00000001", "quoteIncrement": "0.000001", "priceIncrement": "0.1",
        "priceLimitRate": "0.1", "minFunds": "0.1", "isMarginEnabled": True,
        "enableTrading": True}]})  # fmt: skip
    [instrument] = instruments_from_symbols(body)
    assert (instrument.symbol, instrument.tick_size, instrument.lot_size) == (
        "BTC-USDT", "0.1", "0.00000001")  # fmt: skip
    assert (instrument.price_decimals, instrument.size_decimals) == (1, 8)
    assert (instrument.min_size, instrument.min_notional) == ("0.00001", "0.1")
