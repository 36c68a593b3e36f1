"""Settings: one frozen pydantic-settings model per service, env prefix ``ARB_<SERVICE>_``.

``ARB_REDIS_URL`` is shared by every service. A variable that names no setting is an error
with the closest known name (a typo must not be silently ignored): one under the service's
prefix that names none of its fields, and one under the shared ``ARB_`` prefix that is no
service's and not listed in arb_core.variables (``ARB_METRCS_PORT``). ``load_settings`` is
the way in: it reads ARB_ENV_FILE and ARB_SECRETS_DIR first (arb_runtime.environment) and
turns every problem into one ConfigError line naming the variable, its value (``***`` for a
secret) and what was wrong.

Under the environment, a TOML file (``ARB_CONFIG=arb.toml``, or ``--config``): top-level keys
are the shared settings (``redis_url``, ``log_level``...), a ``[book]``, ``[detector]``...
table holds one service's settings by field name. Environment variables win over the file.
An unknown key or table in the file is an error with the closest known name.
"""

from __future__ import annotations

import json
import os
import socket
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args

from arb_core.variables import CONFIG, SERVICES, SHARED_SETTINGS, is_credential
from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from arb_runtime.environment import closest, load_files, unknown_variable
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
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
LOG_LEVELS: tuple[str, ...] = get_args(LogLevel)

