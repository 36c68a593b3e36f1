"""Dashboard settings (env prefix ARB_DASHBOARD_)."""

from __future__ import annotations

from arb_history.config import data_dir_field, database_url_field, resolve_database_url
from arb_runtime.config import ServiceSettings, settings_config
from pydantic import Field, SecretStr, field_validator

DEFAULT_PORT = 8765


class DashboardSettings(ServiceSettings):
    model_config = settings_config("ARB_DASHBOARD_")

    host: str = Field(
        default="127.0.0.1",
        description="Address the page is served on: loopback unless you set another "
        "(0.0.0.0 in a container; put it behind a proxy with TLS to reach it remotely).",
    )
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535, description="Port of the page.")
    kill_token: SecretStr | None = Field(
        default=None,
        description="Token the kill switch button asks for; unset: the button is off "
        "(read-only dashboard). Never logged.",
    )
    db_url: str | None = database_url_field()
    data_dir: str = data_dir_field()
    refresh_s: float = Field(default=1.0, gt=0, description="How often the state is pushed (s).")
    recent: int = Field(
        default=50, ge=1, description="Opportunities and executions kept on the page."
    )
    points: int = Field(
        default=2000, ge=10, description="Points kept per chart (PnL, exposure over time)."
    )
    backfill: int = Field(
        default=100_000,
        ge=0,
        description="Results read from the stream at start for the PnL chart.",
    )

    @field_validator("kill_token")
    @classmethod
    def _empty_is_off(cls, value: SecretStr | None) -> SecretStr | None:
        """An empty token (compose's ``${ARB_DASHBOARD_KILL_TOKEN:-}``) leaves the button off."""
        return value if value is not None and value.get_secret_value() else None

    @property
    def database_url(self) -> str:
        return resolve_database_url(self.db_url, self.data_dir)
