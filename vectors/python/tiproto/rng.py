"""An RNG that serves recorded draws (vectors/README.md "How to replay a step", PROTOCOL.md 12)."""
from __future__ import annotations

from typing import List, Sequence


class DrawMismatch(Exception):
    """The implementation asked for a draw the vector did not record (or of another size)."""


class ReplayRng:
    def __init__(self, draws: Sequence[bytes]) -> None:
        self._draws: List[bytes] = list(draws)
        self._next = 0

    def draw(self, n: int) -> bytes:
        if self._next >= len(self._draws):
            raise DrawMismatch(f"draw #{self._next} of {n} bytes, but only {len(self._draws)} recorded")
        d = self._draws[self._next]
        if len(d) != n:
            raise DrawMismatch(f"draw #{self._next}: asked for {n} bytes, recorded {len(d)}")
        self._next += 1
        return d

    @property
    def used(self) -> int:
        return self._next

    def all_used(self) -> bool:
        return self._next == len(self._draws)
