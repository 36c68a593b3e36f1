"""arb sim: the exchange simulator, as ``python -m arb_simulator`` with the same options.

arb sim --venues binance,okx --symbols BTC-USDT --rate 200 --json
arb sim --help
"""

from __future__ import annotations

import argparse

from arb_simulator.__main__ import main


def run(args: argparse.Namespace) -> int:
    """Run the simulator until SIGTERM/SIGINT; a bad option exits 2 with one line."""
    main(list(args.rest), prog="arb sim")
    return 0
