"""arb status: what a running deployment is doing, from its Redis alone.

``collect`` is also what ``arb run`` reads every second, so it survives Redis restarting
under it: a stream or group that vanishes between two calls is skipped, and Redis not
answering raises RedisUnavailable (one line), never a redis-py traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from arb_runtime.errors import RedisUnavailable
from arb_runtime.redis import REDIS_RETRYABLE, connect
from arb_runtime.streaminfo import entries_added as entries_added  # run and bench use it
from arb_runtime.uptime import summarise as summarise_uptime
from arb_structs.codec import BOOK, HEALTH, KILL
from arb_structs.constants import (
    EXECUTIONS_STREAM,
    INSTRUMENTS_STREAM,
    KILL_KEY,
    OPPORTUNITIES_STREAM,
    book_latest_key,
    book_stream,
    ctl_stream,
    md_stream,
)
from arb_venues import VENUE_NAMES
from redis.exceptions import ResponseError

from arb_cli.common import print_json, redis_url_from_env


async def collect(redis: Any) -> dict[str, Any]:
    """Everything ``arb status`` shows, as one dict (redis: a redis.asyncio client)."""
    try:
        return await _collect(redis)
    except REDIS_RETRYABLE as exc:
        raise RedisUnavailable(
            f"Redis is not answering ({exc or type(exc).__name__}); start it again, or check "
            "ARB_REDIS_URL"
        ) from None


async def _collect(redis: Any) -> dict[str, Any]:
    now = time.time_ns()
    services = []
    async for key in redis.scan_iter(match="arb:health:*", count=200):
        raw = await redis.get(key)
        if raw:
            h = HEALTH.decode(raw)
            services.append({"service": h.service, "instance": h.instance, "status": h.status,
                             "ready": h.ready, "age_s": round((now - h.ts) / 1e9, 1),
                             "detail": h.detail, "metrics_url": h.metrics_url})  # fmt: skip
    books = []
    streams: dict[str, int] = {}
    for venue in VENUE_NAMES:
        for name in (md_stream(venue), book_stream(venue), ctl_stream(venue)):
            if await redis.exists(name):
                streams[name] = int(await redis.xlen(name))
        for symbol, raw in (await redis.hgetall(book_latest_key(venue))).items():
            view = BOOK.decode(raw)
            books.append({
                "venue": venue, "symbol": symbol.decode(), "state": str(view.state),
                "reason": view.reason, "seq": view.seq,
                "best_bid": view.bids[0][0] if view.bids else None,
                "best_ask": view.asks[0][0] if view.asks else None,
                "age_s": round((now - (view.ts_update or view.ts_book)) / 1e9, 2),
                "audit": view.audit,
                "audit_age_s": round((now - view.ts_audit) / 1e9, 1) if view.ts_audit else None,
            })  # fmt: skip
    groups = []
    for name in (OPPORTUNITIES_STREAM, EXECUTIONS_STREAM, INSTRUMENTS_STREAM):
        if not await redis.exists(name):
            continue
        streams[name] = int(await redis.xlen(name))
        try:
            stream_groups = await redis.xinfo_groups(name)
        except ResponseError:  # the stream vanished since EXISTS (Redis restarted empty)
            continue
        for group in stream_groups:
            groups.append({
                "stream": name, "group": _text(group["name"]), "consumers": group["consumers"],
                "pending": group["pending"], "lag": group.get("lag"),
            })  # fmt: skip
    kill_raw = await redis.get(KILL_KEY)
    kill = KILL.decode(kill_raw) if kill_raw else None
    return {
        "services": sorted(services, key=lambda s: (s["service"], s["instance"])),
        "books": sorted(books, key=lambda b: (b["venue"], b["symbol"])),
        "audits": _audits(services),
        "uptime": _uptime(services),
        "streams": streams,
        "groups": groups,
        "kill_switch": {"engaged": True, "reason": kill.reason} if kill else {"engaged": False},
    }


def _audits(services: list[dict[str, Any]]) -> dict[str, str]:
    """Book audits per venue, as each book shard reports them in its health."""
    out: dict[str, str] = {}
    for service in services:
        if service["service"] != "book":
            continue
        for key, value in service["detail"].items():
            if key.startswith("audits_"):
                out[key.removeprefix("audits_")] = value
    return dict(sorted(out.items()))


def _uptime(services: list[dict[str, Any]]) -> dict[str, Any]:
    """Per venue: each book's LIVE share and the venue's connections (arb_runtime.uptime)."""
    return summarise_uptime((s["service"], s["detail"]) for s in services)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def _run(as_json: bool) -> int:
    redis = await connect(redis_url_from_env())
    try:
        status = await collect(redis)
    finally:
        await redis.aclose()
    if as_json:
        print_json(status)
        return 0
    print("services:")
    for s in status["services"]:
        shard = s["detail"].get("shard")
        print(f"  {s['service']:<10} {s['instance']:<24} {s['status']:<9} "
              f"ready={s['ready']!s:<5} seen {s['age_s']}s ago"
              + (f"  shard {shard}" if shard else "")
              + (f"  {s['metrics_url']}" if s["metrics_url"] else ""))  # fmt: skip
    print("books:")
    for b in status["books"]:
        audit = f" audit {b['audit']} {b['audit_age_s']}s ago" if b["audit"] else ""
        print(f"  {b['venue']:<9} {b['symbol']:<10} {b['state']:<8} bid {b['best_bid']} "
              f"ask {b['best_ask']} age {b['age_s']}s{audit} {b['reason']}")  # fmt: skip
    print("audits:")
    for venue, described in status["audits"].items():
        print(f"  {venue:<9} {described}")
    uptime = status["uptime"]
    print(
        f"uptime (share of time LIVE since first LIVE; target > {uptime['target_live_share']:.0%}):"
    )
    for venue, entry in uptime["venues"].items():
        c = entry.get("connections", {})
        print(f"  {venue:<9} connects {c.get('connects', 0)} reconnects {c.get('reconnects', 0)} "
              f"rotations {c.get('rotations', 0)} (failed {c.get('rotations_failed', 0)}, "
              f"notices {c.get('reconnect_notices', 0)}), failovers to the standby "
              f"{c.get('failovers', 0)}")  # fmt: skip
        for symbol, b in entry.get("books", {}).items():
            mark = "" if b["live_share"] > uptime["target_live_share"] else "  BELOW TARGET"
            if not mark and b["live_share"] < uptime["goal_live_share"]:
                mark = f"  below the {uptime['goal_live_share']:.1%} goal"
            declared = b.get("declared_down_s") or 0
            note = f", {declared}s down for the venue's declared maintenance" if declared else ""
            print(f"    {symbol:<12} LIVE {b['live_share'] * 100:.3f}% of {b['watched_s']}s, "
                  f"gaps {b['gaps']}{note}{mark}")  # fmt: skip
    print("streams:")
    for name, length in sorted(status["streams"].items()):
        print(f"  {name:<32} {length}")
    for g in status["groups"]:
        print(f"  group {g['group']} on {g['stream']}: pending {g['pending']}, lag {g['lag']}")
    ks = status["kill_switch"]
    print("kill switch:", f"ENGAGED ({ks['reason']})" if ks["engaged"] else "off")
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args.json))
