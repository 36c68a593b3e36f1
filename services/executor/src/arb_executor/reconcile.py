"""Reconciliation: the venue is the source of truth about orders and balances.

At start, every ``interval_s`` (or the venue's ``reconcile_min_interval_s`` when its rate
budget needs more room: Kraken) and right after a fault (an order error or unknown outcome, a
Redis that came back empty), for every live venue that answers:

1. read its balances and the account's orders since the ledger's baseline (each venue's
   order-history endpoint: TradingClient.recent_orders);
2. **adopt** the engine's orders no record knows (adopt.py): journal lost with Redis (a
   group only once every venue was listed after its newest order was placed: the saga's
   other legs may be on another venue);
3. compare the balances with what the ledger explains (ledger.py); a difference that stays
   the same over two rounds is **unexplained exposure** (per venue and asset): published as an
   ExposureEvent, shown in health and /metrics, and the asset is refused until it is explained
   again or an operator acknowledges it (``arb exposure close``: the ledger then takes it in);
4. roll the baseline forward when all is explained, no saga is in flight and every order
   of ours listed there is known or adopted (not while adoption waits: quiet after a Redis
   loss, a venue not listed yet, a group within its grace), so the order listing stays
   short and never drops an order nobody has adopted;
5. mark every open exposure to market (latest book views).

Redis lost (``watch_redis``: the epoch key is gone): the journal, the exposure book, the
risk counters and the ledgers are written back from this process's memory, and no order is
adopted for ``grace_s`` (another replica may not have written its own back yet).
Replicas: every replica reconciles (they read and write one shared ledger; only one rolls it
at a time, under a lock, and only one applies an operator's acknowledgement).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import redis.asyncio as aioredis
from arb_structs import BalanceSnapshot, OrderReport
from arb_structs.codec import EXPOSURE
from arb_structs.constants import EXECUTOR_EPOCH_KEY, EXPOSURE_ACKS_KEY, executor_ledger_key
from arb_venues.errors import VenueError
from redis.exceptions import RedisError

from arb_executor import metrics
from arb_executor.adopt import Adopter, Found, by_group
from arb_executor.exposure import ExposureBook
from arb_executor.gateway import BookSource, split_symbol
from arb_executor.journal import RedisJournal
from arb_executor.ledger import Ledger, ours
from arb_executor.live import LiveGateway
from arb_executor.pnl import exit_price
from arb_executor.risk import RiskState
from arb_executor.riskstore import RiskStore

log = logging.getLogger("arb.executor")
ZERO = Decimal(0)


@dataclass(frozen=True)
class ReconcilePolicy:
    interval_s: float = 5.0
    lookback_s: float = 3600.0  # how far back a lost ledger is rebuilt from
    grace_s: float = 15.0  # an order younger than this (or Redis back for less) is not adopted
    margin_s: float = 60.0  # listings start this much before the baseline (clock skew)
    roll_s: float = 300.0  # roll the baseline forward at most this often
    tolerance: Decimal = Decimal("0.000001")  # per asset: below this is rounding, not exposure


class Reconciler:
    def __init__(
        self,
        redis: aioredis.Redis,
        gateways: Mapping[str, LiveGateway],
        journal: RedisJournal,
        adopter: Adopter,
        exposure: ExposureBook,
        risk: RiskState,
        store: RiskStore,
        books: BookSource,
        symbols: Sequence[str],
        policy: ReconcilePolicy | None = None,
    ) -> None:
        self.redis = redis
        self._r: Any = redis
        self.gateways = gateways
        self.journal = journal
        self.adopter = adopter
        self.exposure = exposure
        self.risk = risk
        self.store = store
        self.books = books
        self.symbols = list(symbols)
        self.policy = policy or ReconcilePolicy()
        self.ledgers: dict[str, Ledger] = {}
        self.listed: dict[str, tuple[int, list[OrderReport]]] = {}  # venue -> (ns, orders)
        self.due: dict[str, int] = {}
        self.last_diff: dict[str, dict[str, Decimal]] = {}
        self.last_roll: dict[str, int] = {}
        self.epoch = ""
        self.quiet_until = time.time_ns() + int(self.policy.grace_s * 1e9)
        self.rounds = 0
        self.resets = 0
        self.wakeup = asyncio.Event()

    def trigger(self) -> None:
        """Reconcile now (after a fault) instead of at the next interval."""
        self.wakeup.set()

    # -- Redis came back empty? ---------------------------------------------------------

    async def check_epoch(self) -> bool:
        """True when Redis lost our state since the last look (then it is written back)."""
        current = await self._r.get(EXECUTOR_EPOCH_KEY)
        if current is None:
            token = secrets.token_hex(8)
            await self._r.set(EXECUTOR_EPOCH_KEY, token, nx=True)
            current = await self._r.get(EXECUTOR_EPOCH_KEY)
        value = current.decode() if isinstance(current, bytes) else str(current)
        reset = bool(self.epoch) and value != self.epoch
        self.epoch = value
        if reset:
            self.restore()
            await self.journal.republish_results()
        return reset

    def restore(self) -> None:
        self.resets += 1
        metrics.REDIS_RESETS.inc()
        log.error("redis lost the executor's state (epoch key gone): writing back %d open "
                  "sagas, %d recent order ids, %d exposures and the ledgers from memory",
                  len(self.journal.live), len(self.journal.recent),
                  len(self.exposure.open))  # fmt: skip
        self.journal.restore()
        self.exposure.restore()
        self.store.restore(self.risk, time.time_ns())
        for ledger in self.ledgers.values():
            self.journal.producer.command(
                "HSET",
                executor_ledger_key(ledger.venue),
                *[x for kv in ledger.fields().items() for x in kv],
            )
        self.quiet_until = time.time_ns() + int(self.policy.grace_s * 1e9)
        self.trigger()

    async def watch_redis(self, stopping: asyncio.Event, every_s: float = 1.0) -> None:
        while not stopping.is_set():
            with contextlib.suppress(RedisError, OSError):
                await self.check_epoch()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), every_s)

    # -- the loop ---------------------------------------------------------------------------

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self.round(force=self.wakeup.is_set())
            except (RedisError, OSError) as exc:  # Redis away: try again next round
                log.warning("reconciliation round skipped: redis unavailable (%s)", exc)
            except Exception:  # the loop must outlive one bad round
                log.exception("reconciliation round failed; retrying")
            self.wakeup.clear()
            waiters = [asyncio.ensure_future(stopping.wait()),
                       asyncio.ensure_future(self.wakeup.wait())]  # fmt: skip
            await asyncio.wait(waiters, timeout=self.policy.interval_s,
                               return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
            for waiter in waiters:
                waiter.cancel()

    def interval_ns(self, venue: str) -> int:
        own = self.gateways[venue].client.reconcile_min_interval_s
        return int(max(self.policy.interval_s, own) * 1e9)

    async def round(self, force: bool = False) -> None:
        now = time.time_ns()
        await self.check_epoch()
        listings: dict[str, tuple[BalanceSnapshot, list[OrderReport]]] = {}
        for venue, gateway in self.gateways.items():
            if gateway.degraded or (not force and now < self.due.get(venue, 0)):
                continue
            self.due[venue] = now + self.interval_ns(venue)
            ledger = await self._ledger(venue)
            since = ledger.ts if ledger else now - int(self.policy.lookback_s * 1e9)
            since -= int(self.policy.margin_s * 1e9)
            try:
                snapshot = await gateway.snapshot()
                reports = await gateway.recent_orders(self.symbols, since)
            except VenueError as exc:
                metrics.RECONCILE_ROUNDS.labels(venue, "failed").inc()
                log.warning("%s: not reconciled this round: %s", venue, exc)
                continue
            metrics.RECONCILE_ROUNDS.labels(venue, "ok").inc()
            self.listed[venue] = (time.time_ns(), reports)
            if ledger is None:
                ledger = Ledger.rebuilt(venue, since, snapshot, reports)
                log.warning("%s: no ledger; rebuilt from the venue: balances now less the "
                            "engine's %d orders since %d", venue, len(ours(reports)),
                            since)  # fmt: skip
                await self._save(ledger)
            listings[venue] = (snapshot, reports)
        pending = await self._adopt(now)
        acks = await self._acks()
        for venue, (snapshot, reports) in listings.items():
            await self._explain(venue, snapshot, reports, acks, now, venue not in pending)
        await self._mark()
        self.rounds += 1

    # -- ledgers ----------------------------------------------------------------------------

    async def _ledger(self, venue: str) -> Ledger | None:
        raw = await self._r.hgetall(executor_ledger_key(venue))
        ledger = Ledger.from_fields(venue, raw) if raw else None
        if ledger is None and venue in self.ledgers:  # Redis lost it: ours is the ledger
            ledger = self.ledgers[venue]
            await self._save(ledger)
        if ledger is not None:
            self.ledgers[venue] = ledger
        return ledger

    async def _save(self, ledger: Ledger) -> None:
        self.ledgers[ledger.venue] = ledger
        await self.redis.hset(executor_ledger_key(ledger.venue), mapping=ledger.fields())  # type: ignore[arg-type]

    # -- adoption ---------------------------------------------------------------------------

    async def _adopt(self, now: int) -> set[str]:
        """Adopt the groups of ours no record knows, from every venue's latest listing; the
        venues whose baseline must not roll yet: an order of ours there that no record knows
        and that is not adopted yet (rolled past, it would drop out of the listings with its
        fill silently in the baseline, as arb chaos found after a rebuilt ledger)."""
        lookback = now - int((self.policy.lookback_s + self.policy.margin_s) * 1e9)
        known = await self.journal.known_ids(lookback)
        found = [Found(v, r) for v, (_, reports) in self.listed.items() for r in ours(reports)]
        unknown = {key: members for key, members in by_group(found).items()
                   if not all(m.report.client_order_id in known for m in members)}  # fmt: skip
        if now < self.quiet_until or set(self.listed) != set(self.gateways):
            return {m.venue for members in unknown.values() for m in members}
        pending: set[str] = set()
        grace = int(self.policy.grace_s * 1e9)
        oldest_listing = min(ts for ts, _ in self.listed.values())
        for (group, symbol), members in unknown.items():
            newest = max(m.report.ts_created or now for m in members)
            if now - newest < grace or oldest_listing < newest + grace:
                # Some replica's saga may still be in flight, or a venue not listed since
                # the group's last order may hold its other legs: look again later.
                pending |= {m.venue for m in members}
                continue
            await self.adopter.adopt(group, symbol, members)
            ids = {m.report.client_order_id for m in members}
            for venue, (ts, reports) in self.listed.items():  # recorded now: not again
                self.listed[venue] = (ts, [r for r in reports if r.client_order_id not in ids])
        return pending

    # -- balances ---------------------------------------------------------------------------

    async def _acks(self) -> dict[str, Any]:
        raw = await self._r.hgetall(EXPOSURE_ACKS_KEY)
        return {(k.decode() if isinstance(k, bytes) else str(k)): v for k, v in raw.items()}

    async def _explain(self, venue: str, snapshot: BalanceSnapshot, reports: list[OrderReport],
                       acks: Mapping[str, Any], now: int, may_roll: bool) -> None:  # fmt: skip
        ledger = self.ledgers[venue]
        diff = ledger.unexplained(snapshot, reports, self.policy.tolerance)
        for asset in [a for a in diff if f"{venue}|{a}" in acks]:
            if await self._r.hdel(EXPOSURE_ACKS_KEY, f"{venue}|{asset}"):  # one replica wins
                actor = EXPOSURE.decode(acks[f"{venue}|{asset}"]).actor
                log.warning("%s %s: %s acknowledged by %s; explained from now on", venue,
                            asset, diff[asset], actor)  # fmt: skip
                ledger.absorb(asset, diff.pop(asset))
                await self._save(ledger)
        previous, self.last_diff[venue] = self.last_diff.get(venue, {}), diff
        for asset, amount in diff.items():
            if previous.get(asset) != amount:
                continue  # seen once: a fill between the two reads? look again next round
            mark = await self._mark_price(venue, asset, amount)
            self.exposure.unexplained(
                venue=venue, asset=asset, size=amount, mark=mark,
                reason=f"{venue} holds {amount:+f} {asset} that no record explains",
            )  # fmt: skip
        for event in list(self.exposure.open.values()):
            if event.venue == venue and event.id.startswith("unexplained:") and \
                    event.asset not in diff:  # fmt: skip
                self.exposure.close(event.id, "explained again by the venue's records")
        if not diff and may_roll and self._may_roll(venue, now):
            await self._roll(venue, snapshot, reports, now)

    def _may_roll(self, venue: str, now: int) -> bool:
        if self.journal.live or now - self.last_roll.get(venue, 0) < self.policy.roll_s * 1e9:
            return False
        return now - self.ledgers[venue].ts >= self.policy.roll_s * 1e9

    async def _roll(self, venue: str, snapshot: BalanceSnapshot, reports: list[OrderReport],
                    now: int) -> None:  # fmt: skip
        lock = f"{executor_ledger_key(venue)}:roll"
        if not await self._r.set(lock, self.epoch or "1", nx=True, px=10_000):
            return
        self.last_roll[venue] = now
        await self._save(Ledger.taken(venue, now, snapshot, reports))

    # -- marks ------------------------------------------------------------------------------

    def _symbol_of(self, asset: str) -> str | None:
        return next((s for s in self.symbols if split_symbol(s)[0] == asset), None)

    async def _mark_price(self, venue: str, asset: str, size: Decimal) -> Decimal | None:
        if any(split_symbol(s)[1] == asset for s in self.symbols):
            return Decimal(1)  # a quote asset is worth itself
        symbol = self._symbol_of(asset)
        if symbol is None:
            return None
        with contextlib.suppress(RedisError, OSError):
            return exit_price(await self.books(venue, symbol), size)
        return None

    async def _mark(self) -> None:
        for event in list(self.exposure.open.values()):
            mark = await self._mark_price(event.venue, event.asset, Decimal(event.size))
            if mark is not None and str(mark) != event.mark_price:
                self.exposure.remark(event.id, mark)
