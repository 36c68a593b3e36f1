"""One venue's feed alone: its CPU per frame, against a bare reader of the same subscription.

    python -m arb_bench.feed_cpu --venue coinbase --rate 500 --rounds 3 --window 12

The simulator serves the venue (``--rate`` book updates/s, market clock 1,000 ticks/s, so at
low rates every frame is its own wake-up, as with a real venue); each mode then runs in a
process of its own, in turn, ``--rounds`` times, and reports the CPU it spent (getrusage)
over ``--window`` seconds divided by the live frames it received:

- ``bare``: aiohttp's WS client with the venue's subscribe messages; no parse, no feed;
- ``feed``: arb_venues' MarketDataFeed (parse, books' sequence, emit to a no-op);
- ``standby``: the same with its hot standby connection (every frame received twice).

No Redis: what is measured is the feed's own work per frame. A child alone, for callgrind
(instructions a frame: the difference between two window lengths over the frames between):

    valgrind --tool=callgrind python -m arb_bench.feed_cpu --child feed --venue coinbase \\
        --ws-url ws://... --rest-url http://... --warm 12 --window 8   # and --window 48
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

MODES = ("bare", "feed", "standby")
SYMBOLS = "BTC-USDT,ETH-USDT,SOL-USDT"


def cpu_s() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


async def child(mode: str, venue: str, ws_url: str, rest_url: str, warm_s: float,
                window_s: float) -> dict[str, Any]:  # fmt: skip
    """Run ``mode`` against the venue; CPU us per live frame over the window."""
    from arb_simulator.catalog import make_instrument
    from arb_venues import get_venue
    from arb_venues.base import Endpoints

    protocol = get_venue(venue).market(Endpoints(ws_url=ws_url, rest_url=rest_url))
    instruments = [make_instrument(venue, symbol) for symbol in SYMBOLS.split(",")]
    if mode == "bare":
        return await _bare(protocol, instruments, ws_url, warm_s, window_s)
    from arb_venues.common.feed import MarketDataFeed

    feed = MarketDataFeed(protocol, instruments, lambda event: None, standby=mode == "standby")
    stopping = asyncio.Event()
    task = asyncio.create_task(feed.run(stopping))
    await asyncio.sleep(warm_s)
    frames, used = feed.stats.frames, cpu_s()
    await asyncio.sleep(window_s)
    frames, used = feed.stats.frames - frames, cpu_s() - used
    stopping.set()
    await asyncio.wait_for(task, 10)
    live = frames / 2 if mode == "standby" else frames  # stats count both connections
    return {"mode": mode, "live_frames": int(live), "cpu_us_per_live_frame": _per(used, live)}


async def _bare(protocol: Any, instruments: list[Any], ws_url: str, warm_s: float,
                window_s: float) -> dict[str, Any]:  # fmt: skip
    import aiohttp

    loop = asyncio.get_running_loop()
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(ws_url, autoping=False, max_msg_size=0) as ws,
    ):
        for message in [*protocol.connect_messages(instruments),
                        *protocol.subscribe_messages(instruments)]:  # fmt: skip
            await ws.send_str(message)
        frames, used, start = 0, 0.0, loop.time()
        measuring = False
        while True:
            now = loop.time()
            if not measuring and now >= start + warm_s:
                measuring, frames, used = True, 0, cpu_s()
            if measuring and now >= start + warm_s + window_s:
                break
            message = await ws.receive()
            if message.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                raise RuntimeError(f"the bare reader's connection ended: {message.type}")
            frames += 1
            await asyncio.sleep(0)  # as the feed yields after a frame
    used = cpu_s() - used
    return {"mode": "bare", "live_frames": frames, "cpu_us_per_live_frame": _per(used, frames)}


def _per(used_s: float, frames: float) -> float:
    return round(1e6 * used_s / frames, 1) if frames else 0.0


def summary(results: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per mode: median, min and max of the rounds' CPU us per live frame."""
    out: dict[str, dict[str, float]] = {}
    for mode in MODES:
        values = [r["cpu_us_per_live_frame"] for r in results if r["mode"] == mode]
        if values:
            out[mode] = {"median": round(statistics.median(values), 1), "min": min(values),
                         "max": max(values), "rounds": len(values)}  # fmt: skip
    return out


def run(venue: str, rate: float, rounds: int, warm_s: float, window_s: float,
        modes: Sequence[str] = MODES) -> dict[str, Any]:  # fmt: skip
    """Start the simulator, run each mode in turn ``rounds`` times; every result and the
    summary."""
    sim = subprocess.Popen(
        [sys.executable, "-m", "arb_simulator", "--venues", venue, "--symbols", SYMBOLS,
         "--rate", str(rate), "--tick-hz", "1000", "--inject-interval", "0", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert sim.stdout is not None
        urls = json.loads(sim.stdout.readline())["venues"][venue]
        results = []
        for _ in range(rounds):
            for mode in modes:
                done = subprocess.run(
                    [sys.executable, "-m", "arb_bench.feed_cpu", "--child", mode, "--venue", venue,
                     "--ws-url", urls["ws"], "--rest-url", urls["rest"], "--warm", str(warm_s),
                     "--window", str(window_s)],
                    capture_output=True, text=True, timeout=warm_s + window_s + 60, check=True,
                )  # fmt: skip
                results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    finally:
        sim.terminate()
        sim.wait(10)
        if sim.stdout is not None:
            sim.stdout.close()
    return {"venue": venue, "rate": rate, "window_s": window_s, "results": results,
            "summary": summary(results)}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m arb_bench.feed_cpu")
    parser.add_argument("--venue", default="coinbase")
    parser.add_argument("--rate", type=float, default=500.0, help="book updates/s")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warm", type=float, default=4.0, help="seconds before the window")
    parser.add_argument("--window", type=float, default=12.0)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--child", choices=MODES, help="one mode, in this process")
    parser.add_argument("--ws-url")
    parser.add_argument("--rest-url")
    args = parser.parse_args(argv)
    if args.child:
        import uvloop

        print(json.dumps(uvloop.run(child(args.child, args.venue, args.ws_url, args.rest_url,
                                          args.warm, args.window))))  # fmt: skip
        return
    modes = [m for m in args.modes.split(",") if m]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        parser.exit(2, f"feed_cpu: unknown modes {unknown}: choose from {', '.join(MODES)}\n")
    print(json.dumps(run(args.venue, args.rate, args.rounds, args.warm, args.window, modes),
                     indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
