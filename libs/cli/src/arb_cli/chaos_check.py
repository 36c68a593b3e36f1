"""The verdict of ``arb chaos`` (pure: no I/O): the venues' own ledgers against what the engine
recorded and reported.

The ground truth is each simulated venue's ledger of the engine's account (GET
/control/ledger/{venue}: balances, every order with its exact fills and fee, and the
placements it refused as duplicate client ids) and the balances it had before the engine
started. The engine's side is the recorder's trade history (every result with its legs, as
``arb trades`` reads it), its open exposure (``arb exposure``) and its PnL (``arb pnl``).

What must hold (each a field of the report; ``ok`` is all of them):

- ``traded``: some order filled at a venue (a run that traded nothing proved nothing);

- ``duplicate_orders`` = 0: no client order id placed twice at a venue, nor refused there as
  already used (a venue without that check would have filled it twice);
- ``lost_results`` = []: every order that filled at a venue is a leg of a result in the trade
  history; ``misrecorded`` = []: with the venue's filled size and fee (and no recorded fill
  the venue does not have);
- ``unexplained_exposure`` = []: per venue and asset, the balance change at the venue equals
  the sum of the recorded legs' effects (filled base, filled x average price, the fee in its
  asset), or the difference is reported as open exposure of kind ``unexplained``;
- ``unreported_unhedged`` = []: per base asset, the net position over all venues is the open
  exposure the engine reports, give or take dust it reported (``unhedged_size`` of results
  not ``unhedged``) and fees taken in the base asset;
- ``pnl_error_quote`` (the recorded PnL minus the PnL the ledgers imply, both at the same
  marks) within ``pnl_tolerance_quote``: a cent, plus 10 bps of the value still open. The
  recorded PnL is ``arb pnl``'s marked-to-market total with each open part re-marked from
  the mark its result carried to the verdict's (``remark``): a result's mark is that of its
  moment, and the market moves on. The ledgers imply the quote balance change plus each
  net traded position at its mark, less the fees taken in a base asset at the price of the
  fill that paid them (a fee is a cost when it is paid, as the executor books it: the base
  it took is not a position that gains or loses with the market afterwards).

Found by arb chaos, seed 2, 240 s: ``arb pnl`` 716.15 against 727.38 from the ledgers. The
executor's figures were exact (realised + base fees at their fill prices - the open short
x its entry = the ledgers' quote change, to 1e-24); the 11.23 was the open short (-0.02199
BTC marked at 60366 when its result was made, at ~59889 at the end) and 0.0028 BTC and
0.058 ETH of base fees marked at the end instead of at their fills.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

ZERO = Decimal(0)
BASE_TOLERANCE = Decimal("0.000001")  # as ARB_EXECUTOR_RECONCILE_TOLERANCE's default
QUOTE_TOLERANCE = Decimal("0.01")  # a recorded average price is rounded: a cent over a run
FEE_TOLERANCE = Decimal("0.00000001")
OPEN_VALUE_TOLERANCE = Decimal("0.001")  # of the value still open: its marks move
EXPOSURE_OPEN_KINDS = frozenset({"unhedged", "unexplained"})


def dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else ZERO


def text(value: Decimal) -> str:
    """Exact decimal text without trailing zeros ("0" for zero)."""
    return "0" if value == 0 else format(value.normalize(), "f")


def totals(balances: Mapping[str, Mapping[str, Any]]) -> dict[str, Decimal]:
    """asset -> free + locked, from a ledger's balances."""
    return {a: dec(b.get("free")) + dec(b.get("locked")) for a, b in balances.items()}


@dataclass(frozen=True)
class Recorded:
    """The engine's record of one order: its leg with the most filled (a later result of the
    same saga repeats a leg with what the venue said since)."""

    venue: str
    symbol: str
    side: str
    client_order_id: str
    filled: Decimal
    avg_price: Decimal
    fee: Decimal
    fee_asset: str


def recorded_orders(trades: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Recorded]:
    out: dict[tuple[str, str], Recorded] = {}
    for trade in trades:
        for leg in trade["legs"]:
            key = (leg["venue"], leg["client_order_id"])
            rec = Recorded(leg["venue"], trade["symbol"], leg["side"], leg["client_order_id"],
                           dec(leg["filled_size"]), dec(leg["avg_price"]), dec(leg["fee"]),
                           leg["fee_asset"] or "")  # fmt: skip
            if key not in out or rec.filled > out[key].filled:
                out[key] = rec
    return out


def _effect(deltas: dict[str, Decimal], symbol: str, side: str, filled: Decimal,
            quote_amount: Decimal, fee: Decimal, fee_asset: str) -> None:  # fmt: skip
    base, _, quote = symbol.partition("-")
    sign = 1 if side == "buy" else -1
    deltas[base] = deltas.get(base, ZERO) + sign * filled
    deltas[quote] = deltas.get(quote, ZERO) - sign * quote_amount
    if fee and fee_asset:
        deltas[fee_asset] = deltas.get(fee_asset, ZERO) - fee


