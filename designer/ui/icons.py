"""Block icons drawn with QPainter: a rounded tile in the category's colour with a
small white glyph (a kernel grid for convolution, a bell for normalisation…).

Drawn as vectors, so the same function paints the palette's icons and the
glyph on a canvas card at any zoom and any device pixel ratio.
"""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

from .theme import category_color


def paint_glyph(p: QPainter, r: QRectF, category: str, color: QColor):
    """The category's glyph inside `r`, stroked in `color`."""
    p.save()
    w = r.width()
    pen = QPen(color, max(1.0, w * 0.09), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
               Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    x0, y0 = r.left(), r.top()

    def pt(fx, fy):
        return QPointF(x0 + fx * w, y0 + fy * r.height())

    if category == "Convolution":       # a 3×3 kernel
        step = w / 3.6
        for i in range(3):
            for j in range(3):
                cx, cy = x0 + w * 0.2 + i * step, y0 + w * 0.2 + j * step
                p.fillRect(QRectF(cx, cy, step * 0.72, step * 0.72), color)
    elif category == "Pooling":         # 2×2 into 1
        s = w * 0.3
        for i in range(2):
            for j in range(2):
                p.drawRect(QRectF(x0 + w * 0.12 + i * s, y0 + w * 0.12 + j * s, s * 0.8, s * 0.8))
        p.fillRect(QRectF(x0 + w * 0.7, y0 + w * 0.62, w * 0.2, w * 0.2), color)
    elif category == "Dense":           # two fully connected columns
        left = [pt(0.22, f) for f in (0.22, 0.5, 0.78)]
        right = [pt(0.78, f) for f in (0.33, 0.67)]
        thin = QPen(pen)
        thin.setWidthF(pen.widthF() * 0.55)
        p.setPen(thin)
        for a in left:
            for b in right:
                p.drawLine(a, b)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(color)
        for c in left + right:
            p.drawEllipse(c, w * 0.09, w * 0.09)
    elif category == "Activation":      # a ReLU hinge
        path = QPainterPath(pt(0.12, 0.72))
        path.lineTo(pt(0.5, 0.72))
        path.lineTo(pt(0.88, 0.22))
        p.drawPath(path)
    elif category == "Normalization":   # a bell curve
        path = QPainterPath(pt(0.1, 0.8))
        for k in range(1, 33):
            fx = 0.1 + 0.8 * k / 32
            path.lineTo(pt(fx, 0.8 - 0.58 * math.exp(-((fx - 0.5) ** 2) / 0.025)))
        p.drawPath(path)
    elif category == "Regularization":  # dropout: some units crossed out
        for i, (fx, fy) in enumerate(((0.28, 0.3), (0.72, 0.3), (0.28, 0.7), (0.72, 0.7))):
            dropped = i in (1, 2)
            p.setBrush(Qt.BrushStyle.NoBrush if dropped else color)
            p.drawEllipse(pt(fx, fy), w * 0.12, w * 0.12)
    elif category == "Merge":           # a plus
        p.drawLine(pt(0.5, 0.2), pt(0.5, 0.8))
        p.drawLine(pt(0.2, 0.5), pt(0.8, 0.5))
    elif category == "Composite":       # stacked blocks
        for k in range(3):
            d = k * w * 0.13
            p.drawRoundedRect(QRectF(x0 + w * 0.14 + d, y0 + w * 0.42 - d, w * 0.46, w * 0.4), w * 0.06, w * 0.06)
    elif category == "Generative":      # a sparkle
        path = QPainterPath(pt(0.5, 0.12))
        for fx, fy in ((0.6, 0.4), (0.88, 0.5), (0.6, 0.6), (0.5, 0.88), (0.4, 0.6), (0.12, 0.5), (0.4, 0.4)):
            path.lineTo(pt(fx, fy))
        path.closeSubpath()
        p.setBrush(color)
        p.drawPath(path)
    else:                               # Input/Output: an arrow into a bar
        p.drawLine(pt(0.16, 0.5), pt(0.66, 0.5))
        p.drawLine(pt(0.48, 0.32), pt(0.66, 0.5))
        p.drawLine(pt(0.48, 0.68), pt(0.66, 0.5))
        p.drawLine(pt(0.82, 0.2), pt(0.82, 0.8))
    p.restore()


def paint_tile(p: QPainter, r: QRectF, category: str):
    """Rounded tile in the category colour with the white glyph."""
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(category_color(category))
    radius = r.width() * 0.24
    p.drawRoundedRect(r, radius, radius)
    inset = r.width() * 0.18
    paint_glyph(p, r.adjusted(inset, inset, -inset, -inset), category, QColor("#FFFFFF"))
    p.restore()


_cache: dict[tuple[str, int], QIcon] = {}


def category_icon(category: str, size: int = 20) -> QIcon:
    """A QIcon with 1× and 2× pixmaps so it stays crisp on high-DPI screens."""
    key = (category, size)
    if key not in _cache:
        icon = QIcon()
        for scale in (1, 2, 3):
            pm = QPixmap(size * scale, size * scale)
            pm.fill(Qt.GlobalColor.transparent)
            p = QPainter(pm)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            paint_tile(p, QRectF(1 * scale, 1 * scale, (size - 2) * scale, (size - 2) * scale), category)
            p.end()
            pm.setDevicePixelRatio(scale)
            icon.addPixmap(pm)
        _cache[key] = icon
    return _cache[key]
