"""The minimap: the whole network, small, in the canvas's lower right corner, with the
part the view shows outlined. Shown only while the network is larger than the view;
a click or a drag on it moves the view there.

It draws the same batched tiles and links as the canvas's far layer
(canvas/overview.py) into a picture kept until the network changes, so panning
and zooming only draw that picture and the outline of the view.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap, QTransform
from PySide6.QtWidgets import QWidget

from . import theme
from .canvas.overview import paint_batches

SIZE = (220, 140)
SHOWN_BELOW = 0.6   # shown while the view shows less than this share of the network
MARGIN = 12
PAD = 8.0


class Minimap(QWidget):
    def __init__(self, view):
        super().__init__(view)
        self.view = view
        self.setFixedSize(*SIZE)
        # opaque: Qt need not repaint the canvas under it each time it is drawn
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("The whole network: click or drag to move the view")
        self.hide()
        self._content_timer = QTimer(self, singleShot=True, interval=150)   # edits come in bursts
        self._content_timer.timeout.connect(self._content_changed)
        self._picture: QPixmap | None = None
        view.zoom_changed.connect(self.refresh)
        view.horizontalScrollBar().valueChanged.connect(self.refresh)
        view.verticalScrollBar().valueChanged.connect(self.refresh)
        view.canvas.drawing_changed.connect(self._content_timer.start)
        view.canvas.scope_shown.connect(self._content_timer.start)

    # ---- geometry -------------------------------------------------------------------------------
    def place(self):
        """In the view's lower right corner (the view calls this when it is resized)."""
        self.move(self.view.width() - self.width() - MARGIN, self.view.height() - self.height() - MARGIN)

    def shown_area(self) -> QRectF:
        """The part of the scene the view shows."""
        return self.view.mapToScene(self.view.viewport().rect()).boundingRect()

    def network_area(self) -> QRectF:
        scene = self.view.canvas
        return scene.far_layer.current().bounds() if scene.nodes else QRectF()

    def _transform(self, area: QRectF) -> QTransform:
        inner = QRectF(self.rect()).adjusted(PAD, PAD, -PAD, -PAD)
        s = min(inner.width() / max(area.width(), 1.0), inner.height() / max(area.height(), 1.0))
        t = QTransform()
        t.translate(inner.center().x() - area.center().x() * s, inner.center().y() - area.center().y() * s)
        t.scale(s, s)
        return t

    def _content_changed(self):
        self._picture = None
        self.refresh()

    def refresh(self):
        """Show while the network does not fit the view, and draw afresh."""
        area = self.network_area()
        seen = self.shown_area().intersected(area)
        # a network cut off at an edge only is not lost: the map comes when most of it is out of view
        wanted = len(self.view.canvas.nodes) > 1 and not area.isEmpty() and \
            seen.width() * seen.height() < SHOWN_BELOW * area.width() * area.height()
        if wanted != self.isVisible():
            self.setVisible(wanted)
            if wanted:
                self.place()
                self.raise_()
        if wanted:
            self.update()

    # ---- drawing --------------------------------------------------------------------------------
    def paintEvent(self, event):
        t = theme.current()
        area = self.network_area()
        transform = self._transform(area)
        ratio = self.devicePixelRatioF()
        if self._picture is None or self._picture.devicePixelRatio() != ratio:
            picture = QPixmap(round(self.width() * ratio), round(self.height() * ratio))
            picture.setDevicePixelRatio(ratio)
            picture.fill(t.color("card"))
            p = QPainter(picture)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(QPen(t.color("card_border"), 1))
            p.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))
            if not area.isEmpty():
                p.setTransform(transform)
                paint_batches(p, self.view.canvas.far_layer.current(), transform.m11(), outlines=False)
            p.end()
            self._picture = picture
        p = QPainter(self)
        p.drawPixmap(0, 0, self._picture)
        if area.isEmpty():
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        shown = transform.mapRect(self.shown_area()).intersected(QRectF(self.rect()).adjusted(1, 1, -1, -1))
        accent = QColor(t.accent)
        p.setPen(QPen(accent, 1.5))
        accent.setAlphaF(0.12)
        p.setBrush(accent)
        p.drawRect(shown)
        p.end()

    # ---- moving the view ------------------------------------------------------------------------
    def scene_point(self, point: QPointF) -> QPointF:
        inverse, _ = self._transform(self.network_area()).inverted()
        return inverse.map(point)

    def mousePressEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton:
            self.view.centerOn(self.scene_point(event.position()))
            event.accept()

    def mouseMoveEvent(self, event):
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.view.centerOn(self.scene_point(event.position()))
            event.accept()
