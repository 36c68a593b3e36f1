"""The same sim fixtures as the Bybit unit tests: the sim app on 127.0.0.1 over FakeMarket."""

from tests.unit.venues.bybit.conftest import market, server, session

__all__ = ["market", "server", "session"]
