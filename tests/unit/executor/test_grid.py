"""Hedge/unwind limits on the tick grid, inside the slippage bound; sizes on the lot grid."""

from __future__ import annotations

from decimal import Decimal

import pytest
from arb_executor.gateway import PaperGateway
from arb_executor.grid import bound_price, lot_size
from arb_executor.journal import MemoryJournal
from arb_executor.risk import RiskState
from arb_executor.saga import Saga, SagaPolicy
from arb_structs import Instrument
from arb_structs.trading import ExecutionStatus
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.executor.support import Books, opportunity, paper, view

pytestmark = pytest.mark.unit


def instrument(tick: str = "0.1", lot: str = "0.001", min_size: str = "0",
               min_notional: str = "0") -> Instrument:  # fmt: skip
    return Instrument(venue="x", symbol="BTC-USDT", venue_symbol="BTCUSDT", base="BTC",
                      quote="USDT", tick_size=tick, lot_size=lot, min_size=min_size,
                      min_notional=min_notional)  # fmt: skip


def test_buy_limit_rounds_down_to_the_tick_so_it_stays_inside_the_bound() -> None:
    # 60000.05 * 1.002 = 60120.0501 -> 60120.0 on a 0.1 tick (not 60120.1: beyond the bound)
    assert bound_price("60000.05", Decimal(20), buy=True, tick="0.1") == "60120"


def test_sell_limit_rounds_up_to_the_tick_so_it_stays_inside_the_bound() -> None:
    # 60000.05 * 0.998 = 59880.0499 -> 59880.1 on a 0.1 tick
    assert bound_price("60000.05", Decimal(20), buy=False, tick="0.1") == "59880.1"


def test_coarse_ticks_like_whole_dollars_and_half_units() -> None:
    assert bound_price("100.3", Decimal(50), buy=True, tick="0.5") == "100.5"  # 100.8015
    assert bound_price("100.3", Decimal(50), buy=False, tick="1") == "100"  # 99.7985 -> 100


def test_without_a_tick_the_price_keeps_its_own_decimals() -> None:
    assert bound_price("100.00", Decimal(20), buy=True) == "100.2"
    assert bound_price("101.00", Decimal(20), buy=False) == "100.8"


def test_zero_slippage_keeps_an_on_grid_price() -> None:
    assert bound_price("60000.1", Decimal(0), buy=True, tick="0.1") == "60000.1"
    assert bound_price("60000.1", Decimal(0), buy=False, tick="0.1") == "60000.1"


@given(
    cents=st.integers(min_value=1, max_value=10**9),
    bps=st.integers(min_value=0, max_value=500),
    tick=st.sampled_from(["0.01", "0.1", "0.5", "1", "5", "0.00001"]),
    buy=st.booleans(),
)
def test_limit_is_on_the_tick_and_never_beyond_the_bound(
    cents: int, bps: int, tick: str, buy: bool
) -> None:
    price = Decimal(cents) / 100
    limit = Decimal(bound_price(str(price), Decimal(bps), buy, tick))
    exact = price * (1 + Decimal(bps) / 10_000) if buy else price * (1 - Decimal(bps) / 10_000)
    assert limit % Decimal(tick) == 0
    assert limit > 0
    if buy:
        assert limit <= exact or limit == Decimal(tick)  # the smallest price is one tick
        assert exact - limit < Decimal(tick)
    else:
        assert limit >= exact and limit - exact < Decimal(tick)


def test_size_rounds_down_to_the_lot() -> None:
    assert lot_size(Decimal("0.0123456"), instrument(lot="0.001")) == Decimal("0.012")


def test_size_below_the_lot_or_minimum_cannot_be_sent() -> None:
    assert lot_size(Decimal("0.0004"), instrument(lot="0.001")) == 0
    assert lot_size(Decimal("0.004"), instrument(lot="0.001", min_size="0.005")) == 0


def test_size_below_the_minimum_notional_at_its_price_cannot_be_sent() -> None:
    # A 12-venue live run: 0.00000021 BTC left on the lot grid, 0.0126 USDT < Coinbase's 1 USDT
    grid = instrument(lot="0.00000001", min_notional="1")
    assert lot_size(Decimal("0.00000021"), grid, Decimal(60060)) == 0
    assert lot_size(Decimal("0.0001"), grid, Decimal(60060)) == Decimal("0.0001")
    assert lot_size(Decimal("0.00000021"), grid) == Decimal("0.00000021")  # no price: no check


