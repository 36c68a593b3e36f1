"""Order matching against a venue book: IOC/FOK/GTC, partial fills, fees, balances, errors."""

from __future__ import annotations

import itertools
from decimal import ROUND_HALF_UP, Decimal

import pytest
from arb_simulator import Market, MarketConfig, VenueMarket, default_credentials
from arb_simulator.accounts import Account
from arb_structs import Side
from arb_venues.simapi import SimBookUpdate, SimOrderError

pytestmark = pytest.mark.unit


def make(venue: str = "binance") -> VenueMarket:
    ticks = itertools.count()
    market = Market(
        MarketConfig(venues=(venue,), symbols=("BTC-USDT", "ETH-USDT")),
        clock_ns=lambda: 1_000 + next(ticks),
    )
    return VenueMarket(market, venue)


def key(venue: str = "binance") -> str:
    return default_credentials(venue).api_key


def test_ioc_buy_takes_asks_up_to_the_limit_and_cancels_the_rest() -> None:
    vm = make()
    book = vm.book("BTC-USDT")
    (p1, s1), (p2, s2), (p3, _) = book.asks[:3]
    before = vm.balances(key())
    seen: list[SimBookUpdate] = []
    vm.subscribe(seen.append)
    want = s1 + s2 + Decimal("5")  # more than the two levels the limit reaches
    order = vm.place_order(key(), "BTC-USDT", Side.BUY, p2, want, "IOC", "cid-1")
    assert order.status == "canceled"
    assert order.fills == [(p1, s1), (p2, s2)]
    assert order.filled == s1 + s2
    assert order.quote_filled == p1 * s1 + p2 * s2
    assert order.avg_price == order.quote_filled / order.filled
    # Binance charges the taker fee (10 bps) in the asset received: BTC on a buy.
    assert order.fee_asset == "BTC"
    assert order.fee == (order.filled * Decimal("0.001")).quantize(Decimal("1e-8"), ROUND_HALF_UP)
    after = vm.balances(key())
    assert after["USDT"][0] == before["USDT"][0] - order.quote_filled
    assert after["BTC"][0] == before["BTC"][0] + order.filled - order.fee
    # The consumed levels left the book, in one update to listeners.
    assert len(seen) == 1 and seen[0].seq == book.seq + 1
    assert seen[0].asks == [(p1, Decimal(0)), (p2, Decimal(0))]
    assert vm.book("BTC-USDT").asks[0][0] == p3


def test_ioc_sell_partially_consumes_a_level_and_fills_fully() -> None:
    vm = make()
    (p1, s1), _ = vm.book("ETH-USDT").bids[:2]
    size = (s1 / 2).quantize(Decimal("0.0001"))
    order = vm.place_order(key(), "ETH-USDT", Side.SELL, p1, size, "IOC", "cid-2")
    assert order.status == "filled" and order.fills == [(p1, size)]
    assert order.fee_asset == "USDT"
    assert order.fee == (p1 * size * Decimal("0.001")).quantize(Decimal("1e-8"), ROUND_HALF_UP)
    assert vm.book("ETH-USDT").bids[0] == (p1, s1 - size)


def test_ioc_with_a_limit_away_from_the_book_fills_nothing() -> None:
    vm = make()
    best_ask = vm.book("BTC-USDT").asks[0][0]
    before = vm.balances(key())
    order = vm.place_order(
        key(), "BTC-USDT", Side.BUY, best_ask - Decimal("1"), Decimal("0.01"), "IOC", "x"
    )
    assert order.status == "canceled" and order.filled == 0 and order.fills == []
    assert vm.balances(key()) == before


def test_quote_fee_venue_charges_the_quote_asset_on_buys() -> None:
    vm = make("coinbase")
    p1, s1 = vm.book("BTC-USDT").asks[0]
    before = vm.balances(key("coinbase"))
    order = vm.place_order(key("coinbase"), "BTC-USDT", Side.BUY, p1, s1, "IOC", "cb-1")
    assert order.status == "filled" and order.fee_asset == "USDT"
    after = vm.balances(key("coinbase"))
    assert after["USDT"][0] == before["USDT"][0] - order.quote_filled - order.fee
    assert after["BTC"][0] == before["BTC"][0] + s1


def test_fok_fills_all_or_nothing() -> None:
    vm = make()
    p1, s1 = vm.book("BTC-USDT").asks[0]
    too_big = vm.place_order(key(), "BTC-USDT", Side.BUY, p1, s1 + Decimal("0.001"), "FOK", "f1")
    assert too_big.status == "expired" and too_big.filled == 0
    exact = vm.place_order(key(), "BTC-USDT", Side.BUY, p1, s1, "FOK", "f2")
    assert exact.status == "filled" and exact.filled == s1


