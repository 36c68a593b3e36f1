"""A halted market or trading switched off maps to TradingDisabled on every venue: each case is
the answer the venue sends (its envelope, HTTP status and the code named in the test id, from
the venue's error-code page cited in its errors.py), mapped by the venue's own error mapper
(what the REST client calls), or for Coinbase by ``order_failure`` (a refused order is HTTP 200
``success: false``). A neighbouring code of each venue still maps to something else, so the
mapping is by code, not "every refusal is TradingDisabled"."""

from __future__ import annotations

import json

import pytest
from arb_venues import VENUE_NAMES, get_venue
from arb_venues.base import Endpoints
from arb_venues.coinbase.errors import order_failure
from arb_venues.coinbase.schemas import ErrorResponse
from arb_venues.common.rest import Response
from arb_venues.errors import TradingDisabled, VenueError


def _json(body: object) -> bytes:
    return json.dumps(body).encode()


# (venue, the code as the test id names it, HTTP status, body)
HALTED: list[tuple[str, str, int, bytes]] = [
    ("binance", "-2010 market is closed", 400,
     _json({"code": -2010, "msg": "Market is closed."})),
    ("okx", "51009", 200,
     _json({"code": "1", "msg": "All operations failed",
            "data": [{"clOrdId": "a", "ordId": "", "sCode": "51009",
                      "sMsg": "Order placement function is blocked by the platform"}]})),
    ("okx", "51022", 200,
     _json({"code": "51022", "msg": "Contract suspended", "data": []})),
    ("okx", "51155", 200,
     _json({"code": "1", "msg": "All operations failed",
            "data": [{"clOrdId": "a", "ordId": "", "sCode": "51155",
                      "sMsg": "You can't trade this pair due to local compliance restrictions"}]})),
    ("bybit", "170151", 200,
     _json({"retCode": 170151, "retMsg": "The trading pair is not open yet", "result": {},
            "retExtInfo": {}, "time": 1})),
    ("bybit", "170157", 200,
     _json({"retCode": 170157, "retMsg": "The trading pair is not available for api trading",
            "result": {}, "retExtInfo": {}, "time": 1})),
    ("bybit", "110066", 200,
     _json({"retCode": 110066, "retMsg": "No trading is allowed at the current time",
            "result": {}, "retExtInfo": {}, "time": 1})),
    ("kraken", "EService:Market in cancel_only mode", 200,
     _json({"error": ["EService:Market in cancel_only mode"]})),
    ("bitfinex", "10001 action: disabled", 500, _json(["error", 10001, "action: disabled"])),
    ("gateio", "ACCOUNT_LOCKED", 403,
     _json({"label": "ACCOUNT_LOCKED", "message": "Account is locked"})),
    ("gateio", "SUB_ACCOUNT_LOCKED", 403,
     _json({"label": "SUB_ACCOUNT_LOCKED", "message": "Sub account is locked"})),
    ("kucoin", "126007", 400, _json({"code": "126007", "msg": "Trading pair suspended"})),
    ("kucoin", "126009", 400,
     _json({"code": "126009", "msg": "Trading pair is suspended from creating orders"})),
    ("htx", "base-symbol-trade-disabled", 200,
     _json({"status": "error", "err-code": "base-symbol-trade-disabled",
            "err-msg": "Trading is disabled for this symbol", "data": None})),
    ("bitget", "41114", 400,
     _json({"code": "41114", "msg": "The current trading pair is under maintenance",
            "requestTime": 1, "data": None})),
    ("bitget", "43115", 400,
     _json({"code": "43115", "msg": "The current trading pair is opening soon",
            "requestTime": 1, "data": None})),
    ("cryptocom", "309 MARKET_IS_NOT_OPEN", 400,
     _json({"id": 1, "method": "private/create-order", "code": 309,
            "message": "MARKET_IS_NOT_OPEN"})),
    ("cryptocom", "208 INSTRUMENT_NOT_TRADABLE", 400,
     _json({"id": 1, "method": "private/create-order", "code": 208,
            "message": "INSTRUMENT_NOT_TRADABLE"})),
    ("mexc", "30016", 400, _json({"code": 30016, "msg": "trading disabled"})),
]  # fmt: skip

