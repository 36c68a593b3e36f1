"""Helpers the commands share: the Redis URL from the environment, JSON output."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from arb_runtime.errors import ConfigError


def redis_url_from_env() -> str:
    url = os.environ.get("ARB_REDIS_URL")
    if not url:
        raise ConfigError(
            "ARB_REDIS_URL is not set: point it at the deployment's Redis "
            "(redis://host:port/0); a running `arb run` printed its URL as its first line "
            "(arb run: Redis redis://...)"
        )
    return url


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, separators=(",", ":"), default=str)
    sys.stdout.write("\n")
    sys.stdout.flush()
