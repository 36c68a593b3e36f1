"""Kraken market-data protocol: subscribe shapes (v2 and v1), instruments, error mapping."""

from __future__ import annotations

import json

import pytest
from arb_venues.base import Endpoints
from arb_venues.common.rest import Response
from arb_venues.common.symbols import SymbolMap
from arb_venues.errors import (
    BadRequest,
    InsufficientBalance,
    InvalidSignature,
    OrderRejected,
    RateLimited,
    UnknownOrder,
    VenueUnavailable,
)
from arb_venues.fees import with_account_fees
from arb_venues.kraken import VENUE
from arb_venues.kraken.errors import kraken_error_mapper
from arb_venues.kraken.market import KrakenMarket, KrakenMarketV1, parse_asset_pairs
from arb_venues.kraken.parser import KrakenParser
from arb_venues.kraken.parser_v1 import KrakenV1Parser
from arb_venues.kraken.symbols import rest_pair, v1_symbol
from arb_venues.kraken.trading import KrakenTrading

from .helpers import BTC_USD

pytestmark = pytest.mark.unit

ENDPOINTS = Endpoints(ws_url="wss://ws.kraken.com", rest_url="https://api.kraken.com")


def test_v2_is_the_default_at_ws_base_slash_v2() -> None:
    market = VENUE.market(ENDPOINTS)
    assert market.ws_url([BTC_USD]) == "wss://ws.kraken.com/v2"
    [message] = market.subscribe_messages([BTC_USD])
    assert json.loads(message) == {
        "method": "subscribe",
        "params": {"channel": "book", "symbol": ["BTC/USD"], "depth": 10},
    }
    assert market.heartbeat_message() == '{"method":"ping"}'
    assert isinstance(market.make_parser(SymbolMap()), KrakenParser)


def test_v1_is_selectable_and_speaks_xbt_at_the_ws_base() -> None:
    for market in (
        KrakenMarket(ENDPOINTS, 25, protocol_version="v1"),
        KrakenMarketV1(ENDPOINTS, 25),
    ):
        assert market.ws_url([BTC_USD]) == "wss://ws.kraken.com"
        unsubscribe, subscribe = (json.loads(m) for m in market.resubscribe_messages(BTC_USD))
        assert subscribe == {
            "event": "subscribe",
            "pair": ["XBT/USD"],
            "subscription": {"name": "book", "depth": 25},
        }
        assert unsubscribe["event"] == "unsubscribe" and unsubscribe["pair"] == ["XBT/USD"]
        assert market.heartbeat_message() == '{"event":"ping"}'
        assert isinstance(market.make_parser(SymbolMap()), KrakenV1Parser)


