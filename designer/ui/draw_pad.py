"""A small square to draw a digit on with the mouse, white ink on black like the
digit scans, at the resolution the network reads (28×28 or 32×32)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

BRUSH_RADIUS = 1.4  # in cells: a stroke about as thick as a pen line on a 28×28 scan


class DrawPad(QWidget):
    """Left button draws, right button erases. `drawn` carries the grid (a copy, H×W
    floats in [0, 1]) when a stroke ends."""

    drawn = Signal(object)

    def __init__(self, size: int = 28, parent: QWidget | None = None):
        super().__init__(parent)
        self._grid = np.zeros((size, size), np.float32)
        self._last: QPointF | None = None
        self._erasing = False
        self.setMinimumSize(112, 112)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setCursor(Qt.CrossCursor)
        self.setToolTip("Draw with the left mouse button, erase with the right one")

    # ---- the grid ---------------------------------------------------------------------------
    def grid(self) -> np.ndarray:
        return self._grid.copy()

    def set_grid_size(self, size: int) -> None:
        if size != self._grid.shape[0]:
            self._grid = np.zeros((size, size), np.float32)
            self.update()

    def clear(self) -> None:
        self._grid[:] = 0
        self.update()
        self.drawn.emit(self.grid())

    def set_grid(self, grid) -> None:
        array = np.clip(np.asarray(grid, np.float32), 0.0, 1.0)
        if array.ndim != 2 or array.shape[0] != array.shape[1]:
            raise ValueError("a drawing is a square grid")
        self._grid = array.copy()
        self.update()
        self.drawn.emit(self.grid())

    def stroke(self, points, erase: bool = False) -> None:
        """Draw through `points` given in cells (row, column), as a mouse drag would."""
        cells = [QPointF(c, r) for r, c in points]
        for a, b in zip(cells, cells[1:] or cells):
            self._paint_segment(a, b, erase)
        self.update()
        self.drawn.emit(self.grid())

    # ---- painting on the grid -----------------------------------------------------------------
    def _cell_size(self) -> float:
        return min(self.width(), self.height()) / self._grid.shape[0]

    def _origin(self) -> QPointF:
        side = self._cell_size() * self._grid.shape[0]
        return QPointF((self.width() - side) / 2, (self.height() - side) / 2)

    def _to_cells(self, pos: QPointF) -> QPointF:
        o, cell = self._origin(), self._cell_size()
        return QPointF((pos.x() - o.x()) / cell, (pos.y() - o.y()) / cell)

    def _paint_segment(self, a: QPointF, b: QPointF, erase: bool) -> None:
        n = self._grid.shape[0]
        length = max(abs(b.x() - a.x()), abs(b.y() - a.y()))
        steps = max(1, int(length * 3))
        yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) + 0.5
        for k in range(steps + 1):
            t = k / steps
            x, y = a.x() + (b.x() - a.x()) * t, a.y() + (b.y() - a.y()) * t
            d2 = (xx - x) ** 2 + (yy - y) ** 2
            # a soft-edged round brush, like the anti-aliased strokes of a scan
            ink = np.clip(1.0 - (np.sqrt(d2) - BRUSH_RADIUS + 0.5), 0.0, 1.0)
            if erase:
                self._grid = np.minimum(self._grid, 1.0 - ink)
            else:
                self._grid = np.maximum(self._grid, ink)

    # ---- Qt events ----------------------------------------------------------------------------
    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(168, 168)

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if event.button() not in (Qt.LeftButton, Qt.RightButton):
            return
        self._erasing = event.button() == Qt.RightButton
        self._last = self._to_cells(event.position())
        self._paint_segment(self._last, self._last, self._erasing)
        self.update()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self._last is None:
            return
        here = self._to_cells(event.position())
        self._paint_segment(self._last, here, self._erasing)
        self._last = here
        self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self._last is None:
            return
        self._last = None
        self.drawn.emit(self.grid())

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        n = self._grid.shape[0]
        pixels = np.ascontiguousarray((self._grid * 255).astype(np.uint8))
        image = QImage(pixels.data, n, n, n, QImage.Format_Grayscale8)
        painter = QPainter(self)
        o, cell = self._origin(), self._cell_size()
        side = cell * n
        painter.fillRect(self.rect(), self.palette().window())
        painter.drawImage(QPointF(o.x(), o.y()).toPoint(), image.scaled(int(side), int(side)))
        painter.setPen(QPen(QColor(128, 128, 128), 1))
        painter.drawRect(int(o.x()), int(o.y()), int(side) - 1, int(side) - 1)
        painter.end()
