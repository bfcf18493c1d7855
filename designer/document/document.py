"""The open document, without Qt: the graph (the model), its weights, the file it
came from, the selection, which composite the canvas looks into (the scope), the
undo history and the latest analysis.

Everything that changes the graph goes through `edit(text, ops)`: the ops are
applied (or refused, changing nothing) and recorded as one undo step. The
window's DocumentController is a thin Qt adapter that turns this document's
events into signals; the command line, scripts and tests use it directly.

Weights are explicit: `weights` is a state dict (CPU tensors, named as the whole
document compiles) or None for fresh initialisation. They are copied with the
document, saved with it as `.pth`, and `compile()` builds the network with the
entries that still fit by name and shape, so an edited drawing keeps the weights
of every layer that did not change. Tensors are treated as values: nothing
changes them in place, so a copy shares them safely.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from designer.graph.composite import port_names
from designer.graph.errors import GraphError
from designer.graph.events import CompositeChanged, GraphEvent, NodeChanged, NodeRemoved
from designer.graph.model import Graph, Op
from designer.observers import Observers

from .events import (AnalysisChanged, AnalysisStale, DocumentEvent, FocusRequested, GraphReplaced, HistoryChanged,
                     InnerSelectionChanged, ModifiedChanged, PathChanged, ScopeChanged, SelectionChanged,
                     WeightsChanged)
from .history import NO_MERGE, History, Step
from .scope import Scope, composite_inside


WEIGHTS_SUFFIXES = (".pt", ".pth")   # a file of these holds the drawing and its weights


def is_weights_file(path) -> bool:
    return Path(str(path)).suffix.lower() in WEIGHTS_SUFFIXES


class Document:
    def __init__(self, graph: Graph | None = None, weights: dict | None = None, path=None, origin: str = ""):
        self._observers: Observers[DocumentEvent] = Observers()
        self.history = History(self._history_changed)
        self._was_clean = True
        self.graph = Graph()
        self.weights: dict | None = None
        self.weights_origin = ""   # where the weights came from, in words ("" when not known or none)
        self.path: Path | None = None
        self.selection: list[str] = []
        self.scope_path: tuple[str, ...] = ()
        self.inner_selection: list[str] = []
        self._analysis = None
        self._unsubscribe = None
        self._inner_unsubscribes: list = []
        self.replace(graph if graph is not None else Graph(), path, weights, origin)

    # ---- observers ------------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[DocumentEvent], None]) -> Callable[[], None]:
        return self._observers.subscribe(callback)

    def _emit(self, event: DocumentEvent) -> None:
        self._observers.emit(event)

    # ---- the graph, its weights and its file ------------------------------------------------------
    def replace(self, graph: Graph, path=None, weights: dict | None = None, origin: str = "") -> None:
        """Take another graph (New, Open, a preset): the history starts again. `origin`: where
        `weights` came from, in words."""
        if self._unsubscribe:
            self._unsubscribe()
        self.graph = graph
        self._unsubscribe = graph.subscribe(self._on_graph_event)
        self._watch_composites()
        self.history.clear()
        self.selection = []
        self.scope_path = ()
        self.inner_selection = []
        self._analysis = None
        self.weights = dict(weights) if weights else None
        self.weights_origin = origin if self.weights else ""
        self.set_path(path)
        self._emit(GraphReplaced(graph))
        self._emit(WeightsChanged(len(self.weights or ()), self.weights_origin))
        self.refresh_analysis()
        self._emit(SelectionChanged(()))
        self._emit(ScopeChanged(self.scope()))

    def set_path(self, path) -> None:
        self.path = Path(path) if path else None
        self._emit(PathChanged(self.path))

    @property
    def title(self) -> str:
        """The document's name for people: its file, else its title, else 'Untitled'."""
        if self.path is not None:
            return self.path.name
        return str(self.graph.meta.get("title") or "Untitled")

    def set_weights(self, weights: dict | None, origin: str = "") -> None:
        """The state dict the network starts from (None: freshly initialised); `origin` says
        where it came from ("ImageNet weights (torchvision IMAGENET1K_V1)", a file's name)."""
        self.weights = dict(weights) if weights else None
        self.weights_origin = origin if self.weights else ""
        self._emit(WeightsChanged(len(self.weights or ()), self.weights_origin))

    def merge_weights(self, weights: dict, origin: str = "") -> None:
        """Add or replace entries, keeping the others; the origin becomes the latest one named."""
        self.set_weights({**(self.weights or {}), **weights}, origin or self.weights_origin)

    def load_weights(self, source, strict: bool = False):
        """Take the entries of `source` (a .pt/.pth path, read safely, or a state dict) that
        fit the drawing by name and shape; returns the report of what matched."""
        from designer.compile.checkpoint import fit_weights
        fitting, report = fit_weights(self.graph, source, strict)
        self.merge_weights(fitting, Path(source).name if isinstance(source, (str, Path)) else "")
        return report

    def copy(self) -> "Document":
        """An independent document with a copy of the graph and of the weights mapping."""
        return Document(self.graph.copy(), self.weights, None, self.weights_origin)

    def save(self, path) -> Path:
        """`.json`: the drawing; `.pth`/`.pt`: the drawing and its weights (compiled afresh
        with the document's weights, so layers without any are saved as initialised)."""
        path = Path(path)
        if is_weights_file(path):
            from designer.compile.checkpoint import save_weights_file
            save_weights_file(self.graph, path, weights=self.weights)
        else:
            from designer.graph.fileformat import save
            save(self.graph, path)
        return path

    # conveniences for scripts: the graph's contents, read-only by intent
    @property
    def nodes(self):
        return self.graph.nodes

    @property
    def edges(self):
        return self.graph.edges

    @property
    def meta(self):
        return self.graph.meta

    def networks(self) -> list[str]:
        return self.graph.networks()

    # ---- analysis and compilation -----------------------------------------------------------------
    def analyze(self, input_shape=None):
        """Shapes, parameter counts, MACs and errors for every node (incremental)."""
        return self.graph.analyze(input_shape)

    @property
    def analysis(self):
        """The analysis of the current graph, computed now if an edit made it stale."""
        if self._analysis is None:
            self._analysis = self.graph.analyze()
        return self._analysis

    def refresh_analysis(self) -> None:
        self._analysis = None
        self._emit(AnalysisChanged(self.analysis))
        if self.scope_path:
            scope = self.scope()
            if scope.path != self.scope_path:   # what we looked into is gone
                self.scope_path = scope.path
            self._emit(ScopeChanged(scope))

    def compile(self, network: str | None = None, device=None, input_shape=None):
        """A torch.nn.Module of the network, built with the document's weights (all networks
        as a ModuleDict when the document holds several and none is named)."""
        from designer.compile import compile_graph
        return compile_graph(self.graph, network=network, device=device, input_shape=input_shape,
                             weights=self.weights)

    # ---- edits and the history ----------------------------------------------------------------------
    def edit(self, text: str, ops: list[Op], merge_id: int = NO_MERGE, graph: Graph | None = None) -> None:
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
        self.history.push(Step(target, text, inverses, list(ops), merge_id))

    def undo(self) -> None:
        self.history.undo()

    def redo(self) -> None:
        self.history.redo()

    @property
    def modified(self) -> bool:
        return not self.history.is_clean

    def mark_saved(self, path=None) -> None:
        if path is not None:
            self.set_path(path)
        self.history.set_clean()

    def _history_changed(self) -> None:
        self._emit(HistoryChanged(self.history.index))
        clean = self.history.is_clean
        if clean != self._was_clean:
            self._was_clean = clean
            self._emit(ModifiedChanged(not clean))

    def _check_ports_kept(self, inside: Graph) -> None:
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

    # ---- what the graph tells us --------------------------------------------------------------------
    def _on_graph_event(self, event: GraphEvent) -> None:
        if isinstance(event, NodeRemoved) and event.node.id in self.selection:
            self.selection = [i for i in self.selection if i != event.node.id]
            self._emit(SelectionChanged(tuple(self.selection)))
        if isinstance(event, CompositeChanged):
            self._watch_composites()
        self._on_inner_event(event)

    def _on_inner_event(self, event: GraphEvent) -> None:
        """An edit inside a user composite changes every node of that type."""
        if isinstance(event, NodeChanged) and event.moved_only:
            return   # moving does not change any shape
        self._analysis = None
        self._emit(AnalysisStale())

    def _watch_composites(self) -> None:
        self._unwatch_composites()
        self._inner_unsubscribes = [c.graph.subscribe(self._on_inner_event)
                                    for c in self.graph.composites.values()]

    def _unwatch_composites(self) -> None:
        for unsubscribe in self._inner_unsubscribes:
            unsubscribe()
        self._inner_unsubscribes = []

    def close(self) -> None:
        """Stop listening to the graph (the window is closing)."""
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None
        self._unwatch_composites()

    # ---- selection ------------------------------------------------------------------------------------
    def select(self, node_ids, focus: bool = False) -> None:
        ids = [i for i in node_ids if i in self.graph.nodes]
        if ids != self.selection:
            self.selection = ids
            self._emit(SelectionChanged(tuple(ids)))
        if focus and ids:
            if self.scope_path:
                self.leave(0)
            self._emit(FocusRequested(ids[0]))

    def select_inside(self, node_ids) -> None:
        """The selection among the nodes of the inside being looked at (scope().graph)."""
        ids = list(node_ids)
        if ids != self.inner_selection:
            self.inner_selection = ids
            self._emit(InnerSelectionChanged(tuple(ids)))

    # ---- looking inside composites ------------------------------------------------------------------
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
        self._emit(ScopeChanged(self.scope()))
        return True

    def leave(self, depth: int = 0) -> None:
        """Go back up to `depth` levels below the document (0: the document itself)."""
        if depth < len(self.scope_path):
            self.scope_path = self.scope_path[:depth]
            self.select_inside([])
            self._emit(ScopeChanged(self.scope()))
