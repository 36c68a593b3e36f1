"""python -m arb_book: the order books of a venue set, from arb:md:{venue} to arb:book:{venue}."""

from __future__ import annotations

from arb_runtime.service import run_service

from arb_book.app import main as app_main
from arb_book.config import BookSettings


def main() -> None:
    run_service("book", BookSettings, app_main)


if __name__ == "__main__":
    main()
