"""Ingest errors.

IngestError (ArbError)
└── NoInstruments   none of the configured symbols exists on the venue
"""

from __future__ import annotations

from arb_runtime.errors import ArbError


class IngestError(ArbError):
    pass


class NoInstruments(IngestError):
    pass
