"""Settings of the simulator: env prefix ARB_SIMULATOR_ (ARB_REDIS_URL for Redis), the main
ones also CLI flags.

Lists take JSON or comma-separated text (``ARB_SIMULATOR_VENUES=binance,okx``); mappings and
the faults list take JSON (``ARB_SIMULATOR_FAULTS='[{"venue":"okx","kind":"skip_seq"}]'``).
The fee the simulated accounts pay is the shared ``ARB_TAKER_FEES`` (arb_venues.fees), the
same setting ingest publishes on the instruments, so the engine prices what it is charged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from arb_runtime.config import CommaList, ServiceSettings, settings_config, split_list
from arb_venues.settings import TakerFees, known_venue, known_venue_list, taker_fees_field
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import NoDecode

from arb_simulator.book import BookParams
from arb_simulator.catalog import DEFAULT_SYMBOLS, DEFAULT_VENUES, split_symbol
from arb_simulator.faults import FAULT_KINDS
from arb_simulator.market import MarketConfig, VenueParams
from arb_simulator.scheduler import InjectionPlan


class FaultSpec(BaseModel):
    """A fault armed at start (same fields as POST /control/faults)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    venue: str = Field(description="Venue the fault applies to.")

    @field_validator("venue")
    @classmethod
    def _known_venue(cls, value: str) -> str:
        return known_venue(value)

    kind: str = Field(description=f"One of: {', '.join(FAULT_KINDS)}.")
    symbol: str | None = Field(None, description="Only this symbol (BASE-QUOTE); None = any.")
    count: int | None = Field(None, description="Occurrences (default 1 without duration_s).")
    duration_s: float | None = Field(None, description="Armed for this long (every occurrence).")
    retry_after_s: float = Field(1.0, description="Retry-After of http_429 / http_418.")
    delay_s: float = Field(1.0, description="Delay of a 'slow' response.")
    status: int = Field(503, description="HTTP status of http_5xx.")
    path: str | None = Field(
        None, description="HTTP faults: only requests whose path contains this (e.g. /order)."
    )
    method: str | None = Field(None, description="HTTP faults: only requests with this method.")
    value: str = Field("NaN", description="bad_level: the number text the level carries.")
    field: Literal["price", "size"] = Field(
        "price",
        description="bad_level: put value as an extra bid's price, or as the best ask's size.",
    )

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in FAULT_KINDS:
            raise ValueError(f"fault kind {value!r} unknown; kinds: {', '.join(FAULT_KINDS)}")
        return value


