"""Errors of the shared runtime (ArbError and ConfigError live in arb_core.errors and are
re-exported here).

ArbError
├── ConfigError (ValueError)       bad setting or environment variable
└── RedisUnavailable (ConnectionError)
    └── EmbeddedRedisError          the private redis-server could not be started
"""

from __future__ import annotations

from arb_core.errors import ArbError, ConfigError

__all__ = ["ArbError", "ConfigError", "EmbeddedRedisError", "RedisUnavailable"]


class RedisUnavailable(ArbError, ConnectionError):
    """Redis cannot be reached at the configured URL."""


class EmbeddedRedisError(RedisUnavailable):
    """The private redis-server could not be found or started."""
