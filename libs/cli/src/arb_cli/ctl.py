"""arb ctl: requests to running services over their control streams.

``arb ctl rotate VENUE`` puts a RotateRequest on ``arb:ctl:{venue}``, the stream ingest
already reads for the book service's resync and audit requests: every ingest process of the
venue replaces its connection make-before-break (the path a lifetime or a venue's reconnect
notice takes) and counts it in ``arb_ingest_rotations_total``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import time

from arb_runtime.redis import connect
from arb_structs import RotateRequest
from arb_structs.codec import CTL
from arb_structs.constants import CTL_MAXLEN, PAYLOAD_FIELD, ctl_stream
from arb_venues import VENUE_NAMES

from arb_cli.common import redis_url_from_env


async def request_rotation(redis: object, venue: str, reason: str = "requested") -> bytes:
    """XADD one RotateRequest for ``venue``; the entry id."""
    message = RotateRequest(venue=venue, ts=time.time_ns(), reason=reason, by=getpass.getuser())
    entry: bytes = await redis.xadd(  # type: ignore[attr-defined]
        ctl_stream(venue), {PAYLOAD_FIELD: CTL.encode(message)}, maxlen=CTL_MAXLEN,
        approximate=True,
    )  # fmt: skip
    return entry


async def _rotate(venue: str, reason: str) -> None:
    redis = await connect(redis_url_from_env())
    try:
        await request_rotation(redis, venue, reason)
    finally:
        await redis.aclose()


def rotate(args: argparse.Namespace) -> int:
    if args.venue not in VENUE_NAMES:
        print(f"arb ctl rotate: venue {args.venue!r} unknown; venues: {', '.join(VENUE_NAMES)}")
        return 2
    asyncio.run(_rotate(args.venue, args.reason))
    print(f"{args.venue}: rotation requested (ingest replaces its connection make-before-break;"
          " see arb status)")  # fmt: skip
    return 0
