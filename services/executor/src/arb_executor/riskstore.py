"""Risk state shared by every executor replica, in Redis, changed only by atomic operations.

N replicas enforce one limit: none rewrites a whole hash (that was last-writer-wins: two
replicas losing 400 and 300 passed a 500 limit). Layout (``arb_structs.constants``):

    arb:{exec}:risk:pnl_units  "2026-07-01" -> -1250000000   realised PnL of the UTC day in
                                                             integer units of 1e-8 quote,
                                                             HINCRBY by every replica
    arb:{exec}:risk:breakers   "binance" -> "<until ns>"     the later deadline wins (Lua)
    arb:{exec}:risk:blocks     "BTC-USDT|binance|okx" -> "<until ns>"   the same

Money is never a float here: PnL travels as integer units (``to_units``), deadlines as
integer text compared as text (Lua numbers are doubles and lose nanoseconds). Open exposure
is the exposure book's (exposure.py), read with the rest before every check.

Writes go through the service's StreamProducer (one ordered write-behind queue): nothing on
the trading path waits for Redis. Reads happen once per opportunity, in intake's round trip.
Each replica remembers its own day's contribution: when Redis comes back empty it adds it
again (``restore``), so the shared day is the sum of every live replica's trades.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from arb_runtime.streams import StreamProducer
from arb_structs.constants import executor_risk_key

from arb_executor.risk import Pair, RiskState, utc_day

PNL_UNITS_KEY = executor_risk_key("pnl_units")
BREAKERS_KEY = executor_risk_key("breakers")
BLOCKS_KEY = executor_risk_key("blocks")
UNIT = Decimal("0.00000001")  # 1e-8 quote per unit
KEEP_DAYS = 7

# HSET field to ARGV[2] unless the stored deadline is later (same-length decimal text).
_KEEP_LATER = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if (not current) or #ARGV[2] > #current or (#ARGV[2] == #current and ARGV[2] > current) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
return 0
"""


def to_units(amount: Decimal) -> int:
    return int((amount / UNIT).to_integral_value(rounding=ROUND_HALF_EVEN))


def from_units(units: int) -> Decimal:
    return Decimal(units) * UNIT


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _deadlines(raw: dict[Any, Any], now_ns: int) -> dict[str, int]:
    out = {}
    for key, value in raw.items():
        text = _text(value)
        if text.isdigit() and int(text) > now_ns:
            out[_text(key)] = int(text)
    return out


class RiskStore:
    """The shared risk state: a RiskSink (writes) and the reads intake folds into RiskState."""

    def __init__(self, producer: StreamProducer) -> None:
        self.producer = producer
        self.own_units: dict[str, int] = {}  # this process's realised PnL per day (units)

    # -- RiskSink ---------------------------------------------------------------------------

    def traded(self, day: dt.date, pnl: Decimal) -> None:
        units = to_units(pnl)
        if not units:
            return
        key = day.isoformat()
        if key not in self.own_units:  # a new day: forget the oldest kept one
            oldest = (day - dt.timedelta(days=KEEP_DAYS)).isoformat()
            self.producer.command("HDEL", PNL_UNITS_KEY, oldest)
        self.own_units[key] = self.own_units.get(key, 0) + units
        self.producer.command("HINCRBY", PNL_UNITS_KEY, key, units)

    def breaker(self, venue: str, until_ns: int) -> None:
        self.producer.command("EVAL", _KEEP_LATER, 1, BREAKERS_KEY, venue, str(until_ns))

    def block(self, pair: Pair, until_ns: int) -> None:
        self.producer.command("EVAL", _KEEP_LATER, 1, BLOCKS_KEY, "|".join(pair), str(until_ns))

    # -- reads ------------------------------------------------------------------------------

    @staticmethod
    def queue_reads(pipe: Any, now_ns: int) -> None:
        """Add the three reads to ``pipe`` (their replies go to ``apply`` in this order)."""
        pipe.hget(PNL_UNITS_KEY, utc_day(now_ns).isoformat())
        pipe.hgetall(BREAKERS_KEY)
        pipe.hgetall(BLOCKS_KEY)

    def apply(self, risk: RiskState, now_ns: int, replies: list[Any]) -> None:
        """Fold the shared values into ``risk``: the shared day and pair blocks replace the
        local ones (an operator may have cleared a block: ``arb exposure close``), unless
        this process has writes still queued; a breaker keeps the later deadline."""
        pnl, breakers, blocks = replies
        risk.day = utc_day(now_ns)
        text = _text(pnl) if pnl is not None else "0"
        risk.daily_pnl = from_units(int(text)) if text.lstrip("-").isdigit() else Decimal(0)
        for venue, until in _deadlines(breakers, now_ns).items():
            risk.breaker_until[venue] = max(risk.breaker_until.get(venue, 0), until)
        shared: dict[Pair, int] = {}
        for pair_text, until in _deadlines(blocks, now_ns).items():
            parts = pair_text.split("|")
            if len(parts) == 3:
                shared[(parts[0], parts[1], parts[2])] = until
        if self.producer.pending:  # ours may not be in Redis yet: keep them too
            for pair, until in risk.pair_blocked_until.items():
                shared[pair] = max(shared.get(pair, 0), until)
        risk.pair_blocked_until = shared

    async def load(self, redis: Any, risk: RiskState, now_ns: int) -> None:
        pipe = redis.pipeline(transaction=False)
        self.queue_reads(pipe, now_ns)
        self.apply(risk, now_ns, await pipe.execute())

    def restore(self, risk: RiskState, now_ns: int) -> None:
        """Redis came back empty: put back this process's part of the shared state."""
        day = utc_day(now_ns).isoformat()
        if self.own_units.get(day):
            self.producer.command("HINCRBY", PNL_UNITS_KEY, day, self.own_units[day])
        for venue, until in risk.breaker_until.items():
            if until > now_ns:
                self.breaker(venue, until)
        for pair, until in risk.pair_blocked_until.items():
            if until > now_ns:
                self.block(pair, until)
