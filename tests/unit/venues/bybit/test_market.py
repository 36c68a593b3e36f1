"""Bybit market protocol and REST error mapping (pure)."""

from __future__ import annotations

import json

import msgspec
import pytest
from arb_structs import Instrument
from arb_venues.base import Endpoints
from arb_venues.bybit import errors as codes
from arb_venues.bybit.market import BybitMarket, parse_instruments
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

ENDPOINTS = Endpoints(ws_url="wss://stream.bybit.com", rest_url="https://api.bybit.com")


def _instrument(i: int) -> Instrument:
    return Instrument(
        venue="bybit",
        symbol=f"C{i}-USDT",
        venue_symbol=f"C{i}USDT",
        base=f"C{i}",
        quote="USDT",
        tick_size="0.01",
        lot_size="0.01",
    )


def test_subscribes_go_ten_topics_per_request_the_spot_limit() -> None:
    market = BybitMarket(ENDPOINTS)
    messages = [
        json.loads(m) for m in market.subscribe_messages([_instrument(i) for i in range(23)])
    ]
    assert [len(m["args"]) for m in messages] == [10, 10, 3]
    assert all(m["op"] == "subscribe" for m in messages)
    assert messages[0]["args"][0] == "orderbook.50.C0USDT"  # default depth 50
    assert market.ws_url([]) == "wss://stream.bybit.com/v5/public/spot"


def test_depth_must_be_a_spot_depth() -> None:
    assert BybitMarket(ENDPOINTS, depth=200).topic(_instrument(1)) == "orderbook.200.C1USDT"
    with pytest.raises(ValueError, match="1, 50, 200, 1000"):
        BybitMarket(ENDPOINTS, depth=25)


def test_resync_unsubscribes_and_subscribes_the_one_topic() -> None:
    messages = [json.loads(m) for m in BybitMarket(ENDPOINTS).resubscribe_messages(_instrument(7))]
    assert messages == [
        {"op": "unsubscribe", "args": ["orderbook.50.C7USDT"]},
        {"op": "subscribe", "args": ["orderbook.50.C7USDT"]},
    ]


def test_heartbeat_is_an_op_ping_every_20_seconds() -> None:
    market = BybitMarket(ENDPOINTS)
    assert json.loads(market.heartbeat_message() or "") == {"op": "ping"}
    assert market.heartbeat_interval_s == 20.0
    assert market.snapshot_source == "ws"


def test_simulator_base_url_gets_the_same_path() -> None:
    market = BybitMarket(Endpoints(ws_url="ws://127.0.0.1:8123/", rest_url="http://127.0.0.1:8123"))
    assert market.ws_url([]) == "ws://127.0.0.1:8123/v5/public/spot"


DOC_INSTRUMENTS = {  # docs/v5/market/instrument, spot response example (+ one not Trading)
    "retCode": 0,
    "retMsg": "OK",
    "retExtInfo": {},
    "time": 1760027412300,
    "result": {
        "category": "spot",
        "list": [
            {
                "symbolId": 9,
                "symbol": "BTCUSDT",
                "baseCoin": "BTC",
                "quoteCoin": "USDT",
                "innovation": "0",
                "status": "Trading",
                "marginTrading": "utaOnly",
                "stTag": "0",
                "lotSizeFilter": {
                    "basePrecision": "0.000001",
                    "quotePrecision": "0.0000001",
                    "minOrderQty": "0.000011",
                    "maxOrderQty": "83",
                    "minOrderAmt": "5",
                    "maxOrderAmt": "8000000",
                    "maxLimitOrderQty": "83",
                    "maxMarketOrderQty": "41.5",
                    "postOnlyMaxLimitOrderSize": "60000",
                },
                "priceFilter": {"tickSize": "0.1"},
                "riskParameters": {"priceLimitRatioX": "0.005", "priceLimitRatioY": "0.01"},
                "symbolType": "",
            },
            {
                "symbol": "OLDUSDT",
                "baseCoin": "OLD",
                "quoteCoin": "USDT",
                "status": "Closed",
                "lotSizeFilter": {"basePrecision": "1"},
                "priceFilter": {"tickSize": "1"},
            },
        ],
    },
}


def test_instruments_take_tick_lot_minimums_and_decimals_from_the_filters() -> None:
    (btc,) = parse_instruments(json.dumps(DOC_INSTRUMENTS))
    assert (btc.symbol, btc.venue_symbol, btc.base, btc.quote) == (
        "BTC-USDT",
        "BTCUSDT",
        "BTC",
        "USDT",
    )
    assert (btc.tick_size, btc.lot_size, btc.min_size, btc.min_notional) == (
        "0.1",
        "0.000001",
        "0.000011",
        "5",
    )
    assert (btc.price_decimals, btc.size_decimals) == (1, 6)
    assert btc.status == "trading"


def test_instruments_error_answer_raises_the_venue_error() -> None:
    body = '{"retCode":10006,"retMsg":"Too many visits!","result":{},"time":1}'
    with pytest.raises(RateLimited):
        parse_instruments(body)
    with pytest.raises(MalformedFrame):
        parse_instruments('{"retCode":0,"result":{"list":"x"}}')


def _answer(code: int, message: str = "msg", status: int = 200, **headers: str) -> Response:
    body = msgspec.json.encode(
        {
            "retCode": code,
            "retMsg": message,
            "result": {},
            "retExtInfo": {},
            "time": 1_700_000_000_000,
        }
    )
    return Response(status, {k.replace("_", "-"): v for k, v in headers.items()}, body, 0.0)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (10003, InvalidSignature),
        (10004, InvalidSignature),
        (10002, TimestampRejected),
        (10001, BadRequest),
        (10006, RateLimited),
        (10000, RequestTimeout),
        (10016, VenueUnavailable),
        (110001, UnknownOrder),
        (170213, UnknownOrder),
        (170131, InsufficientBalance),
        (110007, InsufficientBalance),
        (170121, UnknownSymbol),
        (170141, OrderRejected),
        (170136, OrderRejected),
    ],
)
def test_ret_codes_map_onto_the_error_tree(code: int, error: type[Exception]) -> None:
    mapped = codes.map_response(_answer(code, "venue says no"))
    assert type(mapped) is error
    assert mapped.api_code == code and "venue says no" in str(mapped)


def test_success_envelope_maps_to_none() -> None:
    assert codes.map_response(_answer(0, "OK")) is None


def test_rate_limit_waits_until_the_reset_timestamp_on_bybit_clock() -> None:
    answer = _answer(10006, "Too many visits!", X_Bapi_Limit_Reset_Timestamp="1700000002500")
    mapped = codes.map_response(answer)
    assert isinstance(mapped, RateLimited) and mapped.retry_after_s == 2.5
    assert mapped.retryable


def test_http_403_is_the_ip_ban_with_a_ten_minute_pause() -> None:
    mapped = codes.map_response(Response(403, {}, b"access too frequent", 0.0))
    assert isinstance(mapped, RateLimited) and mapped.retry_after_s == 600.0


def test_http_429_and_5xx_and_non_json() -> None:
    limited = codes.map_response(_answer(10006, status=429, Retry_After="3"))
    assert isinstance(limited, RateLimited) and limited.retry_after_s == 3.0
    assert isinstance(codes.map_response(Response(502, {}, b"<html>", 0.0)), VenueUnavailable)
    assert isinstance(codes.map_response(Response(200, {}, b"<html>", 0.0)), VenueUnavailable)
    assert isinstance(codes.map_response(Response(401, {}, b"", 0.0)), InvalidSignature)
