"""Risk state that survives a restart, kept in Redis.

What a new executor must not forget: the realised PnL of the UTC day (the daily loss limit),
open exposure per asset, open venue breakers and unhedged pair blocks. Layout (hashes, see
``arb_structs.constants.executor_risk_key``):

    arb:exec:risk:pnl        "2026-07-01" -> "-12.5"      (days older than a week dropped)
    arb:exec:risk:exposure   "BTC" -> "3000.12"
    arb:exec:risk:breakers   "binance" -> "<until ns>"
    arb:exec:risk:blocks     "BTC-USDT|binance|okx" -> "<until ns>"

``save`` writes the whole state in one pipelined transaction after each execution (off the
order path); ``load`` restores it at start, before any opportunity is taken.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

import redis.asyncio as aioredis
from arb_structs.constants import executor_risk_key

from arb_executor.risk import Pair, RiskState

PNL_KEY = executor_risk_key("pnl")
EXPOSURE_KEY = executor_risk_key("exposure")
BREAKERS_KEY = executor_risk_key("breakers")
BLOCKS_KEY = executor_risk_key("blocks")
KEEP_DAYS = 7


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _decimal(raw: Any) -> Decimal | None:
    try:
        return Decimal(_text(raw))
    except InvalidOperation:
        return None


class RiskStore:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def save(self, risk: RiskState, now_ns: int) -> None:
        pipe = self.redis.pipeline(transaction=True)
        if risk.day is not None:
            pipe.hset(PNL_KEY, risk.day.isoformat(), str(risk.daily_pnl))
            oldest = (risk.day - dt.timedelta(days=KEEP_DAYS)).isoformat()
            pipe.hdel(PNL_KEY, oldest)
        for key, values in (
            (EXPOSURE_KEY, {asset: str(value) for asset, value in risk.exposure.items()}),
            (BREAKERS_KEY, {v: str(t) for v, t in risk.breaker_until.items() if t > now_ns}),
            (BLOCKS_KEY, {"|".join(p): str(t) for p, t in risk.pair_blocked_until.items()
                          if t > now_ns}),
        ):  # fmt: skip
            pipe.delete(key)
            if values:
                pipe.hset(key, mapping=values)  # type: ignore[arg-type]
        await pipe.execute()

    async def load(self, risk: RiskState, now_ns: int) -> None:
        """Restore what an earlier executor left (expired breakers/blocks are dropped)."""
        r: Any = self.redis
        pipe = r.pipeline(transaction=False)
        today = dt.datetime.fromtimestamp(now_ns / 1e9, tz=dt.UTC).date()
        pipe.hget(PNL_KEY, today.isoformat())
        pipe.hgetall(EXPOSURE_KEY)
        pipe.hgetall(BREAKERS_KEY)
        pipe.hgetall(BLOCKS_KEY)
        pnl, exposure, breakers, blocks = await pipe.execute()
        risk.day = today
        risk.daily_pnl = (_decimal(pnl) if pnl is not None else None) or Decimal(0)
        for asset, raw in exposure.items():
            value = _decimal(raw)
            if value is not None:
                risk.exposure[_text(asset)] = value
        for venue, raw in breakers.items():
            until = int(_text(raw))
            if until > now_ns:
                risk.breaker_until[_text(venue)] = until
        for pair_text, raw in blocks.items():
            parts = tuple(_text(pair_text).split("|"))
            until = int(_text(raw))
            if len(parts) == 3 and until > now_ns:
                pair: Pair = (parts[0], parts[1], parts[2])
                risk.pair_blocked_until[pair] = until
