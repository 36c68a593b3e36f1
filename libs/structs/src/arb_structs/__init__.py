"""cexarb's shared wire schema: msgspec structs, stream and key names, one codec per stream.

Pure: nothing in this package does I/O. Every message that crosses a Redis stream is defined
here, frozen and keyword-only, MessagePack-encoded in one field (``d``) per stream entry.

Rolling-deploy rules: a new field is appended with a default; a field never changes type;
decoders never forbid unknown fields, so an old reader decodes a new writer's message.
"""

from arb_structs.codec import Codec, codec_for
from arb_structs.control import (
    AuditRequest,
    CtlMessage,
    Health,
    KillSwitch,
    ResyncRequest,
    RotateRequest,
)
from arb_structs.ids import ClientOrderId, VenueOrderId, VenueSymbol
from arb_structs.market import (
    AuditSnapshot,
    BookDelta,
    BookSnapshot,
    BookState,
    BookView,
    Instrument,
    Level,
    LevelText,
    MdEvent,
    MdMessage,
    VenueStatus,
)
from arb_structs.sim import TruthEvent
from arb_structs.trading import (
    Balance,
    BalanceSnapshot,
    ExecutionResult,
    ExecutionStatus,
    ExposureEvent,
    ExposureKind,
    Fill,
    LegResult,
    Opportunity,
    OrderIntent,
    OrderReport,
    OrderStatus,
    Side,
)

__all__ = [
    "AuditRequest",
    "AuditSnapshot",
    "Balance",
    "BalanceSnapshot",
    "BookDelta",
    "BookSnapshot",
    "BookState",
    "BookView",
    "ClientOrderId",
    "Codec",
    "CtlMessage",
    "ExecutionResult",
    "ExecutionStatus",
    "ExposureEvent",
    "ExposureKind",
    "Fill",
    "Health",
    "Instrument",
    "KillSwitch",
    "LegResult",
    "Level",
    "LevelText",
    "MdEvent",
    "MdMessage",
    "Opportunity",
    "OrderIntent",
    "OrderReport",
    "OrderStatus",
    "ResyncRequest",
    "RotateRequest",
    "Side",
    "TruthEvent",
    "VenueOrderId",
    "VenueStatus",
    "VenueSymbol",
    "codec_for",
]
