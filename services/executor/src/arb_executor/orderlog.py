"""One structured INFO line per order sent, per answer and per fill (stdlib logging with
``extra`` fields; the runtime's formatter renders them as key/values):

    order sent     venue symbol opportunity_id client_order_id side price size
    order answer   ... status filled fee fee_asset (or error)
    order fill     ... filled avg_price fee fee_asset (only when something filled)

No secrets are in any field: intents and reports carry none.
"""

from __future__ import annotations

import logging

from arb_structs import OrderIntent, OrderReport

log = logging.getLogger("arb.executor.orders")


def _fields(opportunity_id: str, intent: OrderIntent, role: str) -> dict[str, str]:
    return {
        "venue": intent.venue, "symbol": intent.symbol, "opportunity_id": opportunity_id,
        "client_order_id": intent.client_order_id, "side": intent.side.value,
        "price": intent.price, "size": intent.size, "role": role,
    }  # fmt: skip


def sent(opportunity_id: str, role: str, intent: OrderIntent) -> None:
    log.info("order sent", extra=_fields(opportunity_id, intent, role))


def answer(opportunity_id: str, role: str, intent: OrderIntent, report: OrderReport | None,
           error: str = "") -> None:  # fmt: skip
    fields = _fields(opportunity_id, intent, role)
    if report is None:
        fields.update(status="error", filled="0", fee="0", fee_asset="", error=error)
        log.info("order answer", extra=fields)
        return
    fields.update(status=report.status.value, filled=report.filled_size, fee=report.fee,
                  fee_asset=report.fee_asset, venue_order_id=report.venue_order_id)  # fmt: skip
    if error:
        fields["error"] = error
    log.info("order answer", extra=fields)
    if report.filled_size not in ("", "0"):
        fields["avg_price"] = report.avg_price
        log.info("order fill", extra=fields)
