"""python -m arb_ingest: one venue's market data into arb:md:{venue}."""

from __future__ import annotations

from arb_runtime.service import run_service

from arb_ingest.app import main as app_main
from arb_ingest.config import IngestSettings


def main() -> None:
    run_service("ingest", IngestSettings, app_main)


if __name__ == "__main__":
    main()
