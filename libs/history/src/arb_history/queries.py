"""Reading the trade history: results with their orders, filtered; open exposures.

Shared by ``arb trades``, ``arb pnl`` and the dashboard's history pages, so every view of the
history applies the same filter the same way.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from arb_history.database import Database, placeholders
from arb_history.errors import HistoryError

Trade = dict[str, Any]

RESULT_DECIMALS = ("realised_pnl", "fees_quote", "unhedged_size", "unrealised_pnl", "mark_price")
ORDER_DECIMALS = ("price", "size", "filled_size", "avg_price", "fee")
EXPOSURE_DECIMALS = ("size", "quote_value", "mark_price")
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_CHUNK = 500


class TimeFormatError(HistoryError, ValueError):
    """A time filter that is not a time; the message shows the forms accepted."""


def parse_time(text: str, *, what: str = "time", now_ns: int | None = None) -> int:
    """Nanoseconds since the epoch from ``2026-11-01``, ``2026-11-01T12:30`` (UTC unless an
    offset is given), ``today``, a span back from now (``90s``, ``30m``, ``2h``, ``7d``,
    ``1w``) or integer nanoseconds."""
    now = time.time_ns() if now_ns is None else now_ns
    value = text.strip().lower()
    if value == "today":
        day = dt.datetime.fromtimestamp(now / 1e9, tz=dt.UTC).date()
        return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()) * 10**9
    if value == "now":
        return now
    match = _RELATIVE.match(value)
    if match:
        return now - int(float(match[1]) * _UNIT_S[match[2]] * 1e9)
    if value.isdigit() and len(value) > 12:
        return int(value)
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise TimeFormatError(
            f"{what}={text!r}: not a time; use 2026-11-01, 2026-11-01T12:30 (UTC), "
            "2026-11-01T12:30+02:00, today, or a span back from now such as 90s, 30m, 2h, 7d"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1_000_000) * 1000


def iso_time(ns: int) -> str:
    """UTC ISO time with milliseconds (``2026-11-01T12:30:00.123Z``); "" for 0."""
    if not ns:
        return ""
    moment = dt.datetime.fromtimestamp(ns / 1e9, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def decimal_of(value: Any) -> Decimal:
    """A stored decimal (TEXT in SQLite, NUMERIC in PostgreSQL) as a Decimal."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def decimal_out(value: Any) -> str:
    return format(decimal_of(value), "f")


@dataclass(frozen=True)
class TradeFilter:
    """Which results: ``venue`` matches either side; times bound ``ts_done`` (ns)."""

    venue: str | None = None
    symbol: str | None = None
    statuses: tuple[str, ...] = ()
    since_ns: int | None = None
    until_ns: int | None = None

    def where(self, alias: str = "r") -> tuple[str, dict[str, Any]]:
        clauses: list[str] = []
        params: dict[str, Any] = {}
        if self.venue:
            clauses.append(f"({alias}.buy_venue = :venue OR {alias}.sell_venue = :venue)")
            params["venue"] = self.venue.lower()
        if self.symbol:
            clauses.append(f"{alias}.symbol = :symbol")
            params["symbol"] = self.symbol.upper()
        if self.statuses:
            listed, status_params = placeholders("status", [s.lower() for s in self.statuses])
            clauses.append(f"{alias}.status IN {listed}")
            params |= status_params
        if self.since_ns is not None:
            clauses.append(f"{alias}.ts_done >= :since_ns")
            params["since_ns"] = self.since_ns
        if self.until_ns is not None:
            clauses.append(f"{alias}.ts_done < :until_ns")
            params["until_ns"] = self.until_ns
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _trade(row: dict[str, Any], legs: list[dict[str, Any]], with_message: bool) -> Trade:
    trade: Trade = {
        "result_id": row["result_id"], "opportunity_id": row["opportunity_id"],
        "time": iso_time(int(row["ts_done"])), "symbol": row["symbol"],
        "buy_venue": row["buy_venue"], "sell_venue": row["sell_venue"],
        "status": row["status"], "mode": row["mode"], "reason": row["reason"],
        "expected_pnl": float(row["expected_pnl"]),
    }  # fmt: skip
    for name in RESULT_DECIMALS:
        trade[name] = decimal_out(row[name])
    trade["executor"] = row["executor"]
    for name in ("ts_detect", "ts_received", "ts_orders_sent", "ts_acks", "ts_done"):
        trade[name] = int(row[name])
    trade["stream_id"] = row["stream_id"]
    trade["legs"] = [
        {
            "role": leg["role"],
            "venue": leg["venue"],
            "side": leg["side"],
            "client_order_id": leg["client_order_id"],
            "status": leg["status"],
            **{name: decimal_out(leg[name]) for name in ORDER_DECIMALS},
            "fee_asset": leg["fee_asset"],
            "venue_order_id": leg["venue_order_id"],
            "error": leg["error"],
        }
        for leg in legs
    ]
    if with_message:
        trade["message"] = _json(row["message"])
    return trade


