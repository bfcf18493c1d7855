"""The canvas scene: a pure observer of one graph (the document, or the inside of
a composite), after orange-canvas-core's CanvasScene.

Model nodes and edges map to items through two dictionaries; items are made and
removed only in answer to the model's events, so loading, undo, presets, paste
and the canvas's own gestures all draw through the same path. The analysis only
refreshes the texts of cards whose result changed (the analyzer hands back the
same NodeInfo object for a node it did not recompute).

For large networks the scene keeps the cards in a grid of cells (`cards_in`: what
is near a link's label, without asking Qt's index, which is rebuilt after every
move) and a far layer (overview.py) that draws everything in a few calls when the
view is zoomed out below FAR_LOD (`set_far`).
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QRectF, QTimer, Signal
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

from designer.graph.events import (CompositeChanged, EdgeAdded, EdgeRemoved, GraphEvent, NodeAdded, NodeChanged,
                                   NodeRemoved)
from designer.graph.layout import layered_positions
from designer.graph.model import Edge, Graph

from .edge_item import EdgeItem
from .inside_peek import InsidePeek
from .node_item import NodeItem
from .overview import FarLayer
from .port_item import PortItem


READ_ONLY_COLUMN = 220.0   # a generated inside is read, not edited: tighter, so it fits the view
CELL = 256.0               # the card grid's cells, in scene units
NO_CONTENTS = QGraphicsItem.GraphicsItemFlag.ItemHasNoContents
FLAG_BATCH = 300           # cards and links switched near/far per turn of the event loop (set_far)


class CanvasScene(QGraphicsScene):
    scope_shown = Signal(object)   # the Scope now on the canvas
    drawing_changed = Signal()     # a card or link moved, came, went or looks different

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[Edge, EdgeItem] = {}
        self.graph: Graph | None = None
        self.analysis = None
        self.scope = None
        self.editable = True
        self._unsubscribe = None
        self._syncing_selection = False
        self._grid: dict[tuple[int, int], set[NodeItem]] = {}
        self._cell_of: dict[NodeItem, tuple[int, int]] = {}
        self.far = False
        self._unswitched: list = []   # cards and links still to switch near/far (set_far)
        self.far_layer = FarLayer(self)
        self.addItem(self.far_layer)
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self._connections = [controller.scope_changed.connect(self.show_scope),
                             controller.analysis_changed.connect(self._on_analysis),
                             controller.selection_changed.connect(self._on_controller_selection)]
        self.selectionChanged.connect(self._on_scene_selection)
        self.show_scope(controller.scope())

    # ---- which graph ----------------------------------------------------------------------------
    def show_scope(self, scope):
        """Show `scope.graph`; rebuilt only when it is another graph than the one shown."""
        self.scope = scope
        if scope.graph is not self.graph or scope.editable != self.editable:
            self._rebuild(scope.graph, scope.editable, scope.analysis)
            self.set_analysis(scope.analysis)
            self.scope_shown.emit(scope)
            if scope.is_root:
                self._on_controller_selection(self.controller.selection)
        else:
            self.set_analysis(scope.analysis)

    def _rebuild(self, graph: Graph, editable: bool, analysis=None):
        if self._unsubscribe:
            self._unsubscribe()
        self._syncing_selection = True   # dropping the old items is not a user's deselection
        try:
            self.clearSelection()
            self.removeItem(self.far_layer)
            self.clear()
            self.addItem(self.far_layer)
        finally:
            self._syncing_selection = False
        self.nodes.clear()
        self.edges.clear()
        self._grid.clear()
        self._cell_of.clear()
        self.far_layer.reset_cover()
        self.far_layer.invalidate()
        self.graph = graph
        self.editable = editable
        self.analysis = analysis   # the cards and links are made with it: set_analysis then has nothing to do
        for node in graph.nodes.values():
            self._add_node(node)
        if not editable:
            # a generated inside (Inception, Residual) carries positions made for another
            # drawing; it cannot be edited, so lay it out for this one
            for node_id, (x, y) in layered_positions(graph, column=READ_ONLY_COLUMN).items():
                self.nodes[node_id].setPos(QPointF(x, y))
        for edge in graph.edges:
            self._add_edge(edge)
        self._unsubscribe = graph.subscribe(self._on_model_event)

    def detach(self):
        """Stop observing (the window is closing)."""
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None
        for connection in self._connections:
            QObject.disconnect(connection)
        self._connections = []

    # ---- model events ---------------------------------------------------------------------------
    def _on_model_event(self, event: GraphEvent):
        match event:
            case NodeAdded(node):
                self._add_node(node)
            case NodeRemoved(node):
                item = self.nodes.pop(node.id, None)
                if item is not None:
                    self._unplace(item)
                    self.removeItem(item)
                    self.changed_drawing()
            case NodeChanged(node) if event.moved_only:
                item = self.nodes.get(node.id)
                if item is not None:
                    item.setPos(QPointF(*node.pos))
            case NodeChanged(node):
                item = self.nodes.get(node.id)
                if item is not None:
                    _redraw(item)
            case EdgeAdded(edge):
                self._add_edge(edge)
            case EdgeRemoved(edge):
                self._remove_edge(edge)
            case CompositeChanged(name):
                for item in self.nodes.values():
                    if item.node.type == name:
                        _redraw(item)

    def _add_node(self, node):
        info = self.analysis.nodes.get(node.id) if self.analysis is not None else None
        item = NodeItem(self.graph, node, self.editable, info)
        if self.far:
            item.setFlag(NO_CONTENTS)
        self.nodes[node.id] = item
        self.addItem(item)
        self.card_moved(item)
        return item

    def _add_edge(self, edge: Edge):
        src, dst = self.nodes.get(edge.src), self.nodes.get(edge.dst)
        if src is None or dst is None:
            return
        item = EdgeItem(edge, src, dst, adjust=False)
        if self.far:
            item.setFlag(NO_CONTENTS)
        self.edges[edge] = item
        src.edges.add(item)
        dst.edges.add(item)
        src.set_connected(edge.src_port, True, True)
        dst.set_connected(edge.dst_port, False, True)
        self.addItem(item)
        if self.analysis is not None:
            item.set_shape(self.analysis.shape_of(edge.src, edge.src_port))
        else:
            item.adjust()

    def _remove_edge(self, edge: Edge):
        item = self.edges.pop(edge, None)
        if item is None:
            return
        item.src_item.edges.discard(item)
        item.dst_item.edges.discard(item)
        item.src_item.set_connected(edge.src_port, True,
                                    any(e.edge.src_port == edge.src_port and e.src_item is item.src_item
                                        for e in item.src_item.edges))
        item.dst_item.set_connected(edge.dst_port, False, False)
        self.removeItem(item)
        self.links_changed()

    # ---- large networks: the card grid and the far layer ----------------------------------------
    def card_moved(self, item: NodeItem):
        """A card was placed or moved (NodeItem.itemChange): its grid cell, and the far drawing."""
        if item.scene() is self and self.nodes.get(item.node_id) is item:
            pos = item.pos()
            cell = (int(pos.x() // CELL), int(pos.y() // CELL))
            old = self._cell_of.get(item)
            if old != cell:
                if old is not None:
                    self._grid[old].discard(item)
                self._grid.setdefault(cell, set()).add(item)
                self._cell_of[item] = cell
            self.far_layer.cover(item.sceneBoundingRect())
            self.far_layer.card_moved(item)
            self.drawing_changed.emit()

    def links_changed(self, area: QRectF | None = None):
        """A link's path, shape or highlight changed (EdgeItem), in `area` (None: anywhere)."""
        self.far_layer.links_changed(area)
        self.drawing_changed.emit()

    def card_changed(self, item: NodeItem):
        self.changed_drawing()

    def changed_drawing(self):
        self.far_layer.invalidate()
        self.drawing_changed.emit()

    def _unplace(self, item: NodeItem):
        cell = self._cell_of.pop(item, None)
        if cell is not None:
            self._grid[cell].discard(item)

    def cards_in(self, rect: QRectF) -> list[NodeItem]:
        """The cards whose card rectangle meets `rect` (scene coordinates)."""
        # a card's centre is at most a card's half size from its rectangle's edge
        r = rect.adjusted(-CELL, -CELL, CELL, CELL)
        found = []
        for i in range(int(r.left() // CELL), int(r.right() // CELL) + 1):
            for j in range(int(r.top() // CELL), int(r.bottom() // CELL) + 1):
                for item in self._grid.get((i, j), ()):
                    if item.mapRectToScene(item.card_rect()).intersects(rect):
                        found.append(item)
        return found

    def set_far(self, far: bool, first: QRectF | None = None):
        """Far out the cards and links stop painting themselves and the far layer draws them.
        With `first` (the scene area in view) only the cards and links there switch at once and
        the rest in the next turns of the event loop, a few hundred at a time: switching a
        thousand cards at once costs Qt a call into Python each, a visible hitch."""
        if far == self.far:
            return
        self.far = far
        items = [*self.nodes.values(), *self.edges.values()]
        if first is not None and len(items) > FLAG_BATCH:
            now = self.cards_in(first)
            now += [edge for card in now for edge in card.edges]
            for item in now:
                item.setFlag(NO_CONTENTS, far)
            done = set(now)
            self._unswitched = [item for item in items if item not in done]
            QTimer.singleShot(0, self._switch_some)
        else:
            self._unswitched = []
            for item in items:
                item.setFlag(NO_CONTENTS, far)
        # what the far layer draws was kept up to date near as far (card_moved, card_changed,
        # links_changed): crossing the threshold collects nothing again
        self.far_layer.setVisible(far)

    def _switch_some(self):
        batch, self._unswitched = self._unswitched[:FLAG_BATCH], self._unswitched[FLAG_BATCH:]
        for item in batch:
            try:
                if item.scene() is self:      # not removed meanwhile
                    item.setFlag(NO_CONTENTS, self.far)
            except RuntimeError:              # nor deleted with the scope it was in
                pass
        if self._unswitched:
            QTimer.singleShot(0, self._switch_some)

    # ---- analysis -------------------------------------------------------------------------------
    def _on_analysis(self, analysis):
        if self.scope is None or self.scope.is_root:
            self.set_analysis(analysis)

    def set_analysis(self, analysis):
        if analysis is None:
            return
        self.analysis = analysis
        for node_id, item in self.nodes.items():
            info = analysis.nodes.get(node_id)
            if info is not item.info or item.is_composite and item.node.type in self.graph.composites:
                item.set_info(info)
        for edge, item in self.edges.items():
            item.set_shape(analysis.shape_of(edge.src, edge.src_port))

    # ---- selection ------------------------------------------------------------------------------
    def selected_ids(self) -> list[str]:
        return [i for i, item in self.nodes.items() if item.isSelected()]

    def selected_edges(self) -> list[Edge]:
        return [e for e, item in self.edges.items() if item.isSelected()]

    def _on_scene_selection(self):
        if self._syncing_selection or self.scope is None:
            return
        if not self.scope.is_root:
            self.controller.select_inside(self.selected_ids())
            return
        self._syncing_selection = True
        try:
            self.controller.select(self.selected_ids())
        finally:
            self._syncing_selection = False

    def _on_controller_selection(self, ids):
        if self._syncing_selection or self.scope is None or not self.scope.is_root:
            return
        wanted = set(ids)
        self._syncing_selection = True
        try:
            for node_id, item in self.nodes.items():
                if item.isSelected() != (node_id in wanted):
                    item.setSelected(node_id in wanted)
            if wanted:
                for item in self.edges.values():
                    if item.isSelected():
                        item.setSelected(False)
        finally:
            self._syncing_selection = False

    def select_ids(self, ids):
        """Select these nodes on the canvas (and in the document when at its top level)."""
        wanted = set(ids)
        self.blockSignals(True)
        try:
            for item in self.selectedItems():
                item.setSelected(False)
            for node_id in wanted:
                if node_id in self.nodes:
                    self.nodes[node_id].setSelected(True)
        finally:
            self.blockSignals(False)
        self._on_scene_selection()

    # ---- lookups used by the view and the interactions ------------------------------------------
    def node_item_at(self, pos: QPointF) -> NodeItem | None:
        for item in self.items(pos):
            if isinstance(item, NodeItem):
                return item
            if isinstance(item, (PortItem, InsidePeek)):
                return item.parentItem()   # a port, or a composite's inside drawn in place: its card
        return None

    def port_at(self, pos: QPointF) -> PortItem | None:
        for item in self.items(pos):
            if isinstance(item, PortItem):
                return item
        return None

    def edge_near(self, pos: QPointF, radius: float = 8.0) -> EdgeItem | None:
        area = QRectF(pos.x() - radius, pos.y() - radius, 2 * radius, 2 * radius)
        for item in self.items(area):
            if isinstance(item, EdgeItem):
                return item
        return None

    def nodes_rect(self, ids=None) -> QRectF:
        items = [self.nodes[i] for i in ids if i in self.nodes] if ids else list(self.nodes.values())
        rect = QRectF()
        for item in items:
            rect = rect.united(item.sceneBoundingRect())
            if item.peek is not None:   # a composite expanded in place: its inside too
                rect = rect.united(item.peek.sceneBoundingRect())
        return rect

    def flash_edge(self, start: QPointF, end: QPointF):
        """Show a refused link for a moment where it would have gone."""
        from .new_link import TemporaryLink
        link = TemporaryLink()
        link.set_ends(start, end)
        link.set_refused(True)
        self.addItem(link)
        QTimer.singleShot(450, lambda: link.scene() is self and self.removeItem(link))


def _redraw(item: NodeItem):
    """A card whose block changed: its texts and ports, and the links that end on them."""
    item.refresh()
    for edge in item.edges:
        edge.adjust()
