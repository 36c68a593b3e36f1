"""The recorder as a real process between a real Redis and a real database (a SQLite file and
a private PostgreSQL): every entry lands once, a restart that re-reads everything adds
nothing, and while the database is away entries wait in the stream instead of being lost.

The truth each test checks against is what was published to the streams, not the recorder's
own report of itself.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from arb_cli.scoring import score
from arb_structs.constants import (
    EXECUTIONS_STREAM,
    EXPOSURE_STREAM,
    OPPORTUNITIES_STREAM,
    PAYLOAD_FIELD,
    RECORDER_GROUP,
    dead_letter_stream,
)

from tests.integration.recorder.support import (
    all_acknowledged,
    arb_json,
    group_backlog,
    publish,
    service_env,
    start_service,
    stop_service,
    until,
)
from tests.support_proc import reap
from tests.unit.recorder import factories

pytestmark = pytest.mark.integration

STREAMS = (EXECUTIONS_STREAM, OPPORTUNITIES_STREAM, EXPOSURE_STREAM)
INSTANCE = "recorder-test"


def recorder_env(redis_url: str, database_url: str) -> dict[str, str]:
    return service_env(redis_url, ARB_RECORDER_DB_URL=database_url, ARB_INSTANCE=INSTANCE,
                       ARB_RECORDER_RETRY_MAX_S="0.5")  # fmt: skip


async def test_entries_land_once_wait_out_a_database_outage_and_survive_a_full_reread(
    redis, redis_url: str, database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    opps, results, events = factories.mixed_history(12)
    await publish(redis, OPPORTUNITIES_STREAM, opps)
    await publish(redis, EXECUTIONS_STREAM, results)
    await publish(redis, EXECUTIONS_STREAM, results[:2])  # the same results sent twice
    await publish(redis, EXPOSURE_STREAM, events)
    await redis.xadd(EXECUTIONS_STREAM, {PAYLOAD_FIELD: b"\xc1 not msgpack"})
    env = recorder_env(redis_url, database_url) | {"ARB_RECORDER_BUSY_TIMEOUT_S": "0.2"}
    log = tmp_path / "recorder.log"
    late = [factories.filled(factories.opportunity(n)) for n in range(100, 110)]
    outage = Outage(database_url, request)
    proc = start_service("arb_recorder", env, log)
    try:
        await until(lambda: all_acknowledged(redis, RECORDER_GROUP, STREAMS), "all acked")
        first = arb_json("trades", env=env)
        pnl = arb_json("pnl", env=env)

        outage.begin()  # the database goes away while the engine goes on
        await publish(redis, EXECUTIONS_STREAM, late[:5])
        await until(lambda: _held_back(log, 1), "recorder reports the database away")
        # held back: not acknowledged, not dead-lettered
        assert await group_backlog(redis, EXECUTIONS_STREAM, RECORDER_GROUP) == 5
        outage.end()  # back while the recorder runs: it reconnects and writes on
        await until(lambda: all_acknowledged(redis, RECORDER_GROUP, [EXECUTIONS_STREAM]),
                    "held results written after the database came back")  # fmt: skip

        outage.begin()
        await publish(redis, EXECUTIONS_STREAM, late[5:])
        await until(lambda: _held_back(log, 2), "recorder reports the database away again")
        assert stop_service(proc) == 0  # a stop during an outage is a clean stop ...
        assert await group_backlog(redis, EXECUTIONS_STREAM, RECORDER_GROUP) == 5  # ... no ack
        outage.end()
        for stream in STREAMS:  # and the group is lost: the restart reads every entry again
            await redis.xgroup_destroy(stream, RECORDER_GROUP)
        proc = start_service("arb_recorder", env, log)
        await until(lambda: all_acknowledged(redis, RECORDER_GROUP, STREAMS), "all acked again")
    finally:
        outage.end()
        stop_service(proc)
        reap(proc)
    again = arb_json("trades", env=env)
    assert again[: len(first)] == first  # nothing added, nothing changed ...
    assert [t["opportunity_id"] for t in again[len(first) :]] == [r.opportunity_id for r in late]
    assert [t["opportunity_id"] for t in first] == [r.opportunity_id for r in results]
    for trade, result in zip(first, results, strict=True):
        assert trade["status"] == result.status.value
        assert Decimal(trade["realised_pnl"]) == Decimal(result.realised_pnl)
        assert Decimal(trade["fees_quote"]) == Decimal(result.fees_quote)
        assert [leg["client_order_id"] for leg in trade["legs"]] == [
            leg.intent.client_order_id for leg in result.legs
        ]
        for leg, sent in zip(trade["legs"], result.legs, strict=True):
            assert sent.report is not None
            assert Decimal(leg["fee"]) == Decimal(sent.report.fee)
            assert Decimal(leg["filled_size"]) == Decimal(sent.report.filled_size)
    # arb pnl's realised total is the same sum arb run's summary prints
    summary = score([], opps, results)
    assert Decimal(pnl["total"]["realised"]) == Decimal(summary["pnl_quote"])
    assert pnl["total"]["unhedged"] == summary["unhedged"] == 1
    assert pnl["total"]["refused"] == summary["refused"]
    assert sum(b["results"] for b in pnl["by_day"]) == len(results)
    (open_trade,) = [t for t in first if t["status"] == "unhedged"]
    assert open_trade["unhedged_size"] == "0.5"
    # its exposure was closed later, so its mark no longer counts: marked == realised
    assert pnl["total"]["marked_to_market"] == pnl["total"]["realised"]
    assert await redis.xlen(dead_letter_stream(EXECUTIONS_STREAM)) == 0
    assert "database unavailable" in log.read_text()


async def test_an_opportunity_of_several_results_counts_its_latest_open_part_only(
    redis, redis_url: str, database_url: str, tmp_path: Path
) -> None:
    """Found by arb chaos (seed 2): an unhedged result, then a recovery's result of the same
    opportunity that hedged part of it. Realised PnL adds up over both (each carries only what
    it added); the open part is the latest one's, not the sum of both."""
    opp = factories.opportunity(7)
    first = factories.unhedged(opp, mark="99.5")  # long 0.5 from 100: -0.25 open
    later = factories.recovered(opp, first, sold="0.3", price="100.4", mark="99")  # 0.2 left
    other = factories.opportunity(8)
    still = factories.unhedged(other, mark="99")  # another opportunity, open on its own
    await publish(redis, OPPORTUNITIES_STREAM, [opp, other])
    await publish(redis, EXECUTIONS_STREAM, [first, still, later])
    env = recorder_env(redis_url, database_url)
    proc = start_service("arb_recorder", env, tmp_path / "recorder.log")
    try:
        await until(lambda: all_acknowledged(redis, RECORDER_GROUP, STREAMS), "all acked")
    finally:
        stop_service(proc)
        reap(proc)
    total = arb_json("pnl", env=env)["total"]
    realised = sum(Decimal(r.realised_pnl) for r in (first, later, still))
    open_part = Decimal("0.2") * (99 - 100) + Decimal("0.5") * (99 - 100)  # later + still
    assert Decimal(total["realised"]) == realised
    assert Decimal(total["unrealised"]) == open_part  # not -0.45 more for the first's part
    assert Decimal(total["marked_to_market"]) == realised + open_part
    assert total["results"] == 3 and total["unhedged"] == 3


class Outage:
    """The database goes away and comes back: a SQLite file locked by another writer, or the
    PostgreSQL server killed."""

    def __init__(self, database_url: str, request: pytest.FixtureRequest) -> None:
        self.url = database_url
        self.request = request
        self._lock: sqlite3.Connection | None = None

    def begin(self) -> None:
        if self.url.startswith("sqlite"):
            self._lock = sqlite3.connect(self.url[len("sqlite:///") :], isolation_level=None)
            self._lock.execute("BEGIN EXCLUSIVE")
        else:
            self.request.getfixturevalue("postgres_server").kill()

    def end(self) -> None:
        if self._lock is not None:
            self._lock.rollback()
            self._lock.close()
            self._lock = None
        elif not self.url.startswith("sqlite"):
            self.request.getfixturevalue("postgres_server").start()


def _held_back(log: Path, outages: int) -> bool:
    """The recorder logged that it holds entries back, in ``outages`` separate outages."""
    return log.read_text().count('"msg":"database back after') >= outages - 1 and (
        "database unavailable" in log.read_text().split('"msg":"database back after')[-1]
    )