class SimulatorSettings(ServiceSettings):
    """The simulator's settings. ``redis_url`` (ARB_REDIS_URL, from the base) is where the
    truth stream goes; without it the truth is only in memory and the JSONL file."""

    model_config = settings_config("ARB_SIMULATOR_")

    venues: CommaList = Field(
        list(DEFAULT_VENUES), description="Venues to simulate (comma-separated or JSON list)."
    )
    symbols: CommaList = Field(
        list(DEFAULT_SYMBOLS),
        description="Symbols BASE-QUOTE; every venue lists every symbol, quoted in USDT.",
    )
    seed: int = Field(1, description="Seed of every random process: same seed, same market.")
    rate: float = Field(50.0, gt=0, description="Book updates per second per venue.")
    tick_hz: float = Field(50.0, gt=0, le=1000, description="Market clock ticks per second.")
    volatility: float = Field(0.6, ge=0, description="Annualised volatility of fair prices.")
    depth: int = Field(
        100,
        ge=1,
        le=1000,
        description="Book levels per side (100: the deepest REST depth ccxt asks for).",
    )
    level_spacing_bps: float = Field(0.5, gt=0, description="Distance between book levels.")
    half_spread_bps: float = Field(1.5, gt=0, description="Touch distance from venue price.")
    noise_bps: float = Field(
        0.8, ge=0, description="Max venue price deviation from fair; < half_spread_bps."
    )
    lag_ms: float = Field(40.0, ge=0, description="How far venue prices trail the fair price.")
    taker_fees: TakerFees = taker_fees_field()
    host: str = Field("127.0.0.1", description="Interface every server listens on.")
    base_port: int = Field(
        0,
        ge=0,
        description=(
            f"Fixed ports: venue i of ({', '.join(DEFAULT_VENUES)}) listens on "
            f"base_port + i whichever venues run, the control API on base_port + "
            f"{len(DEFAULT_VENUES)}; 0 = free ports. `ports` and `control_port` win."
        ),
    )
    ports: dict[str, int] = Field(
        default_factory=dict,
        description="Port per venue (0 or missing = base_port + index, or a free port); a "
        "key is a venue or the replay_venue name.",
    )
    control_port: int = Field(
        0,
        ge=0,
        le=65535,
        description=f"Control API port (0 = base_port + {len(DEFAULT_VENUES)}, or a free port).",
    )
    inject_interval_s: float = Field(
        2.0, ge=0, description="Seconds between injected dislocations (0 = none)."
    )
    inject_bps_min: float = Field(25.0, gt=0, description="Smallest injected crossing, bps.")
    inject_bps_max: float = Field(60.0, gt=0, description="Largest injected crossing, bps.")
    inject_duration_min_s: float = Field(0.3, gt=0, description="Shortest dislocation.")
    inject_duration_max_s: float = Field(1.5, gt=0, description="Longest dislocation.")
    inject_notional_min: float = Field(2_000.0, gt=0, description="Least quote offered.")
    inject_notional_max: float = Field(20_000.0, gt=0, description="Most quote offered.")
    lifetime_scale: float = Field(
        1.0,
        ge=0,
        description="Every venue's WS connection lifetime (VenueSpec.connection_lifetime_s: "
        "24 h on some venues) times this; the server closes a connection at it (0 = never). "
        "Tests and `arb soak` shorten it: 1/2880 makes 24 h 30 s.",
    )
    maintenance_every_s: float = Field(
        0.0,
        ge=0,
        description="Maintenance of each venue's WS server every this many seconds (0 = none): "
        "the venue's reconnect notice where it has one, then its connections closed.",
    )
    maintenance_notice_s: float = Field(
        30.0,
        ge=0,
        description="Seconds between a maintenance notice and the close.",
    )
    maintenance_gap_s: float = Field(
        2.0,
        ge=0,
        description="A venue without a reconnect notice restarts its gateways one at a time: "
        "seconds between one connection's cut and the next in a maintenance window.",
    )
    truth_path: Path | None = Field(None, description="JSONL file the truth log appends to.")
    faults: list[FaultSpec] = Field(default_factory=list, description="Faults armed at start.")
    replay: Annotated[list[Path], NoDecode, BeforeValidator(split_list)] = Field(
        default_factory=list, description="Capture files to serve instead of a simulated market."
    )
    replay_venue: str = Field("replay", description="Name the replayed venue is served under.")
    replay_speed: float = Field(
        1.0, ge=0, description="Replay pace: 1 = as recorded, 10 = 10x faster, 0 = no pauses."
    )

    @field_validator("venues")
    @classmethod
    def _known_venues(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError(f"no venues; choose from {', '.join(DEFAULT_VENUES)}")
        return known_venue_list(value)

    @field_validator("base_port")
    @classmethod
    def _room_for_every_port(cls, value: int) -> int:
        top = 65535 - len(DEFAULT_VENUES)
        if value > top:
            raise ValueError(
                f"base_port {value} leaves no room for ports base..base+{len(DEFAULT_VENUES)} "
                f"({len(DEFAULT_VENUES)} venues and the control API); pick at most {top}, or 0 "
                "for free ports"
            )
        return value

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("symbols: give at least one, e.g. BTC-USDT")
        return ["-".join(split_symbol(s)) for s in value]

    @model_validator(mode="after")
    def _consistent(self) -> SimulatorSettings:
        if self.noise_bps >= self.half_spread_bps:
            raise ValueError(
                f"noise_bps {self.noise_bps} >= half_spread_bps {self.half_spread_bps}: venues "
                "would cross each other without any injection; lower the noise"
            )
        self.injection_plan()  # validates the ranges
        for name in self.ports:
            if name != self.replay_venue:
                known_venue(name)
        return self

    def port_for(self, venue: str) -> int:
        """Where ``venue`` listens: its ``ports`` entry, else base_port + its index in
        DEFAULT_VENUES (a replayed venue with another name takes base_port), else 0 (free)."""
        port = self.ports.get(venue, 0)
        if port or not self.base_port:
            return port
        index = DEFAULT_VENUES.index(venue) if venue in DEFAULT_VENUES else 0
        return self.base_port + index

    def control_listen_port(self) -> int:
        """Where the control API listens: control_port, else base_port + the number of
        venues, else 0 (free)."""
        if self.control_port or not self.base_port:
            return self.control_port
        return self.base_port + len(DEFAULT_VENUES)

    def market_config(self) -> MarketConfig:
        book = BookParams(
            depth=self.depth,
            level_spacing_bps=self.level_spacing_bps,
            half_spread_bps=self.half_spread_bps,
        )
        lag_steps = round(self.lag_ms / 1000.0 * self.tick_hz)
        return MarketConfig(
            venues=tuple(self.venues),
            symbols=tuple(self.symbols),
            seed=self.seed,
            tick_hz=self.tick_hz,
            volatility=self.volatility,
            venue=VenueParams(
                rate=self.rate, noise_bps=self.noise_bps, lag_steps=lag_steps, book=book
            ),
            taker_fees=dict(self.taker_fees),
        )

    def injection_plan(self) -> InjectionPlan:
        return InjectionPlan(
            interval_s=self.inject_interval_s,
            bps_min=self.inject_bps_min,
            bps_max=self.inject_bps_max,
            duration_min_s=self.inject_duration_min_s,
            duration_max_s=self.inject_duration_max_s,
            notional_min=self.inject_notional_min,
            notional_max=self.inject_notional_max,
        )
