"""Ingest settings (env prefix ARB_INGEST_). One process per venue; scale with shards.

``ARB_INGEST_SHARD_INDEX=auto`` with ``ARB_INGEST_SHARD_COUNT=n``: identical replicas of one
venue's ingest claim distinct shard indices from leases in Redis (arb_runtime.shards).
"""

from __future__ import annotations

from typing import Literal

from arb_runtime.config import CommaList, ServiceSettings, settings_config
from arb_venues import VENUE_NAMES, get_venue
from pydantic import Field, ValidationInfo, field_validator, model_validator


class IngestSettings(ServiceSettings):
    model_config = settings_config("ARB_INGEST_")

    venue: str = Field(default="binance", description=f"Venue to ingest: {', '.join(VENUE_NAMES)}.")
    symbols: CommaList = Field(
        default=["BTC-USDT", "ETH-USDT", "SOL-USDT"],
        description="Normalised BASE-QUOTE symbols (JSON list or comma-separated).",
    )
    ws_url: str | None = Field(default=None, description="WS base URL; default: the venue's.")
    rest_url: str | None = Field(default=None, description="REST base URL; default: the venue's.")
    depth: int = Field(default=0, description="Book depth to subscribe; 0 = the venue default.")
    protocol: str | None = Field(
        default=None,
        description="Wire protocol version where the venue has several (kraken: v2 = WS v2 "
        "`book`, the default; v1 = WS v1 `book-N`); unset = the venue default.",
    )
    snapshot_rate_per_s: float = Field(
        default=5.0, gt=0, description="REST snapshot budget of this process (calls per second)."
    )
    audit_rate_per_s: float = Field(
        default=1.0,
        gt=0,
        description="REST audit-snapshot budget of this process (calls per second, on top of "
        "the venue's REST budget); the book service asks for the audits.",
    )
    taker_fee: str | None = Field(default=None, description="Override the venue's taker fee.")
    maker_fee: str | None = Field(default=None, description="Override the venue's maker fee.")
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

    @field_validator("venue")
    @classmethod
    def _known_venue(cls, value: str) -> str:
        if value not in VENUE_NAMES:
            raise ValueError(f"unknown venue {value!r}; choose one of {', '.join(VENUE_NAMES)}")
        return value

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
