"""CryptocomParser on the docs' example messages: the u/pu chain, heartbeats, get-book, and
the instruments answer (https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html)."""

from __future__ import annotations

import pytest
from arb_structs import BookDelta, BookSnapshot, Instrument
from arb_venues.common.symbols import SymbolMap
from arb_venues.cryptocom.market import CryptocomMarket, parse_instruments
from arb_venues.cryptocom.parser import CryptocomParser
from arb_venues.errors import InvalidSignature, MalformedFrame

from tests.unit.venues.cryptocom.instruments import (
    BTC,
    DOC_EMPTY_UPDATE,
    DOC_GET_BOOK,
    DOC_HEARTBEAT,
    DOC_SNAPSHOT,
    DOC_UPDATE,
    DOC_UPDATE_2,
)

pytestmark = pytest.mark.unit

PERP = Instrument(venue="cryptocom", symbol="BTC-USD", venue_symbol="BTCUSD-PERP", base="BTC",
                  quote="USD", tick_size="0.5", lot_size="0.0001", min_size="0.0001",
                  min_notional="0", price_decimals=1, size_decimals=4)  # fmt: skip


def parser() -> CryptocomParser:
    return CryptocomParser(SymbolMap([BTC, PERP]))


def test_docs_snapshot_then_updates_normalise_to_the_pu_u_chain() -> None:
    p = parser()
    (snapshot,) = p.parse_ws(DOC_SNAPSHOT, 7)
    assert isinstance(snapshot, BookSnapshot)
    assert (snapshot.symbol, snapshot.seq, snapshot.depth) == ("BTC-USDT", 78795598162080, 50)
    assert snapshot.bids == [(43737.46, 0.14096), (43737.45, 1.0)]
    assert snapshot.asks == [(43755.46, 0.1), (43755.47, 0.4)]
    assert snapshot.ts_event == 1704484068885 * 1_000_000 and snapshot.ts_recv == 7
    (update,) = p.parse_ws(DOC_UPDATE, 8)
    assert isinstance(update, BookDelta)
    assert (update.prev_seq, update.seq) == (78795598162080, 78795598253024)
    assert update.asks == [(43755.46, 0.1)] and update.bids == [(43737.46, 0.14096)]
    (second,) = p.parse_ws(DOC_UPDATE_2, 9)
    assert isinstance(second, BookDelta) and second.asks == [(43755.46, 0.0)]  # quantity 0 deletes
    (empty,) = p.parse_ws(DOC_EMPTY_UPDATE, 10)
    assert isinstance(empty, BookDelta) and empty.bids == [] and empty.asks == []
    assert empty.prev_seq == second.seq
    assert p.resync_needed == set()


def test_update_whose_pu_is_not_the_last_u_asks_for_a_resubscribe() -> None:
    p = parser()
    p.parse_ws(DOC_SNAPSHOT, 1)
    (skipped,) = p.parse_ws(DOC_UPDATE_2, 2)  # DOC_UPDATE was lost
    assert isinstance(skipped, BookDelta) and skipped.prev_seq > 78795598162080  # the book's gap
    assert p.resync_needed == {"BTC_USDT"}


def test_a_fresh_snapshot_restarts_the_chain() -> None:
    p = parser()
    p.parse_ws(DOC_SNAPSHOT, 1)
    p.parse_ws(DOC_UPDATE_2, 2)
    p.resync_needed.clear()
    p.parse_ws(DOC_SNAPSHOT.replace("78795598162080", "78795598253024"), 3)
    p.parse_ws(DOC_EMPTY_UPDATE.replace("78795598303024", "78795598253024"), 4)
    assert p.resync_needed == set()


def test_each_heartbeat_is_answered_with_its_own_id() -> None:
    p = parser()
    assert p.parse_ws(DOC_HEARTBEAT, 1) == []
    assert p.parse_ws(DOC_HEARTBEAT.replace("1587523073344", "42"), 2) == []
    assert p.replies == [
        '{"id":1587523073344,"method":"public/respond-heartbeat"}',
        '{"id":42,"method":"public/respond-heartbeat"}',
    ]


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        ('{"id":3,"method":"subscribe","code":40003,"message":"INVALID_REQUEST"}',
         "subscribe_rejected"),
        ('{"id":-1,"method":"ERROR","code":40003,"message":"INVALID_REQUEST"}', "error_reply"),
        (DOC_SNAPSHOT.replace('"0.14096"', '"-1"'), "bad_size"),
        (DOC_SNAPSHOT.replace('["43737.45","1.00000","3"]', '["43737.47","1.00000","3"]'),
         "unsorted_levels"),
        (DOC_SNAPSHOT.replace('"0.10000"', '"0"'), "bad_size"),  # size 0 in a snapshot
        (DOC_UPDATE.replace('"43755.46"', '"inf"'), "bad_price"),
    ],
)  # fmt: skip
def test_refused_frames_say_what_broke(frame: str, kind: str) -> None:
    p = parser()
    with pytest.raises(MalformedFrame) as error:
        p.parse_ws(frame, 1)
    assert error.value.kind == kind


