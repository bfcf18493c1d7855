"""The drawing of a network as a picture: PNG (at twice the screen's resolution) or
SVG (vectors, for slides and papers), rendered from the canvas scene itself."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem

from . import theme

MARGIN = 32.0


def _area(scene) -> QRectF:
    rect = QRectF()
    for item in list(scene.nodes.values()) + list(scene.edges.values()):
        rect = rect.united(item.sceneBoundingRect())
    return rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)


class _Clean:
    """Selection outlines are not part of the drawing: deselect while rendering. The cards'
    screen caches are bypassed too, so that the picture is drawn as vectors at its own
    resolution rather than copied from pixmaps made for the screen."""

    def __init__(self, scene):
        self.scene = scene

    def __enter__(self):
        self.selected = self.scene.selectedItems()
        self.scene.blockSignals(True)
        for item in self.selected:
            item.setSelected(False)
        self.cached = [item for item in self.scene.nodes.values()
                       if item.cacheMode() != QGraphicsItem.CacheMode.NoCache]
        for item in self.cached:
            item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        self.far = getattr(self.scene, "far", False)   # the canvas zoomed far out: cards draw themselves
        if self.far:
            self.scene.set_far(False)

    def __exit__(self, *exc):
        if self.far:
            self.scene.set_far(True)
        for item in self.cached:
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        for item in self.selected:
            item.setSelected(True)
        self.scene.blockSignals(False)


def _render(scene, painter: QPainter, target: QRectF, source: QRectF):
    painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
    painter.fillRect(target, theme.current().color("canvas"))
    scene.render(painter, target, source, Qt.AspectRatioMode.KeepAspectRatio)


def save_png(scene, path, scale: float = 2.0) -> Path:
    source = _area(scene)
    if source.isEmpty():
        raise ValueError("the canvas is empty")
    size = QSize(max(1, int(source.width() * scale)), max(1, int(source.height() * scale)))
    if size.width() * size.height() > 400_000_000:
        raise ValueError("the drawing is too large for a PNG; export it as SVG")
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    with _Clean(scene):
        painter = QPainter(image)
        _render(scene, painter, QRectF(0, 0, size.width(), size.height()), source)
        painter.end()
    if not image.save(str(path), "PNG"):
        raise OSError(f"cannot write {path}")
    return Path(path)


def save_svg(scene, path, title: str = "") -> Path:
    source = _area(scene)
    if source.isEmpty():
        raise ValueError("the canvas is empty")
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(QSize(int(source.width()), int(source.height())))
    generator.setViewBox(QRectF(0, 0, source.width(), source.height()))
    generator.setTitle(title or "Network Designer diagram")
    generator.setDescription("Drawn by Network Designer")
    with _Clean(scene):
        painter = QPainter(generator)
        _render(scene, painter, QRectF(0, 0, source.width(), source.height()), source)
        painter.end()
    if not Path(path).is_file():
        raise OSError(f"cannot write {path}")
    return Path(path)
