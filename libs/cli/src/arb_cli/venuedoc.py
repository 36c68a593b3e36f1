"""arb venues: every venue of the registry and its facts, from the VenueSpecs.

Wherever a list of the venues must exist outside their folders, it is this command's output,
kept between BEGIN/END markers: the venue sections of docs/venues.md, the venue tables of
README.md and docs/simulator.md and the per-venue services of docker-compose.yml.
``arb venues --write`` rewrites those regions in place (``make generate``); a test keeps the
committed files equal to it, so adding a venue edits none of them by hand.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path

from arb_runtime.errors import ConfigError
from arb_venues import VENUE_NAMES, VenueSpec, venue_specs
from arb_venues.spec import VenueDocs

ROOT = Path(__file__).resolve().parents[4]  # the repository (libs/cli/src/arb_cli/...)
SIM_HOST = "simulator"  # the simulator's compose service name
SIM_BASE_PORT = 18000  # compose runs the simulator with --base-port 18000


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "not documented"
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    return f"{seconds:g} s"


def _percent(fraction: str) -> str:
    return f"{float(fraction) * 100:g} %"


def _checksum(spec: VenueSpec) -> str:
    if spec.checksum is None:
        return "none"
    note = ", 0 = not sent" if spec.checksum.zero_means_absent else ""
    return f"over the top {spec.checksum.levels} levels per side (`checksum.py`{note})"


def _get(path: str) -> str:
    return f"`GET {path}`" if path else "none documented"


def _rows(spec: VenueSpec) -> list[tuple[str, str]]:
    docs, market = spec.docs, spec.market
    versions = market.protocol_versions
    fee_asset = "the asset the order receives" if spec.fee_asset == "received" else "the quote"
    source = f" ({spec.fee_source})" if spec.fee_source else ""
    window = spec.request_window_s
    return [
        ("WS (real)", docs.ws),
        ("REST (real)", f"`{spec.endpoints.rest_url}`"),
        ("Wire protocol versions", ", ".join(versions) + " (the first is the default)"
         if versions else "one"),
        ("Channel", docs.channel),
        ("Snapshot", docs.snapshot),
        ("Instruments", docs.instruments),
        ("Ping (health check)", _get(market.ping_path)),
        ("Server time", f"{_get(market.server_time_path)} {docs.server_time_field}".strip()),
        ("Public trades", _get(market.trades_path)),
        ("Sequence → `(prev_seq, seq)`", docs.sequence),
        ("Levels checked", docs.levels),
        ("Verified", docs.verified),
        ("Audit (REST snapshot vs the LIVE book)", docs.audit or "none"),
        ("Book checksum", _checksum(spec)),
        ("Duplicate snapshot", docs.duplicate_snapshot),
        ("Keepalive", docs.keepalive),
        ("Idle timeout (no frame → reconnect)", _duration(market.idle_timeout_s)),
        ("WS connection lifetime", _duration(spec.ws_lifetime_s) if spec.ws_lifetime_s
         else f"not documented (rotated as if {_duration(spec.connection_lifetime_s)})"),
        ("Reconnect notice", f"{spec.reconnect_notice} ({spec.reconnect_notice_source})"
         if spec.reconnect_notice else "none documented"),
        ("Rotation joins by", "sequence" if market.rotation_join_mode == "sequence"
         else "the new connection's snapshot (per-connection sequence)"),
        ("Hot standby connection", "yes: a cut without notice is taken over without a resync"
         if spec.hot_standby else "no: the reconnect notice is answered by a rotation"),
        ("Subscribe staging", docs.subscribe),
        ("REST budget (per process)", docs.rest_budget),
        ("Resync of one book",
         "REST snapshot" if market.snapshot_source == "rest" else "unsubscribe + subscribe"),
        ("Default taker / maker fee", f"{_percent(spec.taker_fee)} / "
         f"{_percent(spec.maker_fee)}{source}"),
        ("Fee taken from", fee_asset),
        ("Trading signing", docs.signing),
        ("API credentials", spec.credentials.describe()),
        ("Order request window", _duration(window) if window is not None else "no trading"),
        ("Refused timestamp", docs.timestamp_refused),
    ]  # fmt: skip


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def venues_markdown() -> str:
    """One section per venue, in registry order (the generated part of docs/venues.md)."""
    lines: list[str] = []
    for spec in venue_specs():
        lines += [f"### {spec.docs.title} (`{spec.name}`)", "", "| | |", "|---|---|"]
        lines += [f"| {name} | {_cell(value)} |" for name, value in _rows(spec)]
        lines.append("")
    return "\n".join(lines)


def _venue_table(header: str, cells: Callable[[VenueDocs], tuple[str, ...]]) -> str:
    """A markdown table, one row per venue: its title, then ``cells`` of its docs."""
    lines = [header, "|---" * header.count(" | ") + "|---|"]
    for spec in venue_specs():
        row = (spec.docs.title, *(_cell(c) for c in cells(spec.docs)))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def clocks_table() -> str:
    """Each venue's time endpoint and timestamp refusal (docs/venues.md, server time)."""
    lines = ["| venue | time endpoint | refused timestamp |", "|---|---|---|"]
    for spec in venue_specs():
        path = spec.market.server_time_path
        endpoint = f"`GET {path}` {spec.docs.server_time_field}" if path else "none documented"
        lines.append(f"| {spec.name} | {_cell(endpoint)} | {_cell(spec.docs.timestamp_refused)} |")
    return "\n".join(lines) + "\n"


