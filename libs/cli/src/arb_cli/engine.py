"""Starting the engine's processes: the simulator and every service, as ``arb run`` and the
pipeline bench both need them."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from arb_runtime.embedded import die_with_parent
from arb_runtime.errors import ConfigError
from arb_venues import fees

from arb_cli import metrics_ports
from arb_cli.settings_check import check_child
from arb_cli.supervisor import Supervisor, child_environment

# The demo's simulated accounts trade at a volume tier that pays 10 bps as taker on every
# venue: the venues' entry tiers (VenueSpec.taker_fee) charge up to 120 bps, more than the
# 25-60 bps dislocations the simulator injects. With the simulator, ``arb run`` and the
# pipeline bench give the simulator and every service this as ARB_TAKER_FEES, unless it is
# set already: one setting for all, so the detector prices what the accounts are charged.
DEMO_TAKER_FEE = "0.001"


def demo_fees(venues: Sequence[str]) -> dict[str, str]:
    """ARB_TAKER_FEES for a run on the simulator: the operator's if set, else the demo tier."""
    if os.environ.get(fees.SETTING):
        return {}
    return {fees.SETTING: json.dumps({venue: DEMO_TAKER_FEE for venue in venues})}


def start_simulator(
    venues: Sequence[str],
    symbols: Sequence[str],
    rate: float,
    redis_url: str,
    log_dir: Path,
    extra: Sequence[str] = (),
    *,
    metrics_base: int = 0,
) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """The simulator prints one JSON line with each venue's URLs once it serves them. Its
    settings are checked first (ConfigError: one line); with ``metrics_base`` it gets its own
    /metrics port (arb_cli.metrics_ports)."""
    env = check_simulator(venues, symbols, rate, redis_url, metrics_base)
    log = (log_dir / "simulator.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "arb_simulator", "--venues", ",".join(venues),
         "--symbols", ",".join(symbols), "--rate", str(rate), "--json", *extra],
        env=env, stdout=subprocess.PIPE, stderr=log,
        process_group=0, preexec_fn=die_with_parent,  # no terminal SIGINT; dies with us
    )  # fmt: skip
    log.close()
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait()
        said = (log_dir / "simulator.log").read_text(errors="replace").strip().splitlines()
        raise ConfigError(f"the simulator exited ({proc.returncode}) before serving: "
                          f"{said[-1] if said else 'no output'}; its log: "
                          f"{log_dir / 'simulator.log'}")  # fmt: skip
    return proc, json.loads(line)


def check_simulator(
    venues: Sequence[str], symbols: Sequence[str], rate: float, redis_url: str,
    metrics_base: int = 0,
) -> dict[str, str]:  # fmt: skip
    """The simulator's environment, its settings checked (ConfigError: one line)."""
    extra_env = {**demo_fees(venues), "ARB_REDIS_URL": redis_url}
    if metrics_base:
        extra_env |= metrics_ports.claim("simulator", metrics_base)
    env = child_environment(extra_env)
    check_child("simulator", ["-m", "arb_simulator"], env, venues=list(venues),
                symbols=list(symbols), rate=rate)  # fmt: skip
    return env


def placeholder_urls(venues: Sequence[str]) -> dict[str, Any]:
    """Simulator URLs of the shape it prints, for checking settings before it runs."""
    where = {"ws": "ws://127.0.0.1:1", "rest": "http://127.0.0.1:1"}
    return {"venues": dict.fromkeys(venues, where), "control": "http://127.0.0.1:1"}


def stop_simulator(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None:
        return
    proc.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    if proc.stdout:
        proc.stdout.close()


class ServiceSpec(NamedTuple):
    """One process of the engine: its name, ``python`` arguments, the environment it adds and
    the credential prefixes it may see (``Supervisor.add``)."""

    name: str
    args: list[str]
    env: dict[str, str]
    credentials: list[str]


def service_specs(
    venues: Sequence[str],
    symbols: Sequence[str],
    redis_url: str,
    sim_urls: dict[str, Any] | None,
    *,
    executor: bool = True,
    mode: str = "paper",
    log_level: str = "WARNING",
    ingest_env: dict[str, str] | None = None,
    detector_env: dict[str, str] | None = None,
    executor_env: dict[str, str] | None = None,
) -> list[ServiceSpec]:
    """Ingest (one process per venue), book, detector and executor, as ``arb run`` starts
    them (and the container test, tests/integration/docker). With ``sim_urls`` the ingest
    processes connect to the simulator, every service gets the simulator's ARB_TAKER_FEES
    (``demo_fees``) and a live executor trades on the simulator's private APIs."""
    base = {"ARB_REDIS_URL": redis_url, "ARB_LOG_LEVEL": log_level}
    if sim_urls is not None:
        base |= demo_fees(venues)
    where = (sim_urls or {}).get("venues", {})
    specs: list[ServiceSpec] = []
    for venue in venues:
        env = {**base, "ARB_INGEST_VENUE": venue, "ARB_INGEST_SYMBOLS": json.dumps(list(symbols)),
               **(ingest_env or {})}  # fmt: skip
        if venue in where:
            env |= {"ARB_INGEST_WS_URL": where[venue]["ws"],
                    "ARB_INGEST_REST_URL": where[venue]["rest"]}  # fmt: skip
        specs.append(ServiceSpec(f"ingest-{venue}", ["-m", "arb_ingest"], env, []))
    specs.append(
        ServiceSpec("book", ["-m", "arb_book"], {**base, "ARB_BOOK_VENUES": ",".join(venues)}, [])
    )
    detect_env = {**base, "ARB_DETECTOR_VENUES": ",".join(venues), **(detector_env or {})}
    if mode == "live":  # trade with what the executor holds, not assumed paper balances
        detect_env["ARB_DETECTOR_BALANCE_SOURCE"] = "redis"
    specs.append(ServiceSpec("detector", ["-m", "arb_detector"], detect_env, []))
    if executor:
        env = {**base, "ARB_EXECUTOR_MODE": mode, **(executor_env or {})}
        if mode == "live" and sim_urls is not None:
            env |= simulator_accounts(venues, where)
        specs.append(ServiceSpec("executor", ["-m", "arb_executor"], env, ["ARB_EXECUTOR_"]))
    return specs


def start_services(
    supervisor: Supervisor,
    venues: Sequence[str],
    symbols: Sequence[str],
    redis_url: str,
    sim_urls: dict[str, Any] | None,
    **options: Any,
) -> None:
    """``service_specs`` (the same options) started under ``supervisor``."""
    for spec in service_specs(venues, symbols, redis_url, sim_urls, **options):
        supervisor.add(spec.name, spec.args, spec.env, credentials=spec.credentials)


def simulator_accounts(venues: Sequence[str], where: dict[str, Any]) -> dict[str, str]:
    """Live mode on the simulator: the executor signs with each simulated venue's default
    account (known test keys, not secrets) and sends to the simulator's private REST API."""
    from arb_simulator.accounts import default_credentials

    env: dict[str, str] = {}
    for venue in venues:
        if venue not in where:
            continue
        creds = default_credentials(venue)
        prefix = f"ARB_EXECUTOR_CREDENTIALS__{venue.upper()}__"
        env[prefix + "API_KEY"] = creds.api_key
        env[prefix + "SECRET"] = creds.secret
        if creds.passphrase:
            env[prefix + "PASSPHRASE"] = creds.passphrase
        env[prefix + "REST_URL"] = where[venue]["rest"]
    return env
