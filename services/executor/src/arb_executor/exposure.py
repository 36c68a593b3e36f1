"""Open exposure, per venue and asset: what is open, why, since when, and what it is worth.

Every change goes to ``arb:exposure:{exec}`` as an ExposureEvent (the recorder and the
alerter read it) and to the registry ``arb:{exec}:exposure`` (hash id -> the latest
ExposureEvent), which every replica and ``arb exposure`` read. Kinds:

    UNHEDGED      a saga (or a late or adopted order) left a position open and said so
    UNEXPLAINED   the reconciliation found at a venue what no record explains; the asset is
                  refused for new opportunities until it is explained or acknowledged
    CLOSED        trades closed it (a resolved unknown outcome, a late hedge, an adoption)
                  or the reconciliation explains the venue again
    ACKNOWLEDGED  an operator cleared it on purpose (``arb exposure close``, with who/when)

An exposure keeps one id from its first event to its last. Entries have one writer at a time
(the replica whose saga made it, or the reconciliation of the venue), every write is one
atomic HSET/HDEL, and a mark-to-market refresh only updates an entry that still exists (a
Lua check), so an operator's clear is never undone by a late mark. Writes go through the
producer's write-behind queue; nothing on the trading path waits for them.
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal
from typing import Any

import msgspec
from arb_runtime.streams import StreamProducer
from arb_structs import ExposureEvent, ExposureKind
from arb_structs.codec import EXPOSURE
from arb_structs.constants import EXPOSURE_MAXLEN, EXPOSURE_OPEN_KEY, EXPOSURE_STREAM

from arb_executor import metrics
from arb_executor.grid import text
from arb_executor.risk import RiskState

log = logging.getLogger("arb.executor")
ZERO = Decimal(0)
_UPDATE_IF_OPEN = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
return 0
"""
OPEN_KINDS = (ExposureKind.UNHEDGED, ExposureKind.UNEXPLAINED)


def decode_registry(raw: dict[Any, Any]) -> dict[str, ExposureEvent]:
    out = {}
    for key, value in raw.items():
        try:
            event = EXPOSURE.decode(value)
        except msgspec.DecodeError:
            log.error("%s field %r is not an ExposureEvent; inspect and delete it",
                      EXPOSURE_OPEN_KEY, key)  # fmt: skip
            continue
        out[event.id] = event
    return out


def _dec(value: str) -> Decimal:
    return Decimal(value or "0")


