"""The canvas view: zoom to the cursor, pan, fit, drop blocks, drag links, and the
editing gestures (delete, copy/paste, duplicate, group, layout…).

Every change goes to the document as model ops through `edit`, one undo step
per gesture; the scene redraws from the model's events. A refused edit is
shown in the status bar with the model's reason and changes nothing.
"""
from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QCursor, QPainter, QPixmap, QTransform
from PySide6.QtWidgets import QFrame, QGraphicsView, QInputDialog, QMenu

from designer.graph import clipboard, editing
from designer.graph.composite import group_ops, ungroup_ops, user_composite_spec
from designer.graph.errors import GraphError
from designer.graph.ids import unique_id
from designer.graph.layout import layered_positions, layout_ops
from designer.graph.model import Disconnect, SetComposite, SetField

from .. import theme
from ..document import MERGE_MOVE
from ..mime import BLOCK_MIME, LIBRARY_PREFIX
from ..minimap import Minimap
from .editing import clipboard_document, copy_to_clipboard
from .new_link import NewLinkInteraction
from .node_item import FAR_LOD

MIN_SCALE, MAX_SCALE = 0.06, 3.0
GRID = 24.0


class CanvasView(QGraphicsView):
    zoom_changed = Signal(float)
    files_dropped = Signal(list)      # paths of documents dropped on the canvas

    def __init__(self, scene, parent=None):
        super().__init__(scene, parent)
        self.controller = scene.controller
        self.library = None           # BlockLibrary, set by the window
        self.context_actions = None   # callable(node_item | None) -> list of QAction | None
        self._link: NewLinkInteraction | None = None
        self._panning: QPoint | None = None
        self._space = False
        self._move_start: dict[str, QPointF] = {}
        self._drop_edge = None
        self._quick_add = None
        self._grid_tile = None
        self.show_hint = True         # the empty canvas says how to start
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing
                            | QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSceneRect(QRectF(-1e6, -1e6, 2e6, 2e6))   # room to pan anywhere
        self.controller.focus_requested.connect(self.centre_on)
        self._fit_pending = False
        self._focus_after_fit: str | None = None
        scene.scope_shown.connect(self._on_scope_shown)
        self.minimap = Minimap(self)

    @property
    def canvas(self):
        return self.scene()

    # ---- editing through the document -----------------------------------------------------------
    def edit(self, text: str, ops, merge_id: int = -1) -> bool:
        """One undo step on the graph shown; False (and the reason in the status bar) if refused.
        Steps with the same `merge_id` (arrow-key nudges) merge into one."""
        scope = self.canvas.scope
        if scope is not None and not scope.editable:
            self.controller.message.emit("This inside is generated from the block's parameters; "
                                         "change them in the inspector.")
            return False
        try:
            self.controller.edit(text, ops, merge_id,
                                 graph=None if scope is None or scope.is_root else scope.graph)
        except GraphError as exc:
            self.controller.message.emit(f"{text}: {exc}")
            return False
        return True

    def scale_factor(self) -> float:
        return self.transform().m11()

    def view_centre(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())

    def cursor_scene_pos(self) -> QPointF:
        local = self.viewport().mapFromGlobal(QCursor.pos())
        if self.viewport().rect().contains(local):
            return self.mapToScene(local)
        return self.view_centre()

    # ---- zoom and pan ---------------------------------------------------------------------------
    def zoom_by(self, factor: float, anchor_under_mouse: bool = True):
        current = self.scale_factor()
        factor = max(MIN_SCALE / current, min(MAX_SCALE / current, factor))
        if abs(factor - 1.0) < 1e-6:
            return
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse if anchor_under_mouse
                                     else QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.scale(factor, factor)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self._sync_far()
        self.zoom_changed.emit(self.scale_factor())

    def _sync_far(self):
        """Below FAR_LOD the scene's far layer draws the cards (see canvas/overview.py)."""
        in_view = self.mapToScene(self.viewport().rect()).boundingRect()
        self.canvas.set_far(self.scale_factor() < FAR_LOD, first=in_view)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if hasattr(self, "minimap"):
            self.minimap.place()
            self.minimap.refresh()

    def paintEvent(self, event):
        self._sync_far()   # whatever changed the zoom (fit, a test's scale()), the drawing follows
        super().paintEvent(event)

    def zoom_reset(self):
        self.zoom_by(1.0 / self.scale_factor(), anchor_under_mouse=False)

    def wheelEvent(self, event):
        delta = event.angleDelta().y()
        if delta:
            self.zoom_by(1.0015 ** delta)
            event.accept()
        else:
            super().wheelEvent(event)

    def fit(self, ids=None):
        """Fit the graph (or these nodes) in the view; never zoomed in past 125 %."""
        rect = self.canvas.nodes_rect(ids)
        if rect.isNull():
            self.resetTransform()
            self.centerOn(0, 0)
            self.zoom_changed.emit(1.0)
            return
        # the margin is 48 pixels on screen, so in scene units it depends on the zoom reached
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        margin = 48 / max(self.scale_factor(), MIN_SCALE)
        self.fitInView(rect.adjusted(-margin, -margin, margin, margin), Qt.AspectRatioMode.KeepAspectRatio)
        s = self.scale_factor()
        clamped = max(MIN_SCALE, min(1.25, s))
        if clamped != s:
            self.scale(clamped / s, clamped / s)
            self.centerOn(rect.center())
        self._sync_far()
        self.zoom_changed.emit(self.scale_factor())

    def _on_scope_shown(self, scope):
        self._fit_pending = True
        QTimer.singleShot(0, self._fit_after_scope)

    def _fit_after_scope(self):
        self._fit_pending = False
        self.fit()
        node_id, self._focus_after_fit = self._focus_after_fit, None
        if node_id is not None:
            self.centre_on(node_id)

    def centre_on(self, node_id: str):
        if self._fit_pending:   # a new graph is about to be fitted: centre on the node after that
            self._focus_after_fit = node_id
            return
        item = self.canvas.nodes.get(node_id)
        if item is not None:
            if self.scale_factor() < 0.6:
                self.zoom_by(0.8 / self.scale_factor(), anchor_under_mouse=False)
            self.centerOn(item)

    # ---- mouse ----------------------------------------------------------------------------------
    def mousePressEvent(self, event):
        pos = self.mapToScene(event.position().toPoint())
        if event.button() == Qt.MouseButton.MiddleButton or \
                (event.button() == Qt.MouseButton.LeftButton and self._space):
            self._panning = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton and self.canvas.editable:
            port = self.canvas.port_at(pos)
            if port is not None:
                self._link = NewLinkInteraction(self, port)
                event.accept()
                return
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and self.canvas.editable:
            self._move_start = {i: item.pos() for i, item in self.canvas.nodes.items() if item.isSelected()}

    def mouseMoveEvent(self, event):
        if self._panning is not None:
            point = event.position().toPoint()
            delta = point - self._panning
            self._panning = point
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            event.accept()
            return
        if self._link is not None:
            self._link.move(self.mapToScene(event.position().toPoint()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):
        if self._panning is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._panning = None
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space else Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        if self._link is not None and event.button() == Qt.MouseButton.LeftButton:
            link, self._link = self._link, None
            pos = self.mapToScene(event.position().toPoint())
            if link.release(pos) == "empty":
                self.quick_add(pos, connect_from=(link.anchor.node_id, link.anchor.name))
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and self._move_start:
            self._commit_moves()

    def _commit_moves(self):
        starts, self._move_start = self._move_start, {}
        ops = []
        for node_id, start in starts.items():
            item = self.canvas.nodes.get(node_id)
            if item is not None and item.pos() != start:
                ops.append(SetField(node_id, "pos", (round(item.pos().x(), 2), round(item.pos().y(), 2))))
        if ops and not self.edit("Move" if len(ops) > 1 else f"Move {ops[0].id}", ops):
            for node_id, start in starts.items():   # refused: put the cards back
                if node_id in self.canvas.nodes:
                    self.canvas.nodes[node_id].setPos(start)

    def mouseDoubleClickEvent(self, event):
        pos = self.mapToScene(event.position().toPoint())
        item = self.canvas.node_item_at(pos)
        if item is not None and item.is_composite:
            self.open_composite(item.node_id)
            event.accept()
            return
        if item is None and self.canvas.edge_near(pos) is None and self.canvas.editable:
            self.quick_add(pos)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def open_composite(self, node_id: str):
        if not self.controller.enter(node_id):
            self.controller.message.emit("Connect this block's inputs to see inside it.")

    def contextMenuEvent(self, event):
        if self.context_actions is None:
            return
        pos = self.mapToScene(event.pos())
        item = self.canvas.node_item_at(pos)
        if item is not None and not item.isSelected():
            self.canvas.select_ids([item.node_id])
        actions = self.context_actions(item)
        if actions:
            menu = QMenu(self)
            for action in actions:
                if action is None:
                    menu.addSeparator()
                else:
                    menu.addAction(action)
            menu.exec(event.globalPos())

    # ---- keys -----------------------------------------------------------------------------------
    def keyPressEvent(self, event):
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def escape(self):
        """Esc: cancel a link being dragged, else go up out of a composite, else deselect."""
        if self._link is not None:
            self._link.cleanup()
            self._link = None
        elif self.canvas.scope is not None and not self.canvas.scope.is_root:
            self.controller.leave(len(self.canvas.scope.path) - 1)
        else:
            self.canvas.clearSelection()

    def keyReleaseEvent(self, event):
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event):
        self._space = False
        super().focusOutEvent(event)

    # ---- drag and drop from the palette ---------------------------------------------------------
    def dragEnterEvent(self, event):
        md = event.mimeData()
        if md.hasFormat(BLOCK_MIME):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        elif any(u.toLocalFile().endswith(".json") for u in md.urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event):
        md = event.mimeData()
        if md.hasFormat(BLOCK_MIME):
            edge = self.canvas.edge_near(self.mapToScene(event.position().toPoint()), 12 / self.scale_factor())
            self._highlight_drop_edge(edge)
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        elif md.hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event):
        self._highlight_drop_edge(None)
        super().dragLeaveEvent(event)

    def _highlight_drop_edge(self, edge):
        if edge is self._drop_edge:
            return
        if self._drop_edge is not None and self._drop_edge.scene() is self.canvas:
            self._drop_edge.hovered = False
            self._drop_edge.update()
        self._drop_edge = edge
        if edge is not None:
            edge.hovered = True
            edge.update()

    def dropEvent(self, event):
        md = event.mimeData()
        self._highlight_drop_edge(None)
        if md.hasFormat(BLOCK_MIME):
            kind = bytes(md.data(BLOCK_MIME)).decode("utf-8")
            pos = self.mapToScene(event.position().toPoint())
            edge = self.canvas.edge_near(pos, 12 / self.scale_factor())
            self.add_block(kind, pos, edge=edge.edge if edge is not None else None)
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            return
        files = [u.toLocalFile() for u in md.urls() if u.toLocalFile()]
        if files:
            self.files_dropped.emit(files)
            event.acceptProposedAction()
            return
        event.ignore()

    # ---- adding blocks --------------------------------------------------------------------------
    def add_block(self, kind: str, pos: QPointF, edge=None, connect_from=None) -> str | None:
        """Add a block (a type, a document composite, or 'library:<name>') at `pos`, spliced into
        `edge` or fed from `connect_from`; returns the new node id."""
        graph = self.canvas.graph
        ops, spec = [], None
        if kind.startswith(LIBRARY_PREFIX):
            name = kind[len(LIBRARY_PREFIX):]
            if self.library is None or name not in self.library.blocks:
                self.controller.message.emit(f"{name} is not in your block library")
                return None
            if not (self.canvas.scope is None or self.canvas.scope.is_root):
                self.controller.message.emit("Your own blocks go in the document, not inside another block")
                return None
            kind = name
            if name not in graph.composites:
                definition = self.library.get(name)
                ops.append(SetComposite(name, definition))
                spec = user_composite_spec(definition)
        network = self._network_near(pos, connect_from)
        node = editing.new_node(graph, kind, (round(pos.x(), 2), round(pos.y(), 2)), network)
        try:
            if edge is not None:
                ops += editing.splice_ops(graph, edge, node, spec)
                text = f"Insert {kind} on {edge.src} → {edge.dst}"
            else:
                ops += editing.add_ops(graph, node, connect_from, spec)
                text = f"Add {kind}"
        except GraphError as exc:
            self.controller.message.emit(str(exc))
            return None
        if self.edit(text, ops):
            self.canvas.select_ids([node.id])
            self.setFocus()
            return node.id
        return None

    def _network_near(self, pos: QPointF, connect_from) -> str:
        """A new block joins the network of the block it is fed from, or of the nearest card."""
        graph = self.canvas.graph
        if connect_from is not None and connect_from[0] in graph.nodes:
            return graph.nodes[connect_from[0]].network
        best, best_d = None, None
        for item in self.canvas.nodes.values():
            d = (item.pos() - pos).manhattanLength()
            if best_d is None or d < best_d:
                best, best_d = item, d
        return best.node.network if best is not None else "main"

    def quick_add(self, pos: QPointF | None = None, connect_from=None):
        """The Tab popup: search a block, add it at `pos` (default: the cursor). With one
        node selected and nothing else said, the new block is fed from it."""
        if not self.canvas.editable:
            self.controller.message.emit("This inside is read-only.")
            return
        from ..quick_add import QuickAddPopup
        pos = pos if pos is not None else self.cursor_scene_pos()
        if connect_from is None:
            selected = self.canvas.selected_ids()
            if len(selected) == 1:
                item = self.canvas.nodes[selected[0]]
                if item.outputs:
                    connect_from = (item.node_id, next(iter(item.outputs)))
        scope = self.canvas.scope
        composites = list(self.canvas.graph.composites) if scope is None or scope.is_root else []
        popup = QuickAddPopup(composites, self.window())   # not our child: our shortcuts (Return, arrows) stay ours
        popup.chosen.connect(lambda kind: self.add_block(kind, pos, connect_from=connect_from))
        self._quick_add = popup
        popup.popup(self.viewport().mapToGlobal(self.mapFromScene(pos)))

    # ---- selection-wide edits -------------------------------------------------------------------
    def delete_selection(self):
        ids = self.canvas.selected_ids()
        edges = [e for e in self.canvas.selected_edges() if e.src not in ids and e.dst not in ids]
        if not ids and not edges:
            return
        ops = [Disconnect(e) for e in edges] + self.canvas.graph.removal_ops(ids)
        what = f"Delete {ids[0]}" if len(ids) == 1 and not edges else \
            f"Delete {len(ids)} blocks" if ids else "Delete link" + ("s" if len(edges) > 1 else "")
        self.edit(what, ops)

    def select_all(self):
        self.canvas.select_ids(list(self.canvas.nodes))

    def copy(self) -> bool:
        ids = self.canvas.selected_ids()
        if not ids:
            return False
        copy_to_clipboard(self.canvas.graph, ids)
        self.controller.message.emit(f"Copied {len(ids)} block{'s' if len(ids) > 1 else ''}")
        return True

    def cut(self):
        if self.copy():
            ids = self.canvas.selected_ids()
            self.edit(f"Cut {len(ids)} block{'s' if len(ids) > 1 else ''}", self.canvas.graph.removal_ops(ids))

    def paste(self):
        clip = clipboard_document()
        if clip is None or not clip.nodes:
            self.controller.message.emit("The clipboard holds no blocks to paste")
            return
        self._insert_copy(clip, at=self.cursor_scene_pos(), text="Paste")

    def duplicate(self):
        ids = self.canvas.selected_ids()
        if ids:
            clip = clipboard.selection_document(self.canvas.graph, ids)
            self._insert_copy(clip, at=None, text="Duplicate")

    def _insert_copy(self, clip, at: QPointF | None, text: str):
        scope = self.canvas.scope
        try:
            ops, new_ids = clipboard.paste_ops(self.canvas.graph, clip,
                                             at=(at.x(), at.y()) if at is not None else None,
                                             composites_allowed=scope is None or scope.is_root)
        except GraphError as exc:
            self.controller.message.emit(f"{text}: {exc}")
            return
        if self.edit(f"{text} {len(new_ids)} block{'s' if len(new_ids) > 1 else ''}", ops):
            self.canvas.select_ids(new_ids)

    def nudge(self, dx: float, dy: float):
        ids = self.canvas.selected_ids()
        graph = self.canvas.graph
        ops = [SetField(i, "pos", (graph.nodes[i].pos[0] + dx, graph.nodes[i].pos[1] + dy)) for i in ids]
        if ops:
            self.edit("Nudge", ops, merge_id=MERGE_MOVE)

    def auto_layout(self):
        """Lay out the selection (two or more nodes) or else the whole graph, as one step."""
        ids = self.canvas.selected_ids()
        size = self.viewport().size()
        aspect = size.width() / max(1, size.height()) if len(ids) <= 1 else None
        ops = layout_ops(self.canvas.graph, ids if len(ids) > 1 else None, aspect)
        if ops and self.edit("Auto-layout", ops):
            self.fit(ids if len(ids) > 1 else None)

    def toggle_frozen(self):
        ids = self.canvas.selected_ids()
        if not ids:
            return
        graph = self.canvas.graph
        freeze = any(graph.nodes[i].trainable for i in ids)
        ops = [SetField(i, "trainable", not freeze) for i in ids if graph.nodes[i].trainable == freeze]
        self.edit(("Freeze " if freeze else "Unfreeze ") + (ids[0] if len(ids) == 1 else f"{len(ids)} blocks"), ops)

    def group_selection(self, name: str | None = None):
        """Ctrl+G: the selected blocks become one composite block of a new type."""
        ids = self.canvas.selected_ids()
        if not ids:
            self.controller.message.emit("Select the blocks to group first")
            return
        if self.canvas.scope is not None and not self.canvas.scope.is_root:
            self.controller.message.emit("Group blocks at the top level of the document")
            return
        graph = self.canvas.graph
        if name is None:
            suggestion = unique_id("Block", set(graph.composites) | set(graph.nodes))
            name, ok = QInputDialog.getText(self, "Group into a composite block",
                                            "Name of the new block (letters, digits, _):", text=suggestion)
            if not ok or not name.strip():
                return
            name = name.strip()
        try:
            ops = group_ops(graph, ids, name)
        except GraphError as exc:
            self.controller.message.emit(f"Group: {exc}")
            return
        _tidy_inside(ops)
        if self.edit(f"Group {len(ids)} blocks as {name}", ops):
            new_id = next(op.node.id for op in ops if getattr(op, "node", None) is not None
                          and op.node.type == name)
            self.canvas.select_ids([new_id])

    def ungroup_selection(self):
        ids = [i for i in self.canvas.selected_ids() if self.canvas.nodes[i].is_composite]
        if len(ids) != 1:
            self.controller.message.emit("Select one composite block to ungroup")
            return
        try:
            ops = ungroup_ops(self.canvas.graph, ids[0])
        except GraphError as exc:
            self.controller.message.emit(f"Ungroup: {exc}")
            return
        before = set(self.canvas.graph.nodes)
        if self.edit(f"Ungroup {ids[0]}", ops):
            self.canvas.select_ids([i for i in self.canvas.graph.nodes if i not in before])

    # ---- background -----------------------------------------------------------------------------
    def drawBackground(self, painter, rect: QRectF):
        """A dot grid, filled from one cached tile in device pixels: drawing the dots one by
        one cost more than all the cards together."""
        t = theme.current()
        painter.fillRect(rect, t.color("canvas"))
        scale = self.scale_factor()
        step = GRID
        while step * scale < 14:
            step *= 4
        ratio = self.devicePixelRatioF()
        tile_px = max(4, round(step * scale * ratio))
        key = (tile_px, t.grid, t.canvas)
        if self._grid_tile is None or self._grid_tile[0] != key:
            tile = QPixmap(tile_px, tile_px)
            tile.fill(t.color("canvas"))
            p = QPainter(tile)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(t.color("grid"))
            r = 1.0 * ratio
            p.drawEllipse(QPointF(r + 0.5, r + 0.5), r, r)
            p.end()
            self._grid_tile = (key, tile)
        tile = self._grid_tile[1]
        painter.save()
        painter.resetTransform()
        device = QRectF(self.mapFromScene(rect.topLeft()), self.mapFromScene(rect.bottomRight()))
        origin = self.mapFromScene(QPointF(0, 0))
        brush = QBrush(tile)
        # the tile is in device pixels; lay it out so that its dots sit on multiples of `step`
        brush.setTransform(QTransform.fromScale(1 / ratio, 1 / ratio))
        painter.setBrushOrigin(QPointF(origin.x() % (tile_px / ratio), origin.y() % (tile_px / ratio)))
        painter.fillRect(device.adjusted(-2, -2, 2, 2), brush)
        painter.restore()

    def drawForeground(self, painter, rect: QRectF):
        if self.canvas.nodes or not self.show_hint:
            return
        painter.save()
        painter.resetTransform()
        t = theme.current()
        painter.setPen(t.color("muted"))
        font = painter.font()
        font.setPixelSize(15)
        painter.setFont(font)
        text = ("Drag blocks here from the palette, or press Tab to search for one.\n"
                "Start from a classic network with File ▸ New from Preset.") if self.canvas.editable \
            else "Nothing inside."
        painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()


def _tidy_inside(ops):
    """group_ops leaves the new block's own Input/Output cards at the origin: lay its inside
    out before it enters the document, so opening it shows a readable graph."""
    for op in ops:
        if isinstance(op, SetComposite) and op.definition is not None:
            inside = op.definition.graph
            for node_id, (x, y) in layered_positions(inside).items():
                inside.apply(SetField(node_id, "pos", (x, y)))
