"""Errors of the shared runtime.

ArbError
├── ConfigError (ValueError)       bad setting or environment variable
└── RedisUnavailable (ConnectionError)
    └── EmbeddedRedisError          the private redis-server could not be started
"""

from __future__ import annotations


class ArbError(Exception):
    """Root of every error cexarb raises on purpose."""


class ConfigError(ArbError, ValueError):
    """A setting is wrong; the message names it, its value and the way out."""


class RedisUnavailable(ArbError, ConnectionError):
    """Redis cannot be reached at the configured URL."""


class EmbeddedRedisError(RedisUnavailable):
    """The private redis-server could not be found or started."""
