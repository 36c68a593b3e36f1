"""The Crypto.com unit tests' sim fixtures: the sim app on 127.0.0.1 over the simulator's market."""

from tests.unit.venues.cryptocom.conftest import market, server, session

__all__ = ["market", "server", "session"]