def readme_table() -> str:
    """The README's one-line-per-venue table."""
    return _venue_table(
        "| venue | market data | sync and verification | trading (live) |",
        lambda docs: (docs.market_data, docs.sync, docs.signing),
    )


def simulator_table() -> str:
    """What each venue's simulated side serves (docs/simulator.md); the public REST column ends
    with the time and recent-trades paths the venue's market class calls."""
    lines = ["| venue | public WS | public REST | private REST (signing) |", "|---|---|---|---|"]
    for spec in venue_specs():
        docs, market = spec.docs, spec.market
        paths = (market.server_time_path, market.trades_path)
        served = [docs.sim_rest, *(f"`{p}`" for p in paths if p and p not in docs.sim_rest)]
        cells = (docs.title, docs.sim_ws, ", ".join(s for s in served if s), docs.sim_private)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _local_url(real: str, scheme: str, port: int) -> str:
    from arb_simulator.server import local_url

    return local_url(real, scheme, SIM_HOST, port)


def compose_services() -> str:
    """The simulator and one ingest service per venue, as docker-compose.yml YAML."""
    top = SIM_BASE_PORT + len(VENUE_NAMES)  # the control API's port
    example = VENUE_NAMES[1]  # the scale-out example of the comment below
    lines = [
        f"  # Venue i of {', '.join(VENUE_NAMES)} on {SIM_BASE_PORT}+i, the control API on {top}",
        "  # (python -m arb_simulator --help; docs/simulator.md). Published on loopback for curl.",
        "  simulator:",
        "    <<: *service",
        '    profiles: ["demo"]',
        '    command: ["python", "-m", "arb_simulator", "--host", "0.0.0.0", "--base-port", '
        f'"{SIM_BASE_PORT}"]',
        "    environment:",
        "      <<: *env",
        "      ARB_SIMULATOR_METRICS_HOST: 0.0.0.0",
        '      ARB_SIMULATOR_METRICS_PORT: "9100"',
        f'    ports: ["127.0.0.1:{SIM_BASE_PORT}-{top}:{SIM_BASE_PORT}-{top}"]',
        "    healthcheck:",
        '      test: ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('
        f"'http://127.0.0.1:{top}/control/status', timeout=2)\"]",
        "      interval: 5s",
        "      retries: 10",
        "",
        "  # One ingest per venue (no container_name: each can be scaled by symbol shard,",
        "  # docs/scaling.md): replicas claim auto shards, as many as <VENUE>_INGEST_SHARDS, e.g.",
        f"  #   {example.upper()}_INGEST_SHARDS=2 docker compose --profile demo up -d "
        f"--scale ingest-{example}=2",
    ]
    for index, spec in enumerate(venue_specs()):
        port = SIM_BASE_PORT + index
        lines += [
            f"  ingest-{spec.name}:",
            "    <<: *ingest",
            "    environment:",
            "      <<: *env",
            '      ARB_METRICS_PORT: "9100"',
            f"      ARB_INGEST_VENUE: {spec.name}",
            "      ARB_INGEST_SHARD_INDEX: auto",
            f'      ARB_INGEST_SHARD_COUNT: "${{{spec.name.upper()}_INGEST_SHARDS:-1}}"',
            f"      ARB_INGEST_WS_URL: {_local_url(spec.endpoints.ws_url, 'ws', port)}",
            f"      ARB_INGEST_REST_URL: {_local_url(spec.endpoints.rest_url, 'http', port)}",
        ]
    return "\n".join(lines) + "\n"


