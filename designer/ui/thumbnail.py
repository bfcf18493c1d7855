"""A graph's silhouette for the preset gallery: its blocks as small chips coloured
by category, at their canvas positions, joined by their edges.

Drawn with QPainter from node positions alone (no analysis, no torch), so a
thumbnail costs a file read. The geometry is computed once and painted at any
size; colours come from the window theme at paint time.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QPen

from designer.graph.errors import GraphError
from designer.ui.theme import DARK, LIGHT, category_color

# About the size of a card on the canvas, in scene units: the chips keep the
# graph's proportions without knowing how the canvas draws its cards.
CARD_W, CARD_H = 150.0, 60.0
MIN_CHIP_W, MIN_CHIP_H = 3.0, 6.0  # a long chain still shows chips, not a hairline


@dataclass(frozen=True)
class Chip:
    x: float   # top-left in scene units
    y: float
    category: str


@dataclass(frozen=True)
class GraphThumbnail:
    chips: tuple[Chip, ...]
    links: tuple[tuple[int, int], ...]   # indices into chips
    bounds: QRectF

    @classmethod
    def from_graph(cls, graph) -> "GraphThumbnail":
        index, chips = {}, []
        for node in graph.nodes.values():
            index[node.id] = len(chips)
            chips.append(Chip(float(node.pos[0]), float(node.pos[1]), _category(graph, node)))
        links = tuple((index[e.src], index[e.dst]) for e in graph.edges if e.src in index and e.dst in index)
        if chips:
            left = min(c.x for c in chips)
            top = min(c.y for c in chips)
            right = max(c.x for c in chips) + CARD_W
            bottom = max(c.y for c in chips) + CARD_H
            bounds = QRectF(left, top, right - left, bottom - top)
        else:
            bounds = QRectF()
        return cls(tuple(chips), links, bounds)

    def chip_rects(self, target: QRectF) -> list[QRectF]:
        """Where each chip lands in `target`: the graph's proportions kept, centred."""
        if not self.chips or target.isEmpty():
            return []
        scale = min(target.width() / self.bounds.width(), target.height() / self.bounds.height())
        w, h = self.bounds.width() * scale, self.bounds.height() * scale
        ox = target.left() + (target.width() - w) / 2
        oy = target.top() + (target.height() - h) / 2
        cw, ch = max(MIN_CHIP_W, CARD_W * scale), max(MIN_CHIP_H, CARD_H * scale)
        lift = (ch - CARD_H * scale) / 2  # chips grown past their card stay centred on it
        return [QRectF(ox + (c.x - self.bounds.left()) * scale, oy + (c.y - self.bounds.top()) * scale - lift,
                       cw, ch) for c in self.chips]

    def paint(self, painter: QPainter, target: QRectF, palette: QPalette | None = None):
        """Draw into `target`: edges first, then the chips over them."""
        rects = self.chip_rects(target)
        if not rects:
            return
        theme = DARK if palette is not None and palette.color(QPalette.ColorRole.Window).lightness() < 128 \
            else LIGHT
        chip_h = rects[0].height()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(theme.edge), max(0.8, min(1.5, chip_h / 10))))
        for a, b in self.links:
            painter.drawLine(rects[a].center(), rects[b].center())
        painter.setPen(Qt.PenStyle.NoPen)
        radius = min(rects[0].width(), chip_h) * 0.25
        for chip, rect in zip(self.chips, rects):
            painter.setBrush(category_color(chip.category))
            painter.drawRoundedRect(rect, radius, radius)
        painter.restore()

    def image(self, size: QSize, palette: QPalette | None = None) -> QImage:
        """The thumbnail on a transparent background (for a file or an icon)."""
        img = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
        img.fill(Qt.GlobalColor.transparent)
        painter = QPainter(img)
        self.paint(painter, QRectF(0, 0, size.width(), size.height()), palette)
        painter.end()
        return img


def _category(graph, node) -> str:
    try:
        return graph.spec(node).category
    except GraphError:
        return ""

