"""Health of the simulator: ready once every server listens and the clock runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arb_simulator.app import Simulator


def health_detail(sim: Simulator) -> dict[str, Any]:
    return {
        "ready": sim.running,
        "venues_served": sorted(sim.urls),
        "venues_skipped": sorted(sim.skipped),
        "replay": sim.replay is not None,
    }
