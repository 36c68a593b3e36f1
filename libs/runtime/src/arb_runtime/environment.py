"""The ``ARB_*`` environment of a process: a ``.env`` file, a secrets folder, unknown names.

    ARB_ENV_FILE=deploy/live.env         KEY=value lines (the .env format docker compose reads)
    ARB_SECRETS_DIR=/run/secrets         one file per variable, named after it (any case):
                                         arb_executor_credentials__okx__secret holds the secret

``load_files`` puts their ``ARB_*`` variables into ``os.environ`` under what is already set
there (the environment wins over the file, the file over the secrets folder), so every reader
of the environment (the settings, ``arb run`` and the children it starts) sees one set of
variables. Other names in the file are ignored: the same ``.env`` may feed docker compose.

``unknown_variable`` is the check every service's settings run: an ``ARB_*`` name under no
service's prefix and not listed in arb_core.variables is a typo, named with the closest known
name. A service's own prefix is checked by its settings (arb_runtime.config).
"""

from __future__ import annotations

import contextlib
import difflib
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from arb_core.variables import (
    ENV_FILE,
    KNOWN,
    SECRETS_DIR,
    SERVICE_PREFIXES,
    is_known_outside_services,
)
from dotenv import dotenv_values

from arb_runtime.errors import ConfigError


def env_file_variables(path: str) -> dict[str, str]:
    """The ``ARB_*`` variables of a .env file; ConfigError if it cannot be read."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"{ENV_FILE}={path}: no such file; point it at a .env file "
                          "(KEY=value lines) or unset it")  # fmt: skip
    try:
        values = dotenv_values(file, interpolate=False)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{ENV_FILE}={path}: cannot be read ({exc}); fix or unset it") from None
    return {k: v for k, v in values.items() if k.upper().startswith("ARB_") and v is not None}


def secret_file_variables(path: str) -> dict[str, str]:
    """One variable per ``ARB_*`` file of a secrets folder, its content without the trailing
    newline; ConfigError if the folder is not one."""
    folder = Path(path)
    if not folder.is_dir():
        raise ConfigError(
            f"{SECRETS_DIR}={path}: no such folder; point it at a folder of secret files "
            "(one per variable, named after it) or unset it"
        )
    out: dict[str, str] = {}
    for file in sorted(folder.iterdir()):
        name = file.name.upper()
        if not name.startswith("ARB_") or not file.is_file():
            continue  # Docker mounts other secrets beside ours; a folder is not a value
        try:
            out[name] = file.read_text().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"{SECRETS_DIR}={path}: {file.name} cannot be read ({type(exc).__name__}); "
                "fix its permissions or remove it"
            ) from None
    return out


def load_files() -> list[str]:
    """ARB_ENV_FILE's and ARB_SECRETS_DIR's variables into ``os.environ`` where unset; the
    names added (never their values). Calling it again adds nothing."""
    added: list[str] = []
    sources = []
    if os.environ.get(ENV_FILE):
        sources.append(env_file_variables(os.environ[ENV_FILE]))
    if os.environ.get(SECRETS_DIR):
        sources.append(secret_file_variables(os.environ[SECRETS_DIR]))
    for variables in sources:
        for name, value in variables.items():
            if name not in os.environ:
                os.environ[name] = value
                added.append(name)
    return added


def closest(name: str, known: Sequence[str], cutoff: float = 0.6) -> str:
    """`` (did you mean 'X'?)`` for the closest of ``known``, or nothing."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=cutoff)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _service_hint(name: str) -> str:
    """`` (did you mean a setting of ARB_BOOK_?)`` for ARB_BOOKS_VENUES, or nothing."""
    parts = name.split("_")
    if len(parts) < 3:
        return ""
    services = [p.removeprefix("ARB_").rstrip("_") for p in SERVICE_PREFIXES]
    near = difflib.get_close_matches(parts[1], services, n=1, cutoff=0.75)
    return f" (did you mean a setting of ARB_{near[0]}_?)" if near else ""


def unknown_variable(own_prefix: str = "", every_setting: Sequence[str] = ()) -> str | None:
    """The first problem with an ``ARB_*`` name of the environment under no service prefix
    (nor ``own_prefix``, the caller's, checked by the caller), as one line; or None.
    ``every_setting``: all services' variables, when the caller knows them (``arb run``),
    for the closest name; a service alone knows its own and the shared ones."""
    checked = (*SERVICE_PREFIXES, own_prefix) if own_prefix else SERVICE_PREFIXES
    for key in sorted(os.environ):
        upper = key.upper()
        if not upper.startswith("ARB_") or upper.startswith(checked):
            continue
        if is_known_outside_services(upper):
            continue
        if every_setting:
            hint = closest(upper, [*KNOWN, *every_setting])
        else:
            hint = _service_hint(upper) or closest(upper, KNOWN, cutoff=0.8)
        return (f"{key}: no such setting{hint}; `arb config` lists every setting (unset it, "
                "or fix the name)")  # fmt: skip
    return None


@contextlib.contextmanager
def environment(variables: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` is exactly ``variables`` inside (a child's environment, checked in the
    parent before it starts); restored after."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(variables)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
