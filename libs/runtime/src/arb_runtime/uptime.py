"""The engine's uptime, read from the services' health: the one reader ``arb status`` and the
dashboard share.

The book shards publish each book's LIVE share since it was first LIVE (health detail
``uptime_<venue>``: JSON, per symbol ``live_share``, ``watched_s``, ``gaps``); the ingest
processes publish their venue's connection counts (``CONNECTION_KEYS``). ``summarise`` folds
them into one view per venue, against the two targets: the product's promise
(``UPTIME_TARGET``, > 95 %) and the engineering goal the soak holds each book to
(``UPTIME_GOAL``, 99.9 %).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from arb_structs.constants import UPTIME_GOAL, UPTIME_TARGET

# Summed over a venue's ingest shards: connects, reconnects (connections lost and not taken
# over), rotations (replaced make-before-break), rotations_failed, reconnect_notices,
# failovers (cut, and the hot standby took over), standby (shards with a standby ready).
CONNECTION_KEYS = ("connects", "reconnects", "rotations", "rotations_failed",
                   "reconnect_notices", "failovers", "standby")  # fmt: skip


def summarise(healths: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """(service name, health detail) pairs -> ``{"target_live_share", "goal_live_share",
    "venues": {venue: {"books": {symbol: {...}}, "connections": {...}}}}``."""
    venues: dict[str, Any] = {}
    for service, detail in healths:
        if service == "book":
            for key, value in detail.items():
                if key.startswith("uptime_"):
                    with contextlib.suppress(ValueError, TypeError):
                        entry = venues.setdefault(key.removeprefix("uptime_"), {})
                        entry.setdefault("books", {}).update(json.loads(value))
        elif service == "ingest" and detail.get("venue"):
            entry = venues.setdefault(str(detail["venue"]), {})
            conns = entry.setdefault("connections", dict.fromkeys(CONNECTION_KEYS, 0))
            for key in CONNECTION_KEYS:
                with contextlib.suppress(ValueError, TypeError):
                    conns[key] += int(detail.get(key, 0) or 0)
    return {"target_live_share": UPTIME_TARGET, "goal_live_share": UPTIME_GOAL,
            "venues": dict(sorted(venues.items()))}  # fmt: skip
