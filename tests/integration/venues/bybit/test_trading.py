"""BybitTrading against the Bybit sim over real sockets: signatures, fills, balances, errors."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from decimal import Decimal

import msgspec
import pytest
from aiohttp.test_utils import TestServer
from arb_simulator import VenueMarket
from arb_structs import OrderIntent, OrderStatus, Side
from arb_venues.base import Credentials, SignRequest
from arb_venues.bybit import errors as codes
from arb_venues.bybit import signing
from arb_venues.bybit.trading import BybitTrading
from arb_venues.common.rest import RestClient
from arb_venues.errors import (
    InsufficientBalance,
    InvalidSignature,
    OrderRejected,
    TimestampRejected,
    UnknownOrder,
    UnknownSymbol,
    VenueUnavailable,
)
from pydantic import SecretStr

from tests.unit.venues.bybit.instruments import API_KEY, BTC, SECRET, XRP

D = Decimal


def test_client_order_id_is_a_deterministic_36_character_uuid_per_leg() -> None:
    buy = BybitTrading.client_order_id("opp-7f3a", "buy")
    assert buy == BybitTrading.client_order_id("opp-7f3a", "buy")
    assert buy != BybitTrading.client_order_id("opp-7f3a", "sell")
    assert buy != BybitTrading.client_order_id("opp-7f3b", "buy")
    # docs/v5/order/create-order: max 36 chars of letters, digits, "-" and "_"
    assert re.fullmatch(r"[A-Za-z0-9_-]{36}", buy)


def _client(server: TestServer, secret: str = SECRET, api_key: str = API_KEY) -> BybitTrading:
    rest = RestClient("bybit", str(server.make_url("")), error_mapper=codes.map_response)
    credentials = Credentials(api_key=api_key, secret=SecretStr(secret))
    return BybitTrading(rest, credentials, {BTC.symbol: BTC, XRP.symbol: XRP})


@pytest.fixture
async def trading(server: TestServer) -> AsyncIterator[BybitTrading]:
    client = _client(server)
    try:
        yield client
    finally:
        await client.rest.close()


def _intent(
    side: Side, price: str, size: str, leg: str = "buy", symbol: str = "BTC-USDT"
) -> OrderIntent:
    return OrderIntent(
        venue="bybit",
        symbol=symbol,
        side=side,
        price=price,
        size=size,
        client_order_id=BybitTrading.client_order_id("opp-1", leg),
    )


@pytest.mark.integration
@pytest.mark.parametrize(
    ("secret", "api_key", "code"), [("test-secret-0002", API_KEY, 10004), (SECRET, "nobody", 10003)]
)
async def test_wrong_secret_or_key_is_refused_with_bybit_codes_and_nothing_trades(
    server: TestServer, market: VenueMarket, secret: str, api_key: str, code: int
) -> None:
    client = _client(server, secret, api_key)
    try:
        with pytest.raises(InvalidSignature) as error:
            await client.place_order(_intent(Side.BUY, "100.02", "0.5"))
        assert error.value.api_code == code
        assert market.orders_total == 0 and market.accounts[API_KEY].free("USDT") == D("10000")
    finally:
        await client.rest.close()


@pytest.mark.integration
async def test_ioc_buy_fills_and_moves_balances(trading: BybitTrading, market: VenueMarket) -> None:
    before = await trading.balances()
    assert before.balances["USDT"].free == "10000" and before.balances["BTC"].free == "10"
    report = await trading.place_order(_intent(Side.BUY, "100.02", "2.500000"))
    # 2.0 @ 100.01 and 0.5 @ 100.02
    assert report.status == OrderStatus.FILLED
    assert (report.filled_size, report.price, report.size) == ("2.500000", "100.02", "2.500000")
    assert D(report.avg_price) == (D("2.0") * D("100.01") + D("0.5") * D("100.02")) / D("2.5")
    assert (report.fee, report.fee_asset) == ("0.0025", "BTC")
    assert report.venue_order_id and report.ts_ack >= report.ts_sent > 0
    after = await trading.balances()
    assert D(after.balances["BTC"].free) == D("10") + D("2.5") - D("0.0025")
    assert D(after.balances["USDT"].free) == D("10000") - D("250.030")


@pytest.mark.integration
async def test_ioc_remainder_is_cancelled_with_the_partial_fill_kept(
    trading: BybitTrading,
) -> None:
    report = await trading.place_order(_intent(Side.SELL, "99.99", "4.000000", leg="sell"))
    # bids 1.5 @ 100.00 and 2.5 @ 99.99 fill all 4; a higher limit leaves a remainder
    assert report.status == OrderStatus.FILLED
    partial = await trading.place_order(_intent(Side.SELL, "99.98", "5.000000", leg="sell2"))
    assert partial.status == OrderStatus.CANCELED and partial.filled_size == "3.500000"
    again = await trading.get_order("BTC-USDT", partial.client_order_id)
    assert again == msgspec.structs.replace(partial, ts_sent=0, ts_ack=0)


@pytest.mark.integration
async def test_insufficient_balance_and_duplicate_id_are_bybit_refusals(
    trading: BybitTrading,
) -> None:
    with pytest.raises(InsufficientBalance) as error:
        await trading.place_order(_intent(Side.BUY, "100.02", "500.000000"))
    assert error.value.api_code == 170131
    await trading.place_order(_intent(Side.BUY, "100.01", "0.100000", leg="dup"))
    with pytest.raises(OrderRejected) as duplicate:
        await trading.place_order(_intent(Side.BUY, "100.01", "0.100000", leg="dup"))
    assert duplicate.value.api_code == 170141
    with pytest.raises(UnknownSymbol):
        await trading.place_order(_intent(Side.BUY, "1", "1", symbol="DOGE-USDT"))


@pytest.mark.integration
async def test_unknown_order_and_cancel_of_a_filled_order(trading: BybitTrading) -> None:
    with pytest.raises(UnknownOrder):
        await trading.get_order("BTC-USDT", BybitTrading.client_order_id("none", "buy"))
    with pytest.raises(UnknownOrder):
        await trading.cancel_order("BTC-USDT", BybitTrading.client_order_id("none", "buy"))
    filled = await trading.place_order(_intent(Side.BUY, "100.01", "0.100000"))
    cancelled = await trading.cancel_order("BTC-USDT", filled.client_order_id)
    assert cancelled.status == OrderStatus.FILLED and cancelled.filled_size == "0.100000"


@pytest.mark.integration
async def test_lost_response_is_not_resent_and_the_order_is_found_by_client_id(
    trading: BybitTrading, market: VenueMarket
) -> None:
    market.armed_faults.arm("lose_response")
    intent = _intent(Side.BUY, "100.01", "0.200000")
    with pytest.raises(VenueUnavailable):
        await trading.place_order(intent)
    assert market.orders_total == 1  # executed once, never re-sent
    found = await trading.get_order("BTC-USDT", intent.client_order_id)
    assert found.status == OrderStatus.FILLED and found.filled_size == "0.200000"


@pytest.mark.integration
async def test_stale_timestamp_is_refused_with_10002(server: TestServer) -> None:
    rest = RestClient("bybit", str(server.make_url("")), error_mapper=codes.map_response)
    credentials = Credentials(api_key=API_KEY, secret=SecretStr(SECRET))

    def stale() -> tuple[str, None, dict[str, str]]:
        signed = signing.sign(
            credentials,
            SignRequest(
                "GET", "/v5/account/wallet-balance", query="accountType=UNIFIED", timestamp_ms=1_000
            ),
        )
        return signed.query, None, signed.headers

    try:
        with pytest.raises(TimestampRejected) as error:
            await rest.request("GET", "/v5/account/wallet-balance", sign=stale)
        assert error.value.api_code == 10002
    finally:
        await rest.close()


DOC_ORDER_KEYS = {  # docs/v5/order/open-order response example
    "orderId",
    "orderLinkId",
    "blockTradeId",
    "symbol",
    "price",
    "qty",
    "side",
    "isLeverage",
    "positionIdx",
    "orderStatus",
    "cancelType",
    "rejectReason",
    "avgPrice",
    "leavesQty",
    "leavesValue",
    "cumExecQty",
    "cumExecValue",
    "cumExecFee",
    "timeInForce",
    "orderType",
    "stopOrderType",
    "orderIv",
    "triggerPrice",
    "takeProfit",
    "stopLoss",
    "tpTriggerBy",
    "slTriggerBy",
    "triggerDirection",
    "triggerBy",
    "lastPriceOnCreated",
    "reduceOnly",
    "closeOnTrigger",
    "smpType",
    "smpGroup",
    "smpOrderId",
    "tpslMode",
    "tpLimitPrice",
    "slLimitPrice",
    "placeType",
    "createdTime",
    "updatedTime",
    "cumFeeDetail",
}


@pytest.mark.integration
async def test_order_and_wallet_bodies_have_the_documented_keys(
    trading: BybitTrading, server: TestServer
) -> None:
    intent = _intent(Side.BUY, "100.01", "0.100000")
    await trading.place_order(intent)
    query = f"category=spot&symbol=BTCUSDT&orderLinkId={intent.client_order_id}"
    body = (
        await trading.rest.request(
            "GET",
            "/v5/order/realtime",
            sign=trading._signer("GET", "/v5/order/realtime", query=query),
        )
    ).body
    envelope = msgspec.json.decode(body)
    assert set(envelope) == {"retCode", "retMsg", "result", "retExtInfo", "time"}
    (order,) = envelope["result"]["list"]
    assert set(order) == DOC_ORDER_KEYS
    assert all(isinstance(order[k], str) for k in ("price", "qty", "cumExecQty", "avgPrice"))
    wallet = msgspec.json.decode(
        (
            await trading.rest.request(
                "GET",
                "/v5/account/wallet-balance",
                sign=trading._signer(
                    "GET", "/v5/account/wallet-balance", query="accountType=UNIFIED"
                ),
            )
        ).body
    )
    coin = wallet["result"]["list"][0]["coin"][0]
    assert {"coin", "walletBalance", "locked", "equity", "usdValue", "spotBorrow"} <= set(coin)
