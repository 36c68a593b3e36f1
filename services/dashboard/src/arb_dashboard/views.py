"""What the page shows, built from the engine's messages and keys (pure: no I/O).

Every builder returns plain JSON-ready dicts; amounts stay exact decimal text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from arb_structs import (
    BookState,
    BookView,
    ExecutionResult,
    ExecutionStatus,
    ExposureEvent,
    ExposureKind,
    Health,
    KillSwitch,
    Opportunity,
)

OPEN_KINDS = (ExposureKind.UNHEDGED, ExposureKind.UNEXPLAINED)


def _ms(ns: int) -> int:
    return ns // 1_000_000


def book_row(view: BookView, now_ns: int) -> dict[str, Any]:
    changed = view.ts_update or view.ts_book
    return {
        "symbol": view.symbol, "state": str(view.state), "reason": view.reason, "seq": view.seq,
        "bid": view.bids[0][0] if view.bids else None,
        "ask": view.asks[0][0] if view.asks else None,
        "age_s": round((now_ns - changed) / 1e9, 1) if changed else None,
    }  # fmt: skip


def connection_of(venue: str, books: list[dict[str, Any]], services: Iterable[Health]) -> str:
    """The venue's ingest health when one names the venue, else what its books say."""
    for health in services:
        if health.service == "ingest" and (
            venue in health.instance or health.detail.get("venue") == venue
        ):
            return "up" if health.ready and health.status == "ok" else health.status
    states = {b["state"] for b in books}
    if states & {"LIVE", "SYNCING", "SUSPECT"}:
        return "up"
    return "down" if "HALTED" in states else "unknown"


def venue_rows(
    venues: Iterable[str],
    views: Mapping[str, list[BookView]],
    rates: Mapping[str, float],
    services: list[Health],
    now_ns: int,
) -> list[dict[str, Any]]:
    rows = []
    for venue in venues:
        books = [book_row(v, now_ns) for v in sorted(views.get(venue, []), key=lambda v: v.symbol)]
        rows.append({
            "venue": venue, "msgs_per_s": round(rates.get(venue, 0.0), 1),
            "connection": connection_of(venue, books, services), "books": books,
            "live": sum(b["state"] == "LIVE" for b in books),
        })  # fmt: skip
    return rows


def best_prices(views: Iterable[BookView]) -> list[dict[str, Any]]:
    """Per symbol: every venue's top of book, the best bid and ask among LIVE books, and the
    cross-venue spread (best bid - best ask) / best ask in bps: positive means a price to buy
    on one venue below where another buys it back, before fees."""
    by_symbol: dict[str, list[BookView]] = {}
    for view in views:
        by_symbol.setdefault(view.symbol, []).append(view)
    rows = []
    for symbol in sorted(by_symbol):
        quotes = []
        best_bid: tuple[float, str] | None = None
        best_ask: tuple[float, str] | None = None
        for view in sorted(by_symbol[symbol], key=lambda v: v.venue):
            bid = view.bids[0][0] if view.bids else None
            ask = view.asks[0][0] if view.asks else None
            quotes.append({"venue": view.venue, "bid": bid, "ask": ask, "state": str(view.state)})
            if view.state is not BookState.LIVE:
                continue
            if bid is not None and (best_bid is None or bid > best_bid[0]):
                best_bid = (bid, view.venue)
            if ask is not None and (best_ask is None or ask < best_ask[0]):
                best_ask = (ask, view.venue)
        spread = None
        if best_bid and best_ask and best_ask[0] > 0:
            spread = round((best_bid[0] - best_ask[0]) / best_ask[0] * 10_000, 2)
        rows.append({
            "symbol": symbol, "quotes": quotes,
            "best_bid": {"price": best_bid[0], "venue": best_bid[1]} if best_bid else None,
            "best_ask": {"price": best_ask[0], "venue": best_ask[1]} if best_ask else None,
            "spread_bps": spread,
        })  # fmt: skip
    return rows


@dataclass
class Restarts:
    """Counts restarts per service instance: a new ``started`` under the same name."""

    started: dict[tuple[str, str], int] = field(default_factory=dict)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def see(self, health: Health) -> int:
        key = (health.service, health.instance)
        before = self.started.get(key)
        if health.started and before is not None and health.started > before:
            self.counts[key] = self.counts.get(key, 0) + 1
        if health.started and (before is None or health.started > before):
            self.started[key] = health.started
        return self.counts.get(key, 0)


