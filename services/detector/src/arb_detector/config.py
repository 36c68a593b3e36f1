"""Detector settings: env prefix ``ARB_DETECTOR_`` (lists comma-separated, maps as JSON or
``ARB_DETECTOR_MAX_BOOK_AGE_MS_BY_VENUE__BINANCE=5000``). The taker fee of each venue is
not a detector setting: it comes on the instruments (ARB_TAKER_FEES, arb_venues.fees)."""

from __future__ import annotations

import os
from typing import Literal

from arb_runtime.config import CommaList, ServiceSettings, settings_config
from arb_runtime.watch import process_instance
from arb_structs.trading import ExecutionStatus
from arb_venues import VENUE_NAMES
from arb_venues.settings import VenueMap, known_venue_list
from pydantic import Field, field_validator, model_validator

from arb_detector.sharding import Shard, parse_auto, parse_shard

DEFAULT_VENUES = list(VENUE_NAMES)

# Paper mode: what every venue is assumed to hold when no executor publishes balances.
DEFAULT_STATIC_BALANCES = {
    "USDT": 100_000.0,
    "USDC": 100_000.0,
    "USD": 100_000.0,
    "BTC": 2.0,
    "ETH": 40.0,
    "SOL": 1_000.0,
    "XRP": 100_000.0,
    "DOGE": 500_000.0,
}


class DetectorSettings(ServiceSettings):
    """Everything the detector can be told. Money amounts are in the quote currency."""

    model_config = settings_config("ARB_DETECTOR_")

    venues: CommaList = Field(
        default_factory=lambda: list(DEFAULT_VENUES),
        description="Venues whose book streams are read, comma-separated.",
    )
    shard: str = Field(
        default="0/1",
        description="index/count: this instance owns the symbols whose CRC-32 modulo count "
        "equals index; auto/count: the index is claimed from a lease in Redis, so identical "
        "replicas split the symbols (run count replicas; extra ones stand by). Ignored when "
        "symbols is set.",
    )
    shard_lease_ms: int = Field(
        default=10_000,
        ge=30,
        description="TTL of an auto shard's lease: how long a dead replica's shard stays "
        "unowned before a standby takes it (renewed every third of it).",
    )
    universe: CommaList = Field(
        default_factory=list,
        description="The symbols every replica trades (same list everywhere): shards deal them "
        "out by rank so each gets its share; other symbols go by CRC-32.",
    )
    symbols: CommaList = Field(
        default_factory=list,
        description="Explicit symbols this instance owns (BTC-USDT,ETH-USDT); empty = by shard.",
    )
    min_edge_bps: float = Field(
        default=5.0, ge=0, description="Net edge (after both taker fees) an opportunity needs."
    )
    min_net_profit: float = Field(
        default=0.01, ge=0, description="Net profit (quote) an opportunity needs."
    )
    max_notional: float = Field(
        default=10_000.0, gt=0, description="Largest buy notional (quote, before fees) per trade."
    )
    max_book_age_ms: int = Field(
        default=2_000, gt=0, description="A book older than this (since it last changed) is stale."
    )
    max_book_age_ms_by_venue: VenueMap[int] = Field(
        default_factory=dict, description="Per-venue staleness bounds overriding max_book_age_ms."
    )
    expiry_ms: int = Field(
        default=500, gt=0, description="Opportunity lifetime: the executor refuses it after."
    )
    in_flight_timeout_ms: int = Field(
        default=2_000,
        gt=0,
        description="Forget an emitted opportunity with no execution result after this.",
    )
    reprice_bps: float = Field(
        default=5.0,
        gt=0,
        description="A top price move (either side) that lets an in-flight pair emit again.",
    )
    cooldown_ms: int = Field(
        default=3_000, ge=0, description="Rest of a pair after a failed execution."
    )
    cooldown_statuses: list[ExecutionStatus] = Field(
        default_factory=lambda: [
            ExecutionStatus.FAILED,
            ExecutionStatus.UNHEDGED,
            ExecutionStatus.NOT_FILLED,
            ExecutionStatus.REFUSED,
        ],
        description="Execution statuses that start a cooldown (JSON list).",
    )
    balance_source: Literal["static", "redis"] = Field(
        default="static",
        description="static: the configured amounts (paper); redis: the executor's "
        "BalanceSnapshot under arb:balances:{venue}.",
    )
    static_balances: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_STATIC_BALANCES),
        description="Free amount per asset on every venue when balance_source=static.",
    )
    static_balances_by_venue: VenueMap[dict[str, float]] = Field(
        default_factory=dict, description="Per-venue static amounts overriding static_balances."
    )
    refresh_ms: int = Field(
        default=1_000, gt=0, description="How often instruments and balances are re-read."
    )
    read_count: int = Field(default=1_000, gt=0, description="Stream entries per XREAD.")
    block_ms: int = Field(default=100, gt=0, description="XREAD block time.")

    @field_validator("venues")
    @classmethod
    def _known_venues(cls, value: list[str]) -> list[str]:
        return known_venue_list(value)

    @model_validator(mode="after")
    def _shard_is_valid(self) -> DetectorSettings:
        if not self.venues:
            raise ValueError("ARB_DETECTOR_VENUES is empty: name at least two venues")
        if parse_auto(self.shard) is None:
            parse_shard(self.shard)
        return self

    @property
    def auto_shard_count(self) -> int | None:
        """The shard count when the index is claimed from Redis (``auto/n``), else None."""
        return None if self.symbols else parse_auto(self.shard)

    def health_instance(self) -> str:
        """``{instance}`` (``:shard-{i}`` of several): one health key per process. An auto
        shard is ``:auto-{pid}`` until it claims an index (then app renames it)."""
        if self.symbols:
            return self.instance
        if parse_auto(self.shard) is not None:
            return process_instance(self.instance, f"auto-{os.getpid()}")
        index, count = parse_shard(self.shard)
        return process_instance(self.instance, f"shard-{index}" if count > 1 else None)

    def make_shard(self, claimed: int | None = None) -> Shard:
        """The shard this instance owns; ``claimed`` is the leased index of ``auto/n``."""
        if self.symbols:
            return Shard(symbols=frozenset(self.symbols))
        auto = parse_auto(self.shard)
        if auto is not None:
            if claimed is None:
                raise ValueError(f"ARB_DETECTOR_SHARD={self.shard}: claim a shard index first")
            return Shard(claimed, auto, universe=tuple(self.universe))
        index, count = parse_shard(self.shard)
        return Shard(index, count, universe=tuple(self.universe))

    def static_free(self, venue: str) -> dict[str, float]:
        """The static balances of ``venue``."""
        free = dict(self.static_balances)
        free.update(self.static_balances_by_venue.get(venue, {}))
        return free
