"""Ingest settings (env prefix ARB_INGEST_). One process per venue; scale with shards.

``ARB_INGEST_SHARD_INDEX=auto`` with ``ARB_INGEST_SHARD_COUNT=n``: identical replicas of one
venue's ingest claim distinct shard indices from leases in Redis (arb_runtime.shards).
"""

from __future__ import annotations

import os
from typing import Literal

from arb_runtime.config import CommaList, ServiceSettings, settings_config
from arb_runtime.watch import process_instance
from arb_venues import VENUE_NAMES, get_venue
from arb_venues.settings import (
    TakerFees,
    known_venue,
    shared_rate_limits_field,
    taker_fees_field,
)
from pydantic import Field, ValidationInfo, field_validator, model_validator


class IngestSettings(ServiceSettings):
    model_config = settings_config("ARB_INGEST_")

    venue: str = Field(
        default=VENUE_NAMES[0], description=f"Venue to ingest: {', '.join(VENUE_NAMES)}."
    )
    symbols: CommaList = Field(
        default=["BTC-USDT", "ETH-USDT", "SOL-USDT"],
        description="Normalised BASE-QUOTE symbols (JSON list or comma-separated).",
    )
    ws_url: str | None = Field(default=None, description="WS base URL; default: the venue's.")
    rest_url: str | None = Field(default=None, description="REST base URL; default: the venue's.")
    depth: int = Field(default=0, description="Book depth to subscribe; 0 = the venue default.")
    protocol: str | None = Field(
        default=None,
        description="Wire protocol version where the venue speaks several (`arb venues` lists "
        "them, the default first); unset = the venue default.",
    )
    snapshot_rate_per_s: float = Field(
        default=5.0,
        gt=0,
        description="REST snapshot budget of this process (calls per second, on top of the "
        "venue's REST budget, which every process shares).",
    )
    audit_rate_per_s: float = Field(
        default=1.0,
        gt=0,
        description="REST audit-snapshot budget of this process (calls per second, on top of "
        "the venue's REST budget); the book service asks for the audits.",
    )
    lifetime_scale: float = Field(
        default=1.0,
        ge=0,
        description="The venue's WS connection lifetime (documented, or a conservative 12 h) "
        "times this; the connection is replaced make-before-break at 90 % of it (0 = only on "
        "a venue's notice or `arb ctl rotate`). Tests and `arb soak` shorten it, as the "
        "simulator's ARB_SIMULATOR_LIFETIME_SCALE.",
    )
    rotation_join_timeout_s: float = Field(
        default=15.0,
        gt=0,
        description="How long a rotation waits for the new connection to join every book "
        "before it switches the rest anyway and resyncs them.",
    )
    standby: Literal["venue", "on", "off"] = Field(
        default="venue",
        description="A hot standby WS connection next to the live one (A/B feeds: it takes "
        "over without a resync when the live one is cut without warning): venue = where the "
        "venue spec asks for one (VenueSpec.hot_standby: venues that send no reconnect "
        "notice), on = every venue, off = none.",
    )
    taker_fees: TakerFees = taker_fees_field()
    shared_rate_limits: bool = shared_rate_limits_field()
    shard_index: int | Literal["auto"] = Field(
        default=0,
        description="This process's shard of the venue's symbols (0 <= index < count), or "
        "auto: claim a free index from Redis so identical replicas split the symbols.",
    )
    shard_count: int = Field(
        default=1,
        ge=1,
        description="How many ingest shards share a venue (with auto: run this many replicas; "
        "extra ones stand by).",
    )
    shard_lease_ms: int = Field(
        default=10_000,
        ge=30,
        description="TTL of an auto shard's lease: how long a dead replica's symbols stay "
        "unserved before a standby takes them (renewed every third of it).",
    )

    def health_instance(self) -> str:
        """``{instance}:{venue}`` (``:shard-{i}`` of several): one health key per process. An
        auto shard is ``:auto-{pid}`` until it claims an index (then app renames it)."""
        if self.shard_index == "auto":
            return process_instance(self.instance, self.venue, f"auto-{os.getpid()}")
        shard = f"shard-{self.shard_index}" if self.shard_count > 1 else None
        return process_instance(self.instance, self.venue, shard)

    @field_validator("venue")
    @classmethod
    def _known_venue(cls, value: str) -> str:
        return known_venue(value)

    @field_validator("symbols")
    @classmethod
    def _upper(cls, value: list[str]) -> list[str]:
        return [s.upper() for s in value]

    @field_validator("protocol")
    @classmethod
    def _known_protocol(cls, value: str | None, info: ValidationInfo) -> str | None:
        venue = info.data.get("venue")
        if value and venue in VENUE_NAMES:
            get_venue(venue).market.for_version(value)  # ValueError names the choices
        return value or None

    @model_validator(mode="after")
    def _shard_in_range(self) -> IngestSettings:
        index = self.shard_index
        if index != "auto" and not 0 <= index < self.shard_count:
            raise ValueError(
                f"ARB_INGEST_SHARD_INDEX={index} with ARB_INGEST_SHARD_COUNT={self.shard_count}: "
                "the index must be in 0..count-1, or auto to claim one from Redis"
            )
        return self
