"""The engine's client order ids: deterministic, recognisably ours, grouped by saga.

Every order the engine sends carries a client order id built here, in one of two shapes a
venue accepts:

    text  ``arb`` + 7 hex (saga group) + hex (leg)         e.g. arb1f3a9c2e0b...  (Binance,
          OKX: alphanumeric, 32 characters)
    uuid  ``cea4b000-GGGG-5GGG-8LLL-LLLLLLLLLLLL``          (Bybit, Kraken, Coinbase: a UUID
          whose first group is the engine's fixed marker; version 5, RFC 4122 variant)

The same (opportunity, leg) always gives the same id, so a retry or a restart can never send
a second order. ``G`` is the saga group: 28 bits of a hash of the opportunity id, the same for
every order of one saga (its two legs, hedge, unwind and any late or adopted hedge), so the
orders found at the venues can be put back together by saga when the journal is gone
(reconciliation). ``L`` hashes the opportunity and the leg.

A synthetic opportunity id ``group:<7 hex>[:<anything>]`` keeps that group: orders the
executor adopts from a venue are closed under the group they were found in.
"""

from __future__ import annotations

import hashlib
import re

from arb_structs import ClientOrderId

ENGINE_TEXT_PREFIX = "arb"
ENGINE_UUID_GROUP = "cea4b000"  # the fixed first group of every engine UUID
GROUP_HEX = 7
GROUP_OPPORTUNITY_PREFIX = "group:"

_GROUP = re.compile(r"^[0-9a-f]{7}$")
_TEXT = re.compile(r"^arb([0-9a-f]{7})[0-9a-f]+$")
_UUID = re.compile(r"^cea4b000-([0-9a-f]{4})-5([0-9a-f]{3})-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def saga_group_of(opportunity_id: str) -> str:
    """The 7-hex saga group of an opportunity (``group:<hex>[:...]`` keeps its own)."""
    if opportunity_id.startswith(GROUP_OPPORTUNITY_PREFIX):
        group = opportunity_id[len(GROUP_OPPORTUNITY_PREFIX) :].partition(":")[0]
        if _GROUP.match(group):
            return group
    return hashlib.sha256(opportunity_id.encode()).hexdigest()[:GROUP_HEX]


def group_opportunity_id(group: str, suffix: str = "") -> str:
    """A synthetic opportunity id whose orders fall in saga group ``group``."""
    return f"{GROUP_OPPORTUNITY_PREFIX}{group}" + (f":{suffix}" if suffix else "")


def _leg_hex(opportunity_id: str, leg: str) -> str:
    return hashlib.sha256(f"{opportunity_id}\x1f{leg}".encode()).hexdigest()


def text_client_order_id(opportunity_id: str, leg: str, length: int = 32) -> ClientOrderId:
    """``arb`` + group + leg hash, ``length`` characters of [0-9a-z] (at least 20)."""
    if length < 20:
        raise ValueError(f"client order id length {length}: need at least 20 characters")
    head = ENGINE_TEXT_PREFIX + saga_group_of(opportunity_id)
    return ClientOrderId(head + _leg_hex(opportunity_id, leg)[: length - len(head)])


def uuid_client_order_id(opportunity_id: str, leg: str) -> ClientOrderId:
    """A version-5-shaped UUID with the engine's first group, the saga group and a leg hash."""
    group, leg_hex = saga_group_of(opportunity_id), _leg_hex(opportunity_id, leg)
    variant = "89ab"[int(leg_hex[0], 16) % 4]
    return ClientOrderId(
        f"{ENGINE_UUID_GROUP}-{group[:4]}-5{group[4:]}-{variant}{leg_hex[1:4]}-{leg_hex[4:16]}"
    )


def is_engine_client_order_id(client_order_id: str) -> bool:
    """True for an id this engine made (either shape); orders of anyone else are not ours."""
    return bool(_TEXT.match(client_order_id) or _UUID.match(client_order_id))


def saga_group(client_order_id: str) -> str | None:
    """The saga group an engine id carries; None for an id that is not the engine's."""
    text = _TEXT.match(client_order_id)
    if text:
        return text.group(1)
    found = _UUID.match(client_order_id)
    return found.group(1) + found.group(2) if found else None