def test_a_refused_book_level_flags_its_book_for_resync() -> None:
    p = parser()
    with pytest.raises(MalformedFrame):
        p.parse_ws(DOC_UPDATE.replace('"43755.46"', '"NaN"'), 1)
    assert p.resync_needed == {"BTC_USDT"}


def test_docs_get_book_answer_is_a_snapshot_without_sequence() -> None:
    url = "https://api.crypto.com/exchange/v1/public/get-book?instrument_name=BTCUSD-PERP&depth=10"
    (snapshot,) = parser().parse_rest(url, DOC_GET_BOOK, 5)
    assert isinstance(snapshot, BookSnapshot) and snapshot.symbol == "BTC-USD"
    assert snapshot.bids[0] == (50113.5, 0.4) and snapshot.asks[-1] == (50130.0, 1.279)
    assert snapshot.seq == 0
    assert parser().parse_rest("https://x/exchange/v1/public/get-tickers", DOC_GET_BOOK, 5) == []


def test_normalise_reads_spot_pairs_only() -> None:
    assert CryptocomParser.normalise("BTC_USDT") == "BTC-USDT"
    assert CryptocomParser.normalise("BTCUSD-PERP") is None
    assert CryptocomParser.normalise("BTCUSD") is None


def test_instruments_keep_tradable_spot_pairs() -> None:
    body = (
        '{"id":1,"method":"public/get-instruments","code":0,"result":{"data":['
        '{"symbol":"BTCUSD-PERP","inst_type":"PERPETUAL_SWAP","display_name":"BTCUSD Perpetual",'
        '"base_ccy":"BTC","quote_ccy":"USD","quote_decimals":2,"quantity_decimals":4,'
        '"price_tick_size":"0.5","qty_tick_size":"0.0001","max_leverage":"50","tradable":true,'
        '"expiry_timestamp_ms":0,"underlying_symbol":"BTCUSD-INDEX"},'
        '{"symbol":"BTC_USDT","inst_type":"CCY_PAIR","display_name":"BTC/USDT","base_ccy":"BTC",'
        '"quote_ccy":"USDT","quote_decimals":2,"quantity_decimals":5,"price_tick_size":"0.01",'
        '"qty_tick_size":"0.00001","max_leverage":"50","tradable":true},'
        '{"symbol":"OLD_USDT","inst_type":"CCY_PAIR","base_ccy":"OLD","quote_ccy":"USDT",'
        '"price_tick_size":"0.1","qty_tick_size":"1","tradable":false}]}}'
    )
    (btc,) = parse_instruments(body)
    assert (btc.symbol, btc.venue_symbol, btc.tick_size, btc.lot_size) == (
        "BTC-USDT", "BTC_USDT", "0.01", "0.00001")  # fmt: skip
    assert (btc.price_decimals, btc.size_decimals) == (2, 5)
    refused = '{"id":1,"method":"public/get-instruments","code":40101,"message":"UNAUTHORIZED"}'
    with pytest.raises(InvalidSignature):
        parse_instruments(refused)


def test_subscribe_message_is_the_documented_delta_subscription() -> None:
    import msgspec
    from arb_venues.base import Endpoints

    market = CryptocomMarket(Endpoints("wss://stream.crypto.com", "https://api.crypto.com"))
    assert market.ws_url([BTC]) == "wss://stream.crypto.com/exchange/v1/market"
    (message,) = market.subscribe_messages([BTC])
    sent = msgspec.json.decode(message)
    assert sent["method"] == "subscribe" and isinstance(sent["id"], int) and sent["nonce"] > 0
    assert sent["params"] == {"channels": ["book.BTC_USDT.50"],
                              "book_subscription_type": "SNAPSHOT_AND_UPDATE",
                              "book_update_frequency": 10}  # fmt: skip
    unsubscribe, subscribe = (msgspec.json.decode(m) for m in market.resubscribe_messages(BTC))
    assert unsubscribe["method"] == "unsubscribe" and subscribe["method"] == "subscribe"
    assert unsubscribe["params"]["channels"] == ["book.BTC_USDT.50"]
    assert market.connect_delay_s == 1.0
    with pytest.raises(ValueError, match="10, 50"):
        CryptocomMarket(Endpoints("ws://x", "http://x"), depth=20)
