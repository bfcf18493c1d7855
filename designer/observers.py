"""The listeners of one evented model (the graph, the document, the playground, the
feature-map session): `subscribe(callback)` returns the function that stops it, and
`emit(event)` calls every listener with the event, in the order they subscribed. A
listener may unsubscribe while being called."""
from __future__ import annotations

from typing import Callable, Generic, TypeVar

E = TypeVar("E")


class Observers(Generic[E]):
    def __init__(self):
        self._callbacks: list[Callable[[E], None]] = []

    def subscribe(self, callback: Callable[[E], None]) -> Callable[[], None]:
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    def __len__(self) -> int:
        """How many listen (tests check that a closed view let go)."""
        return len(self._callbacks)

    def emit(self, event: E) -> None:
        for callback in list(self._callbacks):
            callback(event)
