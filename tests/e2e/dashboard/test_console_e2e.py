"""The operator's console against a whole running engine (``arb run``: simulator, every
service, recorder, alerter, dashboard as real processes over a real Redis).

1. In headless Chromium the page shows the books turning LIVE and executions with their legs,
   the history pages read the database, and the kill switch button sets the engine's kill key.
2. After the run, ``arb trades`` lists exactly the executions the executor published (read
   back from the stream itself) and ``arb pnl`` agrees with the run's summary; both still hold
   after everything is restarted with the recorder re-reading every entry.

One engine run serves both (it is the expensive part): the browser test runs while it does,
then the second test stops it the way Ctrl-C does.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import redis as redis_sync
from arb_runtime.embedded import free_port
from arb_structs.codec import EXECUTION, KILL
from arb_structs.constants import (
    EXECUTIONS_STREAM,
    EXPOSURE_STREAM,
    KILL_KEY,
    OPPORTUNITIES_STREAM,
    PAYLOAD_FIELD,
    RECORDER_GROUP,
)

from tests.integration.recorder.support import service_env
from tests.support_proc import reap

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("ARB_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]  # fmt: skip
CHROMIUM_HINT = (f"Chromium not found at {CHROMIUM}: apt-get install chromium chromium-driver "
                 "(Debian) to run the browser test, or set ARB_TEST_CHROMIUM")  # fmt: skip
VENUES = ["binance", "okx", "bybit"]
SYMBOLS = ["BTC-USDT", "ETH-USDT"]
RUN_SECONDS = 90  # at most: the second test stops the run (SIGINT) once it has traded
MIN_RESULTS = 3


@dataclass
class Engine:
    proc: subprocess.Popen[str]
    url: str
    token: str
    data_dir: Path
    redis_url: str
    env: dict[str, str]
    summary: dict | None = None

    def wait_served(self, timeout: float = 60) -> None:
        """Until the dashboard answers (the run starts it after the simulator and engine)."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, self.proc.communicate()[1][-3000:]
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            assert time.monotonic() < deadline, f"{self.url} not served within {timeout}s"
            time.sleep(0.1)

    def finish(self, timeout: float = 120) -> dict:
        """Stop the run as Ctrl-C does, once it has traded (the browser test, when it ran, saw
        to that), and return its JSON summary."""
        if self.summary is None:
            client = redis_sync.Redis.from_url(self.redis_url)
            deadline = time.monotonic() + timeout
            while self.proc.poll() is None and client.xlen(EXECUTIONS_STREAM) < MIN_RESULTS:
                assert time.monotonic() < deadline, "no executions within the deadline"
                time.sleep(0.2)
            client.close()
            self.proc.send_signal(signal.SIGINT)
            out, err = self.proc.communicate(timeout=timeout)
            assert self.proc.returncode == 0, err[-3000:]
            self.summary = json.loads(out)
        return self.summary


@pytest.fixture(scope="module")
def engine(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    client = redis_sync.Redis.from_url(redis_url)
    client.flushdb()  # the session's Redis, empty for this run (streams stay after it)
    client.close()
    data_dir = tmp_path_factory.mktemp("arb-run-data")
    port, token = free_port(), secrets.token_urlsafe(12)
    env = service_env(redis_url, ARB_DASHBOARD_PORT=str(port), ARB_DASHBOARD_KILL_TOKEN=token,
                      ARB_DATA_DIR=str(data_dir))  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "arb_cli", "run", "--venues", ",".join(VENUES), "--symbols",
         ",".join(SYMBOLS), "--duration", str(RUN_SECONDS), "--json", "--data-dir",
         str(data_dir)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    engine = Engine(proc, f"http://127.0.0.1:{port}/", token, data_dir, redis_url, env)
    try:
        yield engine
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        reap(proc)


def test_the_page_shows_books_live_and_executions_and_its_kill_switch_stops_the_engine(
    engine: Engine,
) -> None:
    if not shutil.which(CHROMIUM) and not os.access(CHROMIUM, os.X_OK):
        pytest.skip(CHROMIUM_HINT)
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_FLAGS)  # fmt: skip
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            engine.wait_served()
            page.goto(f"{engine.url}#token={engine.token}")  # as arb run prints it
            expect(page.get_by_test_id("ws-status")).to_have_text("live", timeout=30_000)
            books = page.locator("[data-testid=book-state]")
            expect(books).to_have_count(len(VENUES) * len(SYMBOLS), timeout=60_000)
            for venue in VENUES:
                for symbol in SYMBOLS:
                    book = page.locator(f"[data-testid=book-state][data-venue={venue}]"
                                        f"[data-symbol={symbol}]")  # fmt: skip
                    expect(book).to_contain_text("LIVE", timeout=60_000)
            # The uptime panel: a row per book with its LIVE share against the targets and
            # its venue's connection counts (the reader arb status uses, arb_runtime.uptime).
            uptime = page.locator("[data-testid=uptime-book]")
            expect(uptime).to_have_count(len(VENUES) * len(SYMBOLS), timeout=30_000)
            expect(page.get_by_test_id("uptime-targets")).to_contain_text("95 %")
            for venue in VENUES:
                row = page.locator(f"[data-testid=uptime-book][data-venue={venue}]").first
                expect(row.get_by_test_id("live-share")).to_have_text(re.compile(r"^\d+\.\d{3} %$"))
                expect(row.get_by_test_id("uptime-mark")).not_to_have_text("below target")
                expect(row.get_by_test_id("reconnects")).to_have_text(re.compile(r"^\d+$"))
            status = _arb(engine, "status")
            assert isinstance(status, dict)
            shown = {(v, s) for v, e in status["uptime"]["venues"].items() for s in e["books"]}
            assert shown == {(v, s) for v in VENUES for s in SYMBOLS}  # the same books, both
            executions = page.locator("[data-testid=execution]")
            expect(executions.first).to_be_visible(timeout=60_000)
            traded = page.locator("[data-testid=execution] .legs div")  # refusals have no legs
            expect(traded.first).to_contain_text("buy", timeout=60_000)
            page.wait_for_timeout(1500)  # a few more rows and chart points for the picture
            page.screenshot(path=str(_screenshot_path(engine)), full_page=True)

            page.get_by_test_id("kill-button").click()
            expect(page.get_by_test_id("kill-state")).to_contain_text("ENGAGED", timeout=10_000)
            raw = redis_sync.Redis.from_url(engine.redis_url).get(KILL_KEY)
            assert raw is not None, "the page said ENGAGED but the engine's kill key is not set"
            kill = KILL.decode(raw)
            assert kill.reason == "dashboard button" and kill.by.startswith("dashboard@")

            page.get_by_role("button", name="Trades").click()  # the history, from the database
            expect(page.locator("[data-testid=trade]").first).to_be_visible(timeout=20_000)
            page.get_by_role("button", name="PnL").click()
            expect(page.locator("[data-testid=pnl-row]").first).to_be_visible(timeout=20_000)
            assert not errors, errors
        finally:
            browser.close()
    assert engine.proc.poll() is None, (
        "the run ended before the browser was done: raise RUN_SECONDS"
    )


