"""A port on a node card: the circle an edge starts from or lands on.

Inputs sit on the card's left side, outputs on its right (networks read left to
right on the canvas). A port is a child item so the scene's own hit-testing
finds it under the mouse; its `state` is set by the drag-to-connect interaction
to show where a new edge would land ("ok") or why it cannot ("bad").

The port paints nothing itself (ItemHasNoContents): its card paints the circle
(`paint_circle`), so the canvas does not visit two thousand port items a frame.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from .. import theme
from ..theme import category_color

PORT_RADIUS = 5.0
HIT_RADIUS = 11.0
_BOUNDS = QRectF(-HIT_RADIUS, -HIT_RADIUS, 2 * HIT_RADIUS, 2 * HIT_RADIUS)


class PortItem(QGraphicsItem):
    Type = QGraphicsItem.UserType + 2

    def __init__(self, node_item, name: str, is_output: bool):
        super().__init__(node_item)
        self.node_item = node_item
        self.name = name
        self.is_output = is_output
        self.connected = False
        self.required = not is_output   # an unconnected input is an error of its node
        self.state = ""                 # "", "ok" or "bad" while a link is being dragged
        self.hovered = False
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setZValue(2)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)

    def type(self) -> int:
        return self.Type

    @property
    def node_id(self) -> str:
        return self.node_item.node_id

    def scene_anchor(self) -> QPointF:
        """Where edges attach: the port's centre in scene coordinates."""
        return self.scenePos()

    def boundingRect(self) -> QRectF:
        return _BOUNDS

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addEllipse(self.boundingRect())
        return path

    def update(self, *args):
        self.node_item.update()   # the card draws this port

    def set_state(self, state: str):
        if state != self.state:
            self.state = state
            self.update()

    def hoverEnterEvent(self, event):
        self.hovered = True
        self.update()

    def hoverLeaveEvent(self, event):
        self.hovered = False
        self.update()

    def paint(self, painter, option, widget=None):
        pass   # ItemHasNoContents: never called; the card paints the circle

    def paint_circle(self, painter):
        """The circle, in this port's coordinates (called by its card's paint)."""
        t = theme.current()
        colour = category_color(self.node_item.category)
        r = PORT_RADIUS * (1.35 if self.hovered or self.state else 1.0)
        if self.state == "ok":
            ring = theme.current().color("accent")
        elif self.state == "bad":
            ring = t.color("error")
        elif self.required and not self.connected:
            ring = t.color("error")
        else:
            ring = colour
        painter.setPen(QPen(ring, 2.0))
        painter.setBrush(colour if self.connected else t.color("card"))
        if self.state:
            painter.setBrush(ring)
        painter.drawEllipse(QPointF(0, 0), r, r)
