"""The quick-add popup (Tab on the canvas): type a few letters, Enter adds the block
at the cursor. Matches the block's type, its category and words of its doc, best
matches first (a type starting with what was typed beats one containing it)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QSize, Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

from designer.graph.block import all_blocks

from .icons import category_icon


def rank(query: str, type_name: str, category: str, doc: str) -> int | None:
    """Lower is better; None when the entry does not match."""
    q = query.strip().lower()
    if not q:
        return 3
    name = type_name.lower()
    if name == q:
        return 0
    if name.startswith(q):
        return 1
    if q in name:
        return 2
    if category.lower().startswith(q):
        return 4
    if all(word in doc.lower() for word in q.split()):
        return 5
    return None


class QuickAddPopup(QFrame):
    chosen = Signal(str)    # a block type (or a document's own composite)

    def __init__(self, composites=(), parent=None):
        super().__init__(parent, Qt.WindowType.Popup)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("QuickAdd")
        self.entries = [(b.type, b.category, b.doc) for b in all_blocks()]
        self.entries += [(name, "Composite", "your composite") for name in composites]
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Add a block: type to search…")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setIconSize(QSize(18, 18))
        self.list.setUniformItemSizes(True)
        self.hint = QLabel("↑↓ choose · Enter add · Esc close", self)
        self.hint.setEnabled(False)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        layout.addWidget(self.hint)
        self.resize(280, 340)
        self.search.textChanged.connect(self._filter)
        self.search.installEventFilter(self)
        self.list.itemActivated.connect(self._choose)
        self._filter("")

    def _filter(self, text: str):
        self.list.clear()
        ranked = []
        for order, (name, category, doc) in enumerate(self.entries):
            r = rank(text, name, category, doc)
            if r is not None:
                ranked.append((r, order, name, category, doc))
        for _, _, name, category, doc in sorted(ranked):
            item = QListWidgetItem(category_icon(category), name)
            item.setToolTip(doc)
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def eventFilter(self, obj, event):
        if obj is self.search and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
                self.list.keyPressEvent(event)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._choose(self.list.currentItem())
                return True
        return super().eventFilter(obj, event)

    def _choose(self, item):
        if item is None:
            return
        self.close()
        self.chosen.emit(item.data(Qt.ItemDataRole.UserRole))

    def popup(self, global_pos: QPoint):
        self.move(global_pos)
        self.show()
        self.search.setFocus()
