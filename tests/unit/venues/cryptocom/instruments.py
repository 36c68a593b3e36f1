"""Crypto.com instruments, the test account, the simulator market the Crypto.com tests run on
(60 levels a side at fixed prices and sizes, so tests know every level), and the docs' own
example messages (https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html)."""

from __future__ import annotations

from decimal import Decimal

from arb_simulator import Account, VenueMarket, venue_market
from arb_structs import Instrument

D = Decimal
API_KEY = "test-key-0001"
SECRET = "test-secret-0001"

BTC = Instrument(
    venue="cryptocom",
    symbol="BTC-USDT",
    venue_symbol="BTC_USDT",
    base="BTC",
    quote="USDT",
    tick_size="0.01",
    lot_size="0.00001",
    min_size="0.00001",
    min_notional="1",
    price_decimals=2,
    size_decimals=5,
)
ETH = Instrument(
    venue="cryptocom",
    symbol="ETH-USDT",
    venue_symbol="ETH_USDT",
    base="ETH",
    quote="USDT",
    tick_size="0.01",
    lot_size="0.0001",
    min_size="0.0001",
    min_notional="1",
    price_decimals=2,
    size_decimals=4,
)


def cryptocom_market() -> VenueMarket:
    """BTC-USDT bids 100.00 down (1.5, 2.5, ...), asks 100.01 up (2.0, 3.0, ...); ETH-USDT 10
    a level around 20.00 / 20.01; the account holds 10,000 USDT and 10 BTC."""
    account = Account(API_KEY, SECRET, balances={"USDT": "10000", "BTC": "10"})
    market = venue_market("cryptocom", instruments=[BTC, ETH], accounts=[account])
    market.set_book(
        BTC.symbol,
        bids=[(D("100.00") - D("0.01") * i, D("1.5") + i) for i in range(60)],
        asks=[(D("100.01") + D("0.01") * i, D("2.0") + i) for i in range(60)],
    )
    market.set_book(
        ETH.symbol,
        bids=[(D("20.00") - D("0.01") * i, D("10")) for i in range(60)],
        asks=[(D("20.01") + D("0.01") * i, D("10")) for i in range(60)],
    )
    return market


# -- the docs' example messages ("book.{instrument_name}.{depth}", delta subscription) --------
# The update below is the docs' book.update example (u 78795598253024, pu 78795598162080,
# t/tt and the first levels as published); the snapshot is the docs' book example shape at the
# u that update continues, and the two updates after it continue the chain.

DOC_SNAPSHOT = (
    '{"id":-1,"method":"subscribe","code":0,"result":{"instrument_name":"BTC_USDT",'
    '"subscription":"book.BTC_USDT.50","channel":"book","depth":50,"data":[{'
    '"asks":[["43755.46","0.10000","1"],["43755.47","0.40000","2"]],'
    '"bids":[["43737.46","0.14096","1"],["43737.45","1.00000","3"]],'
    '"t":1704484068890,"tt":1704484068885,"u":78795598162080,"cs":1135296112}]}}'
)
DOC_UPDATE = (
    '{"id":-1,"method":"subscribe","code":0,"result":{"instrument_name":"BTC_USDT",'
    '"subscription":"book.BTC_USDT.50","channel":"book.update","depth":50,"data":[{'
    '"update":{"asks":[["43755.46","0.10000","1"]],"bids":[["43737.46","0.14096","1"]]},'
    '"t":1704484068898,"tt":1704484068892,"u":78795598253024,"pu":78795598162080,'
    '"cs":-781431132}]}}'
)
DOC_UPDATE_2 = (
    '{"id":-1,"method":"subscribe","code":0,"result":{"instrument_name":"BTC_USDT",'
    '"subscription":"book.BTC_USDT.50","channel":"book.update","depth":50,"data":[{'
    '"update":{"asks":[["43755.46","0","0"]],"bids":[["43737.50","0.25000","1"]]},'
    '"t":1704484068908,"tt":1704484068904,"u":78795598303024,"pu":78795598253024,'
    '"cs":12345}]}}'
)
DOC_EMPTY_UPDATE = (  # no book change: an empty delta still comes (change log 2024-01-04)
    '{"id":-1,"method":"subscribe","code":0,"result":{"instrument_name":"BTC_USDT",'
    '"subscription":"book.BTC_USDT.50","channel":"book.update","depth":50,"data":[{'
    '"update":{},"t":1704484069408,"tt":1704484068904,"u":78795598353024,'
    '"pu":78795598303024,"cs":12345}]}}'
)
DOC_HEARTBEAT = '{"id":1587523073344,"method":"public/heartbeat","code":0}'
DOC_GET_BOOK = (  # public/get-book's documented answer (BTCUSD-PERP, depth 10), two levels a side
    '{"code":0,"method":"public/get-book","result":{"depth":10,"data":[{'
    '"asks":[["50126.000000","0.400000","0"],["50130.000000","1.279000","0"]],'
    '"bids":[["50113.500000","0.400000","0"],["50113.000000","0.051800","0"]]}],'
    '"instrument_name":"BTCUSD-PERP"}}'
)
