"""The alert rules (pure: messages and state in, alerts out; time is passed in).

- unhedged_exposure: a result UNHEDGED, or an ExposureEvent UNHEDGED (key: opportunity id)
- unexplained_exposure: an ExposureEvent UNEXPLAINED, from reconciliation (key: exposure id)
- breaker_open: a venue breaker in the executor's risk state is open (key: venue, until)
- kill_switch: the kill switch key is set (key: when it was engaged)
- venue_down: a venue's books HALTED longer than ``halted_after_s`` (key: venue, since)
- daily_loss: the day's loss reaches the warn share, then the whole limit (key: day, level)
- service_restart: a service instance reports a new start time (key: instance, start)

A result and the ExposureEvent of the same saga share one key, so one unhedged trade is one
alert. State rules forget a condition once it clears, so it alerts again when it returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from arb_history.records import result_id
from arb_structs import (
    BookState,
    BookView,
    ExecutionResult,
    ExecutionStatus,
    ExposureEvent,
    ExposureKind,
    Health,
    KillSwitch,
)

from arb_alerter.alerts import Alert, Severity


def unhedged_key(opportunity_id: str, fallback: str) -> str:
    return f"unhedged_exposure:{opportunity_id or fallback}"


def from_result(result: ExecutionResult) -> Alert | None:
    if result.status is not ExecutionStatus.UNHEDGED:
        return None
    return Alert(
        rule="unhedged_exposure",
        key=unhedged_key(result.opportunity_id, result.opportunity_id),
        severity=Severity.CRITICAL,
        title=f"Unhedged {result.symbol}: {result.unhedged_size} left open",
        text=(
            f"{result.buy_venue} -> {result.sell_venue}, opportunity {result.opportunity_id}: "
            f"{result.reason or 'no reason given'}. Marked {result.unrealised_pnl} at "
            f"{result.mark_price}; the pair is blocked until it is closed."
        ),
        fields={
            "opportunity_id": result.opportunity_id,
            "symbol": result.symbol,
            "buy_venue": result.buy_venue,
            "sell_venue": result.sell_venue,
            "unhedged_size": result.unhedged_size,
            "mark_price": result.mark_price,
            "unrealised_pnl": result.unrealised_pnl,
            "executor": result.executor,
        },
    )


def from_exposure(event: ExposureEvent) -> Alert | None:
    fields = {"exposure_id": event.id, "venue": event.venue, "asset": event.asset,
              "size": event.size, "quote_value": event.quote_value,
              "opportunity_id": event.opportunity_id, "actor": event.actor}  # fmt: skip
    if event.kind is ExposureKind.UNHEDGED:
        return Alert(
            rule="unhedged_exposure", key=unhedged_key(event.opportunity_id, event.id),
            severity=Severity.CRITICAL,
            title=f"Unhedged {event.asset} on {event.venue}: {event.size} open",
            text=f"Worth {event.quote_value} at {event.mark_price}: {event.reason or 'open'}.",
            # the result's alert of the same key names it so: whichever of the two reaches
            # the alerter first (the streams are read apart), the alert reads the same
            fields={**fields, "unhedged_size": event.size},
        )  # fmt: skip
    if event.kind is ExposureKind.UNEXPLAINED:
        return Alert(
            rule="unexplained_exposure", key=f"unexplained_exposure:{event.id}",
            severity=Severity.CRITICAL,
            title=f"Unexplained {event.asset} on {event.venue}: {event.size}",
            text=(f"Reconciliation found {event.size} {event.asset} (worth {event.quote_value}) "
                  f"that no record explains: {event.reason or 'see arb exposure'}. The asset is "
                  "blocked until an operator acts (arb exposure close)."),
            fields=fields,
        )  # fmt: skip
    return None


def kill_switch(kill: KillSwitch | None) -> Alert | None:
    if kill is None:
        return None
    return Alert(
        rule="kill_switch", key=f"kill_switch:{kill.ts}", severity=Severity.WARNING,
        title="Kill switch engaged: no new orders",
        text=f"Reason: {kill.reason or 'none given'}" + (f" (by {kill.by})" if kill.by else "")
        + ". Release it with `arb resume` or the dashboard.",
        fields={"reason": kill.reason, "by": kill.by},
    )  # fmt: skip


def breakers(open_until: Mapping[str, int], now_ns: int) -> list[Alert]:
    alerts = []
    for venue, until in sorted(open_until.items()):
        if until <= now_ns:
            continue
        seconds = (until - now_ns) / 1e9
        alerts.append(Alert(
            rule="breaker_open", key=f"breaker_open:{venue}:{until}", severity=Severity.WARNING,
            title=f"Breaker open on {venue}",
            text=f"The executor refuses trades on {venue} for {seconds:.0f}s more (order errors).",
            fields={"venue": venue, "until_ns": until},
        ))  # fmt: skip
    return alerts


def day_of(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns / 1e9, tz=dt.UTC).date().isoformat()


@dataclass
class DailyLoss:
    """The UTC day's PnL from the results seen (each result once, by its id): realised plus
    the marked open part, the measure the executor's daily loss limit uses. An opportunity's
    later result (a recovery's, a hedge's) adds its realised PnL and replaces the earlier
    open part: it carries the position as it then stood."""

    day: str = ""
    realised: dict[str, Decimal] = field(default_factory=dict)  # by result id
    open_parts: dict[str, tuple[int, Decimal]] = field(default_factory=dict)  # by opportunity

    def add(self, result: ExecutionResult) -> None:
        ts = result.ts_done or result.ts_received
        day = day_of(ts)
        if day > self.day:
            self.day, self.realised, self.open_parts = day, {}, {}
        if day != self.day:
            return
        self.realised[result_id(result)] = Decimal(result.realised_pnl)
        seen = self.open_parts.get(result.opportunity_id)
        if seen is None or seen[0] <= ts:
            self.open_parts[result.opportunity_id] = (ts, Decimal(result.unrealised_pnl))

    @property
    def pnl(self) -> Decimal:
        open_part = sum((part for _, part in self.open_parts.values()), Decimal(0))
        return sum(self.realised.values(), Decimal(0)) + open_part

    def alert(self, limit: Decimal, warn_ratio: float, now_ns: int) -> Alert | None:
        if self.day != day_of(now_ns):
            return None
        loss = -self.pnl
        level = (
            "limit"
            if loss >= limit
            else "warn"
            if loss >= limit * Decimal(repr(warn_ratio))
            else ""
        )
        if not level:
            return None
        share = float(loss / limit * 100)
        return Alert(
            rule="daily_loss", key=f"daily_loss:{self.day}:{level}",
            severity=Severity.CRITICAL if level == "limit" else Severity.WARNING,
            title=f"Daily loss {share:.0f}% of the limit"
            + (" - trading refused" if level == "limit" else ""),
            text=f"{self.day}: loss {loss} of the {limit} limit (realised plus marked open).",
            fields={"day": self.day, "loss": str(loss), "limit": str(limit)},
        )  # fmt: skip


@dataclass
class StateRules:
    """Rules over state seen on each poll; remembers what it saw between polls."""

    halted_after_s: float
    halted_since: dict[tuple[str, str], int] = field(default_factory=dict)
    starts: dict[tuple[str, str], int] = field(default_factory=dict)

    def venues_down(self, views: Iterable[BookView], now_ns: int) -> list[Alert]:
        halted: dict[str, list[tuple[str, int]]] = {}
        seen = set()
        for view in views:
            book = (view.venue, view.symbol)
            if view.state is not BookState.HALTED:
                continue
            seen.add(book)
            since = self.halted_since.setdefault(book, view.ts_update or view.ts_book or now_ns)
            if now_ns - since >= self.halted_after_s * 1e9:
                halted.setdefault(view.venue, []).append((view.symbol, since))
        for book in set(self.halted_since) - seen:
            del self.halted_since[book]  # LIVE again (or gone): the next halt alerts anew
        alerts = []
        for venue, books in sorted(halted.items()):
            since = min(s for _, s in books)
            symbols = ", ".join(sorted(symbol for symbol, _ in books))
            alerts.append(Alert(
                rule="venue_down", key=f"venue_down:{venue}:{since}", severity=Severity.CRITICAL,
                title=f"{venue} down: books HALTED for {(now_ns - since) / 1e9:.0f}s",
                text=f"HALTED: {symbols}. Nothing is traded there until the books are LIVE.",
                fields={"venue": venue, "symbols": symbols, "since_ns": since},
            ))  # fmt: skip
        return alerts

    def restarts(self, services: Iterable[Health]) -> list[Alert]:
        alerts = []
        for health in services:
            if not health.started:
                continue
            instance = (health.service, health.instance)
            before = self.starts.get(instance)
            self.starts[instance] = max(before or 0, health.started)
            if before is None or health.started <= before:
                continue  # first sight, or an older beat arriving late
            alerts.append(Alert(
                rule="service_restart", key=f"service_restart:{health.service}:"
                f"{health.instance}:{health.started}", severity=Severity.WARNING,
                title=f"{health.service} ({health.instance}) restarted",
                text=f"{health.service} on {health.instance} started again "
                f"({(health.started - before) / 1e9:.0f}s after its previous start).",
                fields={"service": health.service, "instance": health.instance},
            ))  # fmt: skip
        return alerts