# One refusal per venue that is not a halt (its balance code): still not TradingDisabled.
NOT_HALTED: list[tuple[str, int, bytes]] = [
    ("binance", 400, _json({"code": -2010, "msg": "Account has insufficient balance."})),
    ("okx", 200, _json({"code": "1", "msg": "", "data": [
        {"clOrdId": "a", "ordId": "", "sCode": "51008", "sMsg": "Insufficient balance"}]})),
    ("bybit", 200, _json({"retCode": 170131, "retMsg": "Insufficient balance.", "result": {},
                          "retExtInfo": {}, "time": 1})),
    ("kraken", 200, _json({"error": ["EOrder:Insufficient funds"]})),
    ("bitfinex", 500, _json(["error", 10001, "Invalid order: not enough exchange balance"])),
    ("gateio", 400, _json({"label": "BALANCE_NOT_ENOUGH", "message": "Not enough balance"})),
    ("kucoin", 400, _json({"code": "200004", "msg": "Balance insufficient!"})),
    ("htx", 200, _json({"status": "error", "err-code": "account-balance-insufficient-error",
                        "err-msg": "insufficient", "data": None})),
    ("bitget", 400, _json({"code": "43012", "msg": "Insufficient balance", "requestTime": 1,
                           "data": None})),
    ("cryptocom", 500, _json({"id": 1, "method": "private/create-order", "code": 306,
                              "message": "INSUFFICIENT_AVAILABLE_BALANCE"})),
    ("mexc", 400, _json({"code": 30004, "msg": "Insufficient position"})),
]  # fmt: skip


def _mapped(venue: str, status: int, body: bytes) -> VenueError | None:
    market = get_venue(venue).market(Endpoints(ws_url="", rest_url="http://127.0.0.1:1"))
    mapper = market.error_mapper()
    assert mapper is not None, f"{venue} has no error mapper"
    return mapper(Response(status=status, headers={}, body=body, seconds=0.0))


def test_every_venue_has_a_halted_case() -> None:
    assert {venue for venue, *_ in HALTED} | {"coinbase"} == set(VENUE_NAMES)


@pytest.mark.parametrize(("venue", "code", "status", "body"), HALTED,
                         ids=[f"{v}-{c}" for v, c, _, _ in HALTED])  # fmt: skip
def test_the_documented_halt_code_is_trading_disabled(
    venue: str, code: str, status: int, body: bytes
) -> None:
    error = _mapped(venue, status, body)
    assert isinstance(error, TradingDisabled), f"{venue} {code}: {error!r}"
    assert error.venue == venue


@pytest.mark.parametrize("reason", ["ORDER_ENTRY_DISABLED"])
def test_coinbase_order_entry_disabled_is_trading_disabled(reason: str) -> None:
    refused = ErrorResponse(error="UNKNOWN_FAILURE_REASON", new_order_failure_reason=reason,
                            message="order entry is disabled for this product")  # fmt: skip
    error = order_failure(refused)
    assert isinstance(error, TradingDisabled)
    assert error.api_code == reason


@pytest.mark.parametrize(("venue", "status", "body"), NOT_HALTED,
                         ids=[v for v, _, _ in NOT_HALTED])  # fmt: skip
def test_a_balance_refusal_is_not_trading_disabled(venue: str, status: int, body: bytes) -> None:
    error = _mapped(venue, status, body)
    assert error is not None and not isinstance(error, TradingDisabled), repr(error)
    assert not isinstance(order_failure(ErrorResponse(error="INSUFFICIENT_FUND")),
                          TradingDisabled)  # fmt: skip
