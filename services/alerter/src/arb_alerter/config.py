"""Alerter settings (env prefix ARB_ALERTER_). One alerter per deployment is enough; two
send each alert twice (de-duplication is per process)."""

from __future__ import annotations

import os
from decimal import Decimal

from arb_runtime.config import ServiceSettings, settings_config
from pydantic import Field, SecretStr, model_validator

EXECUTOR_LOSS_LIMIT_VARIABLE = "ARB_EXECUTOR_DAILY_LOSS_LIMIT"


class AlerterSettings(ServiceSettings):
    model_config = settings_config("ARB_ALERTER_")

    webhook_url: str | None = Field(
        default=None, description="Generic webhook: each alert POSTed as one JSON object."
    )
    telegram_bot_token: SecretStr | None = Field(
        default=None, description="Telegram bot token (from @BotFather); never logged."
    )
    telegram_chat_id: str | None = Field(
        default=None, description="Telegram chat to send to (a chat id or @channelname)."
    )
    telegram_api_url: str = Field(
        default="https://api.telegram.org",
        description="Telegram Bot API base URL (a local Bot API server, or a test receiver).",
    )
    log_alerts: bool = Field(default=True, description="Also write each alert to the log.")
    dedup_s: float = Field(
        default=600.0, ge=0, description="The same alert (same key) is not sent again for (s)."
    )
    rate_limit_per_minute: int = Field(
        default=20, ge=1, description="At most this many alerts per minute; the rest are "
        "counted and summed up in one alert when the limit allows.",
    )  # fmt: skip
    halted_after_s: float = Field(
        default=30.0, gt=0, description="A venue's book HALTED longer than this is an alert (s)."
    )
    daily_loss_warn_ratio: float = Field(
        default=0.8, gt=0, le=1, description="Alert when the day's loss reaches this share of "
        "the daily loss limit (and again at the limit).",
    )  # fmt: skip
    daily_loss_limit: Decimal | None = Field(
        default=None, gt=0, description="Daily loss limit (quote); default: the executor's "
        f"{EXECUTOR_LOSS_LIMIT_VARIABLE} and its default.",
    )  # fmt: skip
    poll_s: float = Field(
        default=1.0, gt=0, description="How often the kill switch, breakers, books and "
        "services are checked (s).",
    )  # fmt: skip
    send_timeout_s: float = Field(default=5.0, gt=0, description="One delivery attempt (s).")
    send_attempts: int = Field(default=3, ge=1, description="Attempts per sink and alert.")

    @model_validator(mode="after")
    def _telegram_needs_both(self) -> AlerterSettings:
        if bool(self.telegram_bot_token) != bool(self.telegram_chat_id):
            given, missing = (
                ("TELEGRAM_BOT_TOKEN", "TELEGRAM_CHAT_ID") if self.telegram_bot_token
                else ("TELEGRAM_CHAT_ID", "TELEGRAM_BOT_TOKEN")
            )  # fmt: skip
            raise ValueError(f"ARB_ALERTER_{given} is set but ARB_ALERTER_{missing} is not: "
                             "set both to send to Telegram, or neither")  # fmt: skip
        return self

    def loss_limit(self) -> Decimal:
        """The daily loss limit the executor enforces, unless one is set here."""
        if self.daily_loss_limit is not None:
            return self.daily_loss_limit
        explicit = os.environ.get(EXECUTOR_LOSS_LIMIT_VARIABLE)
        if explicit:
            return Decimal(explicit)
        from arb_executor.config import ExecutorSettings

        default: Decimal = ExecutorSettings.model_fields["daily_loss_limit"].default
        return default
