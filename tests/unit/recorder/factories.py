"""Messages as the executor publishes them, for the recorder, trades/pnl, alert and dashboard
tests: opportunities, results with their legs (PnL and fees consistent with the fills),
exposure events."""

from __future__ import annotations

import time
from decimal import Decimal

from arb_structs import (
    ExecutionResult,
    ExecutionStatus,
    ExposureEvent,
    ExposureKind,
    LegResult,
    Opportunity,
    OrderIntent,
    OrderReport,
    OrderStatus,
    Side,
)

FEE = Decimal("0.001")


def opportunity(
    number: int,
    *,
    symbol: str = "BTC-USDT",
    buy_venue: str = "binance",
    sell_venue: str = "okx",
    size: str = "0.5",
    buy_price: str = "100",
    sell_price: str = "101",
    ts: int | None = None,
) -> Opportunity:
    now = ts or time.time_ns()
    q, pb, ps = Decimal(size), Decimal(buy_price), Decimal(sell_price)
    gross = q * (ps - pb)
    net = gross - q * (pb + ps) * FEE
    return Opportunity(
        id=f"opp-{number}", symbol=symbol, buy_venue=buy_venue, sell_venue=sell_venue,
        size=size, buy_price=buy_price, sell_price=sell_price, buy_vwap=float(pb),
        sell_vwap=float(ps), gross_profit=float(gross), net_profit=float(net),
        edge_bps=float(net / (q * pb) * 10_000), buy_seq=number, sell_seq=number,
        expires_ns=now + 10**9, ts_event_buy=now, ts_event_sell=now, ts_recv=now, ts_book=now,
        ts_detect=now, quote=symbol.split("-")[1],
    )  # fmt: skip


def _leg(role: str, venue: str, opp: Opportunity, side: Side, price: str, size: str,
         filled: str, fill_price: str, status: OrderStatus) -> LegResult:  # fmt: skip
    fee = Decimal(filled) * Decimal(fill_price) * FEE
    intent = OrderIntent(venue=venue, symbol=opp.symbol, side=side, price=price, size=size,
                         client_order_id=f"{opp.id}-{role}")  # fmt: skip
    report = OrderReport(
        venue=venue, symbol=opp.symbol, side=side, client_order_id=intent.client_order_id,
        status=status, price=price, size=size, filled_size=filled, avg_price=fill_price,
        fee=format(fee, "f"), fee_asset=opp.symbol.split("-")[1], venue_order_id=f"v-{role}",
        ts_sent=opp.ts_detect + 1000, ts_ack=opp.ts_detect + 2000,
    )  # fmt: skip
    return LegResult(role=role, intent=intent, report=report)


def filled(opp: Opportunity, *, share: str = "1", slip: str = "0") -> ExecutionResult:
    """Both legs filled ``share`` of the size; the sell filled ``slip`` below its limit."""
    q = Decimal(opp.size) * Decimal(share)
    pb, ps = Decimal(opp.buy_price), Decimal(opp.sell_price) - Decimal(slip)
    status = OrderStatus.FILLED if share == "1" else OrderStatus.CANCELED
    legs = [
        _leg("buy", opp.buy_venue, opp, Side.BUY, opp.buy_price, opp.size, format(q, "f"),
             opp.buy_price, status),
        _leg("sell", opp.sell_venue, opp, Side.SELL, opp.sell_price, opp.size, format(q, "f"),
             format(ps, "f"), status),
    ]  # fmt: skip
    fees = sum((Decimal(leg.report.fee) for leg in legs if leg.report), Decimal(0))
    realised = q * (ps - pb) - fees
    return ExecutionResult(
        opportunity_id=opp.id, symbol=opp.symbol, buy_venue=opp.buy_venue,
        sell_venue=opp.sell_venue,
        status=ExecutionStatus.FILLED if share == "1" else ExecutionStatus.PARTIAL,
        mode="paper", legs=legs, expected_pnl=opp.net_profit, realised_pnl=format(realised, "f"),
        fees_quote=format(fees, "f"), ts_detect=opp.ts_detect, ts_received=opp.ts_detect + 500,
        ts_orders_sent=opp.ts_detect + 1000, ts_acks=opp.ts_detect + 2000,
        ts_done=opp.ts_detect + 3000, executor="executor-test",
    )  # fmt: skip


