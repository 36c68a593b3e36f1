"""PnL of a set of results (pure: no I/O): in total, per UTC day, venue pair and symbol.

- ``realised``: the sum of every result's realised PnL (closed quantity, after fees), as the
  executor reported it; the same sum ``arb run`` prints as ``pnl_quote``.
- ``unrealised``: the open part of each opportunity whose exposure is still open, at the
  mark its latest result carried (an opportunity may have several results: the first, then a
  recovery's or a hedge's, each adding only what it realised; the latest one's open part is
  the position as it stands, the earlier ones' are superseded); once an ExposureEvent closes
  or acknowledges it, it no longer counts (the closing trade's own result books what it
  realised). Which results count is ``arb_history.queries.open_parts``.
- ``marked_to_market`` = realised + unrealised.
- ``trades``: results with quantity traded; ``win_rate``: the share of them with realised > 0.
- ``expected``: what the detector expected for the quantity actually bought (its expected
  PnL scaled by the buy leg's filled share); ``slippage`` = expected - realised (positive: a
  cost, the trade made less than the detector expected), and in basis points of the filled
  buy notional (``expected_edge_bps`` - ``realised_edge_bps``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from arb_history.queries import Trade, decimal_of

TRADED = frozenset({"filled", "partial", "hedged", "unhedged", "reconciled"})
REFUSED = frozenset({"refused", "expired"})
FAILED = frozenset({"failed", "not_filled"})
_EIGHT = Decimal("0.00000001")


def money(value: Decimal) -> str:
    """Quote amounts as text, to 8 decimals without trailing zeros (as ``arb run`` prints)."""
    rounded = value.quantize(_EIGHT)
    return "0" if rounded == 0 else format(rounded.normalize(), "f")


def _bps(amount: Decimal, notional: Decimal) -> float | None:
    return round(float(amount / notional * 10_000), 3) if notional else None


def buy_fill(trade: Trade) -> tuple[Decimal, Decimal]:
    """(filled base quantity, filled quote notional) of the trade's buy leg."""
    for leg in trade["legs"]:
        if leg["role"] == "buy":
            filled = decimal_of(leg["filled_size"])
            return filled, filled * decimal_of(leg["avg_price"])
    return Decimal(0), Decimal(0)


def buy_ordered(trade: Trade) -> Decimal:
    for leg in trade["legs"]:
        if leg["role"] == "buy":
            return decimal_of(leg["size"])
    return Decimal(0)


@dataclass
class Bucket:
    key: str
    results: int = 0
    trades: int = 0
    wins: int = 0
    refused: int = 0
    failed: int = 0
    unhedged: int = 0
    realised: Decimal = field(default_factory=Decimal)
    unrealised: Decimal = field(default_factory=Decimal)
    fees: Decimal = field(default_factory=Decimal)
    expected: Decimal = field(default_factory=Decimal)
    notional: Decimal = field(default_factory=Decimal)

    def add(self, trade: Trade, *, open_counts: bool) -> None:
        status = trade["status"]
        realised = decimal_of(trade["realised_pnl"])
        self.results += 1
        self.realised += realised
        self.fees += decimal_of(trade["fees_quote"])
        if open_counts:
            self.unrealised += decimal_of(trade["unrealised_pnl"])
        if status in REFUSED:
            self.refused += 1
        elif status in FAILED:
            self.failed += 1
        if status == "unhedged":
            self.unhedged += 1
        if status not in TRADED:
            return
        self.trades += 1
        self.wins += realised > 0
        filled, notional = buy_fill(trade)
        ordered = buy_ordered(trade)
        share = min(Decimal(1), filled / ordered) if ordered else Decimal(1)
        self.expected += Decimal(repr(float(trade["expected_pnl"]))) * share
        self.notional += notional

    def as_dict(self) -> dict[str, Any]:
        expected_bps = _bps(self.expected, self.notional)
        realised_bps = _bps(self.realised, self.notional)
        return {
            "key": self.key,
            "results": self.results,
            "trades": self.trades,
            "wins": self.wins,
            "win_rate": round(self.wins / self.trades, 4) if self.trades else None,
            "refused": self.refused,
            "failed": self.failed,
            "unhedged": self.unhedged,
            "realised": money(self.realised),
            "unrealised": money(self.unrealised),
            "marked_to_market": money(self.realised + self.unrealised),
            "fees": money(self.fees),
            "expected": money(self.expected),
            "slippage": money(self.expected - self.realised),
            "notional": money(self.notional),
            "expected_edge_bps": expected_bps,
            "realised_edge_bps": realised_bps,
            "slippage_bps": (
                None if expected_bps is None or realised_bps is None
                else round(expected_bps - realised_bps, 3)
            ),
        }  # fmt: skip


def day_of(trade: Trade) -> str:
    ns = int(trade["ts_done"]) or int(trade["ts_received"]) or int(trade["ts_detect"])
    return dt.datetime.fromtimestamp(ns / 1e9, tz=dt.UTC).date().isoformat()


def pair_of(trade: Trade) -> str:
    return f"{trade['buy_venue']}->{trade['sell_venue']}"


def symbol_of(trade: Trade) -> str:
    return str(trade["symbol"])


GROUPINGS: dict[str, Callable[[Trade], str]] = {
    "day": day_of,
    "pair": pair_of,
    "symbol": symbol_of,
}


def report(
    trades: Iterable[Trade], open_parts: set[str], groupings: Iterable[str] = tuple(GROUPINGS)
) -> dict[str, Any]:
    """``{"total": {...}, "by_day": [...], "by_pair": [...], "by_symbol": [...]}``;
    ``open_parts``: ids of the results whose open part counts (see module doc)."""
    wanted = list(groupings)
    total = Bucket("total")
    groups: dict[str, dict[str, Bucket]] = {name: {} for name in wanted}
    for trade in trades:
        open_counts = trade["result_id"] in open_parts
        total.add(trade, open_counts=open_counts)
        for name in wanted:
            key = GROUPINGS[name](trade)
            groups[name].setdefault(key, Bucket(key)).add(trade, open_counts=open_counts)
    out: dict[str, Any] = {"total": total.as_dict()}
    for name in wanted:
        out[f"by_{name}"] = [groups[name][key].as_dict() for key in sorted(groups[name])]
    return out
