"""The engine's client order ids: deterministic, recognisably ours, grouped by saga."""

from __future__ import annotations

import uuid

import pytest
from arb_venues import VENUE_NAMES, get_venue
from arb_venues.common.clientids import (
    group_opportunity_id,
    is_engine_client_order_id,
    saga_group,
    saga_group_of,
    text_client_order_id,
    uuid_client_order_id,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_every_venue_makes_deterministic_ids_that_are_ours_and_carry_the_saga_group(
    venue: str,
) -> None:
    trading = get_venue(venue).trading
    assert trading is not None
    ids = {leg: trading.client_order_id("opp-42:BTC-USDT", leg) for leg in ("buy", "sell",
                                                                           "hedge")}  # fmt: skip
    assert ids["buy"] == trading.client_order_id("opp-42:BTC-USDT", "buy")
    assert len(set(ids.values())) == 3
    assert all(len(i) <= trading.client_order_id_max_len for i in ids.values())
    assert all(is_engine_client_order_id(i) for i in ids.values())
    assert {saga_group(i) for i in ids.values()} == {saga_group_of("opp-42:BTC-USDT")}
    assert saga_group(trading.client_order_id("opp-43", "buy")) != saga_group(ids["buy"])


def test_uuid_ids_are_valid_rfc4122_version_5_with_the_engines_first_group() -> None:
    value = uuid_client_order_id("opp-1", "buy")
    parsed = uuid.UUID(value)
    assert parsed.version == 5 and parsed.variant == uuid.RFC_4122
    assert value.startswith("cea4b000-") and str(parsed) == value


def test_other_peoples_ids_are_not_ours() -> None:
    for foreign in ("manual7", str(uuid.uuid4()), "arb-buy-123", "ARB1234567abcdef0123456789",
                    "x" * 32, "cea4b001-0000-5000-8000-000000000000"):  # fmt: skip
        assert not is_engine_client_order_id(foreign), foreign
        assert saga_group(foreign) is None


def test_a_synthetic_group_opportunity_keeps_its_group() -> None:
    group = saga_group(text_client_order_id("some-saga", "sell"))
    assert group is not None
    adopted = group_opportunity_id(group, "a1b2c3d4")
    assert saga_group_of(adopted) == group
    assert saga_group(uuid_client_order_id(adopted, "adopt-hedge")) == group
    assert saga_group(text_client_order_id(adopted, "adopt-unwind")) == group


def test_text_ids_refuse_a_length_too_short_to_carry_group_and_leg() -> None:
    with pytest.raises(ValueError, match="at least 20"):
        text_client_order_id("opp", "buy", 12)
