"""Messages as rows: keys that make writes idempotent, exact decimals, every field kept."""

from __future__ import annotations

import json

import msgspec
import pytest
from arb_history import records
from arb_history.database import POSTGRESQL, SQLITE, open_database, shown_url
from arb_history.errors import DatabaseConfigError
from arb_history.migrations import known_migrations, split_statements
from arb_history.writer import INSERT_RESULT
from arb_structs.codec import EXECUTION

from tests.unit.recorder import factories

pytestmark = pytest.mark.unit


def test_a_result_becomes_one_row_and_one_row_per_leg_with_exact_decimals() -> None:
    opp = factories.opportunity(7)
    result = factories.filled(opp, share="0.5", slip="0.2")
    row, legs = records.result_rows(result, "1-0", "{}", 5)
    assert row["result_id"] == f"{opp.id}:partial:{result.ts_done}"
    assert row["realised_pnl"] == result.realised_pnl and isinstance(row["realised_pnl"], str)
    assert [leg["role"] for leg in legs] == ["buy", "sell"]
    assert [leg["leg"] for leg in legs] == [0, 1]
    assert legs[1]["avg_price"] == "100.8" and legs[1]["filled_size"] == "0.25"
    assert all(leg["result_id"] == row["result_id"] for leg in legs)


def test_the_same_result_published_twice_has_one_key_and_another_outcome_another() -> None:
    opp = factories.opportunity(1)
    first = factories.unhedged(opp)
    again = EXECUTION.decode(EXECUTION.encode(first))
    assert records.result_id(first) == records.result_id(again)
    assert records.result_id(first) != records.result_id(factories.refused(opp))


def test_a_number_that_is_not_one_is_refused_with_its_name() -> None:
    opp = factories.opportunity(1)
    bad = msgspec.structs.replace(factories.filled(opp), fees_quote="NaN")
    with pytest.raises(ValueError, match="fees_quote='NaN' is not a finite number"):
        records.result_rows(bad, "1-0", "{}", 0)
    with pytest.raises(ValueError, match="is not a decimal number"):
        records.decimal_text("1,5", "size")


def test_the_json_column_keeps_fields_this_code_does_not_know_yet() -> None:
    result = factories.filled(factories.opportunity(2))
    as_dict = msgspec.to_builtins(result) | {"venue_latency_ms": 12.5}  # a newer writer's field
    message = json.loads(records.message_json(msgspec.msgpack.encode(as_dict)))
    assert message["venue_latency_ms"] == 12.5
    assert message["opportunity_id"] == result.opportunity_id
    assert EXECUTION.decode(msgspec.msgpack.encode(as_dict)) == result  # old readers still read


def test_placeholders_render_per_dialect() -> None:
    sql = "INSERT INTO t (a, b) VALUES (CAST(:a AS {decimal}), :b) -- 12:30 'x::y' 5%"
    assert SQLITE.render(sql) == (
        "INSERT INTO t (a, b) VALUES (CAST(:a AS TEXT), :b) -- 12:30 'x::y' 5%"
    )
    assert POSTGRESQL.render(sql) == (
        "INSERT INTO t (a, b) VALUES (CAST(%(a)s AS NUMERIC), %(b)s) -- 12:30 'x::y' 5%%"
    )
    assert "CAST(%(message)s AS JSONB)" in POSTGRESQL.render(INSERT_RESULT)


def test_migration_files_split_into_statements_in_order() -> None:
    assert split_statements("-- a comment\nCREATE TABLE a (x INT);\n\nCREATE VIEW v AS\n"
                            "  SELECT x FROM a;\n") == (
        "CREATE TABLE a (x INT)", "CREATE VIEW v AS\n  SELECT x FROM a")  # fmt: skip
    versions = [m.version for m in known_migrations()]
    assert versions == list(range(1, len(versions) + 1))
    assert any("CREATE TABLE results" in s for s in known_migrations()[0].statements)


def test_database_urls_are_checked_and_shown_without_their_password() -> None:
    assert (
        shown_url("postgresql://arb:s3cret@db:5432/trades") == "postgresql://arb:***@db:5432/trades"
    )
    assert shown_url("sqlite:///arb-data/trades.sqlite") == "sqlite:///arb-data/trades.sqlite"
    with pytest.raises(DatabaseConfigError, match="unknown database") as caught:
        open_database("mysql://root:s3cret@localhost/x")
    assert "s3cret" not in str(caught.value)
    with pytest.raises(DatabaseConfigError, match="names a file"):
        open_database("sqlite://")
