"""arb trades: the trade history from the recorder's database, filtered, as a table, JSON or
CSV. The database is ARB_RECORDER_DB_URL (default: trades.sqlite in ARB_DATA_DIR)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from pathlib import Path
from typing import Any

from arb_history.config import database_url_from_env
from arb_history.database import Database, SqliteDatabase, open_database
from arb_history.errors import HistoryError
from arb_history.migrations import schema_version
from arb_history.pnl import buy_fill
from arb_history.queries import Trade, TradeFilter, fetch_trades, parse_time

from arb_cli.common import print_json

CSV_COLUMNS = (
    "time", "result_id", "opportunity_id", "symbol", "buy_venue", "sell_venue", "status",
    "realised_pnl", "fees_quote", "expected_pnl", "unhedged_size", "unrealised_pnl",
    "mark_price", "buy_filled", "buy_notional", "legs", "reason", "mode", "executor", "ts_done",
)  # fmt: skip


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--venue", help="either side of the trade is on this venue")
    parser.add_argument("--symbol", help="BASE-QUOTE, e.g. BTC-USDT")
    parser.add_argument("--status", help="comma-separated: filled,partial,hedged,unhedged,...")
    parser.add_argument("--since", help="from: 2026-11-01, 2026-11-01T12:30 (UTC), today, 2h")
    parser.add_argument("--until", help="before: same forms as --since")
    parser.add_argument("--db", help="database URL (default: ARB_RECORDER_DB_URL or the data dir)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--csv", action="store_true", help="print CSV")


def trade_filter(args: argparse.Namespace) -> TradeFilter:
    statuses = tuple(s.strip() for s in (args.status or "").split(",") if s.strip())
    return TradeFilter(
        venue=args.venue, symbol=args.symbol, statuses=statuses,
        since_ns=parse_time(args.since, what="--since") if args.since else None,
        until_ns=parse_time(args.until, what="--until") if args.until else None,
    )  # fmt: skip


def _exists(path: Path) -> bool:
    return path.exists()


class NoHistory(HistoryError):
    """There is no trade history database where the settings point."""


async def open_history(args: argparse.Namespace) -> Database:
    """The history database, connected; NoHistory when it has no schema yet."""
    url = args.db or database_url_from_env()
    db = open_database(url)
    hint = ("run the recorder (arb run starts it) or point ARB_RECORDER_DB_URL / --db at "
            "the recorder's database")  # fmt: skip
    if isinstance(db, SqliteDatabase) and not _exists(db.path):
        raise NoHistory(f"no trade history at {url}: {hint}")
    try:
        if await schema_version(db) == 0:
            raise NoHistory(f"no trade history at {db.shown} (no schema): {hint}")
    except BaseException:
        await db.close()
        raise
    return db


def csv_row(trade: Trade) -> dict[str, Any]:
    filled, notional = buy_fill(trade)
    row = {name: trade.get(name, "") for name in CSV_COLUMNS}
    row["buy_filled"] = format(filled, "f")
    row["buy_notional"] = format(notional, "f")
    row["legs"] = len(trade["legs"])
    return row


def print_csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    writer = csv.DictWriter(sys.stdout, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def print_table(trades: list[Trade]) -> None:
    print(f"{'time (UTC)':<24} {'symbol':<9} {'buy -> sell':<19} {'status':<10} "
          f"{'realised':>14} {'fees':>12} {'open':>10}  reason")  # fmt: skip
    for t in trades:
        pair = f"{t['buy_venue']} -> {t['sell_venue']}"
        open_size = "" if t["unhedged_size"] in ("0", "0.0") else t["unhedged_size"]
        money = f"{t['realised_pnl']:>14} {t['fees_quote']:>12} {open_size:>10}"
        print(f"{t['time']:<24} {t['symbol']:<9} {pair:<19} {t['status']:<10} {money}  "
              f"{t['reason']}")  # fmt: skip
    print(f"{len(trades)} result(s)")


async def _run(args: argparse.Namespace) -> int:
    where = trade_filter(args)
    db = await open_history(args)
    try:
        trades = await fetch_trades(db, where, limit=args.limit, with_message=args.messages)
    finally:
        await db.close()
    if args.json:
        print_json(trades)
    elif args.csv:
        print_csv([csv_row(t) for t in trades], CSV_COLUMNS)
    else:
        print_table(trades)
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
