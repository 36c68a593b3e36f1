"""Stream messages as table rows (pure: no I/O).

Each row keeps the stream entry id it came from and the whole message as JSON, decoded
without a schema so that fields a newer writer appended are kept too. Row keys make writes
idempotent: a redelivered entry, or the same message added twice, maps to the row it wrote.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from arb_structs import ExecutionResult, ExposureEvent, ExposureKind, Opportunity

Row = dict[str, Any]

# Column name -> type placeholder for the CAST of its parameter (None: no cast needed).
OPPORTUNITY_COLUMNS: dict[str, str | None] = {
    "id": None, "symbol": None, "buy_venue": None, "sell_venue": None, "size": "decimal",
    "buy_price": "decimal", "sell_price": "decimal", "net_profit": None, "edge_bps": None,
    "ts_detect": None, "expires_ns": None, "stream_id": None, "recorded_ns": None,
    "message": "json",
}  # fmt: skip
RESULT_COLUMNS: dict[str, str | None] = {
    "result_id": None, "opportunity_id": None, "symbol": None, "buy_venue": None,
    "sell_venue": None, "status": None, "mode": None, "reason": None, "expected_pnl": None,
    "realised_pnl": "decimal", "fees_quote": "decimal", "unhedged_size": "decimal",
    "unrealised_pnl": "decimal", "mark_price": "decimal", "executor": None, "ts_detect": None,
    "ts_received": None, "ts_orders_sent": None, "ts_acks": None, "ts_done": None,
    "stream_id": None, "recorded_ns": None, "message": "json",
}  # fmt: skip
ORDER_COLUMNS: dict[str, str | None] = {
    "result_id": None, "leg": None, "role": None, "venue": None, "symbol": None, "side": None,
    "client_order_id": None, "price": "decimal", "size": "decimal", "status": None,
    "filled_size": "decimal", "avg_price": "decimal", "fee": "decimal", "fee_asset": None,
    "venue_order_id": None, "error": None, "reason": None, "ts_sent": None, "ts_ack": None,
}  # fmt: skip
EXPOSURE_EVENT_COLUMNS: dict[str, str | None] = {
    "event_key": None, "exposure_id": None, "venue": None, "asset": None, "kind": None,
    "size": "decimal", "quote_value": "decimal", "mark_price": "decimal",
    "opportunity_id": None, "reason": None, "actor": None, "ts": None, "stream_id": None,
    "recorded_ns": None, "message": "json",
}  # fmt: skip
EXPOSURE_COLUMNS: dict[str, str | None] = {
    "exposure_id": None, "venue": None, "asset": None, "kind": None, "size": "decimal",
    "quote_value": "decimal", "mark_price": "decimal", "opportunity_id": None, "reason": None,
    "actor": None, "opened_ts": None, "updated_ts": None, "closed_ts": None,
}  # fmt: skip

CLOSING_KINDS = frozenset({ExposureKind.CLOSED.value, ExposureKind.ACKNOWLEDGED.value})


def decimal_text(value: str, what: str) -> str:
    """``value`` if it is a finite decimal number, else ValueError naming ``what``."""
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError):
        raise ValueError(f"{what}={value!r} is not a decimal number") from None
    if not number.is_finite():
        raise ValueError(f"{what}={value!r} is not a finite number")
    return value


def message_json(payload: bytes) -> str:
    """The whole MessagePack message as JSON text, every field included."""
    return msgspec.json.encode(msgspec.msgpack.decode(payload)).decode()


def result_id(result: ExecutionResult) -> str:
    """Stable over redeliveries: one saga's outcome at one moment."""
    return f"{result.opportunity_id}:{result.status.value}:{result.ts_done}"


def exposure_event_key(event: ExposureEvent) -> str:
    return f"{event.id}:{event.kind.value}:{event.ts}:{event.size}"


