"""Executor settings (env prefix ARB_EXECUTOR_). One executor per account set."""

from __future__ import annotations

from decimal import Decimal

from arb_runtime.config import ServiceSettings, settings_config
from arb_venues.settings import VenueMap, shared_rate_limits_field
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

# Paper orders remembered by client id (their reports, for ``get`` and an idempotent retry):
# IOC fills are final at once and a saga asks about its own within seconds, so the oldest go
# first past this many; one dict per order forever grew the executor's memory in long runs.
PAPER_ORDERS_KEPT = 10_000
# How long a resolved saga's record stays in Redis: a week, for `arb` to show and a person to
# inspect; bounded, but a week of every saga (ExecutorSettings.saga_keep_ms).
SAGA_KEEP_MS = 7 * 86_400_000


class VenueCredentials(BaseModel):
    """API credentials of one venue account (live mode). Never logged."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_key: str = Field(description="API key (public part).")
    secret: SecretStr = Field(description="API secret.")
    passphrase: SecretStr | None = Field(
        default=None,
        description="Passphrase, where the venue's keys have one (`arb venues`: API credentials).",
    )
    rest_url: str | None = Field(default=None, description="REST base URL; default the venue's.")


class ExecutorSettings(ServiceSettings):
    model_config = settings_config("ARB_EXECUTOR_")

    mode: str = Field(default="paper", description="paper (simulated fills) or live.")
    seen_ttl_ms: int = Field(
        default=86_400_000, gt=0, description="How long an opportunity id is remembered (ms)."
    )
    saga_keep_ms: int = Field(
        default=SAGA_KEEP_MS, gt=0,
        description="How long Redis keeps a resolved saga's record (its intents and result) and "
        "its order ids (ms); the trade history itself is the recorder's database.",
    )  # fmt: skip
    paper_latency_ms: float = Field(default=0.0, ge=0, description="Paper order latency (ms).")
    paper_fill_ratio: Decimal = Field(
        default=Decimal("1"), gt=0, le=1, description="Paper: share of the fillable size filled."
    )
    paper_orders_kept: int = Field(
        default=PAPER_ORDERS_KEPT, ge=1,
        description="Paper: order reports remembered per venue (for a saga's own queries and an "
        "idempotent retry); the oldest go first past this many.",
    )  # fmt: skip
    paper_balances: VenueMap[dict[str, Decimal]] = Field(
        default_factory=dict,
        description='Paper balances per venue, JSON: {"<venue>": {"USDT": "10000", "BTC": "1"}}. '
        "Paper fills pay the taker fee on the symbol's instrument (ARB_TAKER_FEES).",
    )
    max_notional: Decimal = Field(
        default=Decimal("10000"), gt=0, description="Max buy notional of one trade (quote)."
    )
    max_open_exposure: Decimal = Field(
        default=Decimal("50000"),
        gt=0,
        description="Max open exposure per base asset (quote): in flight plus unhedged.",
    )
    daily_loss_limit: Decimal = Field(
        default=Decimal("500"),
        gt=0,
        description="Refuse trades after this realised loss (UTC day).",
    )
    pair_cooldown_ms: int = Field(
        default=250, ge=0, description="Pause after a trade on one symbol/venue pair (ms)."
    )
    breaker_errors: int = Field(
        default=3, gt=0, description="Consecutive order errors that open a venue's breaker."
    )
    breaker_cooldown_s: float = Field(
        default=30.0, gt=0, description="How long an open venue breaker refuses trades (s)."
    )
    unhedged_block_s: float = Field(
        default=3600.0, gt=0, description="How long a pair is blocked after unhedged exposure (s)."
    )
    max_slippage_bps: Decimal = Field(
        default=Decimal("20"), ge=0, description="Hedge/unwind limit price bound vs leg price."
    )
    order_query_attempts: int = Field(
        default=3, gt=0, description="get_order tries after an ambiguous place (timeout/5xx)."
    )
    order_query_delay_ms: float = Field(
        default=200.0, ge=0, description="Pause between those tries (ms)."
    )
    late_order_wait_s: float | None = Field(
        default=None, ge=0,
        description="Live: before hedging an order the venue did not know, wait at most this "
        "long for its request window to pass, then query once more (default: min(window, 2 s)).",
    )  # fmt: skip
    late_order_margin_s: float = Field(
        default=1.0, ge=0,
        description="Live: added to a venue's request window (clock skew, venue queueing): "
        "how long an order concluded never placed is watched after it was sent.",
    )  # fmt: skip
    late_order_poll_ms: float = Field(
        default=250.0, gt=0, description="Live: watched orders are re-queried this often (ms)."
    )
    credentials: VenueMap[VenueCredentials] = Field(
        default_factory=dict,
        description="Live: per-venue credentials, e.g. ARB_EXECUTOR_CREDENTIALS__BINANCE__API_KEY.",
    )
    order_timeout_s: float = Field(
        default=2.0, gt=0,
        description="Live: REST timeout of one order call; no answer = outcome unknown, query.",
    )  # fmt: skip
    shared_rate_limits: bool = shared_rate_limits_field()
    balance_refresh_s: float = Field(
        default=5.0, gt=0, description="Live: balances re-read from REST and published every (s)."
    )
    claim_idle_ms: int = Field(
        default=30_000, gt=0, description="Reclaim opportunities idle this long at a dead consumer."
    )
    venue_start_timeout_s: float = Field(
        default=2.0, gt=0,
        description="Live: a venue whose instruments or balances take longer at start is "
        "started degraded (refused) and taken back when it answers.",
    )  # fmt: skip
    degraded_retry_s: float = Field(
        default=1.0, gt=0, description="Live: a degraded venue's balances are retried this often."
    )
    shutdown_timeout_s: float = Field(
        default=8.0, gt=0,
        description="SIGTERM: an in-flight saga gets this long to finish; then it is stopped "
        "and left journaled for the next executor (or another replica) to recover.",
    )  # fmt: skip
    reconcile_interval_s: float = Field(
        default=5.0, gt=0, description="Live: venues reconciled this often (and after faults)."
    )
    reconcile_symbols: list[str] = Field(
        default=[],
        description="Live: symbols whose orders the reconciliation lists at each venue "
        "(default: every instrument the venue's gateway loaded).",
    )
    reconcile_lookback_s: float = Field(
        default=3600.0, gt=0,
        description="Live: a lost ledger is rebuilt from the venues' orders this far back.",
    )  # fmt: skip
    reconcile_grace_s: float = Field(
        default=15.0, ge=0,
        description="Live: an order of ours with no record is adopted only once it is this "
        "old and Redis has been back this long (other replicas write their records back).",
    )  # fmt: skip
    reconcile_roll_s: float = Field(
        default=300.0, gt=0, description="Live: the ledger baseline is rolled forward this often."
    )
    reconcile_tolerance: Decimal = Field(
        default=Decimal("0.000001"), ge=0,
        description="Live: a balance difference up to this (per asset) is rounding, not exposure.",
    )  # fmt: skip
    resolve_poll_s: float = Field(
        default=1.0, gt=0,
        description="Unknown order outcomes re-queried this often; sagas of dead replicas "
        "taken over every 5 polls.",
    )  # fmt: skip

    @field_validator("mode")
    @classmethod
    def _known_mode(cls, value: str) -> str:
        if value not in ("paper", "live"):
            raise ValueError(f"unknown mode {value!r}; choose paper or live")
        return value
