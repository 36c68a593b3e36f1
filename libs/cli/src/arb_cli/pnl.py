"""arb pnl: realised and marked-to-market PnL, fees, win rate and slippage vs the expected
edge, in total and per UTC day, venue pair and symbol, from the recorder's database."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from arb_history.pnl import GROUPINGS, report
from arb_history.queries import fetch_trades, open_parts

from arb_cli.common import print_json
from arb_cli.trades import open_history, print_csv, trade_filter

COLUMNS = (
    "group", "key", "results", "trades", "wins", "win_rate", "realised", "unrealised",
    "marked_to_market", "fees", "expected", "slippage", "notional", "expected_edge_bps",
    "realised_edge_bps", "slippage_bps", "refused", "failed", "unhedged",
)  # fmt: skip


def groupings(text: str) -> list[str]:
    chosen = [g.strip() for g in text.split(",") if g.strip()]
    unknown = [g for g in chosen if g not in GROUPINGS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"--by {','.join(unknown)}: choose from {', '.join(GROUPINGS)}"
        )
    return chosen


def rows(pnl: dict[str, Any], chosen: list[str]) -> list[dict[str, Any]]:
    out = [{"group": "total", **pnl["total"]}]
    for name in chosen:
        out += [{"group": name, **bucket} for bucket in pnl[f"by_{name}"]]
    return out


def print_report(pnl: dict[str, Any], chosen: list[str]) -> None:
    def line(label: str, b: dict[str, Any]) -> str:
        rate = "-" if b["win_rate"] is None else f"{b['win_rate'] * 100:.1f}%"
        slip = "-" if b["slippage_bps"] is None else f"{b['slippage_bps']:.2f}"
        money = f"{b['realised']:>14} {b['marked_to_market']:>14} {b['fees']:>12}"
        return f"  {label:<24} {b['trades']:>6} {rate:>7} {money} {b['slippage']:>12} {slip:>9}"

    header = (f"  {'':<24} {'trades':>6} {'wins':>7} {'realised':>14} {'marked':>14} "
              f"{'fees':>12} {'slippage':>12} {'slip bps':>9}")  # fmt: skip
    total = pnl["total"]
    print(f"PnL (quote): {total['results']} results, {total['trades']} traded, "
          f"{total['refused']} refused/expired, {total['unhedged']} unhedged")  # fmt: skip
    print(header)
    print(line("total", total))
    for name in chosen:
        print(f"by {name}:")
        for bucket in pnl[f"by_{name}"]:
            print(line(bucket["key"], bucket))


async def _run(args: argparse.Namespace) -> int:
    where = trade_filter(args)
    db = await open_history(args)
    try:
        trades = await fetch_trades(db, where)
        counted = await open_parts(db, trades)
    finally:
        await db.close()
    chosen = args.by
    pnl = report(trades, counted, chosen)
    if args.json:
        print_json(pnl)
    elif args.csv:
        print_csv(rows(pnl, chosen), COLUMNS)
    else:
        print_report(pnl, chosen)
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
