"""python -m arb_recorder: every execution, opportunity and exposure change into SQL."""

from __future__ import annotations

from arb_runtime.service import run_service

from arb_recorder.app import main as app_main
from arb_recorder.config import RecorderSettings


def main() -> None:
    run_service("recorder", RecorderSettings, app_main)


if __name__ == "__main__":
    main()
