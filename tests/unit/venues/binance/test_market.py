"""BinanceMarket and the pure parts of trading: URLs, weights, instruments, errors, reports.

Bodies below are shaped after the docs' examples (rest-api.md, filters.md, errors.md @
binance/binance-spot-api-docs a5e0bc3d), not copied from recordings.
"""

from __future__ import annotations

import re

import msgspec
import pytest
from arb_structs import Instrument, OrderStatus, Side
from arb_venues.base import Endpoints
from arb_venues.binance import schemas
from arb_venues.binance.errors import map_error
from arb_venues.binance.market import BinanceMarket, depth_weight, instruments_from_exchange_info
from arb_venues.binance.parser import BinanceParser
from arb_venues.binance.trading import BinanceTrading, report_from_order
from arb_venues.common.rest import Response
from arb_venues.errors import (
    BadRequest,
    InsufficientBalance,
    InvalidSignature,
    MalformedFrame,
    OrderRejected,
    RateLimited,
    RequestTimeout,
    TimestampRejected,
    UnknownOrder,
    UnknownSymbol,
    VenueUnavailable,
)

pytestmark = pytest.mark.unit

BNB = Instrument(venue="binance", symbol="BNB-BTC", venue_symbol="BNBBTC", base="BNB",
                 quote="BTC", tick_size="0.000001", lot_size="0.001")  # fmt: skip


def market(ws: str = "wss://stream.binance.com:9443") -> BinanceMarket:
    return BinanceMarket(Endpoints(ws_url=ws, rest_url="https://api.binance.com"))


@pytest.mark.parametrize("base", ["ws://h:1", "ws://h:1/", "ws://h:1/ws", "ws://h:1/stream"])
def test_ws_url_is_the_combined_stream_of_lowercase_diff_streams(base: str) -> None:
    eth = msgspec.structs.replace(BNB, symbol="ETH-BTC", venue_symbol="ETHBTC")
    assert market(base).ws_url([BNB, eth]) == (
        "ws://h:1/stream?streams=bnbbtc@depth@100ms/ethbtc@depth@100ms"
    )
    assert market(base).subscribe_messages([BNB, eth]) == []


def test_more_than_1024_streams_on_one_connection_is_refused() -> None:
    many = [msgspec.structs.replace(BNB, venue_symbol=f"X{i}BTC") for i in range(1025)]
    with pytest.raises(ValueError, match="1024 streams per connection"):
        market().ws_url(many)
    assert market().ws_url(many[:1024]).count("@depth@100ms") == 1024


@pytest.mark.parametrize(("limit", "weight"), [(1, 5), (100, 5), (101, 25), (500, 25),
                                               (1000, 50), (1001, 250), (5000, 250)])  # fmt: skip
def test_depth_weight_follows_the_documented_table(limit: int, weight: int) -> None:
    assert depth_weight(limit) == weight


def test_rest_budget_stays_inside_the_ip_weight_limit() -> None:
    limit = BinanceMarket.rest_limits["default"]
    assert limit.capacity + 60 * limit.per_second <= 6000  # REQUEST_WEIGHT 6000 per minute


def test_heartbeat_is_a_method_whose_reply_the_parser_ignores() -> None:
    m = market()
    first, second = m.heartbeat_message(), m.heartbeat_message()
    assert first != second and first is not None and second is not None
    request = msgspec.json.decode(first)
    assert request["method"] == "GET_PROPERTY" and request["params"] == ["combined"]
    reply = msgspec.json.encode({"result": True, "id": request["id"]})
    assert BinanceParser().parse_ws(reply, 1) == []


