"""What the window shows with no document open: start empty, open a file, reopen a
recent one, or begin from one of the lecture's networks (the preset gallery)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout,
                               QWidget)

from . import theme


class StartScreen(QWidget):
    new_requested = Signal()
    open_requested = Signal()
    open_path = Signal(str)        # a recent file
    preset_chosen = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("StartScreen")
        outer = QHBoxLayout(self)
        outer.setContentsMargins(36, 28, 36, 20)
        outer.setSpacing(28)

        side = QVBoxLayout()
        side.setSpacing(10)
        title = QLabel("Network Designer")
        font = QFont(self.font())
        font.setPixelSize(24)
        font.setBold(True)
        title.setFont(font)
        blurb = QLabel("Wire blocks into a convolutional network and watch every tensor shape and "
                       "parameter count as you build.")
        blurb.setWordWrap(True)
        self.blurb = blurb
        self.new_button = QPushButton("New empty network")
        self.open_button = QPushButton("Open…")
        for b in (self.new_button, self.open_button):
            b.setMinimumHeight(32)
        self.new_button.clicked.connect(self.new_requested)
        self.open_button.clicked.connect(self.open_requested)
        recent_title = QLabel("Recent")
        recent_title.setStyleSheet("font-weight: 600;")
        self.recent = QListWidget()
        self.recent.setFrameShape(QListWidget.Shape.NoFrame)
        self.recent.itemActivated.connect(lambda item: self.open_path.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.no_recent = QLabel("Files you open appear here.")
        for w in (title, blurb):
            side.addWidget(w)
        side.addSpacing(14)
        side.addWidget(self.new_button)
        side.addWidget(self.open_button)
        side.addSpacing(14)
        for w in (recent_title, self.no_recent):
            side.addWidget(w)
        side.addWidget(self.recent)
        side.addStretch(1)
        side_box = QWidget()
        side_box.setLayout(side)
        side_box.setFixedWidth(300)
        outer.addWidget(side_box)

        gallery_box = QVBoxLayout()
        heading = QLabel("Start from a classic network")
        heading.setStyleSheet("font-weight: 600; font-size: 15px;")
        gallery_box.addWidget(heading)
        self.gallery = self._gallery()
        gallery_box.addWidget(self.gallery, 1)
        outer.addLayout(gallery_box, 1)
        self.apply_theme()

    def apply_theme(self):
        t = theme.current()
        self.setStyleSheet(f"#StartScreen {{ background: {t.window}; }}")
        for label in (self.blurb, self.no_recent):
            label.setStyleSheet(f"color: {t.muted};")

    def _gallery(self) -> QWidget:
        """The preset gallery; a plain list of the presets when the gallery module is absent."""
        try:
            from .preset_gallery import PresetGalleryWidget
        except ImportError:
            from designer.graph.presets import preset_names
            names = QListWidget()
            for name in preset_names():
                names.addItem(name)
            names.itemActivated.connect(lambda item: self.preset_chosen.emit(item.text()))
            return names
        gallery = PresetGalleryWidget(self)
        gallery.preset_chosen.connect(self.preset_chosen)
        return gallery

    def set_recent(self, paths: list[str]):
        self.recent.clear()
        for p in paths:
            item = QListWidgetItem(Path(p).name)
            item.setToolTip(p)
            item.setData(Qt.ItemDataRole.UserRole, p)
            self.recent.addItem(item)
        self.recent.setVisible(bool(paths))
        self.no_recent.setVisible(not paths)