def prometheus_ingest_jobs() -> str:
    """One scrape job per ingest service of the registry (deploy/prometheus/prometheus.yml)."""
    lines: list[str] = []
    for spec in venue_specs():
        lines += [
            f"  - job_name: ingest-{spec.name}",
            "    dns_sd_configs:",
            f"      - names: [ingest-{spec.name}]",
            "        type: A",
            "        port: 9100",
            "        refresh_interval: 15s",
        ]
    return "\n".join(lines) + "\n"


# file (relative to the repository) -> region name -> (comment prefix, content maker)
REGIONS: dict[str, dict[str, tuple[str, Callable[[], str]]]] = {
    "docs/venues.md": {"venues": ("<!--", venues_markdown), "clocks": ("<!--", clocks_table)},
    "README.md": {"venues": ("<!--", readme_table)},
    "docs/simulator.md": {"venues": ("<!--", simulator_table)},
    "docker-compose.yml": {"services": ("#", compose_services)},
    "deploy/prometheus/prometheus.yml": {"ingest": ("  #", prometheus_ingest_jobs)},
}


def _markers(prefix: str, name: str) -> tuple[str, str]:
    suffix = " -->" if prefix == "<!--" else ""
    return (
        f"{prefix} BEGIN generated by `arb venues` ({name}): do not edit by hand{suffix}\n",
        f"{prefix} END generated by `arb venues` ({name}){suffix}\n",
    )


def region(text: str, prefix: str, name: str) -> str | None:
    """What stands between the markers of region ``name`` in ``text``; None if absent."""
    begin, end = _markers(prefix, name)
    match = re.search(re.escape(begin) + "(.*?)" + re.escape(end), text, re.DOTALL)
    return match.group(1) if match else None


def rewrite(text: str, prefix: str, name: str, content: str) -> str:
    begin, end = _markers(prefix, name)
    if region(text, prefix, name) is None:
        raise ConfigError(f"no `{begin.strip()}` ... `{end.strip()}` markers to rewrite")
    pattern = re.escape(begin) + ".*?" + re.escape(end)
    return re.sub(pattern, lambda _: begin + content + end, text, count=1, flags=re.DOTALL)


def write(root: Path = ROOT) -> list[str]:
    """Rewrite every generated region under ``root``; the files that changed."""
    changed = []
    for relative, regions in REGIONS.items():
        path = root / relative
        text = original = path.read_text()
        for name, (prefix, make) in regions.items():
            text = rewrite(text, prefix, name, make())
        if text != original:
            path.write_text(text)
            changed.append(relative)
    return changed


def run(args: argparse.Namespace) -> int:
    if args.write:
        changed = write()
        print("rewrote " + ", ".join(changed) if changed else "every generated region is current")
        return 0
    print(venues_markdown(), end="")
    return 0
