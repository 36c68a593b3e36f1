"""The fault schedule of ``arb chaos`` (pure: no I/O): what is broken, when, from a seed.

Same seed, same duration, same venues and services: the same schedule. Three families:

- **Redis**: ``redis_restart_empty`` (kill -9, data folder wiped, started again: every key
  and stream gone) and ``redis_restart_aof`` (kill -9, started again from its append-only
  file), one in each of ``max(2, duration / REDIS_EVERY_S)`` equal slots of the window, the
  two kinds alternating (which comes first is drawn), each down for 1-5 s;
- **services**: ``kill_<service>`` (kill -9; the supervisor restarts it): every service
  once, the executor once more per EXECUTOR_EVERY_S;
- **venues**: one simulator fault every 2-5 s on a drawn venue (POST /control/faults):
  VENUE_FAULTS below, each with the body it is armed with.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

REDIS_EVERY_S = 40.0
EXECUTOR_EVERY_S = 60.0
REDIS_DOWN_S = (1.0, 5.0)
VENUE_FAULT_GAP_S = (2.0, 5.0)
REDIS_KINDS = ("redis_restart_empty", "redis_restart_aof")


def _venue_fault(rng: random.Random, kind: str) -> dict[str, Any]:
    """The simulator's fault body for one venue fault kind of ours."""
    if kind == "http_5xx":  # every request of the venue for a moment: orders, queries, balances
        return {"kind": "http_5xx", "duration_s": round(rng.uniform(0.5, 2.0), 2),
                "status": rng.choice((500, 502, 503))}  # fmt: skip
    if kind == "http_429":
        return {"kind": "http_429", "count": 1, "retry_after_s": 1.0}
    if kind == "timeout":  # longer than the executor's order timeout (2 s): outcome unknown
        return {"kind": "slow", "count": 1, "delay_s": 3.0}
    # order placement faults (the next order), and a dropped market-data socket
    return {"kind": kind, "count": 1}


VENUE_FAULTS = ("http_5xx", "http_429", "timeout", "lose_response", "partial_fill",
                "reject_order", "drop_connection")  # fmt: skip


@dataclass(frozen=True, order=True)
class Fault:
    at_s: float  # seconds into the fault window
    kind: str  # redis_restart_*, kill_<service>, or one of VENUE_FAULTS
    venue: str = ""  # venue faults
    down_s: float = 0.0  # Redis restarts: how long it stays down
    body: dict[str, Any] = field(default_factory=dict, compare=False)  # POST /control/faults


def plan(seed: int, duration_s: float, venues: Sequence[str], services: Sequence[str]
         ) -> list[Fault]:  # fmt: skip
    """Every fault of a run, in time order."""
    rng = random.Random(seed)
    faults: list[Fault] = []
    n_redis = max(2, round(duration_s / REDIS_EVERY_S))
    slot = duration_s / n_redis
    first = rng.randrange(2)
    for i in range(n_redis):  # in the middle of its slot: recovery has room before the next
        at = slot * i + slot * rng.uniform(0.2, 0.6)
        faults.append(Fault(round(at, 2), REDIS_KINDS[(first + i) % 2],
                            down_s=round(rng.uniform(*REDIS_DOWN_S), 2)))  # fmt: skip
    kills = list(services)
    if "executor" in services:
        kills += ["executor"] * max(0, round(duration_s / EXECUTOR_EVERY_S) - 1)
    for name in kills:
        faults.append(Fault(round(rng.uniform(0.05, 0.9) * duration_s, 2), f"kill_{name}"))
    at = rng.uniform(*VENUE_FAULT_GAP_S)
    while at < duration_s * 0.95:
        kind = rng.choice(VENUE_FAULTS)
        faults.append(Fault(round(at, 2), kind, venue=rng.choice(list(venues)),
                            body=_venue_fault(rng, kind)))  # fmt: skip
        at += rng.uniform(*VENUE_FAULT_GAP_S)
    return sorted(faults)


def counts(faults: Sequence[Fault]) -> dict[str, int]:
    """Faults by kind (kill_<service> and venue kinds as they are), sorted by kind."""
    out: dict[str, int] = {}
    for fault in faults:
        out[fault.kind] = out.get(fault.kind, 0) + 1
    return dict(sorted(out.items()))
