"""The operator's console commands on the arb parser: trades, pnl, alerts."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def add_console_commands(
    sub: Any, lazy: Callable[..., Callable[[argparse.Namespace], int]]
) -> None:
    from arb_history.pnl import GROUPINGS

    from arb_cli.trades import add_filter_arguments

    p = sub.add_parser("trades", help="the trade history from the recorder's database")
    add_filter_arguments(p)
    p.add_argument("--limit", type=int, default=None, help="only the newest N results")
    p.add_argument("--messages", action="store_true", help="--json: include each full message")
    p.set_defaults(func=lazy("trades"))

    from arb_cli.pnl import groupings

    p = sub.add_parser("pnl", help="PnL per day, venue pair and symbol from the database")
    add_filter_arguments(p)
    p.add_argument("--by", type=groupings, default=list(GROUPINGS),
                   help="groupings, comma-separated: day,pair,symbol (default all)")  # fmt: skip
    p.set_defaults(func=lazy("pnl"))

    p = sub.add_parser("alerts", help="alert sinks: `arb alerts test` sends one through each")
    alerts = p.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    t = alerts.add_parser("test", help="send a test alert through every configured sink")
    t.add_argument("--json", action="store_true", help="print the outcome per sink as JSON")
    t.set_defaults(func=lazy("alerts", "test"))
