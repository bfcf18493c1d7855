"""A composite block expanded in place: its inside drawn under its card, on the canvas
where the block is, without leaving the level being edited. It lies over the cards below
(they are not moved: the document's positions are the person's). The ▸ on a composite
card's header (in place of its icon) expands it (▾ folds it again); double-clicking the drawing opens the
inside for editing, as double-clicking the card does (the scene takes the drawing
for its card: CanvasScene.node_item_at).

The inside is drawn once, as vectors (a QPicture of a scene of read-only cards laid
out left to right), a little smaller than the cards, and drawn again only when the block's analysis
changes; it is a view of the document, never part of it.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPicture
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

from designer.document.scope import composite_inside
from designer.graph.layout import layered_positions

from .. import theme
from ..theme import category_color

SCALE = 0.8          # the inside a little smaller than the cards around it
MAX_WIDTH = 2400.0   # scene units: a long inside is drawn smaller still
PAD = 14.0
GAP = 10.0           # between the card and its inside
HEADER = 22.0


def inside_of(scene, node_id: str):
    """(inside graph, its analysis) of composite `node_id` on a CanvasScene, or None."""
    if scene.graph is None:
        return None
    top = scene.scope is None or scene.scope.is_root
    inside = composite_inside(scene.graph, scene.analysis, node_id, top)
    return None if inside is None else inside[:2]


def draw_inside(graph, analysis) -> tuple[QPicture, QRectF]:
    """The inside as a picture, and the rectangle (its own units) it covers."""
    from .edge_item import link_cards
    from .node_item import NodeItem
    from .scene import READ_ONLY_COLUMN
    scene = QGraphicsScene()
    items = {}
    for node_id, (x, y) in layered_positions(graph, column=READ_ONLY_COLUMN).items():
        item = NodeItem(graph, graph.nodes[node_id], editable=False,
                        info=analysis.nodes.get(node_id) if analysis is not None else None)
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        item.setPos(QPointF(x, y))
        scene.addItem(item)
        items[node_id] = item
    link_cards(scene, graph, items, analysis)
    source = scene.itemsBoundingRect()
    scale = min(SCALE, MAX_WIDTH / max(source.width(), 1.0))
    target = QRectF(0, 0, source.width() * scale, source.height() * scale)
    picture = QPicture()
    painter = QPainter(picture)
    painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
    scene.render(painter, target, source, Qt.AspectRatioMode.KeepAspectRatio)
    painter.end()
    scene.clear()
    return picture, target


class InsidePeek(QGraphicsItem):
    """The expanded inside of its parent card (a NodeItem of a composite block)."""

    def __init__(self, card):
        super().__init__(card)
        self.card = card
        self.picture = QPicture()
        self.inner = QRectF()
        self._bounds = QRectF()
        self.setZValue(3)
        self.setToolTip("The inside of this block · double-click to open it, ▾ on the card to fold it")
        self.redraw()

    def redraw(self) -> bool:
        """Draw the inside again from the block's current analysis; False when it has none."""
        scene = self.card.scene()
        inside = inside_of(scene, self.card.node_id) if scene is not None and hasattr(scene, "graph") else None
        self.prepareGeometryChange()
        if inside is None:
            self.picture, self.inner = QPicture(), QRectF()
            self._bounds = QRectF()
            return False
        self.picture, self.inner = draw_inside(*inside)
        card = self.card.card_rect()
        width = max(self.inner.width() + 2 * PAD, card.width())
        self._bounds = QRectF(card.left(), card.bottom() + GAP, width, self.inner.height() + 2 * PAD + HEADER)
        self.update()
        return True

    def boundingRect(self) -> QRectF:
        return self._bounds.adjusted(-2, -2, 2, 2)

    def paint(self, painter, option, widget=None):
        if self._bounds.isEmpty():
            return
        t = theme.current()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        panel = t.color("canvas")
        painter.setBrush(panel)
        painter.setPen(QPen(category_color(self.card.category), 2))
        painter.drawRoundedRect(self._bounds, 10, 10)
        painter.setPen(t.color("muted"))
        font = painter.font()
        font.setPixelSize(11)
        painter.setFont(font)
        painter.drawText(QRectF(self._bounds.left() + PAD, self._bounds.top() + 4, self._bounds.width() - 2 * PAD,
                                HEADER - 4), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         f"inside {self.card.node.title}")
        painter.save()
        painter.translate(self._bounds.left() + PAD, self._bounds.top() + HEADER + PAD)
        painter.drawPicture(0, 0, self.picture)
        painter.restore()