def opportunity_row(opp: Opportunity, stream_id: str, message: str, now: int) -> Row:
    return {
        "id": opp.id, "symbol": opp.symbol, "buy_venue": opp.buy_venue,
        "sell_venue": opp.sell_venue, "size": decimal_text(opp.size, "size"),
        "buy_price": decimal_text(opp.buy_price, "buy_price"),
        "sell_price": decimal_text(opp.sell_price, "sell_price"),
        "net_profit": float(opp.net_profit), "edge_bps": float(opp.edge_bps),
        "ts_detect": opp.ts_detect, "expires_ns": opp.expires_ns, "stream_id": stream_id,
        "recorded_ns": now, "message": message,
    }  # fmt: skip


def result_rows(
    result: ExecutionResult, stream_id: str, message: str, now: int
) -> tuple[Row, list[Row]]:
    """The result row and one row per leg (order)."""
    key = result_id(result)
    row = {
        "result_id": key, "opportunity_id": result.opportunity_id, "symbol": result.symbol,
        "buy_venue": result.buy_venue, "sell_venue": result.sell_venue,
        "status": result.status.value, "mode": result.mode, "reason": result.reason,
        "expected_pnl": float(result.expected_pnl),
        "realised_pnl": decimal_text(result.realised_pnl, "realised_pnl"),
        "fees_quote": decimal_text(result.fees_quote, "fees_quote"),
        "unhedged_size": decimal_text(result.unhedged_size, "unhedged_size"),
        "unrealised_pnl": decimal_text(result.unrealised_pnl, "unrealised_pnl"),
        "mark_price": decimal_text(result.mark_price, "mark_price"),
        "executor": result.executor, "ts_detect": result.ts_detect,
        "ts_received": result.ts_received, "ts_orders_sent": result.ts_orders_sent,
        "ts_acks": result.ts_acks, "ts_done": result.ts_done, "stream_id": stream_id,
        "recorded_ns": now, "message": message,
    }  # fmt: skip
    legs = []
    for index, leg in enumerate(result.legs):
        intent, report = leg.intent, leg.report
        legs.append({
            "result_id": key, "leg": index, "role": leg.role, "venue": intent.venue,
            "symbol": intent.symbol, "side": intent.side.value,
            "client_order_id": intent.client_order_id,
            "price": decimal_text(intent.price, "price"),
            "size": decimal_text(intent.size, "size"),
            "status": report.status.value if report else "none",
            "filled_size": decimal_text(report.filled_size if report else "0", "filled_size"),
            "avg_price": decimal_text(report.avg_price if report else "0", "avg_price"),
            "fee": decimal_text(report.fee if report else "0", "fee"),
            "fee_asset": report.fee_asset if report else "",
            "venue_order_id": report.venue_order_id if report else "",
            "error": leg.error, "reason": report.reason if report else "",
            "ts_sent": report.ts_sent if report else 0,
            "ts_ack": report.ts_ack if report else 0,
        })  # fmt: skip
    return row, legs


def exposure_rows(event: ExposureEvent, stream_id: str, message: str, now: int) -> tuple[Row, Row]:
    """The event row and the exposure's state after it."""
    size = decimal_text(event.size, "size")
    quote_value = decimal_text(event.quote_value, "quote_value")
    mark_price = decimal_text(event.mark_price, "mark_price")
    kind = event.kind.value
    ts = event.ts or now
    row = {
        "event_key": exposure_event_key(event), "exposure_id": event.id, "venue": event.venue,
        "asset": event.asset, "kind": kind, "size": size, "quote_value": quote_value,
        "mark_price": mark_price, "opportunity_id": event.opportunity_id,
        "reason": event.reason, "actor": event.actor, "ts": ts, "stream_id": stream_id,
        "recorded_ns": now, "message": message,
    }  # fmt: skip
    state = {
        "exposure_id": event.id, "venue": event.venue, "asset": event.asset, "kind": kind,
        "size": size, "quote_value": quote_value, "mark_price": mark_price,
        "opportunity_id": event.opportunity_id, "reason": event.reason, "actor": event.actor,
        "opened_ts": ts, "updated_ts": ts, "closed_ts": ts if kind in CLOSING_KINDS else 0,
    }  # fmt: skip
    return row, state