def test_without_reference_data_the_size_is_kept() -> None:
    assert lot_size(Decimal("0.0123456"), None) == Decimal("0.0123456")


class GridPaper(PaperGateway):
    """A paper venue that knows its reference data, as a LiveGateway does."""

    def __init__(self, *args: object, grid: Instrument, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.grid = grid

    def instrument(self, symbol: str) -> Instrument | None:
        return self.grid


async def test_saga_unwinds_on_the_venue_grid_and_reports_the_dust_as_unhedged() -> None:
    books = Books(view("binance", bids=[(99.9, 1.0)], asks=[(100.0, 1.0)]),
                  view("okx", bids=[(101.0, 1.0)], asks=[(101.5, 1.0)]))  # fmt: skip
    buy_venue = GridPaper("binance", books, balances={"USDT": Decimal(1000)},
                          grid=instrument(tick="0.3", lot="0.3"))  # fmt: skip
    sell_venue = paper("okx", books)  # no BTC: the sell and its hedge are rejected
    saga = Saga({"binance": buy_venue, "okx": sell_venue}, MemoryJournal(), RiskState(),
                SagaPolicy(query_attempts=1, query_delay_s=0.0))  # fmt: skip
    result = await saga.execute(opportunity(), ts_received=1)  # buys 0.5 @ 100
    unwind = next(leg for leg in result.legs if leg.role == "unwind")
    assert unwind.intent.price == "99.9"  # 99.8 (20 bps) rounded up onto the 0.3 tick
    assert unwind.intent.size == "0.3"  # 0.5 rounded down onto the 0.3 lot
    assert result.status is ExecutionStatus.UNHEDGED and result.unhedged_size == "0.2"


@pytest.mark.parametrize(
    ("sold", "buy_grid", "sell_grid", "left"),
    [
        # The sell fills 0.4 of 0.5 (0.1 lots there): the 0.1 left cannot be sold on okx (its
        # minimum is 0.2) nor sold back on binance (0.3 lots).
        (0.4, instrument(tick="0.1", lot="0.3"),
         instrument(tick="0.1", lot="0.1", min_size="0.2"), "0.1"),
        # On both lots (0.01) but worth 1 USDT where both venues ask 5 (a 12-venue live run:
        # 0.00000021 BTC after a Coinbase partial fill, under its 1 USDT minimum notional).
        (0.49, instrument(tick="0.1", lot="0.01", min_notional="5"),
         instrument(tick="0.1", lot="0.01", min_notional="5"), "0.01"),
    ],
    ids=["below-the-lot-or-minimum", "below-the-minimum-notional"],
)  # fmt: skip
async def test_a_leftover_no_order_can_close_on_either_venue_is_dust_not_exposure(
    sold: float, buy_grid: Instrument, sell_grid: Instrument, left: str
) -> None:
    books = Books(view("binance", bids=[(99.9, 1.0)], asks=[(100.0, 1.0)]),
                  view("okx", bids=[(101.0, sold)], asks=[(101.5, 1.0)]))  # fmt: skip
    buy_venue = GridPaper("binance", books, balances={"USDT": Decimal(1000)}, grid=buy_grid)
    sell_venue = GridPaper("okx", books, balances={"BTC": Decimal(1)}, grid=sell_grid)
    risk = RiskState()
    saga = Saga({"binance": buy_venue, "okx": sell_venue}, MemoryJournal(), risk,
                SagaPolicy(query_attempts=1, query_delay_s=0.0))  # fmt: skip
    result = await saga.execute(opportunity(), ts_received=1)  # buys 0.5 @ 100, sells `sold`
    assert result.status is ExecutionStatus.HEDGED
    assert result.unhedged_size == left and "dust" in result.reason
    assert not [leg for leg in result.legs if leg.role in ("hedge", "unwind")]  # none refused
    assert not risk.pair_blocked_until and not risk.exposure  # the pair trades on
