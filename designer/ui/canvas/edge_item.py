"""An edge: a curve from an output port to an input port, labelled with the shape
of the tensor it carries ("6×28×28")."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem

from designer.graph.format import shape as fmt_shape

from .. import theme
from .node_item import NodeItem

LABEL_LOD = 0.5


def link_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A horizontal S-curve. A link running backwards (into a wrapped row, or to a card
    placed left of its source) leaves to the right, runs back along the gap between the
    rows and enters from the left, so it never cuts across the cards."""
    path = QPainterPath(start)
    dx = end.x() - start.x()
    if dx >= 24:
        reach = max(40.0, dx * 0.5)
        path.cubicTo(QPointF(start.x() + reach, start.y()), QPointF(end.x() - reach, end.y()), end)
        return path
    dy = end.y() - start.y()
    mid = start.y() + dy / 2 if abs(dy) >= 110 else max(start.y(), end.y()) + 70
    r = 40.0
    path.cubicTo(QPointF(start.x() + r * 1.5, start.y()), QPointF(start.x() + r * 1.5, mid),
                 QPointF(start.x(), mid))
    path.lineTo(QPointF(end.x(), mid))
    path.cubicTo(QPointF(end.x() - r * 1.5, mid), QPointF(end.x() - r * 1.5, end.y()), end)
    return path


def link_cards(scene, graph, cards: dict, analysis=None) -> None:
    """A link in `scene` for every edge of `graph` between two of `cards` (node id → NodeItem),
    labelled with the shapes of `analysis`: for scenes that only show a network (the Compare
    dialog, a composite's inside drawn in place), not the editor's canvas."""
    for edge in graph.edges:
        src, dst = cards.get(edge.src), cards.get(edge.dst)
        if src is not None and dst is not None:
            link = EdgeItem(edge, src, dst)
            src.edges.add(link)
            dst.edges.add(link)
            src.set_connected(edge.src_port, True, True)
            dst.set_connected(edge.dst_port, False, True)
            if analysis is not None:
                link.set_shape(analysis.shape_of(edge.src, edge.src_port))
            scene.addItem(link)


class EdgeItem(QGraphicsItem):
    Type = QGraphicsItem.UserType + 3
    _font = None

    def __init__(self, edge, src_item, dst_item, adjust: bool = True):
        super().__init__()
        self.edge = edge
        self.src_item = src_item
        self.dst_item = dst_item
        self.carries = None          # the tensor shape, from the analysis
        self.text = ""
        self.hovered = False
        self.flash = False           # drawn in the error colour for a moment
        self._path = QPainterPath()
        self._stroke: QPainterPath | None = None   # the path's outline at the usual width (paint)
        self._label = QRectF()
        self._label_visible = False
        self._bounds = QRectF()
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setZValue(0)
        if adjust:   # False: the scene adjusts it once it is placed (and knows its shape)
            self.adjust()

    def type(self) -> int:
        return self.Type

    @staticmethod
    def font() -> QFont:
        if EdgeItem._font is None:
            EdgeItem._font = QFont()
            EdgeItem._font.setPixelSize(10)
        return EdgeItem._font

    def endpoints(self) -> tuple[QPointF, QPointF]:
        src = self.src_item.port(self.edge.src_port, True)
        dst = self.dst_item.port(self.edge.dst_port, False)
        a = src.scene_anchor() if src is not None else \
            self.src_item.mapToScene(QPointF(self.src_item.card_rect().right(), 0))
        b = dst.scene_anchor() if dst is not None else \
            self.dst_item.mapToScene(QPointF(self.dst_item.card_rect().left(), 0))
        return a, b

    def set_shape(self, shape):
        if shape == self.carries and self.text:
            return
        self.carries = shape
        self.text = fmt_shape(shape) if shape is not None else ""
        self.setToolTip(f"{self.edge.src}.{self.edge.src_port} → {self.edge.dst}.{self.edge.dst_port}"
                        + (f": {self.text}" if self.text else ": shape unknown (an error upstream)"))
        self.adjust()

    def adjust(self):
        before = self._bounds
        self.prepareGeometryChange()
        a, b = self.endpoints()
        self._path = link_path(a, b)
        self._stroke = None
        if self.text:
            fm = QFontMetricsF(self.font())
            w, h = fm.horizontalAdvance(self.text) + 10, fm.height() + 4
            mid = self._path.pointAtPercent(0.5)
            self._label = QRectF(mid.x() - w / 2, mid.y() - h / 2, w, h)
            # shown only where it is clear of every card (a card would hide part of it)
            room = self._label.adjusted(-9, -2, 9, 2)
            cards = [item.mapRectToScene(item.card_rect()) for item in (self.src_item, self.dst_item)]
            scene = self.scene()
            if hasattr(scene, "cards_in"):   # the editor's canvas: its grid, not Qt's index
                cards += [item.mapRectToScene(item.card_rect()) for item in scene.cards_in(room)]
            elif scene is not None:
                cards += [item.sceneBoundingRect() for item in scene.items(room) if isinstance(item, NodeItem)]
            self._label_visible = not any(c.intersects(room) for c in cards)
        else:
            self._label_visible = False
        r = self._path.boundingRect().adjusted(-4, -4, 4, 4)
        self._bounds = r.united(self._label) if self._label_visible else r
        self.update()
        self._changed(before.united(self._bounds))

    def _changed(self, area: QRectF | None = None):
        scene = self.scene()
        if scene is not None and hasattr(scene, "links_changed"):
            scene.links_changed(area if area is not None else self._bounds)   # the far layer draws it too

    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self._changed()
        return super().itemChange(change, value)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        return stroker.createStroke(self._path)

    def hoverEnterEvent(self, event):
        self.hovered = True
        self.update()
        self._changed()

    def hoverLeaveEvent(self, event):
        self.hovered = False
        self.update()
        self._changed()

    def paint(self, painter, option, widget=None):
        t = theme.current()
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        painter.setRenderHint(painter.RenderHint.Antialiasing)
        if self.flash:
            colour = t.color("error")
        elif self.isSelected() or self.hovered:
            colour = t.color("accent")
        else:
            colour = t.color("edge")
        width = max(1.8, 1.1 / max(lod, 0.05)) * (1.5 if self.isSelected() else 1.0)
        if self.carries is not None and width == 1.8:
            # the usual case: the outline of the stroke is kept, filling it is a third of stroking
            if self._stroke is None:
                stroker = QPainterPathStroker()
                stroker.setWidth(width)
                self._stroke = stroker.createStroke(self._path)
            painter.fillPath(self._stroke, colour)
        else:
            pen = QPen(colour, width)
            if self.carries is None:
                pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(self._path)
        if self._label_visible and lod >= LABEL_LOD:
            painter.setPen(QPen(colour if (self.isSelected() or self.hovered) else t.color("card_border"), 1))
            painter.setBrush(t.color("edge_label_bg"))
            r = self._label
            painter.drawRoundedRect(r, r.height() / 2, r.height() / 2)
            painter.setFont(self.font())
            painter.setPen(t.color("text"))
            painter.drawText(r, Qt.AlignmentFlag.AlignCenter, self.text)