def test_a_resync_is_unsubscribe_then_subscribe_of_that_pair_only() -> None:
    unsubscribe, subscribe = (
        json.loads(m) for m in KrakenMarket(ENDPOINTS).resubscribe_messages(BTC_USD)
    )
    assert unsubscribe["method"] == "unsubscribe" and subscribe["method"] == "subscribe"
    assert unsubscribe["params"]["symbol"] == subscribe["params"]["symbol"] == ["BTC/USD"]


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"depth": 7}, "depth=7"), ({"protocol_version": "v3"}, "v3")]
)
def test_bad_depth_or_version_is_refused_with_the_choices(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        KrakenMarket(ENDPOINTS, **kwargs)


def test_asset_pairs_become_instruments_with_v2_names() -> None:
    body = json.dumps(
        {
            "error": [],
            "result": {
                "XXBTZUSD": {
                    "altname": "XBTUSD",
                    "wsname": "XBT/USD",
                    "aclass_base": "currency",
                    "base": "XXBT",
                    "aclass_quote": "currency",
                    "quote": "ZUSD",
                    "lot": "unit",
                    "cost_decimals": 5,
                    "pair_decimals": 1,
                    "lot_decimals": 8,
                    "lot_multiplier": 1,
                    "leverage_buy": [2, 3],
                    "leverage_sell": [2, 3],
                    "fees": [[0, 0.4], [10000, 0.35]],
                    "fees_maker": [[0, 0.25], [10000, 0.2]],
                    "fee_volume_currency": "ZUSD",
                    "margin_call": 80,
                    "margin_stop": 40,
                    "ordermin": "0.0001",
                    "costmin": "0.5",
                    "tick_size": "0.1",
                    "status": "online",
                },
                "XXDGZUSD": {
                    "altname": "XDGUSD",
                    "wsname": "XDG/USD",
                    "base": "XXDG",
                    "quote": "ZUSD",
                    "pair_decimals": 7,
                    "lot_decimals": 8,
                    "fees": [[0, 0.26]],
                    "ordermin": "20",
                    "costmin": "0.5",
                    "tick_size": "0.0000001",
                    "status": "online",
                },
                "XBTUSD.d": {"altname": "XBTUSD.d", "base": "XXBT", "quote": "ZUSD"},
            },
        }
    )
    btc, doge = parse_asset_pairs(body)
    assert (btc.symbol, btc.venue_symbol, btc.base, btc.quote) == (
        "BTC-USD",
        "BTC/USD",
        "BTC",
        "USD",
    )
    assert (btc.tick_size, btc.lot_size, btc.min_size, btc.min_notional) == (
        "0.1",
        "0.00000001",
        "0.0001",
        "0.5",
    )
    assert btc.price_decimals == 1
    assert (doge.symbol, doge.venue_symbol) == ("DOGE-USD", "DOGE/USD")
    # The fee tiers AssetPairs lists are the public schedule, not the account's fee: that is
    # ingest's to set (arb_venues.fees), from the venue's default or ARB_TAKER_FEES.
    assert with_account_fees([btc], {"kraken": "0.0016"})[0].taker_fee == "0.0016"
    assert with_account_fees([doge])[0].maker_fee == VENUE.maker_fee


def test_pair_spellings_for_v1_and_rest() -> None:
    assert v1_symbol("BTC/USD") == "XBT/USD" and v1_symbol("DOGE/EUR") == "XDG/EUR"
    assert rest_pair("BTC/USD") == "XBTUSD" and rest_pair("ETH/USDT") == "ETHUSDT"


def _response(errors: list[str], status: int = 200, headers: dict | None = None) -> Response:
    body = json.dumps({"error": errors, "result": {}}).encode()
    return Response(status, headers or {}, body, 0.01)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("EAPI:Invalid key", InvalidSignature),
        ("EAPI:Invalid signature", InvalidSignature),
        ("EAPI:Invalid nonce", BadRequest),
        ("EOrder:Insufficient funds", InsufficientBalance),
        ("EOrder:Unknown order", UnknownOrder),
        ("EAPI:Rate limit exceeded", RateLimited),
        ("EService:Unavailable", VenueUnavailable),
        ("EOrder:Order minimum not met", OrderRejected),
        ("EGeneral:Invalid arguments", BadRequest),
    ],
)
def test_kraken_error_strings_map_onto_the_error_tree(code: str, kind: type) -> None:
    error = kraken_error_mapper()(_response([code]))
    assert type(error) is kind and error.api_code == code and code in str(error)


def test_no_error_is_none_and_429_keeps_retry_after() -> None:
    mapper = kraken_error_mapper()
    assert mapper(_response([])) is None
    assert mapper(_response(["WGeneral:Warning only"])) is None
    limited = mapper(_response(["EAPI:Rate limit exceeded"], 429, {"Retry-After": "3"}))
    assert isinstance(limited, RateLimited) and limited.retry_after_s == 3.0
    assert isinstance(mapper(Response(502, {}, b"<html>bad gateway</html>", 0.1)), VenueUnavailable)


def test_client_order_ids_are_deterministic_uuids_per_leg() -> None:
    first = KrakenTrading.client_order_id("opp-1", "buy")
    assert first == KrakenTrading.client_order_id("opp-1", "buy")
    assert first != KrakenTrading.client_order_id("opp-1", "sell")
    assert len(first) == 36 and first.count("-") == 4