async def fetch_trades(
    db: Database,
    where: TradeFilter = TradeFilter(),
    *,
    limit: int | None = None,
    with_message: bool = False,
) -> list[Trade]:
    """Results with their legs, oldest first; ``limit``: only the newest N."""
    clause, params = where.where()
    order = "DESC" if limit else "ASC"
    sql = f"SELECT r.* FROM results r{clause} ORDER BY r.ts_done {order}, r.result_id {order}"
    if limit:
        sql += " LIMIT :limit"
        params["limit"] = int(limit)
    rows = await db.fetch(sql, params)
    if limit:
        rows.reverse()
    legs: dict[str, list[dict[str, Any]]] = {}
    ids = [row["result_id"] for row in rows]
    for start in range(0, len(ids), _CHUNK):
        listed, id_params = placeholders("id", ids[start : start + _CHUNK])
        for leg in await db.fetch(
            f"SELECT * FROM orders WHERE result_id IN {listed} ORDER BY result_id, leg", id_params
        ):
            legs.setdefault(leg["result_id"], []).append(leg)
    return [_trade(row, legs.get(row["result_id"], []), with_message) for row in rows]


async def open_parts(db: Database, trades: Iterable[Trade]) -> set[str]:
    """Of these results, those whose open part still counts as unrealised PnL: the latest
    result of its opportunity in the whole history (a later result of the same opportunity,
    a recovery's or a hedge's, carries the position as it then stood: the earlier open part
    is superseded, not added to), and no exposure event closed or acknowledged it since."""
    wanted = sorted({str(t["opportunity_id"]) for t in trades} - {""})
    latest: dict[str, str] = {}
    closed: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        listed, params = placeholders("id", wanted[start : start + _CHUNK])
        for row in await db.fetch(
            f"SELECT opportunity_id, result_id FROM results WHERE opportunity_id IN {listed} "
            "ORDER BY ts_done, result_id",
            params,
        ):
            latest[row["opportunity_id"]] = row["result_id"]
        rows = await db.fetch(
            "SELECT DISTINCT opportunity_id FROM exposure_events WHERE kind IN "
            f"('closed', 'acknowledged') AND opportunity_id IN {listed}",
            params,
        )
        closed |= {row["opportunity_id"] for row in rows}
    return {result for opportunity, result in latest.items() if opportunity not in closed}


async def open_exposures(db: Database) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT * FROM exposures WHERE closed_ts = 0 ORDER BY opened_ts, exposure_id"
    )
    out = []
    for row in rows:
        item = dict(row)
        for name in EXPOSURE_DECIMALS:
            item[name] = decimal_out(row[name])
        item["since"] = iso_time(int(row["opened_ts"]))
        out.append(item)
    return out


HISTORY_TABLES = ("opportunities", "results", "orders", "exposure_events", "malformed_entries")


async def table_counts(db: Database, tables: Sequence[str] = HISTORY_TABLES) -> dict[str, int]:
    counts = {}
    for table in tables:
        rows = await db.fetch(f"SELECT COUNT(*) AS n FROM {table}")
        counts[table] = int(rows[0]["n"])
    return counts
