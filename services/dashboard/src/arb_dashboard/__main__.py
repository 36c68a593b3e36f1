"""python -m arb_dashboard: the operator's page in a browser, live over a WebSocket."""

from __future__ import annotations

from arb_runtime.service import run_service

from arb_dashboard.app import main as app_main
from arb_dashboard.config import DashboardSettings


def main() -> None:
    run_service("dashboard", DashboardSettings, app_main)


if __name__ == "__main__":
    main()
