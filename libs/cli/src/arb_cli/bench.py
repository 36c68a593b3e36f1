"""arb bench: the front door of the bench package (``arb_bench``), imported only when used."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from arb_bench.report import run as bench

    return bench(args)
