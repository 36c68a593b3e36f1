"""Settings checked before a process starts: ``arb run`` refuses a bad setting with one line
and exit 2 instead of starting a child that would crash-loop on it.

``check_environment`` runs first, on ``arb run``'s own environment: every variable of every
service's prefix and of the shared ``ARB_`` prefix must name a setting (a typo for a
service that is not started is still a typo). ``check_child`` then loads the settings of
one child (``python -m arb_<service>``) with exactly the environment it is about to get, and
asks what the service would refuse at its start without the network (the executor's live
credentials: ``arb run --mode live --no-sim`` without keys is one line, not a crash loop).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from arb_runtime.config import known_variables, load_settings, unknown_setting
from arb_runtime.environment import environment, unknown_variable
from arb_runtime.errors import ConfigError

from arb_cli.confdoc import service_classes


def check_environment() -> None:
    """ConfigError (one line) for the first ``ARB_*`` variable that names no setting."""
    every: list[str] = []
    for _, cls in service_classes():
        problem = unknown_setting(cls, shared=False)
        if problem:
            raise ConfigError(problem)
        every += known_variables(cls)
    problem = unknown_variable(every_setting=every)
    if problem:
        raise ConfigError(problem)


def check_child(name: str, args: Sequence[str], env: Mapping[str, str], **overrides: Any) -> None:
    """Load the settings a ``-m arb_<service>`` child will load, under ``env``; ConfigError
    naming the child when they are bad. Children that are not a service pass."""
    module = args[1] if len(args) >= 2 and args[0] == "-m" else ""
    for service, cls in service_classes():
        if module == f"arb_{service}":
            try:
                with environment(env):
                    settings = load_settings(cls, **overrides)
            except ConfigError as exc:
                raise ConfigError(f"{name}: {exc}") from None
            problem = _start_problem(service, settings)
            if problem:
                raise ConfigError(f"{name}: {problem}")
            return


def _start_problem(service: str, settings: Any) -> str | None:
    """What a service would refuse at its start beyond its settings, where it can be told
    without the network: the executor's live credentials."""
    if service == "executor" and settings.mode == "live":
        from arb_executor.accounts import credentials_problem

        return credentials_problem(settings)
    return None
