"""Simulator ground truth: what was injected, so a run can be scored."""

from __future__ import annotations

import msgspec


class TruthEvent(msgspec.Struct, frozen=True, kw_only=True, tag="truth"):
    id: str
    venue: str  # the venue whose price was dislocated
    symbol: str
    direction: str  # "up" (venue rich: sell there) | "down" (venue cheap: buy there)
    bps: float  # size of the dislocation vs fair price
    size: float  # base quantity made available at the dislocated price
    start_ns: int
    end_ns: int
