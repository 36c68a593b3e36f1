"""Control messages and keys: resync / audit / rotate requests (-> ingest), health, kill switch."""

from __future__ import annotations

import msgspec


class ResyncRequest(msgspec.Struct, frozen=True, kw_only=True, tag="resync"):
    venue: str
    symbol: str
    reason: str
    ts: int


class AuditRequest(msgspec.Struct, frozen=True, kw_only=True, tag="audit"):
    """Book -> ingest on arb:ctl:{venue}: fetch a REST snapshot of ``symbol`` (within the
    venue's REST budget) and publish it as an AuditSnapshot; ``levels`` will be compared."""

    venue: str
    symbol: str
    ts: int
    levels: int = 10


class RotateRequest(msgspec.Struct, frozen=True, kw_only=True, tag="rotate"):
    """``arb ctl rotate VENUE`` -> ingest on arb:ctl:{venue}: replace the venue's connection
    make-before-break now (the same path a lifetime or a venue's notice takes)."""

    venue: str
    ts: int
    reason: str = "requested"
    by: str = ""


CtlMessage = ResyncRequest | AuditRequest | RotateRequest


class Health(msgspec.Struct, frozen=True, kw_only=True, tag="health"):
    service: str
    instance: str
    status: str  # "ok" | "degraded" | "down"
    ready: bool
    detail: dict[str, str] = {}
    ts: int = 0
    metrics_url: str = ""
    # When this process started (ns): a new value under the same service/instance is a
    # restart (the dashboard counts them, the alerter reports them).
    started: int = 0


class KillSwitch(msgspec.Struct, frozen=True, kw_only=True, tag="kill"):
    reason: str
    ts: int
    by: str = ""