EXCHANGE_INFO = {
    "timezone": "UTC", "serverTime": 1565246363776, "rateLimits": [], "exchangeFilters": [],
    "symbols": [
        {"symbol": "ETHBTC", "status": "TRADING", "baseAsset": "ETH", "baseAssetPrecision": 8,
         "quoteAsset": "BTC", "quoteAssetPrecision": 8, "isSpotTradingAllowed": True,
         "filters": [
             {"filterType": "PRICE_FILTER", "minPrice": "0.00000100",
              "maxPrice": "100000.00000000", "tickSize": "0.00000100"},
             {"filterType": "LOT_SIZE", "minQty": "0.00100000", "maxQty": "100000.00000000",
              "stepSize": "0.00100000"},
             {"filterType": "NOTIONAL", "minNotional": "10.00000000", "applyMinToMarket": False,
              "maxNotional": "10000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
         ]},
        {"symbol": "BNBUSDT", "status": "HALT", "baseAsset": "BNB", "quoteAsset": "USDT",
         "filters": [
             {"filterType": "PRICE_FILTER", "tickSize": "0.10000000"},
             {"filterType": "LOT_SIZE", "minQty": "1.00000000", "stepSize": "1.00000000"},
             {"filterType": "MIN_NOTIONAL", "minNotional": "0.00100000", "applyToMarket": True},
         ]},
        {"symbol": "MARGONLY", "status": "TRADING", "baseAsset": "MARG", "quoteAsset": "ONLY",
         "isSpotTradingAllowed": False, "filters": []},
    ],
}  # fmt: skip


def test_instruments_take_tick_lot_and_notional_from_the_filters() -> None:
    eth, bnb = instruments_from_exchange_info(msgspec.json.encode(EXCHANGE_INFO), 5)
    assert (eth.symbol, eth.venue_symbol, eth.base, eth.quote) == (
        "ETH-BTC",
        "ETHBTC",
        "ETH",
        "BTC",
    )
    assert (eth.tick_size, eth.lot_size, eth.min_size, eth.min_notional) == (
        "0.000001", "0.001", "0.001", "10",
    )  # fmt: skip
    assert (eth.price_decimals, eth.size_decimals, eth.status, eth.ts_recv) == (6, 3, "trading", 5)
    assert (bnb.tick_size, bnb.lot_size, bnb.min_notional, bnb.size_decimals) == (
        "0.1", "1", "0.001", 0,
    )  # fmt: skip
    assert bnb.status == "halt"


def test_bad_exchange_info_is_a_malformed_frame() -> None:
    with pytest.raises(MalformedFrame):
        instruments_from_exchange_info(b'{"symbols": 3}')


def _response(status: int, body: object, headers: dict[str, str] | None = None) -> Response:
    raw = body if isinstance(body, bytes) else msgspec.json.encode(body)
    return Response(status, headers or {}, raw, 0.0)


@pytest.mark.parametrize(
    ("status", "code", "msg", "expected"),
    [
        (400, -1022, "Signature for this request is not valid.", InvalidSignature),
        (401, -2015, "Invalid API-key, IP, or permissions for action.", InvalidSignature),
        (400, -2010, "Account has insufficient balance for requested action.",
         InsufficientBalance),
        (400, -2010, "Duplicate order sent.", OrderRejected),
        (400, -1013, "Filter failure: LOT_SIZE", OrderRejected),
        (400, -2013, "Order does not exist.", UnknownOrder),
        (400, -2011, "Unknown order sent.", UnknownOrder),
        (400, -1121, "Invalid symbol.", UnknownSymbol),
        (400, -1021, "Timestamp for this request is outside of the recvWindow.", TimestampRejected),
        (400, -1102, "Mandatory parameter 'price' was not sent", BadRequest),
        (503, -1008, "Server is currently overloaded", VenueUnavailable),
        (408, -1007, "Timeout waiting for response from backend server.", RequestTimeout),
    ],
)  # fmt: skip
def test_error_codes_map_onto_the_error_tree(status: int, code: int, msg: str, expected: type
                                             ) -> None:  # fmt: skip
    error = map_error(_response(status, {"code": code, "msg": msg}))
    assert type(error) is expected
    assert error is not None and error.api_code == code and error.code == status


@pytest.mark.parametrize("status", [429, 418])
def test_rate_limits_carry_retry_after(status: int) -> None:
    body = {"code": -1003, "msg": "Too much request weight used"}
    error = map_error(_response(status, body, {"Retry-After": "7"}))
    assert isinstance(error, RateLimited) and error.retry_after_s == 7.0 and error.retryable


def test_success_and_non_json_errors() -> None:
    assert map_error(_response(200, {"lastUpdateId": 1})) is None
    error = map_error(_response(502, b"<html>Bad Gateway</html>"))
    assert isinstance(error, VenueUnavailable) and error.retryable
    assert not InvalidSignature.retryable and not BadRequest.retryable


FULL = {  # rest-api.md "New order", Response - FULL, with timeInForce IOC
    "symbol": "BTCUSDT", "orderId": 28, "orderListId": -1,
    "clientOrderId": "6gCrw2kRUAF9CvJDGP16IP", "transactTime": 1507725176595,
    "price": "4000.00000000", "origQty": "10.00000000", "executedQty": "7.00000000",
    "origQuoteOrderQty": "0.000000", "cummulativeQuoteQty": "27996.00000000",
    "status": "EXPIRED", "timeInForce": "IOC", "type": "LIMIT", "side": "SELL",
    "workingTime": 1507725176595, "selfTradePreventionMode": "NONE",
    "fills": [
        {"price": "4000.00000000", "qty": "1.00000000", "commission": "4.00000000",
         "commissionAsset": "USDT", "tradeId": 56},
        {"price": "3999.00000000", "qty": "5.00000000", "commission": "19.99500000",
         "commissionAsset": "USDT", "tradeId": 57},
        {"price": "3998.00000000", "qty": "1.00000000", "commission": "3.99800000",
         "commissionAsset": "USDT", "tradeId": 58},
    ],
}  # fmt: skip


def test_ioc_remainder_expired_reports_canceled_with_exact_fills() -> None:
    order = schemas.order_decoder.decode(msgspec.json.encode(FULL))
    report = report_from_order(order, {"BTCUSDT": "BTC-USDT"}, ts_sent=1, ts_ack=2)
    assert report.status is OrderStatus.CANCELED and report.side is Side.SELL
    assert (report.symbol, report.client_order_id, report.venue_order_id) == (
        "BTC-USDT", "6gCrw2kRUAF9CvJDGP16IP", "28",
    )  # fmt: skip
    assert (report.price, report.size, report.filled_size) == ("4000", "10", "7")
    assert report.avg_price == "3999.428571428571428571428571"  # 27996 / 7, exact to 28 digits
    assert (report.fee, report.fee_asset) == ("27.993", "USDT")
    assert (report.ts_sent, report.ts_ack) == (1, 2)


@pytest.mark.parametrize(
    ("status", "tif", "expected"),
    [("FILLED", "IOC", OrderStatus.FILLED), ("NEW", "GTC", OrderStatus.NEW),
     ("PARTIALLY_FILLED", "GTC", OrderStatus.PARTIALLY_FILLED),
     ("CANCELED", "GTC", OrderStatus.CANCELED), ("REJECTED", "IOC", OrderStatus.REJECTED),
     ("EXPIRED", "GTD", OrderStatus.EXPIRED), ("EXPIRED_IN_MATCH", "IOC", OrderStatus.EXPIRED),
     ("SOMETHING_NEW", "IOC", OrderStatus.UNKNOWN)],
)  # fmt: skip
def test_order_status_words_map_to_order_status(status: str, tif: str, expected: OrderStatus
                                                ) -> None:  # fmt: skip
    body = {**FULL, "status": status, "timeInForce": tif, "fills": []}
    report = report_from_order(schemas.order_decoder.decode(msgspec.json.encode(body)), {})
    assert report.status is expected and report.fee == "0"


def test_client_order_ids_are_deterministic_and_inside_binances_range() -> None:
    legal = re.compile(r"^[a-zA-Z0-9-_]{1,36}$")  # the older, narrower range the server gave
    ids = {BinanceTrading.client_order_id(f"opp-{n}", leg)
           for n in range(50) for leg in ("buy", "sell", "hedge", "unwind!")}  # fmt: skip
    assert len(ids) == 200
    assert all(legal.match(i) and len(i) <= 36 for i in ids)
    assert BinanceTrading.client_order_id("o", "buy") == BinanceTrading.client_order_id("o", "buy")
