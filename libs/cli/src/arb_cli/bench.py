"""arb bench: the front door of the bench app (``arb_bench`` in apps/bench), imported only when
used, so the CLI does not depend on it."""

from __future__ import annotations

import argparse

from arb_runtime.errors import ConfigError


def run(args: argparse.Namespace) -> int:
    try:
        from arb_bench.report import run as bench
    except ModuleNotFoundError as exc:
        raise ConfigError(f"arb bench: the bench app is not installed ({exc}); run make setup, "
                          "which installs apps/bench into .venv") from None  # fmt: skip
    return bench(args)
