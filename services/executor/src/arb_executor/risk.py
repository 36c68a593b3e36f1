"""Risk checks before any order. Pure: the caller passes the clock, balances and kill state.

Refusal reasons (a bounded set, used as a metric label): kill_switch, breaker_open,
pair_blocked, exposure_unexplained, cooldown, max_notional, insufficient_quote,
insufficient_base, max_exposure, daily_loss (plus venue_degraded, no_gateway, expired in
intake.py).

The state is this process's view. Shared by every replica (riskstore.py): the day's realised
PnL, open breakers and pair blocks (changes go out through ``sink`` as atomic Redis
operations and the shared values are read back before each check), and the open exposure
(exposure.py: ``exposure`` per asset, ``unrealised`` and ``blocked_assets`` come from it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from arb_structs import Opportunity

from arb_executor.gateway import split_symbol

ZERO = Decimal(0)
Pair = tuple[str, str, str]  # symbol, buy venue, sell venue
FreeBalance = Callable[[str, str], Decimal]  # (venue, asset) -> free


def pair_of(opp: Opportunity) -> Pair:
    return (opp.symbol, opp.buy_venue, opp.sell_venue)


@dataclass
class RiskLimits:
    max_notional: Decimal = Decimal("10000")
    max_open_exposure: Decimal = Decimal("50000")
    daily_loss_limit: Decimal = Decimal("500")
    pair_cooldown_ns: int = 250_000_000
    breaker_errors: int = 3
    breaker_cooldown_ns: int = 30_000_000_000
    unhedged_block_ns: int = 3_600_000_000_000


class RiskSink(Protocol):
    """Where changes of the shared risk state go (riskstore.RiskStore: atomic Redis ops)."""

    def traded(self, day: dt.date, pnl: Decimal) -> None: ...

    def breaker(self, venue: str, until_ns: int) -> None: ...

    def block(self, pair: Pair, until_ns: int) -> None: ...


def utc_day(now_ns: int) -> dt.date:
    return dt.datetime.fromtimestamp(now_ns / 1e9, tz=dt.UTC).date()


@dataclass
class RiskState:
    """What the executor remembers between opportunities (this process's view)."""

    limits: RiskLimits = field(default_factory=RiskLimits)
    venue_errors: dict[str, int] = field(default_factory=dict)
    breaker_until: dict[str, int] = field(default_factory=dict)
    pair_blocked_until: dict[Pair, int] = field(default_factory=dict)
    pair_last_trade: dict[Pair, int] = field(default_factory=dict)
    exposure: dict[str, Decimal] = field(default_factory=dict)  # base asset -> quote value
    day: dt.date | None = None
    daily_pnl: Decimal = ZERO  # realised, every replica's (shared)
    unrealised: Decimal = ZERO  # open exposure marked to market (quote; < 0 is a loss)
    blocked_assets: dict[str, str] = field(default_factory=dict)  # asset -> why (unexplained)
    sink: RiskSink | None = None

    def check(self, opp: Opportunity, now_ns: int, free: FreeBalance, killed: bool) -> str:
        """The reason to refuse ``opp``, or "" to go ahead."""
        if killed:
            return "kill_switch"
        for venue in (opp.buy_venue, opp.sell_venue):
            if self.breaker_until.get(venue, 0) > now_ns:
                return "breaker_open"
        pair = pair_of(opp)
        if self.pair_blocked_until.get(pair, 0) > now_ns:
            return "pair_blocked"
        if any(asset in self.blocked_assets for asset in split_symbol(opp.symbol)):
            return "exposure_unexplained"
        last = self.pair_last_trade.get(pair)
        if last is not None and now_ns - last < self.limits.pair_cooldown_ns:
            return "cooldown"
        size = Decimal(opp.size)
        notional = size * Decimal(opp.buy_price)
        if notional > self.limits.max_notional:
            return "max_notional"
        base, quote = split_symbol(opp.symbol)
        # The buy leg pays its taker fee too: the one the opportunity was priced with (the
        # buy venue's instrument fee).
        if free(opp.buy_venue, quote) < notional * (1 + Decimal(repr(opp.buy_fee))):
            return "insufficient_quote"
        if free(opp.sell_venue, base) < size:
            return "insufficient_base"
        if self.exposure.get(base, ZERO) + notional > self.limits.max_open_exposure:
            return "max_exposure"
        self._roll_day(now_ns)
        if self.loss() >= self.limits.daily_loss_limit:
            return "daily_loss"
        return ""

    def loss(self) -> Decimal:
        """The day's loss: realised plus the marked-to-market loss of what is open."""
        return -(self.daily_pnl + min(self.unrealised, ZERO))

    # -- what happened, fed back by the executor --------------------------------------------

    def order_ok(self, venue: str) -> None:
        self.venue_errors[venue] = 0

    def order_error(self, venue: str, now_ns: int) -> None:
        count = self.venue_errors.get(venue, 0) + 1
        self.venue_errors[venue] = count
        if count >= self.limits.breaker_errors:
            self.breaker_until[venue] = now_ns + self.limits.breaker_cooldown_ns
            self.venue_errors[venue] = 0
            if self.sink is not None:
                self.sink.breaker(venue, self.breaker_until[venue])

    def rate_limited(self, venue: str, now_ns: int, retry_after_s: float | None) -> None:
        """A 429/418: no new trade on ``venue`` until its Retry-After (default 1 s) passed."""
        pause_ns = int((retry_after_s if retry_after_s is not None else 1.0) * 1e9)
        self.breaker_until[venue] = max(self.breaker_until.get(venue, 0), now_ns + pause_ns)
        if self.sink is not None:
            self.sink.breaker(venue, self.breaker_until[venue])

    def traded(self, opp: Opportunity, now_ns: int, pnl: Decimal) -> None:
        self.pair_last_trade[pair_of(opp)] = now_ns
        self._roll_day(now_ns)
        self.daily_pnl += pnl
        if self.sink is not None and pnl:
            assert self.day is not None
            self.sink.traded(self.day, pnl)

    def unhedged(self, opp: Opportunity, now_ns: int, size: Decimal) -> None:
        """Exposure left open: block the pair and count it against the asset's exposure (until
        the exposure book's view, which every replica shares, replaces the local count)."""
        pair = pair_of(opp)
        self.pair_blocked_until[pair] = now_ns + self.limits.unhedged_block_ns
        if self.sink is not None:
            self.sink.block(pair, self.pair_blocked_until[pair])
        base, _ = split_symbol(opp.symbol)
        value = abs(size) * Decimal(opp.buy_price)
        self.exposure[base] = self.exposure.get(base, ZERO) + value

    def _roll_day(self, now_ns: int) -> None:
        day = utc_day(now_ns)
        if day != self.day:
            self.day = day
            self.daily_pnl = ZERO
