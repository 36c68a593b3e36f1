"""Every venue's ``read_public_trades`` on the answer its docs show for its recent-trades call
(the page in its market.py ``trades_request``; the values here are ours, the shape is the
docs'): the trade id, exact price and size, the taker's side as each venue encodes it
(Binance/MEXC ``isBuyerMaker``, Bitfinex's signed amount, Kraken's ``b``/``s``, Coinbase's
maker side) and the time in ns. A body without the documented fields is refused, which
``public_trades`` turns into MalformedFrame."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from arb_structs import Instrument, Side, VenueSymbol
from arb_venues import VENUE_NAMES, get_venue
from arb_venues.base import Endpoints

MS = 1_000_000
SPELLING = {"binance": "BTCUSDT", "okx": "BTC-USDT", "bybit": "BTCUSDT", "kraken": "XBT/USDT",
            "coinbase": "BTC-USDT", "bitfinex": "tBTCUST", "gateio": "BTC_USDT",
            "kucoin": "BTC-USDT", "htx": "btcusdt", "bitget": "BTCUSDT",
            "cryptocom": "BTC_USDT", "mexc": "BTCUSDT"}  # fmt: skip


def _body(value: object) -> bytes:
    return json.dumps(value).encode()


# venue -> (documented body, (trade id, price, size, taker side, ts ns) of its first trade)
DOCUMENTED: dict[str, tuple[bytes, tuple[str, str, str, Side, int]]] = {
    "binance": (_body([{"id": 28457, "price": "4.00000100", "qty": "12.00000000",
                        "quoteQty": "48.000012", "time": 1499865549590, "isBuyerMaker": True,
                        "isBestMatch": True}]),
                ("28457", "4.00000100", "12.00000000", Side.SELL, 1499865549590 * MS)),
    "okx": (_body({"code": "0", "msg": "", "data": [
                {"instId": "BTC-USDT", "side": "sell", "sz": "0.00001", "px": "29963.2",
                 "source": "0", "tradeId": "242720720", "ts": "1654161646974"}]}),
            ("242720720", "29963.2", "0.00001", Side.SELL, 1654161646974 * MS)),
    "bybit": (_body({"retCode": 0, "retMsg": "OK", "result": {"category": "spot", "list": [
                  {"execId": "2100000000007764263", "symbol": "BTCUSDT", "price": "16618.49",
                   "size": "0.00012", "side": "Buy", "time": "1672052955758",
                   "isBlockTrade": False}]}, "retExtInfo": {}, "time": 1672053054358}),
              ("2100000000007764263", "16618.49", "0.00012", Side.BUY, 1672052955758 * MS)),
    "kraken": (b'{"error":[],"result":{"XXBTZUSD":[["30243.40000","0.34507674",'
               b'1688669597.8277369,"b","m","",61044952],["30243.30000","0.00376960",'
               b'1688669598.2804799,"s","l","",61044953]],"last":"1688671969993150842"}}',
               ("61044953", "30243.30000", "0.00376960", Side.SELL, 1688669598280479900)),
    "coinbase": (_body({"trades": [{"trade_id": "34b080bf-fcfd-445a-832b-46b5ddc65601",
                                    "product_id": "BTC-USD", "price": "140.91", "size": "4",
                                    "time": "2021-05-31T09:59:59.000Z", "side": "BUY",
                                    "bid": "", "ask": ""}],
                        "best_bid": "291.13", "best_ask": "292.40"}),
                 ("34b080bf-fcfd-445a-832b-46b5ddc65601", "140.91", "4", Side.SELL,
                  int(datetime.datetime(2021, 5, 31, 9, 59, 59,
                                        tzinfo=datetime.UTC).timestamp()) * 10**9)),
    "bitfinex": (_body([[388063448, 1567526214876, -1.918524, 10682],
                        [388063447, 1567526214000, 0.5, 10681]]),
                 ("388063448", "10682", "1.918524", Side.SELL, 1567526214876 * MS)),
    "gateio": (_body([{"id": "1232893232", "create_time": "1548000000",
                       "create_time_ms": "1548000000123.456", "currency_pair": "BTC_USDT",
                       "side": "sell", "amount": "0.15", "price": "0.03",
                       "sequence_id": "588018"}]),
               ("1232893232", "0.03", "0.15", Side.SELL, 1548000000123456000)),
    "kucoin": (_body({"code": "200000", "data": [
                   {"sequence": "1545896668571", "price": "0.07", "size": "0.004",
                    "side": "buy", "time": 1545904567062140823},
                   {"sequence": "1545896668578", "price": "0.054", "size": "0.066",
                    "side": "sell", "time": 1545904581619888405}]}),
               ("1545896668578", "0.054", "0.066", Side.SELL, 1545904581619888405)),
    "htx": (b'{"ch":"market.btcusdt.trade.detail","status":"ok","ts":1629792192037,"data":'
            b'[{"id":136107114809,"ts":1629792191928,"data":[{"id":1.3610711480918594e+26,'
            b'"ts":1629792191928,"trade-id":102517374388,"amount":0.028416,"price":49806.0,'
            b'"direction":"buy"}]}]}',
            ("102517374388", "49806.0", "0.028416", Side.BUY, 1629792191928 * MS)),
    "bitget": (_body({"code": "00000", "msg": "success", "requestTime": 1695808949356,
                      "data": [{"symbol": "BTCUSDT", "tradeId": "1", "side": "buy",
                                "price": "2.38735", "size": "0.0004", "ts": "1622097282536"}]}),
               ("1", "2.38735", "0.0004", Side.BUY, 1622097282536 * MS)),
    "cryptocom": (_body({"id": -1, "method": "public/get-trades", "code": 0, "result": {
                      "data": [{"s": "BUY", "p": "0.012", "q": "1", "t": 1613547060925,
                                "tn": "1613547060925523623", "d": "1613547060925523623",
                                "i": "BTC_USDT", "m": "76423"}]}}),
                  ("1613547060925523623", "0.012", "1", Side.BUY, 1613547060925523623)),
    "mexc": (_body([{"id": None, "price": "23", "qty": "0.91", "quoteQty": "20.93",
                     "time": 1649304010000, "isBuyerMaker": True, "isBestMatch": True,
                     "tradeType": "ASK"}]),
             ("", "23", "0.91", Side.SELL, 1649304010000 * MS)),
}  # fmt: skip


def _instrument(venue: str) -> Instrument:
    return Instrument(venue=venue, symbol="BTC-USDT", venue_symbol=VenueSymbol(SPELLING[venue]),
                      base="BTC", quote="USDT", tick_size="0.01", lot_size="0.0001")  # fmt: skip


def _market(venue: str):  # type: ignore[no-untyped-def]
    return get_venue(venue).market(Endpoints(ws_url="", rest_url="http://127.0.0.1:1"))


def test_every_venue_is_covered() -> None:
    assert set(DOCUMENTED) == set(VENUE_NAMES)


@pytest.mark.parametrize("venue", sorted(DOCUMENTED))
def test_read_public_trades_reads_the_documented_answer(venue: str) -> None:
    body, (trade_id, price, size, side, ts) = DOCUMENTED[venue]
    trades = _market(venue).read_public_trades(body, _instrument(venue))
    first = trades[0]
    assert (first.trade_id, Decimal(first.price), Decimal(first.size), first.side, first.ts) == (
        trade_id, Decimal(price), Decimal(size), side, ts)  # fmt: skip
    assert first.price == price or Decimal(first.price) == Decimal(price)  # exact, no float
    assert all(t.venue == venue and t.symbol == "BTC-USDT" for t in trades)
    assert [t.ts for t in trades] == sorted((t.ts for t in trades), reverse=True)


@pytest.mark.parametrize("venue", sorted(DOCUMENTED))
def test_read_public_trades_refuses_a_body_without_the_fields(venue: str) -> None:
    market = _market(venue)
    for body in (b"{}", b'{"data": [{}], "result": {"list": [{}], "data": [{}]}}', b"[{}]"):
        with pytest.raises((KeyError, IndexError, TypeError, ValueError, ArithmeticError)):
            market.read_public_trades(body, _instrument(venue))
