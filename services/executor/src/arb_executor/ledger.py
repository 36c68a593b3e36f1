"""What the executor's records explain of a venue account's balances.

Model, per venue account and asset:

    explained = baseline + sum over the engine's orders listed at the venue since the
                baseline of (their effect - what of it the baseline already holds)
    unexplained = the venue's balance (free + locked) - explained

- ``baseline``: the account's balances at ``ts``, taken when the executor first met the
  venue (or rebuilt, see below) and rolled forward when everything is explained;
- an order's effect is the venue's own account of it: a buy adds its filled base and takes
  its quote amount, a sell the reverse, and the fee comes off the asset it was charged in;
- only the engine's orders count (client id in the engine's shape: arb_venues.common
  .clientids); a deposit, a withdrawal, a trade made by hand or by another program is what
  the records do not explain: unexplained exposure, per venue and asset;
- ``counted``: the effects of the orders listed when the baseline was taken (already in it).

The ledger lives in Redis (``arb:{exec}:ledger:<venue>``: ``ts``, ``baseline`` and ``counted`` as
MessagePack maps of decimal text), shared by every replica, and in each replica's memory.
Lost with Redis, it is written back from memory; when no replica has it (first start, or
Redis and every executor lost together) it is rebuilt from the venue: the balances now minus
the effects of the engine's orders over the lookback window, so every order of ours in that
window is explained and anything else from then on is not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec
from arb_structs import BalanceSnapshot, OrderReport
from arb_structs.trading import Side
from arb_venues.common.clientids import is_engine_client_order_id

from arb_executor.gateway import split_symbol
from arb_executor.grid import text
from arb_executor.pnl import quote_of

ZERO = Decimal(0)
Amounts = dict[str, Decimal]
_ENCODER = msgspec.msgpack.Encoder()
_MAP = msgspec.msgpack.Decoder(dict[str, str])
_NESTED = msgspec.msgpack.Decoder(dict[str, dict[str, str]])


def effects(report: OrderReport) -> Amounts:
    """What one order did to its account's balances, by asset, as the venue reports it."""
    base, quote = split_symbol(report.symbol)
    size = Decimal(report.filled_size or "0")
    out: Amounts = {}
    if not size:
        return out
    sign = 1 if report.side is Side.BUY else -1
    out[base] = sign * size
    out[quote] = -sign * quote_of(report)
    fee = Decimal(report.fee or "0")
    if fee:
        asset = report.fee_asset or quote
        out[asset] = out.get(asset, ZERO) - fee
    return out


def ours(reports: Iterable[OrderReport]) -> list[OrderReport]:
    return [r for r in reports if is_engine_client_order_id(r.client_order_id)]


def totals(snapshot: BalanceSnapshot) -> Amounts:
    return {a: Decimal(b.free or "0") + Decimal(b.locked or "0")
            for a, b in snapshot.balances.items()}  # fmt: skip


@dataclass
class Ledger:
    venue: str
    ts: int
    baseline: Amounts
    counted: dict[str, Amounts] = field(default_factory=dict)

    @classmethod
    def taken(cls, venue: str, ts: int, snapshot: BalanceSnapshot,
              reports: Iterable[OrderReport]) -> Ledger:  # fmt: skip
        """A baseline now: the balances, with every listed order of ours already in them."""
        mine = ours(reports)
        return cls(venue, ts, totals(snapshot), {r.client_order_id: effects(r) for r in mine})

    @classmethod
    def rebuilt(cls, venue: str, since_ns: int, snapshot: BalanceSnapshot,
                reports: Iterable[OrderReport]) -> Ledger:  # fmt: skip
        """No ledger anywhere: the balances before the listed orders of ours since
        ``since_ns``, so those orders explain the balances now."""
        baseline = totals(snapshot)
        for report in ours(reports):
            for asset, amount in effects(report).items():
                baseline[asset] = baseline.get(asset, ZERO) - amount
        return cls(venue, since_ns, baseline)

    def explained(self, reports: Iterable[OrderReport]) -> Amounts:
        out = dict(self.baseline)
        for report in ours(reports):
            before = self.counted.get(report.client_order_id, {})
            for asset, amount in effects(report).items():
                out[asset] = out.get(asset, ZERO) + amount - before.get(asset, ZERO)
        return out

    def unexplained(self, snapshot: BalanceSnapshot, reports: Iterable[OrderReport],
                    tolerance: Decimal) -> Amounts:  # fmt: skip
        """Per asset, the venue's balance minus what the records explain (beyond
        ``tolerance``)."""
        actual, explained = totals(snapshot), self.explained(reports)
        out: Amounts = {}
        for asset in set(actual) | set(explained):
            diff = actual.get(asset, ZERO) - explained.get(asset, ZERO)
            if abs(diff) > tolerance:
                out[asset] = diff
        return out

    def absorb(self, asset: str, amount: Decimal) -> None:
        """An operator acknowledged ``amount`` of ``asset``: it is explained from now on."""
        self.baseline[asset] = self.baseline.get(asset, ZERO) + amount

    # -- Redis form -------------------------------------------------------------------------

    def fields(self) -> dict[str, bytes | str]:
        return {
            "ts": str(self.ts),
            "baseline": _ENCODER.encode({a: text(v) for a, v in self.baseline.items()}),
            "counted": _ENCODER.encode(
                {
                    cid: {a: text(v) for a, v in amounts.items()}
                    for cid, amounts in self.counted.items()
                }
            ),
        }

    @classmethod
    def from_fields(cls, venue: str, raw: Mapping[Any, Any]) -> Ledger | None:
        fields = {(k.decode() if isinstance(k, bytes) else str(k)): v for k, v in raw.items()}
        if not {"ts", "baseline"} <= set(fields):
            return None
        ts_raw = fields["ts"]
        ts = int(ts_raw.decode() if isinstance(ts_raw, bytes) else ts_raw)
        baseline = {a: Decimal(v) for a, v in _MAP.decode(fields["baseline"]).items()}
        counted_raw = _NESTED.decode(fields["counted"]) if "counted" in fields else {}
        counted = {c: {a: Decimal(v) for a, v in m.items()} for c, m in counted_raw.items()}
        return cls(venue, ts, baseline, counted)