def service_rows(
    services: Iterable[Health], restarts: Restarts, now_ns: int
) -> list[dict[str, Any]]:
    rows = []
    for h in sorted(services, key=lambda s: (s.service, s.instance)):
        rows.append({
            "service": h.service, "instance": h.instance, "status": h.status, "ready": h.ready,
            "seen_s": round((now_ns - h.ts) / 1e9, 1) if h.ts else None,
            "up_s": round((now_ns - h.started) / 1e9) if h.started else None,
            "restarts": restarts.see(h), "detail": dict(h.detail),
        })  # fmt: skip
    return rows


def kill_state(kill: KillSwitch | None) -> dict[str, Any]:
    if kill is None:
        return {"engaged": False}
    return {"engaged": True, "reason": kill.reason, "by": kill.by, "since_ms": _ms(kill.ts)}


def opportunity_item(opp: Opportunity) -> dict[str, Any]:
    return {
        "id": opp.id, "symbol": opp.symbol, "buy_venue": opp.buy_venue,
        "sell_venue": opp.sell_venue, "size": opp.size, "buy_price": opp.buy_price,
        "sell_price": opp.sell_price, "edge_bps": round(opp.edge_bps, 2),
        "net_profit": round(opp.net_profit, 6), "ts_ms": _ms(opp.ts_detect),
    }  # fmt: skip


def execution_item(result: ExecutionResult) -> dict[str, Any]:
    legs = []
    for leg in result.legs:
        report = leg.report
        legs.append({
            "role": leg.role, "venue": leg.intent.venue, "side": leg.intent.side.value,
            "price": leg.intent.price, "size": leg.intent.size,
            "status": report.status.value if report else "none",
            "filled": report.filled_size if report else "0",
            "avg_price": report.avg_price if report else "0",
            "fee": report.fee if report else "0", "error": leg.error,
        })  # fmt: skip
    return {
        "opportunity_id": result.opportunity_id, "symbol": result.symbol,
        "buy_venue": result.buy_venue, "sell_venue": result.sell_venue,
        "status": result.status.value, "realised_pnl": result.realised_pnl,
        "fees": result.fees_quote, "unhedged_size": result.unhedged_size,
        "reason": result.reason, "ts_ms": _ms(result.ts_done or result.ts_received),
        "legs": legs,
    }  # fmt: skip


@dataclass
class OpenExposure:
    """Open exposure in quote currency: ExposureEvents by id (the newest wins), and UNHEDGED
    results whose saga no exposure event reported (marked at the result's mark)."""

    events: dict[str, ExposureEvent] = field(default_factory=dict)
    results: dict[str, Decimal] = field(default_factory=dict)
    reported: set[str] = field(default_factory=set)  # opportunity ids with exposure events

    def event(self, event: ExposureEvent) -> None:
        known = self.events.get(event.id)
        if known is None or event.ts >= known.ts:
            self.events[event.id] = event
        if event.opportunity_id:
            self.reported.add(event.opportunity_id)
            self.results.pop(event.opportunity_id, None)

    def result(self, result: ExecutionResult) -> None:
        if result.status is not ExecutionStatus.UNHEDGED or result.opportunity_id in self.reported:
            return
        value = abs(Decimal(result.unhedged_size) * Decimal(result.mark_price))
        self.results[result.opportunity_id] = value

    def open_items(self) -> list[dict[str, Any]]:
        items = [
            {"id": e.id, "venue": e.venue, "asset": e.asset, "kind": e.kind.value,
             "size": e.size, "quote_value": e.quote_value, "since_ms": _ms(e.ts)}
            for e in self.events.values()
            if e.kind in OPEN_KINDS and Decimal(e.size) != 0
        ]  # fmt: skip
        items += [{"id": opp_id, "venue": "", "asset": "", "kind": "unhedged", "size": "",
                   "quote_value": format(value, "f"), "since_ms": 0}
                  for opp_id, value in self.results.items()]  # fmt: skip
        return items

    def total(self) -> Decimal:
        return sum((abs(Decimal(i["quote_value"])) for i in self.open_items()), Decimal(0))
