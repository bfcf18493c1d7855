"""The open document as the window sees it: the graph (the model), its undo stack,
the latest analysis, the selection and the file it came from.

Views (canvas, inspector, summary) take a DocumentController, subscribe to its
signals in __init__, and change the graph only through `controller.edit(...)`,
which applies model ops and records them as one undo step.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from designer.graph.model import Graph, Op, SetField

MERGE_MOVE = 1


class OpsCommand(QUndoCommand):
    """One user gesture: a list of model ops, undone by their inverses.

    The ops are applied before the command is pushed (so a refused edit never
    reaches the stack); the first redo() that QUndoStack.push makes is skipped."""

    def __init__(self, graph: Graph, text: str, inverses: list[Op], ops: list[Op], merge_id: int = -1):
        super().__init__(text)
        self.graph = graph
        self.undo_ops = inverses
        self.redo_ops = ops
        self._merge_id = merge_id
        self._applied = True

    def id(self) -> int:
        return self._merge_id

    def redo(self):
        if self._applied:
            self._applied = False
            return
        self.undo_ops = self.graph.apply_all(self.redo_ops)

    def undo(self):
        self.redo_ops = self.graph.apply_all(self.undo_ops)

    def mergeWith(self, other: QUndoCommand) -> bool:
        """Consecutive moves of the same nodes (one drag) become one step."""
        if other.id() != MERGE_MOVE or self._merge_id != MERGE_MOVE:
            return False
        mine = {op.id for op in self.undo_ops if isinstance(op, SetField)}
        theirs = {op.id for op in other.undo_ops if isinstance(op, SetField)}
        if mine != theirs:
            return False
        self.redo_ops = other.redo_ops
        return True


class DocumentController(QObject):
    graph_replaced = Signal(object)        # a new Graph: views rebuild from it
    analysis_changed = Signal(object)      # the latest Analysis
    selection_changed = Signal(list)       # selected node ids
    focus_requested = Signal(str)          # centre the canvas on this node
    path_changed = Signal(object)          # Path | None
    modified_changed = Signal(bool)

    def __init__(self, graph: Graph | None = None, path: Path | None = None, parent=None):
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.graph: Graph = Graph()
        self.path: Path | None = None
        self.selection: list[str] = []
        self._analysis = None
        self._unsubscribe = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh_analysis)
        self.set_graph(graph or Graph(), path)

    # ---- the document ---------------------------------------------------------------------------
    def set_graph(self, graph: Graph, path: Path | None = None):
        """Replace the whole document (New, Open, a preset): the undo history starts again."""
        if self._unsubscribe:
            self._unsubscribe()
        self.graph = graph
        self._unsubscribe = graph.subscribe(self._on_model_event)
        self.undo_stack.clear()
        self.selection = []
        self._analysis = None
        self.set_path(path)
        self.graph_replaced.emit(graph)
        self.refresh_analysis()
        self.selection_changed.emit([])

    def set_path(self, path: Path | None):
        self.path = Path(path) if path else None
        self.path_changed.emit(self.path)

    def _on_clean_changed(self, clean: bool):
        self.modified_changed.emit(not clean)

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    def mark_saved(self, path: Path | None = None):
        if path is not None:
            self.set_path(path)
        self.undo_stack.setClean()

    # ---- edits ----------------------------------------------------------------------------------
    def edit(self, text: str, ops: list[Op], merge_id: int = -1):
        """Apply ops as one undo step. Raises the model's error (and changes nothing)
        when the model refuses any of them."""
        if not ops:
            return
        inverses = self.graph.apply_all(ops)
        self.undo_stack.push(OpsCommand(self.graph, text, inverses, list(ops), merge_id))

    def close(self):
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None

    # ---- analysis -------------------------------------------------------------------------------
    def _on_model_event(self, event: str, **data):
        if event == "node_removed" and data["node"].id in self.selection:
            self.selection = [i for i in self.selection if i != data["node"].id]
            self.selection_changed.emit(list(self.selection))
        if event == "node_changed" and data.get("field") == "pos":
            return  # moving does not change any shape
        self._analysis = None
        self._timer.start()

    @property
    def analysis(self):
        """The analysis of the current graph, computed now if an edit made it stale."""
        if self._analysis is None:
            self._analysis = self.graph.analyze()
        return self._analysis

    def refresh_analysis(self):
        self._timer.stop()
        self._analysis = None
        self.analysis_changed.emit(self.analysis)

    # ---- selection ------------------------------------------------------------------------------
    def select(self, node_ids, focus: bool = False):
        ids = [i for i in node_ids if i in self.graph.nodes]
        if ids != self.selection:
            self.selection = ids
            self.selection_changed.emit(list(ids))
        if focus and ids:
            self.focus_requested.emit(ids[0])
