"""True PnL of a set of legs: realised on closed (matched) quantity only, the rest is open.

For the fills of some legs (any mix of buys and sells of one symbol):

    bought, sold          base filled by the buys / the sells
    buy_quote, sell_quote quote they moved (the venue's exact quote amount where it gives one)
    fees                  every fill's fee in quote (a base-asset fee valued at its fill price)
    matched               min(bought, sold): the quantity bought and sold again
    realised              matched x (average sell - average buy) - fees (computed from the
                          sides' quote amounts, so a flat result is its exact cash)
    net                   bought - sold: the open position (+ long, - short), exposure
    entry                 the average price of the open side (buys if long, sells if short)
    unrealised            net x (mark - entry), with mark the price the open part could be
                          closed at now (best bid when long, best ask when short)

The cash the legs moved is ``realised - net x entry``: an open leg's cash is never profit.
Fees are always realised: they are paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from arb_structs import BookView, OrderReport
from arb_structs.trading import LegResult, Side

from arb_executor.gateway import split_symbol

ZERO = Decimal(0)


def _dec(text: str) -> Decimal:
    return Decimal(text or "0")


def filled(leg: LegResult) -> Decimal:
    return _dec(leg.report.filled_size) if leg.report is not None else ZERO


def quote_of(report: OrderReport) -> Decimal:
    """Quote amount of an order's fills: the venue's exact figure, else size x average."""
    if report.quote_filled:
        return _dec(report.quote_filled)
    return _dec(report.filled_size) * _dec(report.avg_price)


def fee_in_quote(report: OrderReport, symbol: str) -> Decimal:
    """The order's fee in quote: as charged in quote, or a base fee at the fill price."""
    base, quote = split_symbol(symbol)
    fee = _dec(report.fee)
    if not fee or report.fee_asset in ("", quote):
        return fee
    if report.fee_asset == base:
        size = _dec(report.filled_size)
        return fee * (quote_of(report) / size) if size else ZERO
    return ZERO  # a third asset (a venue token): not valued here


@dataclass(frozen=True)
class Pnl:
    realised: Decimal
    fees: Decimal
    net: Decimal
    entry: Decimal
    bought: Decimal
    sold: Decimal

    @property
    def cash(self) -> Decimal:
        """Quote the legs moved, fees included (+ received)."""
        return self.realised - self.net * self.entry

    def unrealised(self, mark: Decimal | None) -> Decimal:
        return self.net * (mark - self.entry) if self.net and mark else ZERO


def settle(symbol: str, legs: Sequence[LegResult]) -> Pnl:
    bought = sold = buy_quote = sell_quote = fees = ZERO
    for leg in legs:
        report = leg.report
        if report is None or not filled(leg):
            continue
        if leg.intent.side is Side.BUY:
            bought += filled(leg)
            buy_quote += quote_of(report)
        else:
            sold += filled(leg)
            sell_quote += quote_of(report)
        fees += fee_in_quote(report, symbol)
    avg_buy = buy_quote / bought if bought else ZERO
    avg_sell = sell_quote / sold if sold else ZERO
    matched = min(bought, sold)
    net = bought - sold
    entry = avg_buy if net > 0 else avg_sell if net < 0 else ZERO
    # The matched share of each side's quote; the whole side exactly when all of it matched
    # (no rounded average in a flat result).
    sell_part = sell_quote if matched == sold else sell_quote * matched / sold
    buy_part = buy_quote if matched == bought else buy_quote * matched / bought
    realised = sell_part - buy_part - fees
    return Pnl(realised=realised, fees=fees, net=net, entry=entry, bought=bought, sold=sold)


def exit_price(view: BookView | None, net: Decimal) -> Decimal | None:
    """What an open position could be closed at now: best bid when long, best ask when
    short; None without a view (or an empty side)."""
    if view is None or not net:
        return None
    side = view.bids if net > 0 else view.asks
    return Decimal(repr(side[0][0])) if side else None
