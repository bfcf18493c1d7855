"""Drag-to-connect as an interaction object (orange-canvas-core's NewLinkAction).

It draws a temporary link from the port it started on, snaps to the port the
link would land on (highlighted; a port that would be refused turns red and the
reason is written beside the cursor), and on release proposes ONE undo step to
the document. Starting on an input that is already connected picks its edge up,
as in Blender: drop it on another input to move it, or in empty space to remove
it. It removes everything it drew when it ends, however it ends.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from designer.graph.errors import DuplicateInputError, GraphError
from designer.graph.model import Connect, Disconnect, Edge

from .. import theme
from .edge_item import link_path
from .port_item import PortItem

SNAP_PIXELS = 26.0   # on screen; divided by the zoom to get scene units


class TemporaryLink(QGraphicsItem):
    def __init__(self):
        super().__init__()
        self._path = QPainterPath()
        self.refused = False
        self.snapped = False
        self.setZValue(10)

    def set_ends(self, a: QPointF, b: QPointF, reverse: bool = False):
        self.prepareGeometryChange()
        self._path = link_path(b, a) if reverse else link_path(a, b)
        self.update()

    def set_refused(self, refused: bool):
        self.refused = refused
        self.update()

    def boundingRect(self) -> QRectF:
        return self._path.boundingRect().adjusted(-4, -4, 4, 4)

    def paint(self, painter, option, widget=None):
        t = theme.current()
        painter.setRenderHint(painter.RenderHint.Antialiasing)
        colour = t.color("error") if self.refused else t.color("accent")
        pen = QPen(colour, 2.4)
        if not self.snapped and not self.refused:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawPath(self._path)


class ReasonBubble(QGraphicsItem):
    """Why the link cannot land here, beside the cursor, at the same size at every zoom."""

    def __init__(self):
        super().__init__()
        self.text = ""
        self.font = QFont()
        self.font.setPixelSize(12)
        self._rect = QRectF()
        self.setZValue(11)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)

    def set_text(self, text: str):
        if text != self.text:
            self.prepareGeometryChange()
            self.text = text
            fm = QFontMetricsF(self.font)
            self._rect = QRectF(0, 0, fm.horizontalAdvance(text) + 16, fm.height() + 8)
            self.update()

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter, option, widget=None):
        t = theme.current()
        painter.setRenderHint(painter.RenderHint.Antialiasing)
        painter.setPen(QPen(t.color("error"), 1.2))
        painter.setBrush(t.color("panel"))
        painter.drawRoundedRect(self._rect, 6, 6)
        painter.setFont(self.font)
        painter.setPen(t.color("error"))
        painter.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self.text)


class NewLinkInteraction:
    def __init__(self, view, port: PortItem):
        self.view = view
        self.scene = view.scene()
        self.graph = self.scene.graph
        self.detached: Edge | None = None
        self.target: PortItem | None = None
        self.reason = ""
        anchor = port
        if not port.is_output and port.connected:
            self.detached = next((e for e in self.graph.edges_into(port.node_id) if e.dst_port == port.name), None)
            if self.detached is not None:
                src_item = self.scene.nodes.get(self.detached.src)
                anchor = src_item.port(self.detached.src_port, True) if src_item else port
                edge_item = self.scene.edges.get(self.detached)
                if edge_item is not None:
                    edge_item.setVisible(False)
        self.anchor = anchor
        self.from_output = anchor.is_output
        self.link = TemporaryLink()
        self.scene.addItem(self.link)
        self.note = ReasonBubble()
        self.scene.addItem(self.note)
        self.note.hide()
        self.link.set_ends(anchor.scene_anchor(), anchor.scene_anchor())

    # ---- while dragging -------------------------------------------------------------------------
    def move(self, pos: QPointF):
        target = self._find_target(pos)
        if target is not self.target:
            if self.target is not None:
                self.target.set_state("")
            self.target = target
        self.reason = ""
        end = pos
        if target is not None:
            self.reason = self._refusal(target)
            target.set_state("bad" if self.reason else "ok")
            end = target.scene_anchor()
        self.link.snapped = target is not None and not self.reason
        self.link.set_refused(bool(self.reason))
        self.link.set_ends(self.anchor.scene_anchor(), end, reverse=not self.from_output)
        if self.reason:
            self.note.set_text(self.reason)
            self.note.setPos(pos + QPointF(14 / self._scale(), 14 / self._scale()))
            self.note.show()
        else:
            self.note.hide()

    def _scale(self) -> float:
        return max(self.view.transform().m11(), 0.05)

    def _find_target(self, pos: QPointF) -> PortItem | None:
        """The port under the cursor, the nearest one in snapping distance, or the first free
        fitting port of the card under the cursor."""
        radius = SNAP_PIXELS / self._scale()
        best, best_d = None, radius
        for item in self.scene.items(QRectF(pos.x() - radius, pos.y() - radius, 2 * radius, 2 * radius)):
            if isinstance(item, PortItem) and item.is_output != self.from_output \
                    and item.node_item is not self.anchor.node_item:
                d = (item.scene_anchor() - pos).manhattanLength()
                if d < best_d:
                    best, best_d = item, d
        if best is not None:
            return best
        card = self.scene.node_item_at(pos)
        if card is None or card is self.anchor.node_item:
            return None
        ports = list((card.inputs if self.from_output else card.outputs).values())
        free = [p for p in ports if not p.connected or self._is_detached_port(p)]
        return (free or ports or [None])[0]

    def _is_detached_port(self, port: PortItem) -> bool:
        d = self.detached
        return d is not None and not port.is_output and (port.node_id, port.name) == (d.dst, d.dst_port)

    def _edge_to(self, target: PortItem) -> Edge:
        if self.from_output:
            return Edge(self.anchor.node_id, self.anchor.name, target.node_id, target.name)
        return Edge(target.node_id, target.name, self.anchor.node_id, self.anchor.name)

    def _refusal(self, target: PortItem) -> str:
        edge = self._edge_to(target)
        if edge == self.detached:
            return ""
        try:
            self.graph.check_connect(edge)
        except DuplicateInputError as exc:
            if not self._is_detached_port(target):
                return str(exc)
        except GraphError as exc:
            return str(exc)
        return ""

    # ---- the end --------------------------------------------------------------------------------
    def release(self, pos: QPointF) -> str:
        """Finish; returns 'connected', 'refused', 'removed', 'empty' (dropped on empty canvas
        from an output: the view offers the quick-add popup) or 'none'."""
        self.move(pos)
        target, reason, detached = self.target, self.reason, self.detached
        start = self.anchor.scene_anchor()
        self.cleanup()
        if target is not None and reason:
            self.scene.flash_edge(*((start, target.scene_anchor()) if self.from_output
                                    else (target.scene_anchor(), start)))
            self.scene.controller.message.emit(f"Not connected: {reason}")
            return "refused"
        if target is not None:
            edge = self._edge_to(target)
            if edge == detached:
                return "none"
            ops = ([Disconnect(detached)] if detached is not None else []) + [Connect(edge)]
            text = f"Connect {edge.src} → {edge.dst}" if detached is None else f"Move link to {edge.dst}"
            return "connected" if self.view.edit(text, ops) else "refused"
        if detached is not None:
            return "removed" if self.view.edit(f"Disconnect {detached.src} → {detached.dst}",
                                               [Disconnect(detached)]) else "none"
        return "empty" if self.from_output else "none"

    def cleanup(self):
        if self.target is not None:
            self.target.set_state("")
        if self.detached is not None and self.detached in self.scene.edges:
            self.scene.edges[self.detached].setVisible(True)
        for item in (self.link, self.note):
            if item.scene() is self.scene:
                self.scene.removeItem(item)