class ExposureBook:
    def __init__(self, producer: StreamProducer, instance: str) -> None:
        self.producer = producer
        self.instance = instance
        self.open: dict[str, ExposureEvent] = {}

    # -- changes ----------------------------------------------------------------------------

    def emit(self, event: ExposureEvent) -> ExposureEvent:
        self.producer.xadd(EXPOSURE_STREAM, EXPOSURE.encode(event), maxlen=EXPOSURE_MAXLEN)
        if event.kind in OPEN_KINDS and _dec(event.size):
            self.producer.command("HSET", EXPOSURE_OPEN_KEY, event.id, EXPOSURE.encode(event))
            self.open[event.id] = event
        else:
            self.producer.command("HDEL", EXPOSURE_OPEN_KEY, event.id)
            self.open.pop(event.id, None)
        log.warning("exposure %s: %s %s %s open %s (%s)", event.id, event.kind.value, event.venue,
                    event.asset, event.size, event.reason)  # fmt: skip
        self._gauges()
        return event

    def unhedged(self, *, opportunity_id: str, venue: str, asset: str, size: Decimal,
                 entry: Decimal, mark: Decimal | None, reason: str,
                 tag: str = "") -> ExposureEvent:  # fmt: skip
        """Open (or resize) the exposure a saga left; ``tag`` tells apart several of one
        opportunity (a late order's reconciliation)."""
        exposure_id = f"unhedged:{opportunity_id}{tag}:{venue}:{asset}"
        since = self.open[exposure_id].since if exposure_id in self.open else time.time_ns()
        return self.emit(self._event(exposure_id, ExposureKind.UNHEDGED, venue, asset, size,
                                     entry, mark, reason, opportunity_id, since))  # fmt: skip

    def unexplained(self, *, venue: str, asset: str, size: Decimal, mark: Decimal | None,
                    reason: str) -> ExposureEvent | None:  # fmt: skip
        """Open or update the unexplained exposure of (venue, asset); None if unchanged."""
        current = self.unexplained_of(venue, asset)
        if current is not None and _dec(current.size) == size:
            return None
        now = time.time_ns()
        exposure_id = current.id if current else f"unexplained:{venue}:{asset}:{now}"
        since = current.since if current else now
        return self.emit(self._event(exposure_id, ExposureKind.UNEXPLAINED, venue, asset, size,
                                     ZERO, mark, reason, "", since))  # fmt: skip

    def close(self, exposure_id: str, reason: str) -> ExposureEvent | None:
        current = self.open.get(exposure_id)
        if current is None:
            return None
        return self.emit(msgspec.structs.replace(
            current, kind=ExposureKind.CLOSED, size="0", quote_value="0", unrealised_pnl="0",
            reason=reason, actor=self.instance, ts=time.time_ns(),
        ))  # fmt: skip

    def close_for(self, opportunity_id: str, reason: str) -> int:
        ids = [e.id for e in self.open.values() if e.opportunity_id == opportunity_id]
        for exposure_id in ids:
            self.close(exposure_id, reason)
        return len(ids)

    def remark(self, exposure_id: str, mark: Decimal) -> None:
        """New mark-to-market of an open exposure (registry only; no event)."""
        current = self.open.get(exposure_id)
        if current is None:
            return
        size, entry = _dec(current.size), _dec(current.entry_price)
        unrealised = size * (mark - entry) if entry and current.kind is ExposureKind.UNHEDGED \
            else ZERO  # fmt: skip
        event = msgspec.structs.replace(current, mark_price=text(mark),
                                        quote_value=text(size * mark),
                                        unrealised_pnl=text(unrealised))  # fmt: skip
        self.open[exposure_id] = event
        self.producer.command("EVAL", _UPDATE_IF_OPEN, 1, EXPOSURE_OPEN_KEY, exposure_id,
                              EXPOSURE.encode(event))  # fmt: skip

    def _event(self, exposure_id: str, kind: ExposureKind, venue: str, asset: str,
               size: Decimal, entry: Decimal, mark: Decimal | None, reason: str,
               opportunity_id: str, since: int) -> ExposureEvent:  # fmt: skip
        price = mark if mark else entry
        unrealised = size * (mark - entry) if mark and entry else ZERO
        return ExposureEvent(
            id=exposure_id, venue=venue, asset=asset, kind=kind, size=text(size),
            quote_value=text(size * price) if price else "0",
            mark_price=text(mark) if mark else "0", opportunity_id=opportunity_id,
            reason=reason, actor=self.instance, ts=time.time_ns(),
            entry_price=text(entry) if entry else "0", unrealised_pnl=text(unrealised),
            since=since,
        )  # fmt: skip

    # -- views ------------------------------------------------------------------------------

    def unexplained_of(self, venue: str, asset: str) -> ExposureEvent | None:
        return next((e for e in self.open.values() if e.kind is ExposureKind.UNEXPLAINED
                     and e.venue == venue and e.asset == asset), None)  # fmt: skip

    def replace(self, registry: dict[str, ExposureEvent]) -> None:
        """The registry as Redis has it (every replica's), unless our own writes are queued."""
        if self.producer.pending:
            return
        self.open = registry
        self._gauges()

    def apply(self, risk: RiskState) -> None:
        """Open exposure into the risk view: quote value per asset, blocked assets, marks."""
        exposure: dict[str, Decimal] = {}
        blocked: dict[str, str] = {}
        unrealised = ZERO
        for event in self.open.values():
            value = abs(_dec(event.quote_value))
            exposure[event.asset] = exposure.get(event.asset, ZERO) + value
            unrealised += _dec(event.unrealised_pnl)
            if event.kind is ExposureKind.UNEXPLAINED:
                blocked[event.asset] = f"unexplained {event.size} on {event.venue}"
        risk.exposure, risk.blocked_assets, risk.unrealised = exposure, blocked, unrealised

    def restore(self) -> None:
        """Redis came back empty: put back every exposure this process knows to be open."""
        for event in self.open.values():
            self.producer.command("HSET", EXPOSURE_OPEN_KEY, event.id, EXPOSURE.encode(event))

    def summary(self) -> str:
        """One line for health: ``unexplained binance:BTC=-0.1; unhedged okx:SOL=3``."""
        parts = [f"{e.kind.value} {e.venue}:{e.asset}={e.size}"
                 for e in sorted(self.open.values(), key=lambda e: e.id)]  # fmt: skip
        return "; ".join(parts) or "none"

    def _gauges(self) -> None:
        metrics.EXPOSURE_OPEN.clear()
        for event in self.open.values():
            metrics.EXPOSURE_OPEN.labels(event.venue, event.asset, event.kind.value).inc(
                float(_dec(event.size))
            )
