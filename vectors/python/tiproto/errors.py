"""Error classes (PROTOCOL.md 11.1)."""
from __future__ import annotations

from typing import NoReturn

MALFORMED = "Malformed"
UNAUTHENTIC = "Unauthentic"
BAD_SIGNATURE = "BadSignature"
REPLAY = "Replay"
TOO_MANY_SKIPPED = "TooManySkipped"
EXPIRED = "Expired"
CORRUPT_STATE = "CorruptState"
IDENTITY_CHANGED = "IdentityChanged"

ALL_CLASSES = (MALFORMED, UNAUTHENTIC, BAD_SIGNATURE, REPLAY, TOO_MANY_SKIPPED, EXPIRED,
               CORRUPT_STATE, IDENTITY_CHANGED)


class ProtocolError(Exception):
    """A protocol failure. `cls` is one of the eight class names; `detail` is for humans only
    (it names the check that failed) and is never compared."""

    def __init__(self, cls: str, detail: str = "") -> None:
        assert cls in ALL_CLASSES, cls
        super().__init__(f"{cls}: {detail}" if detail else cls)
        self.cls = cls
        self.detail = detail


def fail(cls: str, detail: str = "") -> NoReturn:
    raise ProtocolError(cls, detail)
