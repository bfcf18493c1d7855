"""The strip above the canvas: breadcrumbs (the document › the composite you are
looking into, each one a way back), a note when the inside shown is read-only,
and the zoom level with buttons to fit and lay out."""
from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

from . import theme


class CanvasHeader(QFrame):
    def __init__(self, controller, view, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.view = view
        self.setObjectName("CanvasHeader")
        self.setFrameShape(QFrame.Shape.NoFrame)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 8, 4)
        layout.setSpacing(2)
        self.crumbs = QWidget(self)
        self.crumbs_layout = QHBoxLayout(self.crumbs)
        self.crumbs_layout.setContentsMargins(0, 0, 0, 0)
        self.crumbs_layout.setSpacing(0)
        self.note = QLabel(self)
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.zoom = QToolButton(self)
        self.zoom.setAutoRaise(True)
        self.zoom.setToolTip("Zoom: click for 100 %")
        self.zoom.clicked.connect(view.zoom_reset)
        self.fit = QToolButton(self)
        self.fit.setText("Fit")
        self.fit.setAutoRaise(True)
        self.fit.setToolTip("Fit the graph in the view (F)")
        self.fit.clicked.connect(lambda: view.fit())
        self.layout_button = QToolButton(self)
        self.layout_button.setText("Tidy")
        self.layout_button.setAutoRaise(True)
        self.layout_button.setToolTip("Auto-layout the selection, or the whole graph (Ctrl+L)")
        self.layout_button.clicked.connect(view.auto_layout)
        layout.addWidget(self.crumbs)
        layout.addSpacing(12)
        layout.addWidget(self.note, 1)
        layout.addWidget(self.layout_button)
        layout.addWidget(self.fit)
        layout.addWidget(self.zoom)
        self.apply_theme()
        view.zoom_changed.connect(self._on_zoom)
        controller.scope_changed.connect(self.show_scope)
        controller.path_changed.connect(lambda _p: self.show_scope(controller.scope()))
        controller.graph_replaced.connect(lambda _g: self.show_scope(controller.scope()))
        self.show_scope(controller.scope())
        self._on_zoom(view.scale_factor())

    def apply_theme(self):
        t = theme.current()
        self.setStyleSheet(f"#CanvasHeader {{ background: {t.panel}; border-bottom: 1px solid {t.card_border}; }}"
                           f"#CanvasHeader QLabel {{ color: {t.muted}; }}")

    def _on_zoom(self, scale: float):
        self.zoom.setText(f"{scale * 100:.0f} %")

    def show_scope(self, scope):
        while self.crumbs_layout.count():
            item = self.crumbs_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()   # at once: deleteLater waits for the event loop
                item.widget().deleteLater()
        t = theme.current()
        last = len(scope.titles) - 1
        for depth, title in enumerate(scope.titles):
            if depth:
                sep = QLabel("›")
                sep.setStyleSheet(f"color: {t.muted}; padding: 0 4px;")
                self.crumbs_layout.addWidget(sep)
            button = QToolButton()
            button.setText(title)
            button.setAutoRaise(True)
            if depth == last:
                button.setStyleSheet("font-weight: 600;")
                button.setToolTip("You are here")
            else:
                button.setToolTip("Go back up to here (Esc goes up one level)")
                button.clicked.connect(lambda _=False, d=depth: self.controller.leave(d))
            self.crumbs_layout.addWidget(button)
        if scope.is_root:
            self.note.setText("")
        else:
            lock = "" if scope.editable else "read-only · "
            self.note.setText(lock + (scope.note or "editing inside your block"))
            self.note.setToolTip(self.note.text())
        self.layout_button.setEnabled(scope.editable)
