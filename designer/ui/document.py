"""The open document as the window sees it: the graph (the model), its undo stack,
the latest analysis, the selection, the file it came from, and which composite
the canvas is looking into (the scope).

Views (canvas, inspector, summary) take a DocumentController, subscribe to its
signals in __init__, and change the graph only through `controller.edit(...)`,
which applies model ops and records them as one undo step.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from designer.graph.composite import port_names
from designer.graph.errors import GraphError
from designer.graph.model import Graph, Op, SetField

MERGE_MOVE = 1


class OpsCommand(QUndoCommand):
    """One user gesture: a list of model ops, undone by their inverses.

    The ops are applied before the command is pushed (so a refused edit never
    reaches the stack); the first redo() that QUndoStack.push makes is skipped.
    `graph` is the document, or the inside of one of its user composites."""

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
        """Consecutive moves of the same nodes (arrow-key nudges) become one step."""
        if other.id() != MERGE_MOVE or self._merge_id != MERGE_MOVE or other.graph is not self.graph:
            return False
        mine = {op.id for op in self.undo_ops if isinstance(op, SetField)}
        theirs = {op.id for op in other.undo_ops if isinstance(op, SetField)}
        if mine != theirs:
            return False
        self.redo_ops = other.redo_ops
        return True


class Scope:
    """What the canvas shows: the document itself, or the inside of a composite node."""

    def __init__(self, graph: Graph, analysis, editable: bool, path: tuple[str, ...], titles: tuple[str, ...],
                 note: str = ""):
        self.graph = graph
        self.analysis = analysis      # Analysis of `graph` (None when it cannot be computed)
        self.editable = editable
        self.path = path              # node ids from the document down to here
        self.titles = titles          # how the breadcrumbs name each level
        self.note = note              # why it is read-only, or which copy of a repeated block

    @property
    def is_root(self) -> bool:
        return not self.path


class DocumentController(QObject):
    graph_replaced = Signal(object)        # a new Graph: views rebuild from it
    analysis_changed = Signal(object)      # the latest Analysis
    selection_changed = Signal(list)       # selected node ids (of the document, not of a composite's inside)
    focus_requested = Signal(str)          # centre the canvas on this node
    path_changed = Signal(object)          # Path | None
    modified_changed = Signal(bool)
    scope_changed = Signal(object)         # the Scope the canvas should show
    inner_selection_changed = Signal(list)  # node ids selected inside the scope (not the document)
    message = Signal(str)                  # a one-line note for the status bar

    def __init__(self, graph: Graph | None = None, path: Path | None = None, parent=None):
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.graph: Graph = Graph()
        self.path: Path | None = None
        self.selection: list[str] = []
        self.scope_path: tuple[str, ...] = ()
        self.inner_selection: list[str] = []
        self._analysis = None
        self._unsubscribe = None
        self._inner_unsubscribes: list = []
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
        self._watch_composites()
        self.undo_stack.clear()
        self.selection = []
        self.scope_path = ()
        self._analysis = None
        self.set_path(path)
        self.graph_replaced.emit(graph)
        self.refresh_analysis()
        self.selection_changed.emit([])
        self.scope_changed.emit(self.scope())

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

    @property
    def title(self) -> str:
        """The document's name for people: its file, else its title, else 'Untitled'."""
        if self.path is not None:
            return self.path.name
        return str(self.graph.meta.get("title") or "Untitled")

    # ---- edits ----------------------------------------------------------------------------------
    def edit(self, text: str, ops: list[Op], merge_id: int = -1, graph: Graph | None = None):
        """Apply ops as one undo step, to the document or (graph=) to the inside of one of its
        user composites. Raises the model's error (and changes nothing) when the model
        refuses any of them."""
        if not ops:
            return
        target = self.graph if graph is None else graph
        inverses = target.apply_all(ops)
        if target is not self.graph:
            try:
                self._check_ports_kept(target)
            except GraphError:
                target.apply_all(inverses)
                raise
        self.undo_stack.push(OpsCommand(target, text, inverses, list(ops), merge_id))

    def _check_ports_kept(self, inside: Graph):
        """An edit inside a user composite may not take away a port that a link outside uses
        (undo could not put that link back)."""
        name = next((n for n, d in self.graph.composites.items() if d.graph is inside), None)
        if name is None:
            return
        ins, outs = port_names(inside, "Input"), port_names(inside, "Output")
        for e in self.graph.edges:
            if self.graph.nodes[e.dst].type == name and e.dst_port not in ins:
                raise GraphError(f"port {e.dst_port!r} of {e.dst} is connected outside; "
                                 "disconnect it there first")
            if self.graph.nodes[e.src].type == name and e.src_port not in outs:
                raise GraphError(f"output {e.src_port!r} of {e.src} is connected outside; "
                                 "disconnect it there first")

    def close(self):
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None
        self._unwatch_composites()
        self._timer.stop()

    # ---- analysis -------------------------------------------------------------------------------
    def _on_model_event(self, event: str, **data):
        if event == "node_removed" and data["node"].id in self.selection:
            self.selection = [i for i in self.selection if i != data["node"].id]
            self.selection_changed.emit(list(self.selection))
        if event == "composite_changed":
            self._watch_composites()
        if event == "node_changed" and data.get("field") == "pos":
            return  # moving does not change any shape
        self._stale()

    def _on_inner_event(self, event: str, **data):
        """An edit inside a user composite changes every node of that type."""
        if event == "node_changed" and data.get("field") == "pos":
            return
        self._stale()

    def _stale(self):
        self._analysis = None
        self._timer.start()

    def _watch_composites(self):
        self._unwatch_composites()
        self._inner_unsubscribes = [c.graph.subscribe(self._on_inner_event)
                                    for c in self.graph.composites.values()]

    def _unwatch_composites(self):
        for unsubscribe in self._inner_unsubscribes:
            unsubscribe()
        self._inner_unsubscribes = []

    @property
    def analysis(self):
        """The analysis of the current graph, computed now if an edit made it stale."""
        if self._analysis is None:
            self._analysis = self.graph.analyze()
        return self._analysis

    def refresh_analysis(self):
        self._timer.stop()
        self._analysis = None
        analysis = self.analysis
        self.analysis_changed.emit(analysis)
        if self.scope_path:
            scope = self.scope()
            if scope.path != self.scope_path:   # what we looked into is gone
                self.scope_path = scope.path
            self.scope_changed.emit(scope)

    # ---- selection ------------------------------------------------------------------------------
    def select(self, node_ids, focus: bool = False):
        ids = [i for i in node_ids if i in self.graph.nodes]
        if ids != self.selection:
            self.selection = ids
            self.selection_changed.emit(list(ids))
        if focus and ids:
            if self.scope_path:
                self.leave(0)
            self.focus_requested.emit(ids[0])

    def select_inside(self, node_ids):
        """The selection among the nodes of the inside being looked at (scope().graph)."""
        ids = list(node_ids)
        if ids != self.inner_selection:
            self.inner_selection = ids
            self.inner_selection_changed.emit(list(ids))

    # ---- looking inside composites ------------------------------------------------------------
    def scope(self) -> Scope:
        """The graph the canvas shows now, resolved from the document down `scope_path`;
        the path is cut where a level no longer exists (its node was deleted, or its
        inputs were disconnected so its inside cannot be generated)."""
        graph, analysis = self.graph, self.analysis
        editable, path, titles, note = True, (), (self.title,), ""
        for node_id in self.scope_path:
            inside = composite_inside(graph, analysis, node_id, graph is self.graph)
            if inside is None:
                break
            node = graph.nodes[node_id]
            titles += (node.title if node.title.lower().startswith(node.type.lower())
                       else f"{node.title} · {node.type}",)
            path += (node_id,)
            graph, analysis, editable, note = inside
        return Scope(graph, analysis, editable, path, titles, note)

    def can_enter(self, node_id: str) -> bool:
        scope = self.scope()
        return composite_inside(scope.graph, scope.analysis, node_id, scope.graph is self.graph) is not None

    def enter(self, node_id: str) -> bool:
        """Look inside composite `node_id` of the current scope; False when it cannot be opened."""
        if not self.can_enter(node_id):
            return False
        if not self.scope_path:
            self.select([node_id])
        self.scope_path = self.scope_path + (node_id,)
        self.select_inside([])
        self.scope_changed.emit(self.scope())
        return True

    def leave(self, depth: int = 0):
        """Go back up to `depth` levels below the document (0: the document itself)."""
        if depth < len(self.scope_path):
            self.scope_path = self.scope_path[:depth]
            self.select_inside([])
            self.scope_changed.emit(self.scope())


def composite_inside(graph: Graph, analysis, node_id: str, top_level: bool):
    """(inside graph, its analysis, editable, note) of a composite node, or None when it
    is not a composite or its inside cannot be generated yet."""
    node = graph.nodes.get(node_id)
    if node is None:
        return None
    try:
        spec = graph.spec(node)
    except Exception:  # noqa: BLE001 - an unknown block type simply has no inside
        return None
    if not spec.is_composite:
        return None
    info = analysis.nodes.get(node_id) if analysis is not None else None
    repeat = node.params.get("repeat", 1)
    copies = f"copy 1 of {repeat}; " if repeat > 1 else ""
    if node.type in graph.composites:
        inside = graph.composites[node.type].graph
        inner = info.inner[0] if info is not None and info.inner else inside.analyze()
        return inside, inner, top_level, copies.rstrip("; ")
    if info is None or not info.in_shapes or any(s is None for s in info.in_shapes.values()):
        return None
    try:
        inside = spec.expand(node.params, info.in_shapes)
    except Exception:  # noqa: BLE001 - a block that cannot be generated has no inside to show
        return None
    inner = info.inner[0] if info.inner else inside.analyze()
    return inside, inner, False, copies + "set by the block's parameters: change them in the inspector"
