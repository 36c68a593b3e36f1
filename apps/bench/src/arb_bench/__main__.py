"""``python -m arb_bench``: the same as ``arb bench`` (the arb command's own options)."""

from __future__ import annotations

import sys


def main() -> None:
    from arb_cli.main import main as arb

    arb(["bench", *sys.argv[1:]])


if __name__ == "__main__":
    main()