def test_gtc_remainder_stays_open_with_funds_locked_until_cancelled() -> None:
    vm = make()
    best_bid = vm.book("BTC-USDT").bids[0][0]
    price, size = best_bid - Decimal("100"), Decimal("0.5")
    order = vm.place_order(key(), "BTC-USDT", Side.BUY, price, size, "GTC", "g1")
    assert order.status == "new"
    free, locked = vm.balances(key())["USDT"]
    assert locked == price * size
    cancelled = vm.cancel_order(key(), "BTC-USDT", client_order_id="g1")
    assert cancelled is order and order.status == "canceled"
    assert vm.balances(key())["USDT"] == (free + price * size, Decimal(0))
    # Cancelling again leaves it as it is.
    assert vm.cancel_order(key(), "BTC-USDT", order_id=order.order_id) is order


def test_orders_are_found_by_client_id_or_order_id_only_for_their_symbol() -> None:
    vm = make()
    p1 = vm.book("BTC-USDT").asks[0][0]
    order = vm.place_order(key(), "BTC-USDT", Side.BUY, p1, Decimal("0.001"), "IOC", "find-me")
    assert vm.get_order(key(), "BTC-USDT", client_order_id="find-me") is order
    assert vm.get_order(key(), "BTC-USDT", order_id=order.order_id) is order
    assert vm.get_order(key(), "ETH-USDT", client_order_id="find-me") is None
    assert vm.get_order(key(), "BTC-USDT", client_order_id="nope") is None


@pytest.mark.parametrize(
    ("symbol", "price", "size", "kind"),
    [
        ("DOGE-USDT", "1", "1", "unknown_symbol"),
        ("BTC-USDT", "60000.001", "0.001", "invalid_price"),
        ("BTC-USDT", "-1", "0.001", "invalid_price"),
        ("BTC-USDT", "60000", "0.000001", "invalid_quantity"),
        ("BTC-USDT", "60000", "0", "invalid_quantity"),
        ("BTC-USDT", "100", "0.00002", "invalid_quantity"),  # below min notional 5
        ("BTC-USDT", "60000", "500", "insufficient_balance"),
    ],
)
def test_bad_orders_are_refused_with_their_kind(
    symbol: str, price: str, size: str, kind: str
) -> None:
    vm = make()
    before = vm.balances(key())
    with pytest.raises(SimOrderError) as refused:
        vm.place_order(key(), symbol, Side.BUY, Decimal(price), Decimal(size), "IOC", "bad")
    assert refused.value.kind == kind
    assert vm.balances(key()) == before


def test_duplicate_client_order_id_is_refused() -> None:
    vm = make()
    p1 = vm.book("BTC-USDT").asks[0][0]
    vm.place_order(key(), "BTC-USDT", Side.BUY, p1, Decimal("0.001"), "IOC", "once")
    with pytest.raises(SimOrderError) as refused:
        vm.place_order(key(), "BTC-USDT", Side.BUY, p1, Decimal("0.001"), "IOC", "once")
    assert refused.value.kind == "duplicate_client_order_id"


def test_reject_and_partial_fill_faults_apply_to_orders() -> None:
    vm = make()
    p1, s1 = vm.book("BTC-USDT").asks[0]
    vm.armed_faults.arm("reject_order")
    with pytest.raises(SimOrderError) as refused:
        vm.place_order(key(), "BTC-USDT", Side.BUY, p1, s1, "IOC", "r1")
    assert refused.value.kind == "rejected"
    vm.armed_faults.arm("partial_fill", symbol="BTC-USDT")
    order = vm.place_order(key(), "BTC-USDT", Side.BUY, p1, s1, "IOC", "r2")
    assert order.status == "canceled" and 0 < order.filled < s1


def test_accounts_know_their_secrets_and_unknown_keys_are_refused() -> None:
    vm = make("okx")
    creds = default_credentials("okx")
    assert vm.secret_for(creds.api_key) == creds.secret
    assert vm.passphrase_for(creds.api_key) == creds.passphrase
    assert vm.secret_for("someone-else") is None
    vm.add_account(Account("k2", "s2", balances={"USDT": "10"}))
    assert vm.balances("k2") == {"USDT": (Decimal(10), Decimal(0))}
    p1 = vm.book("BTC-USDT").asks[0][0]
    with pytest.raises(SimOrderError) as refused:
        vm.place_order("k2", "BTC-USDT", Side.BUY, p1, Decimal("0.01"), "IOC", "poor")
    assert refused.value.kind == "insufficient_balance"


def test_taking_the_dislocated_level_uses_it_up() -> None:
    vm = make("okx")
    vm.market.inject("okx", "BTC-USDT", "down", bps=40.0, size=0.25, duration_s=5.0)
    price, size = vm.book("BTC-USDT").asks[0]
    assert size == Decimal("0.25")
    order = vm.place_order(key("okx"), "BTC-USDT", Side.BUY, price, Decimal("1"), "IOC", "arb")
    assert order.filled == Decimal("0.25") and order.fills == [(price, Decimal("0.25"))]
    for _ in range(10):
        vm.market.step()
    assert vm.book("BTC-USDT").asks[0][0] > price  # not refilled while it lasts


def test_coinbase_default_secret_is_an_ec_p256_pem_key() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = default_credentials("coinbase").secret
    key_obj = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key_obj, ec.EllipticCurvePrivateKey)
    assert key_obj.curve.name == "secp256r1"
    assert default_credentials("coinbase").secret == pem  # deterministic
