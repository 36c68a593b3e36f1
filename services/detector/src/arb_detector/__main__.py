"""``python -m arb_detector`` / ``arb-detector``: run one detector instance."""

from __future__ import annotations

from arb_runtime.service import run_service

from arb_detector.app import main as service_main
from arb_detector.config import DetectorSettings


def main() -> None:
    run_service("detector", DetectorSettings, service_main)


if __name__ == "__main__":
    main()
