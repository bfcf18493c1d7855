"""The open document as the window sees it: a thin Qt adapter over the Qt-free
`designer.document.Document`, turning its typed events into signals.

Views (canvas, inspector, summary) take a DocumentController, subscribe to its
signals in __init__, and change the graph only through `controller.edit(...)`,
which applies model ops and records them as one undo step. The analysis is
refreshed once per turn of the event loop after edits (a zero-delay timer), so a
burst of edits costs one analysis.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction

from designer.document import MERGE_MOVE, NO_MERGE, Document, Scope
from designer.document import events as ev
from designer.graph.model import Graph, Op

__all__ = ["DocumentController", "MERGE_MOVE", "Scope"]


class DocumentController(QObject):
    graph_replaced = Signal(object)        # a new Graph: views rebuild from it
    analysis_changed = Signal(object)      # the latest Analysis
    selection_changed = Signal(list)       # selected node ids (of the document, not of a composite's inside)
    focus_requested = Signal(str)          # centre the canvas on this node
    path_changed = Signal(object)          # Path | None
    modified_changed = Signal(bool)
    scope_changed = Signal(object)         # the Scope the canvas should show
    inner_selection_changed = Signal(list)  # node ids selected inside the scope (not the document)
    history_changed = Signal()             # a step was pushed, undone or redone, or the file was saved
    weights_changed = Signal()             # the document's weights were loaded, merged or dropped
    message = Signal(str)                  # a one-line note for the status bar

    def __init__(self, graph: Graph | None = None, path: Path | None = None, parent=None,
                 document: Document | None = None):
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh_analysis)
        self.document: Document = document if document is not None else Document(graph, path=path)
        self._unsubscribe = self.document.subscribe(self._on_event)

    def set_document(self, document: Document) -> None:
        """Show another document (New, Open, a preset): views rebuild from it."""
        self._unsubscribe()
        self.document.close()
        self.document = document
        self._unsubscribe = document.subscribe(self._on_event)
        # replay the state views rebuild from, as Document.replace announces it
        self._timer.stop()
        self.graph_replaced.emit(document.graph)
        self.path_changed.emit(document.path)
        self.weights_changed.emit()
        self.history_changed.emit()
        self.modified_changed.emit(document.modified)
        self.refresh_analysis()
        self.selection_changed.emit(list(document.selection))
        self.scope_changed.emit(document.scope())

    def set_graph(self, graph: Graph, path: Path | None = None, weights: dict | None = None) -> None:
        """Replace the whole document (New, Open, a preset): the undo history starts again."""
        self.document.replace(graph, path, weights)

    # ---- the document's events become signals -------------------------------------------------------
    def _on_event(self, event) -> None:
        match event:
            case ev.AnalysisStale():
                self._timer.start()
            case ev.AnalysisChanged(analysis):
                self._timer.stop()
                self.analysis_changed.emit(analysis)
            case ev.GraphReplaced(graph):
                self._timer.stop()
                self.graph_replaced.emit(graph)
            case ev.SelectionChanged(ids):
                self.selection_changed.emit(list(ids))
            case ev.InnerSelectionChanged(ids):
                self.inner_selection_changed.emit(list(ids))
            case ev.FocusRequested(node_id):
                self.focus_requested.emit(node_id)
            case ev.ScopeChanged(scope):
                self.scope_changed.emit(scope)
            case ev.PathChanged(path):
                self.path_changed.emit(path)
            case ev.HistoryChanged():
                self.history_changed.emit()
            case ev.ModifiedChanged(modified):
                self.modified_changed.emit(modified)
            case ev.WeightsChanged():
                self.weights_changed.emit()

    # ---- what views read ----------------------------------------------------------------------------
    @property
    def graph(self) -> Graph:
        return self.document.graph

    @property
    def path(self) -> Path | None:
        return self.document.path

    @property
    def selection(self) -> list[str]:
        return self.document.selection

    @property
    def scope_path(self) -> tuple[str, ...]:
        return self.document.scope_path

    @property
    def inner_selection(self) -> list[str]:
        return self.document.inner_selection

    @property
    def history(self):
        return self.document.history

    @property
    def weights(self) -> dict | None:
        return self.document.weights

    @property
    def analysis(self):
        """The analysis of the current graph, computed now if an edit made it stale."""
        return self.document.analysis

    @property
    def modified(self) -> bool:
        return self.document.modified

    @property
    def title(self) -> str:
        return self.document.title

    def scope(self) -> Scope:
        return self.document.scope()

    # ---- what views do ------------------------------------------------------------------------------
    def edit(self, text: str, ops: list[Op], merge_id: int = NO_MERGE, graph: Graph | None = None):
        self.document.edit(text, ops, merge_id, graph)

    def refresh_analysis(self):
        self._timer.stop()
        self.document.refresh_analysis()

    def set_path(self, path: Path | None):
        self.document.set_path(path)

    def mark_saved(self, path: Path | None = None):
        self.document.mark_saved(path)

    def select(self, node_ids, focus: bool = False):
        self.document.select(node_ids, focus)

    def select_inside(self, node_ids):
        self.document.select_inside(node_ids)

    def can_enter(self, node_id: str) -> bool:
        return self.document.can_enter(node_id)

    def enter(self, node_id: str) -> bool:
        return self.document.enter(node_id)

    def leave(self, depth: int = 0):
        self.document.leave(depth)

    def close(self):
        self._unsubscribe()
        self.document.close()
        self._timer.stop()

    # ---- undo and redo as actions ----------------------------------------------------------------------
    def undo_action(self, parent) -> QAction:
        return self._history_action(parent, "&Undo", lambda h: h.can_undo, lambda h: h.undo_text,
                                    lambda: self.document.undo())

    def redo_action(self, parent) -> QAction:
        return self._history_action(parent, "&Redo", lambda h: h.can_redo, lambda h: h.redo_text,
                                    lambda: self.document.redo())

    def _history_action(self, parent, title: str, possible, text, slot) -> QAction:
        """An action titled after the step it undoes or redoes, enabled only when there is one."""
        action = QAction(title, parent)
        action.triggered.connect(lambda _checked=False: slot())

        def update():
            history = self.document.history
            action.setEnabled(possible(history))
            what = text(history)
            action.setText(f"{title} {what}" if what else title)

        self.history_changed.connect(update)
        update()
        return action
