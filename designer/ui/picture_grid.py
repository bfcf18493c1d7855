"""A grid of small pictures, magnified without smoothing so every kernel tap or
activation stays a visible square: the kernels of View ▸ Filters and the maps of
the feature-map panel."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from designer.introspection.filters import grid_columns


def array_to_qimage(array: np.ndarray) -> QImage:
    """H×W (grey) or H×W×3 floats in [0, 1] → a QImage that owns its pixels."""
    pixels = np.clip(np.asarray(array, dtype=np.float64) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if pixels.ndim == 2:
        pixels = np.ascontiguousarray(pixels)
        h, w = pixels.shape
        return QImage(pixels.data, w, h, w, QImage.Format_Grayscale8).copy()
    pixels = np.ascontiguousarray(pixels[..., :3])
    h, w, _ = pixels.shape
    return QImage(pixels.data, w, h, 3 * w, QImage.Format_RGB888).copy()


class PictureGrid(QWidget):
    """Square pictures in rows, each with an optional caption and tooltip; pixels are
    magnified without smoothing so every kernel tap or activation stays visible.
    Fills the width it gets and grows in height (put it in a scroll area)."""

    clicked = Signal(int)

    def __init__(self, min_tile: int = 28, max_tile: int = 96, gap: int = 6, parent: QWidget | None = None):
        super().__init__(parent)
        self.min_tile, self.max_tile, self.gap = min_tile, max_tile, gap
        self._images: list[QImage] = []
        self._captions: list[str] = []
        self._tips: list[str] = []
        self._columns_wanted = 1
        self._selected: int | None = None
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)

    def set_pictures(self, images: list[QImage], captions: list[str] | None = None,
                     tips: list[str] | None = None, columns: int | None = None) -> None:
        self._images = list(images)
        self._captions = list(captions or [])
        self._tips = list(tips or [])
        self._columns_wanted = columns or grid_columns(len(images))
        self._selected = None
        self._relayout()

    def count(self) -> int:
        return len(self._images)

    def captions(self) -> list[str]:
        return list(self._captions)

    def image(self, index: int) -> QImage:
        return self._images[index]

    def set_selected(self, index: int | None) -> None:
        self._selected = index
        self.update()

    # ---- geometry ------------------------------------------------------------------------------
    def _caption_height(self) -> int:
        return self.fontMetrics().height() + 2 if self._captions else 0

    def layout_for(self, width: int) -> tuple[int, int]:
        """(columns, tile size) that fit `width`."""
        n = max(1, len(self._images))
        usable = max(1, width - self.gap)
        tile = usable // self._columns_wanted - self.gap
        tile = max(self.min_tile, min(self.max_tile, tile))
        columns = max(1, min(n, usable // (tile + self.gap)))
        return columns, tile

    def tile_rect(self, index: int) -> QRect:
        columns, tile = self.layout_for(self.width())
        r, c = divmod(index, columns)
        cell_h = tile + self._caption_height() + self.gap
        used = columns * (tile + self.gap) - self.gap
        left = max(self.gap, (self.width() - used) // 2)
        return QRect(left + c * (tile + self.gap), self.gap + r * cell_h, tile, tile)

    def _height_for(self, width: int) -> int:
        if not self._images:
            return 0
        columns, tile = self.layout_for(width)
        rows = -(-len(self._images) // columns)
        return self.gap + rows * (tile + self._caption_height() + self.gap)

    def _relayout(self) -> None:
        self.setMinimumHeight(self._height_for(max(self.width(), 1)))
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        columns = self._columns_wanted
        width = self.gap + columns * (min(self.max_tile, 64) + self.gap)
        return QSize(width, self._height_for(width))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        height = self._height_for(event.size().width())
        if height != self.minimumHeight():
            self.setMinimumHeight(height)

    # ---- events --------------------------------------------------------------------------------
    def index_at(self, pos) -> int | None:
        for i in range(len(self._images)):
            if self.tile_rect(i).contains(pos):
                return i
        return None

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        index = self.index_at(event.position().toPoint())
        if index is not None and event.button() == Qt.LeftButton:
            self.set_selected(index)
            self.clicked.emit(index)

    def event(self, event) -> bool:
        if event.type() == event.Type.ToolTip:
            index = self.index_at(event.pos())
            if index is not None and index < len(self._tips):
                self.setToolTip(self._tips[index])
            else:
                self.setToolTip("")
        return super().event(event)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.SmoothPixmapTransform, False)
        text = self.palette().windowText().color()
        caption_font = QFont(self.font())
        for i, image in enumerate(self._images):
            rect = self.tile_rect(i)
            if not rect.intersects(event.rect().adjusted(0, -rect.height() - 20, 0, 20)):
                continue
            painter.drawImage(self._fitted(rect, image), image)
            pen = QPen(QColor("#2F6FEB") if i == self._selected else QColor(128, 128, 128, 110),
                       2 if i == self._selected else 1)
            painter.setPen(pen)
            painter.drawRect(rect.adjusted(0, 0, -1, -1))
            if i < len(self._captions):
                painter.setPen(text)
                painter.setFont(caption_font)
                below = QRect(rect.left() - self.gap // 2, rect.bottom() + 1, rect.width() + self.gap,
                              self._caption_height())
                painter.drawText(below, Qt.AlignHCenter | Qt.AlignTop,
                                 self.fontMetrics().elidedText(self._captions[i], Qt.ElideRight, below.width()))
        painter.end()

    @staticmethod
    def _fitted(rect: QRect, image: QImage) -> QRectF:
        """The largest rectangle of the image's aspect inside the square tile."""
        if image.width() == image.height():
            return QRectF(rect)
        scale = min(rect.width() / image.width(), rect.height() / image.height())
        w, h = image.width() * scale, image.height() * scale
        return QRectF(QPointF(rect.center().x() - w / 2 + 0.5, rect.center().y() - h / 2 + 0.5), QSize(w, h))