CONFIG_VARIABLE = CONFIG
# The tables a config file may hold: one per service, by the middle of its env prefix.
SERVICE_TABLES = SERVICES
FILE_SHARED_KEYS = ("redis_url", *SHARED_SETTINGS)


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The TOML config file, its top-level keys and table names checked; ConfigError if bad."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f"{CONFIG_VARIABLE}={path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{CONFIG_VARIABLE}={path}: not TOML: {exc}") from None
    for key, value in data.items():
        if isinstance(value, dict):
            if key not in SERVICE_TABLES:
                raise ConfigError(
                    f"{path}: [{key}]: no such service{closest(key, SERVICE_TABLES)}; "
                    f"tables: {', '.join(SERVICE_TABLES)}"
                )
        elif key not in FILE_SHARED_KEYS:
            raise ConfigError(
                f"{path}: {key}: no such shared setting{closest(key, FILE_SHARED_KEYS)}; "
                f"shared: {', '.join(FILE_SHARED_KEYS)}, or put it in a [service] table"
            )
    return data


class ConfigFileSource(PydanticBaseSettingsSource):
    """The settings of ARB_CONFIG's TOML file for one service: shared keys, then its table."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ gives the whole dict at once

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get(CONFIG_VARIABLE)
        if not path:
            return {}
        data = read_config_file(path)
        prefix = str(self.settings_cls.model_config.get("env_prefix") or "")
        table = prefix.removeprefix("ARB_").rstrip("_").lower()
        fields = self.settings_cls.model_fields
        out = {k: v for k, v in data.items() if not isinstance(v, dict) and k in fields}
        section = data.get(table, {})
        return {**out, **section} if isinstance(section, dict) else out


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
    log_level: LogLevel = Field(
        default="INFO", description="DEBUG, INFO, WARNING or ERROR (any case)."
    )
    log_format: Literal["json", "console"] = Field(
        default="json",
        description="json: one object per line with every field; console: readable lines, "
        "coloured on a terminal unless NO_COLOR is set.",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        if isinstance(value, str) and value.upper() not in LOG_LEVELS:
            # refused here, so the error shows the value as given ('verbose', not 'VERBOSE')
            raise ValueError(f"Input should be {', '.join(map(repr, LOG_LEVELS[:-1]))} or "
                             f"{LOG_LEVELS[-1]!r} (any case)")  # fmt: skip
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The environment over the config file (ARB_CONFIG)."""
        return (init_settings, env_settings, dotenv_settings, file_secret_settings,
                ConfigFileSource(settings_cls))  # fmt: skip

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


def known_variables(cls: type[ServiceSettings]) -> list[str]:
    """Every variable under ``cls``'s prefix that names one of its settings.

    A field read under a shared name (ARB_REDIS_URL, ARB_TAKER_FEES) has no prefixed
    variable: ARB_<SERVICE>_TAKER_FEES would be silently ignored, so it is unknown. A field
    whose alias carries this prefix (ARB_RECORDER_DB_URL) is known by that name."""
    prefix = str(cls.model_config.get("env_prefix") or "")
    known: set[str] = set()
    for name, info in cls.model_fields.items():
        alias = info.validation_alias
        if alias is None:
            known.add(f"{prefix}{name.upper()}")
            continue
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
        known |= {c.upper() for c in choices if isinstance(c, str) and c.upper().startswith(prefix)}
    return sorted(known)


def unknown_setting(cls: type[ServiceSettings], *, shared: bool = True) -> str | None:
    """The first variable of the environment that is a typo for ``cls`` (one line), or None:
    one under its prefix naming none of its settings, or one under the shared ``ARB_``
    prefix that nothing reads (arb_runtime.environment; not with ``shared=False``)."""
    prefix = str(cls.model_config.get("env_prefix") or "")
    if prefix and prefix != "ARB_":
        known = known_variables(cls)
        for key in sorted(os.environ):
            upper = key.upper()
            if upper.startswith(prefix) and upper.split("__", 1)[0] not in known:
                return (f"{key}: no such setting{closest(upper.split('__', 1)[0], known)}; "
                        f"`arb config` lists the {prefix}* settings")  # fmt: skip
    return unknown_variable(prefix if prefix != "ARB_" else "") if shared else None


def load_settings(cls: type[S], **overrides: Any) -> S:
    """Build settings from the environment; a bad value raises ConfigError with one clear line."""
    load_files()  # ARB_ENV_FILE, ARB_SECRETS_DIR: under the environment
    problem = unknown_setting(cls)
    if problem:
        raise ConfigError(problem)
    try:
        return cls(**overrides)
    except ConfigError:
        raise
    except SettingsError as exc:  # a value the env source cannot even parse (e.g. bad JSON)
        raise ConfigError(f"{exc}; list settings take a JSON list, e.g. '[\"BTC-USDT\"]'") from None
    except ValidationError as exc:
        prefix = str(cls.model_config.get("env_prefix") or "")
        problems = []
        for err in exc.errors():
            if not err["loc"]:  # a check of the whole model: its message names the settings
                problems.append(str(err["msg"]).removeprefix("Value error, "))
                continue
            loc = "__".join(str(p) for p in err["loc"])
            name = loc if loc.startswith("ARB_") else f"{prefix}{loc.upper()}"
            if loc in SHARED_SETTINGS and prefix != "ARB_":
                name += f" (or ARB_{loc.upper()})"
            value = err.get("input")
            secret = is_credential(name) or _is_secret_field(
                cls, str(err["loc"][0]) if err["loc"] else ""
            )
            shown = "" if isinstance(value, dict) else "=***" if secret else f"={value!r}"
            if err["type"] == "extra_forbidden":
                fields = (list(cls.model_fields) if len(err["loc"]) == 1
                          else _nested_fields(cls, str(err["loc"][0])))  # fmt: skip
                hint = closest(str(err["loc"][-1]), fields)
                problems.append(f"{name}: no such setting{hint}")
                continue
            problems.append(f"{name}{shown}: {err['msg'].removeprefix('Value error, ')}")
        raise ConfigError("; ".join(problems)) from None


def _is_secret_field(cls: type[ServiceSettings], name: str) -> bool:
    """A field whose value is a SecretStr: its input is never shown in an error."""
    field = cls.model_fields.get(name)
    return field is not None and "SecretStr" in str(field.annotation)


def _nested_fields(cls: type[ServiceSettings], name: str) -> list[str]:
    """The field names of the models inside field ``name`` (the VenueCredentials of
    ``credentials: VenueMap[VenueCredentials]``), for the closest name to a nested typo."""
    field = cls.model_fields.get(name)
    found: list[str] = []
    pending: list[Any] = [field.annotation] if field is not None else []
    while pending:
        kind = pending.pop()
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            found += list(kind.model_fields)
        else:
            pending += list(get_args(kind))
    return found
