"""Secret redaction, re-exported from ``arb_core.redact`` (its home: venue errors redact the
signed URLs they carry without depending on the runtime)."""

from arb_core.redact import MASK, RedactingFilter, redact

__all__ = ["MASK", "RedactingFilter", "redact"]
