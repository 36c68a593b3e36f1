"""arb exposure: the open exposure of a deployment, and clearing it on purpose.

    arb exposure                          every open exposure: venue, asset, size, marked value,
                                          since, kind, reason (--json for one object)
    arb exposure close VENUE ASSET        clear it: an ExposureEvent ACKNOWLEDGED with who and
    arb exposure --ack VENUE ASSET        when goes to arb:exposure (the record), the registry
                                          entry goes, an unhedged pair block on that asset goes,
                                          and an unexplained balance is taken into the executor's
                                          ledger at its next reconciliation (it stops blocking)

Close it once the position is dealt with (closed by hand at the venue, or accepted as it is):
the engine stops counting it. ``--actor`` names who (default: user@host).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
import socket
import time
from typing import Any

import msgspec
from arb_executor.layout import not_migrated
from arb_executor.riskstore import BLOCKS_KEY
from arb_runtime.errors import ConfigError
from arb_runtime.redis import connect
from arb_structs import ExposureEvent, ExposureKind
from arb_structs.codec import EXPOSURE
from arb_structs.constants import (
    EXPOSURE_ACKS_KEY,
    EXPOSURE_MAXLEN,
    EXPOSURE_OPEN_KEY,
    EXPOSURE_STREAM,
    PAYLOAD_FIELD,
)

from arb_cli.common import print_json, redis_url_from_env


def add_parser(sub: Any, command: Any) -> None:
    """The ``arb exposure`` subcommand; ``command`` runs it (main.py's lazy loader)."""
    p = sub.add_parser("exposure", help="open exposure per venue/asset; close VENUE ASSET clears")
    p.add_argument("words", nargs="*", metavar="close VENUE ASSET",
                   help="close VENUE ASSET: clear that exposure on purpose")  # fmt: skip
    p.add_argument("--ack", nargs=2, metavar=("VENUE", "ASSET"), help="the same as close")
    p.add_argument("--actor", default="", help="who clears it (default: user@host)")
    p.add_argument("--reason", default="cleared by an operator", help="why (kept in the record)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=command)


def _target(args: argparse.Namespace) -> tuple[str, str] | None:
    if args.ack:
        return args.ack[0].lower(), args.ack[1].upper()
    if not args.words:
        return None
    if len(args.words) != 3 or args.words[0] != "close":
        raise ConfigError(
            f"arb exposure {' '.join(args.words)}: use `arb exposure` to list, or "
            "`arb exposure close VENUE ASSET` (or --ack VENUE ASSET) to clear one"
        )
    return args.words[1].lower(), args.words[2].upper()


def _open(raw: dict[Any, Any]) -> list[ExposureEvent]:
    events = []
    for value in raw.values():
        try:
            events.append(EXPOSURE.decode(value))
        except msgspec.DecodeError:
            continue
    return sorted(events, key=lambda e: (e.venue, e.asset, e.since))


def row(event: ExposureEvent) -> dict[str, str]:
    since = dt.datetime.fromtimestamp(event.since / 1e9, dt.UTC) if event.since else None
    return {
        "venue": event.venue, "asset": event.asset, "kind": event.kind.value,
        "size": event.size, "quote_value": event.quote_value, "mark_price": event.mark_price,
        "unrealised_pnl": event.unrealised_pnl,
        "since": since.isoformat(timespec="seconds") if since else "", "reason": event.reason,
        "id": event.id, "opportunity_id": event.opportunity_id,
    }  # fmt: skip


async def list_open(redis: Any) -> list[ExposureEvent]:
    return _open(await redis.hgetall(EXPOSURE_OPEN_KEY))


async def _close(redis: Any, venue: str, asset: str, actor: str, reason: str
                 ) -> list[ExposureEvent]:  # fmt: skip
    """Acknowledge every open exposure of (venue, asset); the ACKNOWLEDGED events."""
    now = time.time_ns()
    events = [e for e in await list_open(redis) if e.venue == venue and e.asset == asset]
    acked = [msgspec.structs.replace(e, kind=ExposureKind.ACKNOWLEDGED, size="0",
                                     quote_value="0", unrealised_pnl="0", actor=actor,
                                     reason=f"{reason} (was {e.kind.value} {e.size})", ts=now)
             for e in events]  # fmt: skip
    blocks = [
        k for k in await redis.hkeys(BLOCKS_KEY)
        if _unblocks(k.decode() if isinstance(k, bytes) else str(k), venue, asset)
    ]  # fmt: skip
    pipe = redis.pipeline(transaction=True)
    for before, event in zip(events, acked, strict=True):
        payload = EXPOSURE.encode(event)
        pipe.xadd(EXPOSURE_STREAM, {PAYLOAD_FIELD: payload}, maxlen=EXPOSURE_MAXLEN,
                  approximate=True)  # fmt: skip
        pipe.hdel(EXPOSURE_OPEN_KEY, event.id)
        if before.kind is ExposureKind.UNEXPLAINED:
            pipe.hset(EXPOSURE_ACKS_KEY, f"{venue}|{asset}", payload)
    if acked and blocks:
        pipe.hdel(BLOCKS_KEY, *blocks)
    await pipe.execute()
    return acked


def _unblocks(pair: str, venue: str, asset: str) -> bool:
    """A pair block ``SYMBOL|buy|sell`` on this venue whose base is the asset."""
    parts = pair.split("|")
    return len(parts) == 3 and parts[0].partition("-")[0] == asset and venue in parts[1:]


async def _run(args: argparse.Namespace) -> int:
    target = _target(args)
    redis = await connect(redis_url_from_env())
    try:
        if await not_migrated(redis):
            raise ConfigError(
                "arb exposure: this Redis holds the executor's state under the old key names "
                "(arb:exec:*, arb:exposure); start an executor of this version once (it renames "
                "them into the {exec} slot, docs/scaling.md), then run arb exposure again"
            )
        if target is None:
            events = await list_open(redis)
            if args.json:
                print_json({"open": [row(e) for e in events]})
            elif not events:
                print("no open exposure")
            else:
                for e in events:
                    r = row(e)
                    print(
                        f"{r['venue']:<9} {r['asset']:<6} {r['kind']:<11} {r['size']:>16} "
                        f"value {r['quote_value']:>14} since {r['since']}  {r['reason']}"
                    )
            return 0
        venue, asset = target
        actor = args.actor or f"{getpass.getuser()}@{socket.gethostname()}"
        acked = await _close(redis, venue, asset, actor, args.reason)
    finally:
        await redis.aclose()
    if args.json:
        print_json({"acknowledged": [row(e) for e in acked], "actor": actor})
    elif acked:
        for e in acked:
            print(f"{venue} {asset}: {e.reason}; acknowledged by {actor}")
    if not acked:
        if not args.json:
            print(f"no open exposure on {venue} {asset}; `arb exposure` lists what is open")
        return 1
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