def _screenshot_path(engine: Engine) -> Path:
    """ARB_DASHBOARD_SCREENSHOT=docs/dashboard.png refreshes the README's picture."""
    explicit = os.environ.get("ARB_DASHBOARD_SCREENSHOT")
    return Path(explicit) if explicit else engine.data_dir / "dashboard.png"


def _arb(engine: Engine, *args: str) -> object:
    result = subprocess.run([sys.executable, "-m", "arb_cli", *args, "--json"], env=engine.env,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_arb_trades_lists_exactly_the_runs_executions_and_pnl_agrees_across_a_restart(
    engine: Engine,
) -> None:
    summary = engine.finish()
    assert summary["trades_recorded"] is True, summary
    assert summary["executed"] >= 1, summary
    client = redis_sync.Redis.from_url(engine.redis_url)
    published = [EXECUTION.decode(f[PAYLOAD_FIELD]) for _, f in client.xrange(EXECUTIONS_STREAM)]
    trades = _arb(engine, "trades")
    assert isinstance(trades, list)
    # exactly what the executor published: every result once, nothing else
    key = lambda o, s, t: (o, s, int(t))  # noqa: E731
    assert sorted(key(t["opportunity_id"], t["status"], t["ts_done"]) for t in trades) == sorted(
        key(r.opportunity_id, r.status.value, r.ts_done) for r in published
    )
    by_status = {s: sum(t["status"] == s for t in trades) for s in {t["status"] for t in trades}}
    executed = sum(by_status.get(s, 0) for s in ("filled", "partial", "hedged"))
    assert executed == summary["executed"]
    assert sum(by_status.get(s, 0) for s in ("refused", "expired")) == summary["refused"]
    assert by_status.get("unhedged", 0) == summary["unhedged"]
    pnl = _arb(engine, "pnl")
    assert isinstance(pnl, dict)
    assert Decimal(pnl["total"]["realised"]) == Decimal(summary["pnl_quote"])
    assert pnl["total"]["results"] == len(published)

    # Everything stopped with the run. Start the recorder again with its group gone, as after
    # a Redis that lost it: it reads every entry again, and the history stays as it was.
    for stream in (EXECUTIONS_STREAM, OPPORTUNITIES_STREAM, EXPOSURE_STREAM):
        if client.exists(stream):
            client.xgroup_destroy(stream, RECORDER_GROUP)
    log = engine.data_dir / "recorder-restart.log"
    env = engine.env  # ARB_DATA_DIR: the run's database, as the run's recorder used it
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "arb_recorder"], env=env, stdout=out,
                                stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _all_written(client):
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            assert proc.poll() is None, log.read_text()[-2000:]
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(20)
        reap(proc)
    assert _arb(engine, "trades") == trades
    assert _arb(engine, "pnl") == pnl


def _all_written(client: redis_sync.Redis) -> bool:
    """Nothing pending in the recorder's group and nothing after its last delivered id."""
    for stream in (EXECUTIONS_STREAM, OPPORTUNITIES_STREAM, EXPOSURE_STREAM):
        if not client.exists(stream):
            continue
        groups = {g["name"].decode(): g for g in client.xinfo_groups(stream)}  # type: ignore[union-attr]
        group = groups.get(RECORDER_GROUP)
        if group is None or group["pending"]:
            return False
        after = f"({group['last-delivered-id'].decode()}"
        if client.xrange(stream, min=after, max="+", count=1):
            return False
    return True
