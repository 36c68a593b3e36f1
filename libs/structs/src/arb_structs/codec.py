"""One reusable MessagePack encoder/decoder per stream (the tagged union it may carry)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

from arb_structs.control import AuditRequest, Health, KillSwitch, ResyncRequest, RotateRequest
from arb_structs.market import (
    AuditSnapshot,
    BookDelta,
    BookSnapshot,
    BookView,
    Instrument,
    VenueStatus,
)
from arb_structs.sim import TruthEvent
from arb_structs.trading import BalanceSnapshot, ExecutionResult, ExposureEvent, Opportunity

T = TypeVar("T")


class Codec(Generic[T]):
    """Encode to and decode from the bytes of one stream entry's payload field."""

    __slots__ = ("_decoder", "_encoder", "type")

    def __init__(self, type_: Any) -> None:
        self.type = type_
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder: msgspec.msgpack.Decoder[T] = msgspec.msgpack.Decoder(type_)

    def encode(self, message: T) -> bytes:
        return self._encoder.encode(message)

    def decode(self, data: bytes) -> T:
        return self._decoder.decode(data)


MD = Codec[BookSnapshot | BookDelta | VenueStatus | AuditSnapshot](
    BookSnapshot | BookDelta | VenueStatus | AuditSnapshot
)
BOOK = Codec[BookView](BookView)
CTL = Codec[ResyncRequest | AuditRequest | RotateRequest](
    ResyncRequest | AuditRequest | RotateRequest
)
INSTRUMENT = Codec[Instrument](Instrument)
OPPORTUNITY = Codec[Opportunity](Opportunity)
EXECUTION = Codec[ExecutionResult](ExecutionResult)
EXPOSURE = Codec[ExposureEvent](ExposureEvent)
BALANCES = Codec[BalanceSnapshot](BalanceSnapshot)
HEALTH = Codec[Health](Health)
KILL = Codec[KillSwitch](KillSwitch)
TRUTH = Codec[TruthEvent](TruthEvent)

_BY_NAME: dict[str, Codec[Any]] = {
    "md": MD,
    "book": BOOK,
    "ctl": CTL,
    "instrument": INSTRUMENT,
    "opportunity": OPPORTUNITY,
    "execution": EXECUTION,
    "exposure": EXPOSURE,
    "balances": BALANCES,
    "health": HEALTH,
    "kill": KILL,
    "truth": TRUTH,
}


def codec_for(name: str) -> Codec[Any]:
    """The codec of a stream kind by name (md, book, ctl, ...); KeyError names the choices."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no codec named {name!r}; choose one of {sorted(_BY_NAME)}") from None
