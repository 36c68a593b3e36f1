"""What the replay bench replays: the shared recordings, and Kraken recorded from the
simulator.

The shared fixtures (``arb_venues.recorded.recordings()``, from each
``VenueSpec.recording``: one home for which file belongs to which venue) have no real Kraken
session, so the bench records one at every run, before any timing: the simulator (Kraken
only, seed 1, no injected dislocations, its default 50-level books) serves WS v2 and v1 at
once, and ``arb record``'s own ``record()`` captures ``KRAKEN_FRAMES`` WS frames of each
protocol into the capture format. The market process is seeded, so every run replays the
same kind of session; the frames themselves follow the wall clock, so they are not byte-
identical between runs (the report gives their counts).

A venue is measured as soon as its ``VenueSpec.recording`` names its files, and a peer as
soon as its driver knows the venue.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arb_cli.record import build_protocol, record
from arb_cli.replay import load_frames
from arb_venues.recorded import recordings

from arb_bench.simulator import start_simulator, stop_simulator

KRAKEN_SYMBOLS = ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
KRAKEN_FRAMES = 3_000  # per protocol
KRAKEN_RATE = 3_000.0  # simulator book updates/s
KRAKEN_SIMULATOR_ENV = {"ARB_SIMULATOR_TICK_HZ": "1000", "ARB_SIMULATOR_DEPTH": "50"}
KRAKEN_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ReplaySet:
    name: str  # the report's key: the venue, or venue-protocol
    venue: str
    protocol: str | None
    paths: tuple[Path, ...]
    source: str  # where the frames come from, for the report


def fixture_sets(fixtures: Path | None) -> tuple[list[ReplaySet], dict[str, str]]:
    """The recorded venues found under ``fixtures``, and why the others are missing."""
    sets: list[ReplaySet] = []
    missing: dict[str, str] = {}
    for venue, names in recordings().items():
        paths = tuple(fixtures / n for n in names) if fixtures else ()
        if fixtures and all(p.is_file() for p in paths):
            sets.append(ReplaySet(venue, venue, None, paths, "fixtures: " + ", ".join(names)))
        else:
            missing[venue] = "recorded data not found: set ARB_FIXTURES_DIR"
    return sets, missing


async def _record_kraken(folder: Path) -> list[ReplaySet]:
    proc, where = await asyncio.to_thread(
        start_simulator, KRAKEN_SYMBOLS, KRAKEN_RATE, ("kraken",),
        ("--seed", "1", "--inject-interval", "0"), KRAKEN_SIMULATOR_ENV,
    )  # fmt: skip
    try:
        urls = where["venues"]["kraken"]
        sets = []
        jobs = []
        for version in ("v2", "v1"):
            out = folder / f"kraken-{version}.jsonl"
            protocol = build_protocol("kraken", urls["ws"], urls["rest"], protocol_version=version)
            jobs.append(record(protocol, KRAKEN_SYMBOLS, out, duration_s=KRAKEN_TIMEOUT_S,
                               max_frames=KRAKEN_FRAMES))  # fmt: skip
            source = (
                f"simulator recording (arb record, WS {version}, seed 1, "
                f"{KRAKEN_FRAMES} frames, made at the start of this run)"
            )
            sets.append(ReplaySet(f"kraken-{version}", "kraken", version, (out,), source))
        await asyncio.gather(*jobs)
        return sets
    finally:
        await asyncio.to_thread(stop_simulator, proc)


def kraken_sets(folder: Path) -> tuple[list[ReplaySet], dict[str, str]]:
    try:
        return asyncio.run(_record_kraken(folder)), {}
    except Exception as exc:  # the bench goes on without Kraken and says why
        reason = f"could not record Kraken from the simulator: {type(exc).__name__}: {exc}"
        return [], {"kraken-v2": reason, "kraken-v1": reason}


def write_frames(replay_set: ReplaySet, folder: Path) -> tuple[Path, int]:
    """The set's frames merged as ``arb replay`` merges them, one JSON object per line: the
    one file every implementation reads."""
    frames = load_frames(list(replay_set.paths))
    out = folder / f"{replay_set.name}.frames.jsonl"
    with out.open("w", encoding="utf-8") as handle:
        for frame in frames:
            item: dict[str, Any] = {"kind": frame.kind, "url": frame.url, "ts": frame.ts,
                                    "raw": frame.raw}  # fmt: skip
            handle.write(json.dumps(item) + "\n")
    return out, len(frames)
