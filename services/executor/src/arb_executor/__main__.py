"""python -m arb_executor: opportunities in, orders (paper or live) out, results to
arb:executions."""

from __future__ import annotations

from arb_runtime.service import run_service

from arb_executor.app import main as app_main
from arb_executor.config import ExecutorSettings


def main() -> None:
    run_service("executor", ExecutorSettings, app_main)


if __name__ == "__main__":
    main()