def remark(
    trades: Iterable[Mapping[str, Any]], open_parts: set[str], marks: Mapping[str, Decimal]
) -> Decimal:
    """What ``arb pnl``'s unrealised total changes by when each open part it counts (the
    results of ``open_parts``: an opportunity's latest, its exposure not closed, see
    arb_history.pnl) is marked at ``marks`` instead of at its result's ``mark_price``:
    size x (new mark - old mark)."""
    change = ZERO
    for trade in trades:
        size, old = dec(trade.get("unhedged_size")), dec(trade.get("mark_price"))
        new = marks.get(str(trade["symbol"]).partition("-")[0])
        if size and old and new and trade["result_id"] in open_parts:
            change += size * (new - old)
    return change


def check(
    initial: Mapping[str, Mapping[str, Decimal]],
    ledgers: Mapping[str, Mapping[str, Any]],
    trades: Sequence[Mapping[str, Any]],
    open_exposure: Sequence[Mapping[str, Any]],
    recorded_pnl: Decimal,
    marks: Mapping[str, Decimal],
    remarked: Decimal = ZERO,
) -> dict[str, Any]:
    """The report's verdict fields (see the module docstring). ``initial``: venue -> asset ->
    balance before the run; ``ledgers``: venue -> GET /control/ledger/{venue} after it;
    ``trades``: the trade history (``fetch_trades``); ``open_exposure``: ``arb exposure
    --json``'s rows; ``recorded_pnl``: ``arb pnl``'s marked-to-market total; ``marks``: base
    asset -> a price in the quote asset; ``remarked``: ``remark`` of the trades at them."""
    recorded = recorded_orders(trades)
    orders = duplicates = 0
    duplicate_ids: list[dict[str, str]] = []
    lost: list[dict[str, str]] = []
    misrecorded: list[dict[str, str]] = []
    seen_at_venue: set[tuple[str, str]] = set()
    venue_deltas: dict[str, dict[str, Decimal]] = {}
    base_fees: dict[str, Decimal] = {}  # asset -> fees the venues took in it
    base_fees_paid = ZERO  # their value in quote at the fills that paid them
    for venue, ledger in sorted(ledgers.items()):
        final = totals(ledger["balances"])
        start = initial.get(venue, {})
        venue_deltas[venue] = {a: final.get(a, ZERO) - start.get(a, ZERO)
                               for a in sorted(set(final) | set(start))}  # fmt: skip
        ids: set[str] = set()
        for order in ledger["orders"]:
            orders += 1
            cid = order["client_order_id"]
            if cid in ids:
                duplicates += 1
                duplicate_ids.append({"venue": venue, "client_order_id": cid, "how": "placed"})
            ids.add(cid)
            seen_at_venue.add((venue, cid))
            filled = dec(order["filled"])
            fee, fee_asset = dec(order["fee"]), order.get("fee_asset", "")
            if filled and fee and fee_asset == order["symbol"].partition("-")[0]:
                base_fees[fee_asset] = base_fees.get(fee_asset, ZERO) + fee
                base_fees_paid += fee * dec(order["quote_filled"]) / filled
            rec = recorded.get((venue, cid))
            about = {"venue": venue, "client_order_id": cid, "symbol": order["symbol"],
                     "side": order["side"], "filled": text(filled)}  # fmt: skip
            if filled and (rec is None or not rec.filled):
                lost.append(about)
            elif rec is not None and (
                rec.filled != filled or abs(rec.fee - dec(order["fee"])) > FEE_TOLERANCE
            ):
                misrecorded.append(
                    about
                    | {
                        "recorded_filled": text(rec.filled),
                        "fee": order["fee"],
                        "recorded_fee": text(rec.fee),
                    }
                )
        for cid in ledger.get("duplicate_attempts", []):
            duplicates += 1
            duplicate_ids.append({"venue": venue, "client_order_id": cid, "how": "refused"})
    for (venue, cid), rec in sorted(recorded.items()):
        if rec.filled and (venue, cid) not in seen_at_venue and venue in ledgers:
            misrecorded.append({"venue": venue, "client_order_id": cid, "symbol": rec.symbol,
                                "side": rec.side, "filled": "0",
                                "recorded_filled": text(rec.filled)})  # fmt: skip

    recorded_deltas: dict[str, dict[str, Decimal]] = {v: {} for v in ledgers}
    for rec in recorded.values():
        if rec.filled and rec.venue in recorded_deltas:
            _effect(recorded_deltas[rec.venue], rec.symbol, rec.side, rec.filled,
                    rec.filled * rec.avg_price, rec.fee, rec.fee_asset)  # fmt: skip
    open_by: dict[tuple[str, str, str], Decimal] = {}
    for row in open_exposure:
        key = (row["venue"], row["asset"], row["kind"])
        open_by[key] = open_by.get(key, ZERO) + dec(row["size"])
    quotes = {rec.symbol.partition("-")[2] for rec in recorded.values()} or {"USDT"}
    unexplained: list[dict[str, str]] = []
    reported: list[dict[str, str]] = []
    for venue, deltas in venue_deltas.items():
        for asset in sorted(set(deltas) | set(recorded_deltas[venue])):
            truth, rec_delta = deltas.get(asset, ZERO), recorded_deltas[venue].get(asset, ZERO)
            diff = truth - rec_delta
            tolerance = QUOTE_TOLERANCE if asset in quotes else BASE_TOLERANCE
            if abs(diff) <= tolerance:
                continue
            row = {"venue": venue, "asset": asset, "venue_change": text(truth),
                   "recorded_change": text(rec_delta), "difference": text(diff)}  # fmt: skip
            shown = open_by.get((venue, asset, "unexplained"), ZERO)
            (reported if abs(diff - shown) <= tolerance else unexplained).append(row)

    net: dict[str, Decimal] = {}
    for deltas in venue_deltas.values():
        for asset, change in deltas.items():
            if asset not in quotes:
                net[asset] = net.get(asset, ZERO) + change
    reported_open: dict[str, Decimal] = {}
    for (_, asset, kind), size in open_by.items():
        if kind in EXPOSURE_OPEN_KINDS:
            reported_open[asset] = reported_open.get(asset, ZERO) + size
    slack: dict[str, Decimal] = {}
    latest = {trade["opportunity_id"]: trade for trade in trades}  # oldest first: the last
    for trade in latest.values():
        if trade["status"] != "unhedged":
            asset = trade["symbol"].partition("-")[0]
            slack[asset] = slack.get(asset, ZERO) + abs(dec(trade["unhedged_size"]))
    for rec in recorded.values():
        if rec.fee_asset and rec.fee_asset not in quotes:
            slack[rec.fee_asset] = slack.get(rec.fee_asset, ZERO) + rec.fee
    unreported: list[dict[str, str]] = []
    open_value = ZERO
    for asset in sorted(set(net) | set(reported_open)):
        position, shown = net.get(asset, ZERO), reported_open.get(asset, ZERO)
        open_value += abs(position) * marks.get(asset, ZERO)
        allowed = slack.get(asset, ZERO) + BASE_TOLERANCE
        if abs(position - shown) > allowed:
            unreported.append(
                {
                    "asset": asset,
                    "net_position": text(position),
                    "reported_open": text(shown),
                    "dust_allowed": text(allowed),
                }
            )

    quote_change = sum((d.get(q, ZERO) for d in venue_deltas.values() for q in quotes), ZERO)
    traded = {a: p + base_fees.get(a, ZERO) for a, p in net.items()}
    implied = (quote_change - base_fees_paid
               + sum((p * marks.get(a, ZERO) for a, p in traded.items()), ZERO))  # fmt: skip
    error = recorded_pnl + remarked - implied
    tolerance = QUOTE_TOLERANCE + OPEN_VALUE_TOLERANCE * open_value
    checks = {
        "traded": any(dec(o["filled"]) for lg in ledgers.values() for o in lg["orders"]),
        "duplicate_orders": duplicates == 0,
        "lost_results": not lost,
        "misrecorded": not misrecorded,
        "unexplained_exposure": not unexplained,
        "unreported_unhedged": not unreported,
        "pnl_error_quote": abs(error) <= tolerance,
    }
    return {
        "orders": orders,
        "filled_orders": sum(
            1 for lg in ledgers.values() for o in lg["orders"] if dec(o["filled"])
        ),
        "results": len(trades),
        "duplicate_orders": duplicates,
        "duplicates": duplicate_ids,
        "lost_results": lost,
        "misrecorded": misrecorded,
        "unexplained_exposure": unexplained,
        "reported_unexplained": reported,
        "unreported_unhedged": unreported,
        "open_exposure": [dict(r) for r in open_exposure],
        "net_positions": {a: text(p) for a, p in sorted(net.items())},
        "venue_changes": {
            v: {a: text(x) for a, x in d.items() if x} for v, d in venue_deltas.items()
        },
        "pnl_recorded_quote": text(recorded_pnl),
        "pnl_remarked_quote": text(remarked),
        "pnl_ledger_quote": text(implied),
        "pnl_error_quote": text(error),
        "pnl_tolerance_quote": text(tolerance),
        "failed_checks": [name for name, held in checks.items() if not held],
        "ok": all(checks.values()),
    }
