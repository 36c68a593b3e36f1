from __future__ import annotations

from decimal import Decimal

import pytest
from arb_executor.risk import RiskLimits, RiskState

from tests.unit.executor.support import opportunity

pytestmark = pytest.mark.unit

RICH = {("binance", "USDT"): Decimal(1000), ("okx", "BTC"): Decimal(1)}


def free(venue: str, asset: str) -> Decimal:
    return RICH.get((venue, asset), Decimal(0))


def test_kill_switch_refuses_before_anything_else() -> None:
    opp = opportunity()
    assert RiskState().check(opp, opp.ts_detect, free, killed=True) == "kill_switch"
    assert RiskState().check(opp, opp.ts_detect, free, killed=False) == ""


def test_consecutive_errors_open_the_venue_breaker_until_the_cooldown_ends() -> None:
    risk = RiskState(RiskLimits(breaker_errors=2, breaker_cooldown_ns=1000))
    opp = opportunity()
    now = opp.ts_detect
    risk.order_error("okx", now)
    risk.order_ok("okx")
    risk.order_error("okx", now)
    assert risk.check(opp, now, free, killed=False) == ""  # not consecutive
    risk.order_error("okx", now)
    assert risk.check(opp, now, free, killed=False) == "breaker_open"
    assert risk.check(opp, now + 1000, free, killed=False) == ""


@pytest.mark.parametrize(
    ("opp_kwargs", "limits", "reason"),
    [
        (
            {"size": "0.5", "buy_price": "100.00"},
            RiskLimits(max_notional=Decimal(49)),
            "max_notional",
        ),
        ({"size": "10"}, RiskLimits(max_notional=Decimal(10**6)), "insufficient_quote"),
        ({"size": "2", "buy_price": "1.00"}, RiskLimits(), "insufficient_base"),
        ({}, RiskLimits(max_open_exposure=Decimal(49)), "max_exposure"),
    ],
)
def test_limits_refuse_with_their_reason(
    opp_kwargs: dict[str, str], limits: RiskLimits, reason: str
) -> None:
    opp = opportunity(**opp_kwargs)  # type: ignore[arg-type]
    assert RiskState(limits).check(opp, opp.ts_detect, free, killed=False) == reason


def test_cooldown_and_daily_loss_refuse_after_a_losing_trade() -> None:
    risk = RiskState(RiskLimits(pair_cooldown_ns=1000, daily_loss_limit=Decimal(1)))
    opp = opportunity()
    now = opp.ts_detect
    risk.traded(opp, now, Decimal("-1.5"))
    assert risk.check(opp, now + 10, free, killed=False) == "cooldown"
    assert risk.check(opp, now + 1000, free, killed=False) == "daily_loss"


def test_the_daily_loss_limit_counts_the_marked_loss_of_open_exposure_not_its_gain() -> None:
    risk = RiskState(RiskLimits(pair_cooldown_ns=0, daily_loss_limit=Decimal(10)))
    opp = opportunity()
    risk.traded(opp, opp.ts_detect, Decimal("-4"))
    risk.unrealised = Decimal("-5.99")  # an open position marked 5.99 under its entry
    assert risk.loss() == Decimal("9.99")
    assert risk.check(opp, opp.ts_detect, free, killed=False) == ""
    risk.unrealised = Decimal("-6")
    assert risk.check(opp, opp.ts_detect, free, killed=False) == "daily_loss"
    risk.unrealised = Decimal("100")  # an open gain is not profit yet: it offsets nothing
    assert risk.loss() == Decimal(4)


def test_an_unexplained_asset_refuses_every_symbol_that_has_it() -> None:
    risk = RiskState(RiskLimits(pair_cooldown_ns=0))
    opp = opportunity()
    risk.blocked_assets = {"USDT": "unexplained -10 on binance"}
    assert risk.check(opp, opp.ts_detect, free, killed=False) == "exposure_unexplained"
    risk.blocked_assets = {"ETH": "unexplained 1 on okx"}
    assert risk.check(opp, opp.ts_detect, free, killed=False) == ""
