"""Stream entries into the database: one transaction per entry, idempotent.

``HistoryWriter.write(stream, entry_id, payload)`` decodes the entry with the stream's codec
and commits its rows before it returns; an entry written before (a redelivery after a crash
between commit and XACK, or the same message added twice) changes nothing. An entry that does
not decode, or carries a number that is not one, is kept in ``malformed_entries`` instead:
committed like any other, so it is acknowledged and never retried forever.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import msgspec
from arb_structs.codec import EXECUTION, EXPOSURE, OPPORTUNITY
from arb_structs.constants import EXECUTIONS_STREAM, EXPOSURE_STREAM, OPPORTUNITIES_STREAM

from arb_history import records
from arb_history.database import Database, Transaction

Outcome = str  # "written" | "duplicate" | "malformed"


def insert_head(table: str, columns: dict[str, str | None]) -> str:
    """``INSERT INTO table (...) VALUES (...)`` with each parameter cast to its column type."""
    values = ", ".join(
        f":{name}" if cast is None else f"CAST(:{name} AS {{{cast}}})"
        for name, cast in columns.items()
    )
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"


def insert_sql(table: str, columns: dict[str, str | None], key: str) -> str:
    """The insert that does nothing for a row already there; RETURNING says which it was."""
    first = key.split(",")[0].strip()
    return f"{insert_head(table, columns)} ON CONFLICT ({key}) DO NOTHING RETURNING {first}"


INSERT_OPPORTUNITY = insert_sql("opportunities", records.OPPORTUNITY_COLUMNS, "id")
INSERT_RESULT = insert_sql("results", records.RESULT_COLUMNS, "result_id")
INSERT_ORDER = insert_sql("orders", records.ORDER_COLUMNS, "result_id, leg")
INSERT_EXPOSURE_EVENT = insert_sql("exposure_events", records.EXPOSURE_EVENT_COLUMNS, "event_key")
INSERT_MALFORMED = (
    "INSERT INTO malformed_entries (stream, stream_id, error, payload_hex, recorded_ns) "
    "VALUES (:stream, :stream_id, :error, :payload_hex, :recorded_ns) "
    "ON CONFLICT (stream, stream_id) DO NOTHING RETURNING stream_id"
)
# The newest event of an exposure decides its state; an older one arriving late does not.
UPSERT_EXPOSURE = (
    insert_head("exposures", records.EXPOSURE_COLUMNS)
    + " ON CONFLICT (exposure_id) DO UPDATE SET kind = excluded.kind, size = excluded.size, "
    "quote_value = excluded.quote_value, mark_price = excluded.mark_price, "
    "reason = excluded.reason, actor = excluded.actor, updated_ts = excluded.updated_ts, "
    "closed_ts = excluded.closed_ts, opportunity_id = CASE WHEN excluded.opportunity_id <> '' "
    "THEN excluded.opportunity_id ELSE exposures.opportunity_id END "
    "WHERE exposures.updated_ts <= excluded.updated_ts"
)
EARLIER_OPEN = (
    "UPDATE exposures SET opened_ts = :ts WHERE exposure_id = :exposure_id AND opened_ts > :ts"
)


@dataclass
class WriterCounts:
    written: int = 0
    duplicates: int = 0
    malformed: int = 0


class HistoryWriter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.counts = WriterCounts()

    async def write(self, stream: str, entry_id: str, payload: bytes | None) -> Outcome:
        """Commit the rows of one stream entry; returns what happened to it."""
        now = time.time_ns()
        try:
            if payload is None:
                raise ValueError("the entry has no payload field")
            message = records.message_json(payload)
            statements = self._statements(stream, entry_id, payload, message, now)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
            params = {"stream": stream, "stream_id": entry_id, "error": str(exc)[:500],
                      "payload_hex": (payload or b"").hex(), "recorded_ns": now}  # fmt: skip
            async with self.db.transaction() as tx:
                await tx.execute(INSERT_MALFORMED, params)
            self.counts.malformed += 1
            return "malformed"
        async with self.db.transaction() as tx:
            first = await self._apply(tx, statements)
        if first:
            self.counts.written += 1
            return "written"
        self.counts.duplicates += 1
        return "duplicate"

    def _statements(
        self, stream: str, entry_id: str, payload: bytes, message: str, now: int
    ) -> list[tuple[str, dict[str, Any]]]:
        """(sql, params) to run in order; the first one's RETURNING says if it was new."""
        if stream == EXECUTIONS_STREAM:
            row, legs = records.result_rows(EXECUTION.decode(payload), entry_id, message, now)
            return [(INSERT_RESULT, row)] + [(INSERT_ORDER, leg) for leg in legs]
        if stream == OPPORTUNITIES_STREAM:
            opp = OPPORTUNITY.decode(payload)
            return [(INSERT_OPPORTUNITY, records.opportunity_row(opp, entry_id, message, now))]
        if stream == EXPOSURE_STREAM:
            event, state = records.exposure_rows(EXPOSURE.decode(payload), entry_id, message, now)
            earlier = {"ts": state["opened_ts"], "exposure_id": state["exposure_id"]}
            return [(INSERT_EXPOSURE_EVENT, event), (UPSERT_EXPOSURE, state),
                    (EARLIER_OPEN, earlier)]  # fmt: skip
        raise ValueError(f"stream {stream!r} is not one the recorder writes")

    @staticmethod
    async def _apply(tx: Transaction, statements: list[tuple[str, dict[str, Any]]]) -> bool:
        first_sql, first_params = statements[0]
        if not await tx.execute(first_sql, first_params):
            return False  # written before: its rows are all there (one transaction)
        for sql, params in statements[1:]:
            await tx.execute(sql, params)
        return True
