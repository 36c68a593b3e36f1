"""python -m arb_alerter: alerts on exposure, breakers, the kill switch, venues and restarts."""

from __future__ import annotations

from arb_runtime.service import run_service

from arb_alerter.app import main as app_main
from arb_alerter.config import AlerterSettings


def main() -> None:
    run_service("alerter", AlerterSettings, app_main)


if __name__ == "__main__":
    main()
