"""The undo history of a document: steps of invertible model operations, no Qt.

A step is one user gesture: the ops that were applied and the ops that undo
them (`Graph.apply_all` returns those). The history never applies a step when
it is pushed (the edit was applied already, so a refused edit never reaches
it); undo and redo apply the stored ops and keep the inverses they return.
The semantics follow QUndoStack's: pushing below the top drops the steps
above; consecutive moves of the same nodes merge into one step, except onto
the saved ("clean") step; `reset_clean` makes the saved state unreachable.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from designer.graph.model import Graph, Op, SetField

NO_MERGE = -1
MERGE_MOVE = 1   # arrow-key nudges and drags of the same selection merge into one step


@dataclass
class Step:
    graph: Graph              # the document, or the inside of one of its user composites
    text: str
    undo_ops: list[Op]
    redo_ops: list[Op]
    merge_key: int = NO_MERGE

    def merges_with(self, later: "Step") -> bool:
        if self.merge_key != MERGE_MOVE or later.merge_key != MERGE_MOVE or later.graph is not self.graph:
            return False
        return _moved(self) == _moved(later)


def _moved(step: Step) -> set[str]:
    return {op.id for op in step.undo_ops if isinstance(op, SetField)}


class History:
    def __init__(self, on_change: Callable[[], None] | None = None):
        self._steps: list[Step] = []
        self._index = 0               # steps below it are done
        self._clean: int | None = 0   # the index that matches the saved file; None: none does
        self._on_change = on_change or (lambda: None)

    # ---- reading ------------------------------------------------------------------------------
    @property
    def count(self) -> int:
        return len(self._steps)

    @property
    def index(self) -> int:
        return self._index

    @property
    def can_undo(self) -> bool:
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._steps)

    @property
    def undo_text(self) -> str:
        return self._steps[self._index - 1].text if self.can_undo else ""

    @property
    def redo_text(self) -> str:
        return self._steps[self._index].text if self.can_redo else ""

    def text(self, i: int) -> str:
        return self._steps[i].text

    @property
    def is_clean(self) -> bool:
        return self._index == self._clean

    # ---- changing -----------------------------------------------------------------------------
    def push(self, step: Step) -> None:
        del self._steps[self._index:]
        if self._clean is not None and self._clean > self._index:
            self._clean = None   # the saved state was undone and is now overwritten
        top = self._steps[-1] if self._steps else None
        if top is not None and self._clean != self._index and top.merges_with(step):
            top.redo_ops = step.redo_ops
        else:
            self._steps.append(step)
            self._index += 1
        self._on_change()

    def undo(self) -> None:
        if self.can_undo:
            step = self._steps[self._index - 1]
            step.redo_ops = step.graph.apply_all(step.undo_ops)
            self._index -= 1
            self._on_change()

    def redo(self) -> None:
        if self.can_redo:
            step = self._steps[self._index]
            step.undo_ops = step.graph.apply_all(step.redo_ops)
            self._index += 1
            self._on_change()

    def set_index(self, index: int) -> None:
        """Undo or redo until `index` steps are done (the history list's click)."""
        index = max(0, min(index, len(self._steps)))
        while self._index > index:
            self.undo()
        while self._index < index:
            self.redo()

    def set_clean(self) -> None:
        self._clean = self._index
        self._on_change()

    def reset_clean(self) -> None:
        """No state of the history matches the file (recovered work is unsaved)."""
        self._clean = None
        self._on_change()

    def clear(self) -> None:
        self._steps, self._index, self._clean = [], 0, 0
        self._on_change()
