"""OKX market protocol pieces: subscriptions by depth, instruments, REST error mapping."""

from __future__ import annotations

import json

import pytest
from arb_venues.base import Endpoints
from arb_venues.common.rest import Response
from arb_venues.errors import (
    BadRequest,
    InsufficientBalance,
    InvalidSignature,
    OrderRejected,
    RateLimited,
    RequestTimeout,
    UnknownOrder,
    UnknownSymbol,
    VenueUnavailable,
)
from arb_venues.okx.errors import error_mapper
from arb_venues.okx.market import OkxMarket, parse_instruments
from arb_venues.okx.trading import OkxTrading, fee_cost

from tests.unit.venues.okx.helpers import BTC_USDT

pytestmark = pytest.mark.unit
ENDPOINTS = Endpoints(ws_url="ws://127.0.0.1:1/ws/v5/public", rest_url="http://127.0.0.1:1")


@pytest.mark.parametrize(
    ("depth", "channel"),
    [(0, "books"), (400, "books"), (50, "books"), (5, "books5"), (2, "books5"), (1, "bbo-tbt")],
)
def test_subscribe_uses_the_channel_for_the_depth(depth: int, channel: str) -> None:
    [message] = OkxMarket(ENDPOINTS, depth).subscribe_messages([BTC_USDT])
    assert json.loads(message) == {
        "op": "subscribe",
        "args": [{"channel": channel, "instId": "BTC-USDT"}],
    }


def test_heartbeat_is_the_text_ping_within_30_seconds() -> None:
    market = OkxMarket(ENDPOINTS)
    assert market.heartbeat_message() == "ping"
    assert market.heartbeat_interval_s is not None and market.heartbeat_interval_s < 30


def test_snapshot_comes_from_rest_books_with_the_full_depth() -> None:
    market = OkxMarket(ENDPOINTS)
    assert market.snapshot_source == "rest"
    assert market.snapshot_path(BTC_USDT) == ("/api/v5/market/books", "instId=BTC-USDT&sz=400")
    assert OkxMarket(ENDPOINTS, 5).snapshot_path(BTC_USDT)[1] == "instId=BTC-USDT&sz=5"


def test_instruments_keep_exact_steps_and_mark_suspended_ones() -> None:
    rows = [
        {
            "instType": "SPOT",
            "instId": "BTC-USDT",
            "baseCcy": "BTC",
            "quoteCcy": "USDT",
            "tickSz": "0.1",
            "lotSz": "0.00000001",
            "minSz": "0.00001",
            "state": "live",
        },
        {
            "instType": "SPOT",
            "instId": "XYZ-USDC",
            "baseCcy": "XYZ",
            "quoteCcy": "USDC",
            "tickSz": "0.0001",
            "lotSz": "1",
            "minSz": "10",
            "state": "suspend",
        },
    ]
    body = json.dumps({"code": "0", "msg": "", "data": rows})
    btc, xyz = parse_instruments(body)
    assert (btc.symbol, btc.tick_size, btc.lot_size, btc.min_size) == (
        "BTC-USDT",
        "0.1",
        "0.00000001",
        "0.00001",
    )
    assert (btc.price_decimals, btc.size_decimals, btc.status) == (1, 8, "trading")
    assert (xyz.status, xyz.size_decimals) == ("suspend", 0)


def _response(status: int, payload: object, headers: dict[str, str] | None = None) -> Response:
    return Response(status, headers or {}, json.dumps(payload).encode(), 0.01)


@pytest.mark.parametrize(
    ("status", "payload", "error", "code"),
    [
        (401, {"code": "50111", "msg": "Invalid OK-ACCESS-KEY."}, InvalidSignature, "50111"),
        (401, {"code": "50113", "msg": "Invalid signature."}, InvalidSignature, "50113"),
        (429, {"code": "50011", "msg": "Too Many Requests"}, RateLimited, "50011"),
        (200, {"code": "50011", "msg": "Rate limit reached."}, RateLimited, "50011"),
        (
            503,
            {"code": "50001", "msg": "Service temporarily unavailable."},
            VenueUnavailable,
            "50001",
        ),
        (400, {"code": "50004", "msg": "API endpoint request timeout."}, RequestTimeout, "50004"),
        (200, {"code": "51603", "msg": "Order does not exist.", "data": []}, UnknownOrder, "51603"),
        (200, {"code": "51001", "msg": "Instrument ID doesn't exist."}, UnknownSymbol, "51001"),
        (400, {"code": "51000", "msg": "Parameter sz error"}, BadRequest, "51000"),
        (
            200,
            {
                "code": "1",
                "msg": "All operations failed",
                "data": [
                    {
                        "clOrdId": "a1",
                        "ordId": "",
                        "sCode": "51008",
                        "sMsg": "Order failed. Insufficient USDT balance in account",
                    }
                ],
            },
            InsufficientBalance,
            "51008",
        ),
        (
            200,
            {
                "code": "1",
                "msg": "",
                "data": [{"sCode": "51016", "sMsg": "Client order ID already exists."}],
            },
            OrderRejected,
            "51016",
        ),
    ],
)
def test_okx_codes_map_onto_the_error_tree(status, payload, error, code) -> None:
    mapped = error_mapper(_response(status, payload))
    assert isinstance(mapped, error) and mapped.api_code == code


def test_rate_limit_carries_retry_after_and_success_maps_to_none() -> None:
    limited = error_mapper(
        _response(429, {"code": "50011", "msg": "Too Many Requests"}, {"Retry-After": "2"})
    )
    assert isinstance(limited, RateLimited) and limited.retry_after_s == 2.0 and limited.retryable
    assert error_mapper(_response(200, {"code": "0", "msg": "", "data": []})) is None


def test_client_order_ids_are_deterministic_alphanumeric_and_32_long() -> None:
    first = OkxTrading.client_order_id("opp-7f3a:BTC-USDT", "buy")
    assert first == OkxTrading.client_order_id("opp-7f3a:BTC-USDT", "buy")
    assert first != OkxTrading.client_order_id("opp-7f3a:BTC-USDT", "sell")
    assert len(first) == 32 and first.isalnum()


@pytest.mark.parametrize(
    ("fee", "cost"), [("-0.0001", "0.0001"), ("0", "0"), ("", "0"), ("0.5", "-0.5")]
)
def test_okx_negative_fees_become_costs(fee: str, cost: str) -> None:
    assert fee_cost(fee) == cost
