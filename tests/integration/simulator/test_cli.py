"""`python -m arb_simulator` as a process: prints its URLs as JSON, serves, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import urllib.request
from typing import Any

import aiohttp
import pytest
from arb_simulator.catalog import DEFAULT_VENUES, make_instrument
from arb_venues import VENUE_NAMES, get_venue
from arb_venues.base import Endpoints
from arb_venues.common.rest import RestClient
from yarl import URL

from tests.support_proc import reap

pytestmark = pytest.mark.integration


def start_simulator(*args: str) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """``python -m arb_simulator ARGS --json`` without this shell's ARB_* settings; the
    process and the URLs it printed once it served them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARB_")}
    proc = subprocess.Popen([sys.executable, "-m", "arb_simulator", *args, "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read().decode() if proc.stderr else ""
        where: dict[str, Any] = json.loads(line)
    except BaseException:
        reap(proc)
        raise
    return proc, where


def test_cli_prints_urls_serves_the_control_api_and_stops_on_sigterm() -> None:
    proc, where = start_simulator("--venues", "binance,okx", "--symbols", "BTC-USDT,ETH-USDT",
                                  "--rate", "50", "--inject-interval", "0")  # fmt: skip
    try:
        assert set(where["venues"]) == {"binance", "okx"}
        assert where["venues"]["okx"]["ws"].endswith("/ws/v5/public")  # OKX's own path
        with urllib.request.urlopen(f"{where['control']}/control/status", timeout=10) as status:
            body = json.load(status)
        assert body["running"] is True and body["mode"] == "market"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        reap(proc)


def test_cli_refuses_a_bad_setting_in_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARB_")}
    done = subprocess.run(
        [sys.executable, "-m", "arb_simulator", "--venues", "ftx"],
        capture_output=True, env=env, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert b"ftx" in done.stderr and b"Traceback" not in done.stderr


def free_port_range(count: int) -> int:
    """A base port whose next ``count`` ports were all free a moment ago."""
    for _ in range(50):
        base = random.randint(20_000, 60_000)
        socks: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError(f"no {count} consecutive free ports found")


async def _connects(venue: str, urls: dict[str, str]) -> str:
    """Open the WS the venue's own adapter opens (its URL shape, its subscribe) and read one
    frame; GET a REST path the adapter uses. Returns the first WS frame."""
    spec = get_venue(venue)
    protocol = spec.market(Endpoints(ws_url=urls["ws"], rest_url=urls["rest"]))
    instruments = [make_instrument(venue, "BTC-USDT")]
    rest = RestClient(venue, urls["rest"])
    try:  # as the feed does: the venue may hand out its WS URL per connection (KuCoin)
        url = await protocol.connect_url(rest, instruments)
    finally:
        await rest.close()
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url) as ws:
            for message in [*protocol.connect_messages(instruments),
                            *protocol.subscribe_messages(instruments)]:  # fmt: skip
                await ws.send_str(message)
            frame = await ws.receive(timeout=10)
            assert frame.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY), frame
            data = protocol.decode_frame(frame.data)  # as the feed does (gzip venues)
        return data if isinstance(data, str) else data.decode()


def test_base_port_serves_venue_i_on_base_plus_i_at_the_adapters_url_paths() -> None:
    base = free_port_range(len(VENUE_NAMES) + 1)  # every venue, then the control API
    proc, where = start_simulator("--base-port", str(base), "--symbols", "BTC-USDT",
                                  "--inject-interval", "0")  # fmt: skip
    try:
        assert list(where["venues"]) == list(DEFAULT_VENUES)
        for index, venue in enumerate(DEFAULT_VENUES):
            urls = where["venues"][venue]
            assert URL(urls["ws"]).port == base + index, venue
            assert URL(urls["rest"]).port == base + index, venue
            first = asyncio.run(_connects(venue, urls))
            assert first, venue
        assert URL(where["control"]).port == base + len(DEFAULT_VENUES)
        assert where["venues"]["okx"]["ws"] == f"ws://127.0.0.1:{base + 1}/ws/v5/public"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        reap(proc)


def test_a_taken_base_port_is_one_clear_error() -> None:
    base = free_port_range(len(VENUE_NAMES) + 1)  # every venue, then the control API
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARB_")}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", base + 2))  # bybit's
        taken.listen()
        done = subprocess.run(
            [sys.executable, "-m", "arb_simulator", "--base-port", str(base), "--json"],
            capture_output=True, env=env, timeout=60,
        )  # fmt: skip
    assert done.returncode == 1
    assert f"bybit: cannot listen on 127.0.0.1:{base + 2}".encode() in done.stderr
    assert b"Traceback" not in done.stderr
