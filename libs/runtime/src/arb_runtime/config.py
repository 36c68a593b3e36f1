"""Settings: one frozen pydantic-settings model per service, env prefix ``ARB_<SERVICE>_``.

``ARB_REDIS_URL`` is shared by every service. An environment variable that carries a
service's prefix but names no field is an error (a typo must not be silently ignored).
"""

from __future__ import annotations

import json
import os
import socket
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AliasChoices, BeforeValidator, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from arb_runtime.errors import ConfigError


def split_list(value: object) -> object:
    """A list setting from env: ``a,b,c`` or a JSON list (``["a","b"]``, as compose writes)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


# A list of strings settable as ``a,b,c`` or as a JSON list; NoDecode stops pydantic-settings
# from JSON-parsing the env value before split_list sees it.
CommaList = Annotated[list[str], NoDecode, BeforeValidator(split_list)]

S = TypeVar("S", bound="ServiceSettings")

# Settings every service has that may also be given once for all, without the service prefix.
SHARED_SETTINGS = (
    "instance",
    "metrics_host",
    "metrics_port",
    "log_level",
    "log_format",
    "redis_wait_s",
)


def settings_config(prefix: str) -> SettingsConfigDict:
    """The model_config of a service's settings: ``settings_config("ARB_BOOK_")``."""
    return SettingsConfigDict(
        env_prefix=prefix, env_nested_delimiter="__", frozen=True, extra="forbid"
    )


class ServiceSettings(BaseSettings):
    """What every service has. Subclass with ``model_config = settings_config("ARB_X_")``."""

    model_config = settings_config("ARB_")

    redis_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("ARB_REDIS_URL", "redis_url"),
        description="Redis URL shared by all services (ARB_REDIS_URL). None: the launcher's. "
        "redis://[user:password@]host:port/0 for one server; "
        "redis+cluster://[user:password@]host:port,host:port,... for a Redis Cluster (any "
        "node answering is enough as a seed; rediss+cluster:// for TLS), see docs/scaling.md.",
    )
    redis_wait_s: float = Field(
        default=30.0,
        ge=0,
        description="At start, how long to wait for a Redis that does not answer yet "
        "(restarting, or still loading its AOF) before giving up with exit 2.",
    )
    instance: str = Field(
        default_factory=socket.gethostname,
        description="Stable instance name: consumer name in groups, health key suffix.",
    )
    metrics_host: str = Field(default="127.0.0.1", description="Bind address of /metrics.")
    metrics_port: int = Field(default=0, description="Port of /metrics, /healthz, /readyz; 0 off.")
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR.")
    log_format: Literal["json", "console"] = Field(
        default="json",
        description="json: one object per line with every field; console: readable lines, "
        "coloured on a terminal unless NO_COLOR is set.",
    )

    def health_instance(self) -> str:
        """This process's name in its health key (``arb:health:{service}:{name}``). Services
        whose processes share an instance name on one host (an ingest per venue) override it
        to add what tells them apart (arb_runtime.watch.process_instance)."""
        return self.instance

    @model_validator(mode="before")
    @classmethod
    def _shared_env(cls, data: Any) -> Any:
        """``ARB_METRICS_PORT``, ``ARB_LOG_LEVEL``... apply to every service; the service's
        own ``ARB_<SERVICE>_METRICS_PORT`` wins over them."""
        if isinstance(data, dict):
            for name in SHARED_SETTINGS:
                value = os.environ.get(f"ARB_{name.upper()}")
                if value is not None and name not in data:
                    data[name] = value
        return data

    @model_validator(mode="after")
    def _no_unknown_prefixed_env(self) -> ServiceSettings:
        prefix = str(self.model_config.get("env_prefix") or "")
        if not prefix or prefix == "ARB_":
            return self
        # A field read under a shared name (ARB_REDIS_URL, ARB_TAKER_FEES) has no prefixed
        # variable: ARB_<SERVICE>_TAKER_FEES would be silently ignored, so it is unknown.
        # A field whose alias carries this prefix (ARB_RECORDER_DB_URL) is known by that name.
        known: set[str] = set()
        for name, info in type(self).model_fields.items():
            alias = info.validation_alias
            if alias is None:
                known.add(name.upper())
                continue
            choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
            known |= {
                c[len(prefix) :].upper()
                for c in choices
                if isinstance(c, str) and c.upper().startswith(prefix)
            }
        for key in os.environ:
            if not key.upper().startswith(prefix):
                continue
            field = key[len(prefix) :].split("__", 1)[0].upper()
            if field not in known:
                raise ValueError(
                    f"{key}: no such setting; known {prefix}* settings: "
                    + ", ".join(sorted(f"{prefix}{k}" for k in known))
                )
        return self


def load_settings(cls: type[S], **overrides: Any) -> S:
    """Build settings from the environment; a bad value raises ConfigError with one clear line."""
    try:
        return cls(**overrides)
    except SettingsError as exc:  # a value the env source cannot even parse (e.g. bad JSON)
        raise ConfigError(f"{exc}; list settings take a JSON list, e.g. '[\"BTC-USDT\"]'") from None
    except ValidationError as exc:
        prefix = str(cls.model_config.get("env_prefix") or "")
        problems = []
        for err in exc.errors():
            loc = "__".join(str(p) for p in err["loc"]) or "settings"
            name = loc if loc.startswith("ARB_") else f"{prefix}{loc.upper()}"
            if loc in SHARED_SETTINGS and prefix != "ARB_":
                name += f" (or ARB_{loc.upper()})"
            value = err.get("input")
            shown = "" if isinstance(value, dict) else f"={value!r}"
            problems.append(f"{name}{shown}: {err['msg']}")
        raise ConfigError("; ".join(problems)) from None