def unhedged(opp: Opportunity, *, mark: str = "99.5") -> ExecutionResult:
    """The buy filled, the sell was rejected and no hedge went out: long the size, open."""
    buy = _leg("buy", opp.buy_venue, opp, Side.BUY, opp.buy_price, opp.size, opp.size,
               opp.buy_price, OrderStatus.FILLED)  # fmt: skip
    sell = _leg("sell", opp.sell_venue, opp, Side.SELL, opp.sell_price, opp.size, "0", "0",
                OrderStatus.REJECTED)  # fmt: skip
    assert buy.report is not None
    q, pb = Decimal(opp.size), Decimal(opp.buy_price)
    unrealised = q * (Decimal(mark) - pb)
    return ExecutionResult(
        opportunity_id=opp.id, symbol=opp.symbol, buy_venue=opp.buy_venue,
        sell_venue=opp.sell_venue, status=ExecutionStatus.UNHEDGED, mode="paper",
        legs=[buy, sell], expected_pnl=opp.net_profit,
        realised_pnl=format(-Decimal(buy.report.fee), "f"), fees_quote=buy.report.fee,
        unhedged_size=opp.size, unrealised_pnl=format(unrealised, "f"), mark_price=mark,
        reason="sell rejected; breaker open", ts_detect=opp.ts_detect,
        ts_received=opp.ts_detect + 500, ts_orders_sent=opp.ts_detect + 1000,
        ts_acks=opp.ts_detect + 2000, ts_done=opp.ts_detect + 3000, executor="executor-test",
    )  # fmt: skip


def recovered(opp: Opportunity, first: ExecutionResult, *, sold: str, price: str,
              mark: str) -> ExecutionResult:  # fmt: skip
    """A later result of ``first``'s opportunity (long the size, from ``unhedged``): a hedge
    sold ``sold`` at ``price``; like the executor's, it adds only what it realised and paid,
    and carries the position left (size - sold) marked at ``mark``."""
    hedge = _leg("hedge", opp.sell_venue, opp, Side.SELL, price, sold, sold, price,
                 OrderStatus.FILLED)  # fmt: skip
    assert hedge.report is not None
    left, entry = Decimal(opp.size) - Decimal(sold), Decimal(opp.buy_price)
    fee = Decimal(hedge.report.fee)
    realised = Decimal(sold) * (Decimal(price) - entry) - fee
    return ExecutionResult(
        opportunity_id=opp.id, symbol=opp.symbol, buy_venue=opp.buy_venue,
        sell_venue=opp.sell_venue, status=ExecutionStatus.UNHEDGED, mode="paper",
        legs=[*first.legs, hedge], expected_pnl=0.0, realised_pnl=format(realised, "f"),
        fees_quote=format(fee, "f"), unhedged_size=format(left, "f"),
        unrealised_pnl=format(left * (Decimal(mark) - entry), "f"), mark_price=mark,
        reason="recovered after restart; hedged in part", ts_detect=opp.ts_detect,
        ts_received=first.ts_done + 1000, ts_done=first.ts_done + 5000,
        executor="executor-test",
    )  # fmt: skip


def refused(opp: Opportunity, reason: str = "cooldown") -> ExecutionResult:
    return ExecutionResult(
        opportunity_id=opp.id, symbol=opp.symbol, buy_venue=opp.buy_venue,
        sell_venue=opp.sell_venue, status=ExecutionStatus.REFUSED, mode="paper",
        expected_pnl=opp.net_profit, reason=reason, ts_detect=opp.ts_detect,
        ts_received=opp.ts_detect + 500, ts_done=opp.ts_detect + 600,
    )  # fmt: skip


def exposure(
    opp: Opportunity, kind: ExposureKind, *, size: str, ts: int, venue: str | None = None
) -> ExposureEvent:
    asset = opp.symbol.split("-")[0]
    return ExposureEvent(
        id=f"exp-{opp.id}", venue=venue or opp.buy_venue, asset=asset, kind=kind, size=size,
        quote_value=format(Decimal(size) * Decimal("99.5"), "f"), mark_price="99.5",
        opportunity_id=opp.id, reason=kind.value, actor="executor-test", ts=ts,
    )  # fmt: skip


def mixed_history(count: int, *, start_ns: int | None = None) -> tuple[
    list[Opportunity], list[ExecutionResult], list[ExposureEvent]
]:  # fmt: skip
    """``count`` opportunities over two symbols and three venue pairs, one minute apart:
    filled, partial with slippage, refused, and one unhedged whose exposure is later closed."""
    base = start_ns or time.time_ns() - count * 60 * 10**9
    venues = [("binance", "okx"), ("okx", "bybit"), ("bybit", "binance")]
    opps: list[Opportunity] = []
    results: list[ExecutionResult] = []
    events: list[ExposureEvent] = []
    for n in range(count):
        buy, sell = venues[n % 3]
        opp = opportunity(n, symbol="BTC-USDT" if n % 2 else "ETH-USDT", buy_venue=buy,
                          sell_venue=sell, ts=base + n * 60 * 10**9)  # fmt: skip
        opps.append(opp)
        if n == 3:
            results.append(unhedged(opp))
            events.append(
                exposure(opp, ExposureKind.UNHEDGED, size=opp.size, ts=opp.ts_detect + 4000)
            )
            events.append(exposure(opp, ExposureKind.CLOSED, size="0", ts=opp.ts_detect + 9000))
        elif n % 5 == 4:
            results.append(refused(opp))
        elif n % 4 == 1:
            results.append(filled(opp, share="0.5", slip="0.2"))
        else:
            results.append(filled(opp))
    return opps, results, events
