"""The executor on a real Redis: opportunities on the stream in, execution results out."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest
import redis.asyncio as aioredis
from arb_executor.app import main as app_main
from arb_executor.app import recover
from arb_executor.config import ExecutorSettings
from arb_executor.journal import RedisJournal
from arb_executor.risk import RiskState
from arb_executor.saga import Saga, SagaPolicy
from arb_runtime.service import serve
from arb_runtime.streams import StreamProducer
from arb_structs import ExecutionResult, Opportunity
from arb_structs.codec import BALANCES, BOOK, OPPORTUNITY
from arb_structs.constants import (
    EXECUTOR_GROUP,
    KILL_KEY,
    OPEN_SAGAS_KEY,
    OPPORTUNITIES_STREAM,
    PAYLOAD_FIELD,
    balances_key,
    book_latest_key,
    saga_key,
)
from arb_structs.trading import ExecutionStatus

from tests.integration.executor.live_support import results, wait_for
from tests.unit.executor.support import Books, opportunity, paper, view

pytestmark = pytest.mark.integration

BUY_VIEW = view("binance", bids=[(99.9, 1.0)], asks=[(100.0, 1.0)])
SELL_VIEW = view("okx", bids=[(101.0, 1.0)], asks=[(101.5, 1.0)])


async def send(redis: aioredis.Redis, opp: Opportunity) -> None:
    await redis.xadd(OPPORTUNITIES_STREAM, {PAYLOAD_FIELD: OPPORTUNITY.encode(opp)})


@pytest.fixture
async def executor(redis: aioredis.Redis, redis_url: str) -> AsyncIterator[aioredis.Redis]:
    await redis.hset(book_latest_key("binance"), "BTC-USDT", BOOK.encode(BUY_VIEW))
    await redis.hset(book_latest_key("okx"), "BTC-USDT", BOOK.encode(SELL_VIEW))
    settings = ExecutorSettings(
        redis_url=redis_url, instance="executor-test", pair_cooldown_ms=0,
        paper_balances={"binance": {"USDT": "1000"}, "okx": {"BTC": "1"}},
    )  # fmt: skip
    stopping = asyncio.Event()
    task = asyncio.create_task(serve("executor", settings, app_main, stopping))

    async def group_ready() -> bool:
        with contextlib.suppress(Exception):
            groups = await redis.xinfo_groups(OPPORTUNITIES_STREAM)
            return any(g["name"] in (EXECUTOR_GROUP, EXECUTOR_GROUP.encode()) for g in groups)
        return False

    await wait_for(group_ready)
    try:
        yield redis
    finally:
        stopping.set()
        await asyncio.wait_for(task, 10)


async def test_opportunity_on_the_stream_is_filled_and_the_result_published(
    executor: aioredis.Redis,
) -> None:
    await send(executor, opportunity("opp-fill"))
    (result,) = await wait_for(lambda: results(executor))
    assert result.status is ExecutionStatus.FILLED
    assert result.realised_pnl == "0.3995"
    assert result.mode == "paper"
    snapshot = BALANCES.decode(await wait_for(lambda: executor.get(balances_key("okx"))))
    assert snapshot.balances["BTC"].free == "0.5"
    assert not await executor.smembers(OPEN_SAGAS_KEY)  # type: ignore[misc]


async def test_same_opportunity_delivered_twice_trades_once(executor: aioredis.Redis) -> None:
    await send(executor, opportunity("opp-dup"))
    await send(executor, opportunity("opp-dup"))
    await send(executor, opportunity("opp-after", size="0.1"))  # marks the end
    done = await wait_for(lambda: _has(executor, "opp-after"))
    assert [r.opportunity_id for r in done] == ["opp-dup", "opp-after"]


async def test_kill_switch_refuses_the_next_message(executor: aioredis.Redis) -> None:
    await executor.set(KILL_KEY, b"x")
    await send(executor, opportunity("opp-killed"))
    (result,) = await wait_for(lambda: results(executor))
    assert result.status is ExecutionStatus.REFUSED and result.reason == "kill_switch"
    assert not result.legs


async def test_expired_opportunity_is_refused(executor: aioredis.Redis) -> None:
    await send(executor, opportunity("opp-old", expires_in_s=-1.0))
    (result,) = await wait_for(lambda: results(executor))
    assert result.status is ExecutionStatus.EXPIRED and not result.legs


async def _has(redis: aioredis.Redis, opp_id: str) -> list[ExecutionResult] | None:
    found = await results(redis)
    return found if any(r.opportunity_id == opp_id for r in found) else None


async def test_journaled_saga_is_recovered_after_a_crash_without_duplicate_orders(
    redis: aioredis.Redis,
) -> None:
    books = Books(BUY_VIEW, SELL_VIEW)
    # The venues outlive the executor process.
    venues = {"binance": paper("binance", books, USDT="1000"), "okx": paper("okx", books, BTC="1")}
    policy = SagaPolicy(query_attempts=1, query_delay_s=0.0)
    producer = StreamProducer(redis)
    first = Saga(venues, RedisJournal(redis, producer), RiskState(), policy)
    opp = opportunity("opp-crash")
    intents = first.intents(opp)
    await first.journal.begin(opp, intents)
    await venues["binance"].place(intents["buy"])  # the buy went out; then the process died
    assert await redis.sismember(OPEN_SAGAS_KEY, "opp-crash")  # type: ignore[misc]

    journal = RedisJournal(redis, producer)
    restarted = Saga(venues, journal, RiskState(), policy)
    ctx = SimpleNamespace(producer=producer, redis=redis, settings=SimpleNamespace(instance="x"))
    count = await recover(ctx, restarted, journal)  # type: ignore[arg-type]
    await producer.close()

    assert count == 1
    assert venues["binance"].placed == 1  # the buy was found, not re-sent
    assert intents["sell"].client_order_id not in venues["okx"].orders  # never re-placed
    (result,) = await results(redis)
    assert result.status is ExecutionStatus.HEDGED
    assert [leg.role for leg in result.legs] == ["buy", "sell", "hedge"]
    assert not await redis.smembers(OPEN_SAGAS_KEY)  # type: ignore[misc]
    assert await redis.hget(saga_key("opp-crash"), "state") == b"done"  # type: ignore[misc]


async def test_journal_begin_on_disk_path_writes_the_same_saga_as_the_plain_one(
    redis: aioredis.Redis,
) -> None:
    """The WAITAOF path (Redis 7.2+) runs the journal's first write as MULTI/EXEC + WAITAOF on
    one connection. No server here has WAITAOF, so it answers "unknown command": the saga must
    still be written exactly as the plain path writes it, and read back as open."""
    from arb_runtime.durability import Durability

    producer = StreamProducer(redis)
    claimed = Durability(version="7.2.0", aof_enabled=True, waitaof=True)
    on_disk = RedisJournal(redis, producer, durability=claimed)
    plain = RedisJournal(redis, producer)
    first, second = opportunity("opp-disk"), opportunity("opp-plain")
    await on_disk.begin(first, Saga({}, on_disk, RiskState()).intents(first))
    await plain.begin(second, Saga({}, plain, RiskState()).intents(second))
    await producer.close()
    fields = [await redis.hgetall(saga_key(i)) for i in ("opp-disk", "opp-plain")]  # type: ignore[misc]
    assert set(fields[0]) == set(fields[1]) and fields[0][b"state"] == b"sending"
    assert await redis.smembers(OPEN_SAGAS_KEY) == {b"opp-disk", b"opp-plain"}  # type: ignore[misc]
    opened = {saga.opportunity.id for saga in await RedisJournal(redis, producer).open_sagas()}
    assert opened == {"opp-disk", "opp-plain"}


async def test_results_lost_with_an_empty_redis_are_published_again(redis: aioredis.Redis):
    """arb chaos found results missing from the trade history: published to arb:executions,
    then Redis came back empty before the recorder had read them. The journal keeps the
    lookback's results and publishes them again when it writes back its state (a result
    older than the lookback is not)."""
    from arb_structs.codec import EXECUTION
    from arb_structs.constants import EXECUTIONS_STREAM, PAYLOAD_FIELD

    producer = StreamProducer(redis)
    journal = RedisJournal(redis, producer, lookback_ns=60 * 10**9)
    fresh = ExecutionResult(opportunity_id="opp-fresh", symbol="BTC-USDT", buy_venue="binance",
                            sell_venue="okx", status=ExecutionStatus.FILLED, mode="live",
                            ts_done=1)  # fmt: skip
    stale = ExecutionResult(opportunity_id="opp-stale", symbol="BTC-USDT", buy_venue="binance",
                            sell_venue="okx", status=ExecutionStatus.FILLED, mode="live",
                            ts_done=2)  # fmt: skip
    journal.published(EXECUTION.encode(stale), now=0)  # long before the lookback
    journal.published(EXECUTION.encode(fresh))
    await redis.flushall()  # Redis back empty: the stream is gone
    journal.restore()
    assert await journal.republish_results() == 1
    # a second reset noticed before anything else happened: the stream has it, no copy
    assert await journal.republish_results() == 0
    await producer.close()
    entries = await redis.xrange(EXECUTIONS_STREAM)
    assert [EXECUTION.decode(f[PAYLOAD_FIELD]).opportunity_id for _, f in entries] == ["opp-fresh"]


async def test_order_ids_of_a_dead_executor_survive_redis_coming_back_empty(
    redis: aioredis.Redis,
) -> None:
    """arb chaos: executor A closed a saga (unhedged) and was killed; B, its successor, knew
    its ids only from Redis, so Redis coming back empty forgot them and B's reconciliation
    adopted A's closed group and sold its open leg a second time. B must write them back."""
    producer = StreamProducer(redis)
    dead = RedisJournal(redis, producer)
    opp = opportunity("closed-by-the-dead")
    intents = Saga({}, dead, RiskState(), SagaPolicy()).intents(opp)
    await dead.begin(opp, intents)
    ids = {i.client_order_id for i in intents.values()}
    successor = RedisJournal(redis, producer)
    assert await successor.known_ids(0) >= ids  # its reconciliation reads them each round
    await redis.flushdb()  # Redis restarted empty
    assert await RedisJournal(redis, producer).known_ids(0) == set()
    successor.restore()
    await producer.flush()
    assert await RedisJournal(redis, producer).known_ids(0) >= ids  # written back
    await producer.close()


