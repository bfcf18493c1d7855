"""Two small windows of the Help and Edit menus: the keyboard shortcuts, and the
undo history."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QPalette
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QLineEdit, QListWidget, QMenu,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

OTHER = "Other"


def plain_text(text: str) -> str:
    """A menu text without its mnemonic marks: '&Open…' → 'Open…', '&&' → '&'."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def _menu_of(action: QAction) -> str:
    for owner in action.associatedObjects():
        if isinstance(owner, QMenu):
            return plain_text(owner.title()) or OTHER
    return OTHER


def _collect(source) -> list[tuple[str, QAction]]:
    """(menu title, action) for each action of a menu bar, menus, widgets or actions."""
    if isinstance(source, QWidget):  # a menu bar, a menu, a window
        items = source.actions()
    else:
        items = list(source)
    found: list[tuple[str, QAction]] = []
    for item in items:
        if isinstance(item, QMenu):
            found += _collect(item)
        elif isinstance(item, QAction) and item.menu() is not None:
            found += _collect(item.menu())
        elif isinstance(item, QAction) and not item.isSeparator():
            found.append((_menu_of(item), item))
    return found


class ShortcutsDialog(QDialog):
    """Help ▸ Keyboard Shortcuts: every action that has one, grouped by its menu, written
    the way this platform writes keys (Ctrl+S here, ⌘S on a Mac)."""

    def __init__(self, actions, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Action", "Shortcut"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setStretchLastSection(True)  # the keys take the rest (Redo has three here)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by action or key")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self._fill(actions)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.filter)
        lay.addWidget(self.tree, 1)
        lay.addWidget(buttons)
        self.resize(540, 600)

    def _fill(self, actions):
        groups: dict[str, list[tuple[str, str]]] = {}
        seen: set[int] = set()
        for menu, action in _collect(actions):
            if id(action) in seen or not action.shortcuts():
                continue
            seen.add(id(action))
            keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts())
            groups.setdefault(menu, []).append((plain_text(action.text()), keys))
        bold = self.font()
        bold.setBold(True)
        for menu, rows in groups.items():
            head = QTreeWidgetItem(self.tree, [menu, ""])
            head.setFirstColumnSpanned(True)
            head.setFont(0, bold)
            head.setFlags(Qt.ItemFlag.ItemIsEnabled)
            for text, keys in rows:
                QTreeWidgetItem(head, [text, keys])
        self.tree.expandAll()
        # every action name fits (the view's own measure sees only the rows on screen)
        fm = self.tree.fontMetrics()
        widest = max((fm.horizontalAdvance(text) for rows in groups.values() for text, _ in rows), default=0)
        self.tree.setColumnWidth(0, widest + self.tree.indentation() + 24)
        if not groups:
            QTreeWidgetItem(self.tree, ["No shortcuts are defined.", ""])

    def rows(self) -> list[tuple[str, str, str]]:
        """(menu, action text, shortcut) as listed, for checks."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            head = self.tree.topLevelItem(i)
            for j in range(head.childCount()):
                child = head.child(j)
                out.append((head.text(0), child.text(0), child.text(1)))
        return out

    def _apply_filter(self, text: str):
        words = text.lower().split()
        for i in range(self.tree.topLevelItemCount()):
            head = self.tree.topLevelItem(i)
            visible = 0
            for j in range(head.childCount()):
                child = head.child(j)
                hay = f"{head.text(0)} {child.text(0)} {child.text(1)}".lower()
                hide = not all(w in hay for w in words)
                child.setHidden(hide)
                visible += not hide
            head.setHidden(visible == 0)


class HistoryDialog(QDialog):
    """Edit ▸ History: every step of the document's undo history; clicking one goes back
    (or forward) to it. Row 0 is the document as opened."""

    EMPTY = "Opened document"

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.setWindowTitle("History")
        self.controller = controller
        self.view = QListWidget()
        self.view.currentRowChanged.connect(self._go_to)
        controller.history_changed.connect(self._fill)
        note = QLabel("Click a step to return the document to that point; later steps stay "
                      "available until a new edit is made.")
        note.setWordWrap(True)
        note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(note)
        lay.addWidget(self.view, 1)
        lay.addWidget(buttons)
        self._fill()
        self.resize(360, 480)

    def rows(self) -> list[str]:
        return [self.view.item(i).text() for i in range(self.view.count())]

    def _fill(self):
        history = self.controller.history
        self.view.blockSignals(True)
        self.view.clear()
        self.view.addItem(self.EMPTY)
        for i in range(history.count):
            self.view.addItem(history.text(i))
        self.view.setCurrentRow(history.index)
        self.view.blockSignals(False)

    def _go_to(self, row: int):
        if row >= 0 and self.controller is not None:
            self.controller.history.set_index(row)

    def done(self, result: int):
        if self.controller is not None:   # no dead observer after closing
            self.controller.history_changed.disconnect(self._fill)
            self.controller = None
        super().done(result)
