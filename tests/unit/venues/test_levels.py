"""The level rules every parser applies (arb_venues.common.levels), decided case by case.

Numbers are read on purpose: the table below says, for each text, whether it is a number
and which. Then every venue, in both its delta and its snapshot, refuses an impossible level
with the rule's kind and flags the book for a resync, and refuses snapshots that are out of
order, crossed or hold a size 0.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from arb_venues.binance.parser import BinanceParser
from arb_venues.bybit.parser import BybitParser
from arb_venues.coinbase.parser import CoinbaseParser
from arb_venues.common.levels import LEVEL_KINDS, LevelError, read_number, read_price, read_size
from arb_venues.common.symbols import SymbolMap, market_of, market_symbol
from arb_venues.errors import MalformedFrame
from arb_venues.kraken.parser import KrakenParser
from arb_venues.kraken.parser_v1 import KrakenV1Parser
from arb_venues.okx.parser import OkxParser

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1.0), ("0.35130000", 0.3513), ("-2.5", -2.5), ("1e5", 1e5), ("1E-8", 1e-8),
        ("1.5e+3", 1500.0), ("0", 0.0), ("-0", 0.0), ("1e-400", 0.0), (b"42.1", 42.1),
        (7, 7.0), (0.5, 0.5),
        ("NaN", None), ("nan", None), ("Infinity", None), ("-Infinity", None), ("inf", None),
        ("1e400", None), ("", None), (" 1", None), ("1 ", None), ("+1", None), (".5", None),
        ("5.", None), ("0x10", None), ("1_000", None), ("1,5", None), ("00012", None),
        ("\u0661", None), (True, None), (None, None), ([], None), (math.nan, None),
        (math.inf, None),
    ],
)  # fmt: skip
def test_numbers_are_the_json_grammar_and_finite(text: object, value: float | None) -> None:
    assert read_number(text) == value


def test_prices_must_be_positive_and_sizes_zero_only_outside_snapshots() -> None:
    assert read_price("0.0001") == 0.0001
    assert read_size("0", snapshot=False) == 0.0
    for bad in ("0", "-1", "-0", "1e15", "NaN"):
        with pytest.raises(LevelError) as caught:
            read_price(bad)
        assert caught.value.kind == "bad_price"
    for bad, snapshot in (("-0.000001", False), ("1e18", False), ("0", True), ("inf", False)):
        with pytest.raises(LevelError) as caught:
            read_size(bad, snapshot=snapshot)
        assert caught.value.kind == "bad_size"


def test_market_symbols_keep_spot_plain_and_suffix_the_rest() -> None:
    assert market_symbol("BTC-USDT", "spot") == "BTC-USDT"
    assert market_symbol("BTC-USDT", "linear") == "BTC-USDT:linear"
    assert market_of("BTC-USDT:linear") == "linear" and market_of("BTC-USDT") == "spot"
    symbols = SymbolMap(fallback=BybitParser.normalise)
    assert symbols.to_symbol("BTCUSDT") == "BTC-USDT"
    assert symbols.to_symbol("BTCUSDT", "linear") == "BTC-USDT:linear"
    assert symbols.to_symbol("BTCUSD", "inverse") == "BTC-USD:inverse"
    with pytest.raises(ValueError, match="market 'option'"):
        market_symbol("BTC-USDT", "option")


# -- every venue, one frame builder each ------------------------------------------------------

Levels = list[list[Any]]


def binance(kind: str, bids: Levels, asks: Levels) -> tuple[Any, Callable[[Any], Any]]:
    parser = BinanceParser()
    if kind == "snapshot":
        body = json.dumps({"lastUpdateId": 10, "bids": bids, "asks": asks})
        return parser, lambda p: p.parse_rest(
            "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000", body, 1
        )
    data = {"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": 11, "u": 12, "b": bids, "a": asks}
    raw = json.dumps({"stream": "btcusdt@depth@100ms", "data": data})
    return parser, lambda p: p.parse_ws(raw, 1)


def okx(kind: str, bids: Levels, asks: Levels) -> tuple[Any, Callable[[Any], Any]]:
    parser = OkxParser()
    full = [[*level, "0", "1"] for level in bids], [[*level, "0", "1"] for level in asks]
    entry = {"bids": full[0], "asks": full[1], "ts": "1", "checksum": 0, "seqId": 12,
             "prevSeqId": -1 if kind == "snapshot" else 11}  # fmt: skip
    raw = json.dumps({"arg": {"channel": "books", "instId": "BTC-USDT"},
                      "action": "snapshot" if kind == "snapshot" else "update",
                      "data": [entry]})  # fmt: skip
    return parser, lambda p: p.parse_ws(raw, 1)


def bybit(kind: str, bids: Levels, asks: Levels) -> tuple[Any, Callable[[Any], Any]]:
    raw = json.dumps({"topic": "orderbook.50.BTCUSDT", "type": kind if kind == "snapshot"
                      else "delta", "ts": 1, "data": {"s": "BTCUSDT", "b": bids, "a": asks,
                      "u": 5, "seq": 1}})  # fmt: skip
    return BybitParser(), lambda p: p.parse_ws(raw, 1)


def kraken(kind: str, bids: Levels, asks: Levels) -> tuple[Any, Callable[[Any], Any]]:
    def side(levels: Levels) -> str:  # JSON numbers, as v2 sends them; text kept as written
        return "[" + ",".join(f'{{"price":{_num(p)},"qty":{_num(q)}}}' for p, q in levels) + "]"

    parser = KrakenParser(SymbolMap(fallback=KrakenParser.normalise))
    snapshot = (
        '{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":'
        '[{"price":99,"qty":1}],"asks":[{"price":101,"qty":1}],"checksum":1}]}'
    )
    frame_type = "snapshot" if kind == "snapshot" else "update"
    raw = (
        f'{{"channel":"book","type":"{frame_type}","data":[{{"symbol":"BTC/USD",'
        f'"bids":{side(bids)},"asks":{side(asks)},"checksum":1}}]}}'
    )
    if kind != "snapshot":
        parser.parse_ws(snapshot, 0)
    return parser, lambda p: p.parse_ws(raw, 1)


def kraken_v1(kind: str, bids: Levels, asks: Levels) -> tuple[Any, Callable[[Any], Any]]:
    parser = KrakenV1Parser(SymbolMap(fallback=KrakenParser.normalise))
    stamp = "1700000000.000001"
    if kind == "snapshot":
        body: dict[str, Any] = {"as": [[p, q, stamp] for p, q in asks],
                                "bs": [[p, q, stamp] for p, q in bids]}  # fmt: skip
    else:
        parser.parse_ws(json.dumps([1, {"as": [["101", "1", stamp]], "bs": [["99", "1", stamp]]},
                                    "book-10", "XBT/USD"]), 0)  # fmt: skip
        body = {"a": [[p, q, stamp] for p, q in asks], "b": [[p, q, stamp] for p, q in bids],
                "c": "1"}  # fmt: skip
    raw = json.dumps([1, body, "book-10", "XBT/USD"])
    return parser, lambda p: p.parse_ws(raw, 1)


def coinbase(kind: str, bids: Levels, asks: Levels) -> tuple[Any, Callable[[Any], Any]]:
    parser = CoinbaseParser()
    updates = [{"side": "bid", "price_level": p, "new_quantity": q} for p, q in bids]
    updates += [{"side": "offer", "price_level": p, "new_quantity": q} for p, q in asks]
    if kind != "snapshot":
        parser.parse_ws(json.dumps({"channel": "l2_data", "sequence_num": 0, "events": [{
            "type": "snapshot", "product_id": "BTC-USD", "updates": [
                {"side": "bid", "price_level": "99", "new_quantity": "1"},
                {"side": "offer", "price_level": "101", "new_quantity": "1"}]}]}), 0)  # fmt: skip
    raw = json.dumps({"channel": "l2_data", "sequence_num": 1, "events": [
        {"type": kind if kind == "snapshot" else "update", "product_id": "BTC-USD",
         "updates": updates}]})  # fmt: skip
    return parser, lambda p: p.parse_ws(raw, 1)


def coinbase_legacy(kind: str, bids: Levels, asks: Levels) -> tuple[Any, Callable[[Any], Any]]:
    parser = CoinbaseParser()
    if kind == "snapshot":
        raw = json.dumps({"type": "snapshot", "product_id": "BTC-USD", "bids": bids, "asks": asks})
    else:
        parser.parse_ws(json.dumps({"type": "snapshot", "product_id": "BTC-USD",
                                    "bids": [["99", "1"]], "asks": [["101", "1"]]}), 0)  # fmt: skip
        changes = [["buy", p, q] for p, q in bids] + [["sell", p, q] for p, q in asks]
        raw = json.dumps({"type": "l2update", "product_id": "BTC-USD", "changes": changes,
                          "time": "2021-04-17T00:00:00.000000Z"})  # fmt: skip
    return parser, lambda p: p.parse_ws(raw, 1)


def _num(value: Any) -> str:
    return value if isinstance(value, str) and value[:1] not in ('"',) else json.dumps(value)


VENUES = {
    "binance": binance, "okx": okx, "bybit": bybit, "kraken": kraken, "kraken_v1": kraken_v1,
    "coinbase": coinbase, "coinbase_legacy": coinbase_legacy,
}  # fmt: skip
# The venue symbol each builder's book is flagged under.
FLAGGED = {"binance": "BTCUSDT", "okx": "BTC-USDT", "bybit": "BTCUSDT", "kraken": "BTC/USD",
           "kraken_v1": "BTC/USD", "coinbase": "BTC-USD", "coinbase_legacy": "BTC-USD"}  # fmt: skip
GOOD_BIDS, GOOD_ASKS = [["100.5", "2"], ["100", "1"]], [["101", "1"], ["101.5", "3"]]


def _quoted(venue: str, text: str) -> Any:
    """Kraken v2 carries JSON numbers: a non-number text goes in as a JSON string."""
    if venue != "kraken" or read_number(text) is not None:
        return text
    return json.dumps(text)


@pytest.mark.parametrize("venue", sorted(VENUES))
@pytest.mark.parametrize("kind", ["delta", "snapshot"])
def test_a_valid_frame_parses(venue: str, kind: str) -> None:
    parser, parse = VENUES[venue](kind, GOOD_BIDS, GOOD_ASKS)
    assert parse(parser), "the good frame must give an event"
    assert not parser.resync_needed


@pytest.mark.parametrize("venue", sorted(VENUES))
@pytest.mark.parametrize("kind", ["delta", "snapshot"])
@pytest.mark.parametrize(
    ("where", "text", "rule"),
    [
        ("price", "0", "bad_price"), ("price", "-1", "bad_price"), ("price", "NaN", "bad_price"),
        ("price", "Infinity", "bad_price"), ("price", "1e400", "bad_price"),
        ("size", "-5", "bad_size"), ("size", "-0.000001", "bad_size"), ("size", "NaN", "bad_size"),
        ("size", "Infinity", "bad_size"), ("size", "inf", "bad_size"),
    ],
)  # fmt: skip
def test_an_impossible_level_is_a_malformed_frame_of_its_rule_and_flags_the_book(
    venue: str, kind: str, where: str, text: str, rule: str
) -> None:
    bids = [list(level) for level in GOOD_BIDS]
    bids[0][0 if where == "price" else 1] = _quoted(venue, text)
    parser, parse = VENUES[venue](kind, bids, GOOD_ASKS)
    with pytest.raises(MalformedFrame) as caught:
        parse(parser)
    assert caught.value.kind == rule and caught.value.kind in LEVEL_KINDS, str(caught.value)
    if not (venue.startswith("binance") and kind == "snapshot"):  # a REST snapshot: refetched
        assert FLAGGED[venue] in parser.resync_needed


@pytest.mark.parametrize("venue", sorted(VENUES))
@pytest.mark.parametrize(
    ("bids", "asks", "rule"),
    [
        ([["100", "1"], ["100.5", "2"]], GOOD_ASKS, "unsorted_levels"),
        (GOOD_BIDS, [["101", "1"], ["101", "3"]], "unsorted_levels"),
        ([["101.5", "2"], ["100", "1"]], GOOD_ASKS, "crossed_snapshot"),
        ([["100.5", "0"], ["100", "1"]], GOOD_ASKS, "bad_size"),
    ],
)
def test_a_snapshot_out_of_order_crossed_or_with_size_zero_is_refused(
    venue: str, bids: Levels, asks: Levels, rule: str
) -> None:
    if venue.startswith("coinbase") and rule == "unsorted_levels":
        pytest.skip("Coinbase does not promise an order: the parser sorts its snapshots")
    parser, parse = VENUES[venue]("snapshot", bids, asks)
    with pytest.raises(MalformedFrame) as caught:
        parse(parser)
    assert caught.value.kind == rule, str(caught.value)


def test_a_refused_delta_breaks_the_synthetic_counter_so_the_next_one_is_a_gap() -> None:
    """Coinbase numbers nothing: without the skip the book would never see the hole."""
    parser, parse = coinbase("delta", [["100", "Infinity"]], [])
    with pytest.raises(MalformedFrame):
        parse(parser)
    [delta] = parser.parse_ws(json.dumps({"channel": "l2_data", "sequence_num": 2, "events": [
        {"type": "update", "product_id": "BTC-USD", "updates": [
            {"side": "bid", "price_level": "100", "new_quantity": "2"}]}]}), 2)  # fmt: skip
    assert delta.prev_seq > 1, "the book (at seq 1) must see a gap, not a continuous update"
