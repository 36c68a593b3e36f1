"""Hand-computed books through the sizing search; the arithmetic is in the comments."""

from __future__ import annotations

import pytest
from arb_detector.sizing import Rejection, SizingLimits, Trade, find_best_trade

pytestmark = pytest.mark.unit

FEE10 = 0.001  # 10 bps taker


def trade_of(result: Trade | Rejection) -> Trade:
    assert isinstance(result, Trade), f"expected a trade, got {result!r}"
    return result


def test_fees_turn_a_positive_gross_spread_negative():
    # gross: 100.15 - 100.00 = +0.15 per unit (15 bps)
    # net:   100.15 * 0.999 - 100.00 * 1.001 = 100.04985 - 100.1 = -0.05015 per unit
    result = find_best_trade(
        [(100.0, 1.0)], [(100.15, 1.0)], SizingLimits(buy_fee=FEE10, sell_fee=FEE10, step=0.01)
    )
    assert result is Rejection.NO_EDGE


def test_single_level_spread_net_of_both_fees():
    # per unit: 101 * 0.999 - 100 * 1.001 = 100.899 - 100.1 = 0.799; depth 1 on both sides
    trade = trade_of(
        find_best_trade(
            [(100.0, 1.0)], [(101.0, 1.0)], SizingLimits(buy_fee=FEE10, sell_fee=FEE10, step=0.01)
        )
    )
    assert trade.lots == 100
    assert trade.size == pytest.approx(1.0)
    assert trade.gross_profit == pytest.approx(1.0)
    assert trade.net_profit == pytest.approx(0.799)
    assert trade.edge_bps == pytest.approx(79.9)  # 0.799 / 100 notional * 1e4
    assert (trade.buy_worst, trade.sell_worst) == (100.0, 101.0)


# A thin top ask (0.1) with a second level that still pays, and a third that does not.
ASKS = [(100.0, 0.1), (100.2, 2.0), (101.5, 5.0)]
BIDS = [(101.0, 5.0)]
# sell proceeds per unit: 101 * 0.999 = 100.899
# level 1 cost 100 * 1.001 = 100.1      -> marginal +0.799
# level 2 cost 100.2 * 1.001 = 100.3002 -> marginal +0.5988
# level 3 cost 101.5 * 1.001 = 101.6015 -> marginal -0.7025: stop at 0.1 + 2.0 = 2.1


def test_walk_takes_the_thin_top_and_the_second_level_that_still_pays():
    trade = trade_of(find_best_trade(ASKS, BIDS, SizingLimits(FEE10, FEE10, step=0.001)))
    assert trade.lots == 2100
    # N = 0.1 * 100 + 2.0 * 100.2 = 10 + 200.4 = 210.4; S = 2.1 * 101 = 212.1
    assert trade.buy_notional == pytest.approx(210.4)
    assert trade.sell_notional == pytest.approx(212.1)
    assert trade.gross_profit == pytest.approx(1.7)
    # net = 0.1 * 0.799 + 2.0 * 0.5988 = 0.0799 + 1.1976 = 1.2775
    assert trade.net_profit == pytest.approx(1.2775)
    assert trade.edge_bps == pytest.approx(1.2775 / 210.4 * 1e4)
    assert trade.buy_worst == 100.2
    assert trade.buy_vwap == pytest.approx(210.4 / 2.1)


def test_quote_balance_on_the_buy_venue_caps_the_size_fee_included():
    # 150.15 quote pays 150.15 / 1.001 = 150 of notional: 10 on level 1 (0.1),
    # 140 / 100.2 = 1.39720... on level 2 -> 1.49720...; on the 0.001 grid: 1.497
    # check 1.497: N = 10 + 1.397 * 100.2 = 149.9794; * 1.001 = 150.1294 <= 150.15
    # check 1.498: N = 10 + 1.398 * 100.2 = 150.0796; * 1.001 = 150.2297 >  150.15
    trade = trade_of(
        find_best_trade(ASKS, BIDS, SizingLimits(FEE10, FEE10, step=0.001, quote_available=150.15))
    )
    assert trade.lots == 1497
    assert trade.buy_notional == pytest.approx(149.9794)
    # net = 0.1 * 0.799 + 1.397 * 0.5988 = 0.0799 + 0.8365236 = 0.9164236
    assert trade.net_profit == pytest.approx(0.9164236)


def test_base_balance_on_the_sell_venue_caps_the_size():
    # 0.75 base to sell: net = 0.1 * 0.799 + 0.65 * 0.5988 = 0.0799 + 0.38922 = 0.46912
    trade = trade_of(
        find_best_trade(ASKS, BIDS, SizingLimits(FEE10, FEE10, step=0.001, base_available=0.75))
    )
    assert trade.lots == 750
    assert trade.net_profit == pytest.approx(0.46912)


def test_no_whole_lot_under_the_caps_is_no_capacity():
    # 0.0009 base available, lot 0.001: not one lot
    result = find_best_trade(ASKS, BIDS, SizingLimits(FEE10, FEE10, 0.001, base_available=0.0009))
    assert result is Rejection.NO_CAPACITY