class _ReplyLost:
    """A Redis client whose transactions are applied, then answered by a closed connection:
    what the executor saw when Redis, restarting under load, dropped a connection mid-begin."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    def __getattr__(self, name: str) -> object:
        return getattr(self._redis, name)

    def pipeline(self, transaction: bool = True) -> object:
        real = self._redis.pipeline(transaction=transaction)
        execute = real.execute

        async def applied_then_lost(*args: object, **kwargs: object) -> object:
            await execute(*args, **kwargs)
            raise ConnectionError("Connection closed by server.")

        real.execute = applied_then_lost  # type: ignore[method-assign]
        return real


async def test_a_begin_whose_reply_is_lost_sends_nothing_and_leaves_no_open_saga(
    redis: aioredis.Redis,
) -> None:
    """arb run's Ctrl-C test found a saga left "sending" by a live executor: its begin reached
    Redis, the reply did not, so nothing was sent and nobody would recover it while its owner
    ran. The record is taken back; a later begin of the same opportunity keeps its own."""
    books = Books(BUY_VIEW, SELL_VIEW)
    venues = {"binance": paper("binance", books, USDT="1000"), "okx": paper("okx", books, BTC="1")}
    producer = StreamProducer(redis)
    lossy = RedisJournal(_ReplyLost(redis), producer)  # type: ignore[arg-type]
    saga = Saga(venues, lossy, RiskState(), SagaPolicy(query_attempts=1, query_delay_s=0.0))
    opp = opportunity("opp-lost-reply")
    result = await saga.execute(opp, 1)
    assert result.status is ExecutionStatus.FAILED and not result.legs
    assert venues["binance"].placed == 0 and venues["okx"].placed == 0  # nothing sent
    assert await redis.sismember(OPEN_SAGAS_KEY, opp.id)  # type: ignore[misc]  # it got there
    await producer.flush()
    assert not await redis.sismember(OPEN_SAGAS_KEY, opp.id)  # type: ignore[misc]
    assert not await redis.exists(saga_key(opp.id))
    assert opp.id not in lossy.live

    # A redelivery begins the same opportunity again; a late abandon of the first begin
    # (still queued while Redis was away) must not take the new record.
    with contextlib.suppress(ConnectionError):
        await lossy.begin(opp, saga.intents(opp))
    await RedisJournal(redis, producer).begin(opp, saga.intents(opp))  # the redelivery
    lossy.abandon(opp.id)
    await producer.close()
    assert await redis.sismember(OPEN_SAGAS_KEY, opp.id)  # type: ignore[misc]
    assert await redis.hget(saga_key(opp.id), "state") == b"sending"  # type: ignore[misc]