def test_common_lot_step_rounds_down_inside_the_depth():
    # lots 0.002 and 0.003 -> common step 0.006; ask depth 0.05 -> floor(0.05 / 0.006) = 8
    # -> 0.048; net = 0.048 * (101 - 100) = 0.048 (no fees)
    trade = trade_of(find_best_trade([(100.0, 0.05)], [(101.0, 1.0)], SizingLimits(0, 0, 0.006)))
    assert trade.lots == 8
    assert trade.size == pytest.approx(0.048)
    assert trade.net_profit == pytest.approx(0.048)


def test_rounding_up_across_a_level_boundary_wins_when_it_pays():
    # the profit peak is at 0.0105 (end of the first ask level), between grid points
    # 0.010: 0.010 * (101 - 100)                            = 0.01000
    # 0.011: 0.0105 * (101 - 100) + 0.0005 * (101 - 101.5)  = 0.01025  <- better
    trade = trade_of(
        find_best_trade([(100.0, 0.0105), (101.5, 1.0)], [(101.0, 1.0)], SizingLimits(0, 0, 0.001))
    )
    assert trade.lots == 11
    assert trade.net_profit == pytest.approx(0.01025)
    assert trade.buy_worst == 101.5  # the IOC limit must reach the second level


def test_min_notional_that_depth_cannot_reach_is_below_minimum():
    # depth 0.05 at 100 = 5 quote < 10 minimum
    result = find_best_trade(
        [(100.0, 0.05)], [(101.0, 1.0)], SizingLimits(0, 0, 0.001, min_notional_buy=10.0)
    )
    assert result is Rejection.BELOW_MINIMUM


def test_min_notional_forces_a_size_past_the_profit_peak_while_still_profitable():
    # peak at 0.02 (ask 100 vs bid 101); after it ask 100.7 vs bid 100.5: -0.2 per unit
    # the sell venue wants >= 5 quote: 2.02 + (q - 0.02) * 100.5 >= 5 -> q >= 0.049652 -> 0.050
    # 0.050: N = 0.02 * 100 + 0.03 * 100.7 = 5.021; S = 2.02 + 0.03 * 100.5 = 5.035
    #        net = 5.035 - 5.021 = 0.014
    trade = trade_of(
        find_best_trade(
            [(100.0, 0.02), (100.7, 1.0)],
            [(101.0, 0.02), (100.5, 5.0)],
            SizingLimits(0, 0, 0.001, min_notional_sell=5.0),
        )
    )
    assert trade.lots == 50
    assert trade.sell_notional == pytest.approx(5.035)
    assert trade.net_profit == pytest.approx(0.014)


def test_min_size_of_the_stricter_venue_applies():
    # optimum would be 0.02, min size 0.03: 0.02 * 1 + 0.01 * (100.5 - 100.7) = 0.018
    trade = trade_of(
        find_best_trade(
            [(100.0, 0.02), (100.7, 1.0)],
            [(101.0, 0.02), (100.5, 5.0)],
            SizingLimits(0, 0, 0.001, min_size=0.03),
        )
    )
    assert trade.lots == 30
    assert trade.net_profit == pytest.approx(0.018)


def test_max_notional_caps_the_buy_notional():
    # 55.55 / 100 = 0.5555 -> 0.55 on the 0.01 grid; net = 0.55 * 1 = 0.55
    trade = trade_of(
        find_best_trade(
            [(100.0, 1.0)], [(101.0, 1.0)], SizingLimits(0, 0, 0.01, max_notional=55.55)
        )
    )
    assert trade.lots == 55
    assert trade.buy_notional == pytest.approx(55.0)
    assert trade.net_profit == pytest.approx(0.55)


def test_edge_threshold_shrinks_the_size_instead_of_dropping_the_trade():
    # no fees, threshold 160 bps. Profit peaks at q = 2 with edge
    # (2 * 1 + 1.1) / (100 + 100.9) = 3.1 / 200.9 = 154.3 bps < 160: too thin on average.
    # G(q) = S - 1.016 N >= 0 <=> edge >= 160 bps:
    # level 1: slope 102 - 101.6 = 0.4, G(1) = 0.4
    # level 2: slope 102 - 1.016 * 100.9 = -0.5144 -> G = 0 at 1 + 0.4 / 0.5144 = 1.7776
    # grid 0.01: 1.77 -> N = 100 + 0.77 * 100.9 = 177.693, S = 180.54, net = 2.847,
    #                    edge = 2.847 / 177.693 = 160.22 bps
    # (1.78 -> net 2.858, edge 159.93 bps: below the threshold)
    trade = trade_of(
        find_best_trade(
            [(100.0, 1.0), (100.9, 1.0)], [(102.0, 2.0)], SizingLimits(0, 0, 0.01, min_edge=0.016)
        )
    )
    assert trade.lots == 177
    assert trade.net_profit == pytest.approx(2.847)
    assert trade.edge_bps == pytest.approx(2.847 / 177.693 * 1e4)
    assert trade.edge_bps >= 160.0


def test_top_of_book_below_the_threshold_is_no_edge():
    # first unit: 100.5 / 100 - 1 = 50 bps < 60 bps
    result = find_best_trade(
        [(100.0, 1.0)], [(100.5, 1.0)], SizingLimits(0, 0, 0.01, min_edge=0.006)
    )
    assert result is Rejection.NO_EDGE


def test_empty_side_is_no_edge():
    assert find_best_trade([], [(101.0, 1.0)], SizingLimits(0, 0, 0.01)) is Rejection.NO_EDGE
