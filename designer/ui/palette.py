"""The block palette: every block of the catalog by category, with its icon and a
filter box; the document's own composites and the personal block library below.
Drag an entry onto the canvas, or double-click it to add it at the view's centre."""
from __future__ import annotations

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QAbstractItemView, QLineEdit, QMenu, QTreeWidget, QTreeWidgetItem, QVBoxLayout,
                               QWidget)

from designer.graph.block import CATEGORIES, all_blocks

from .icons import category_icon
from .mime import BLOCK_MIME, LIBRARY_PREFIX

PAYLOAD = Qt.ItemDataRole.UserRole
SEARCH_TEXT = Qt.ItemDataRole.UserRole + 1
DOCUMENT_SECTION = "In this document"
LIBRARY_SECTION = "My blocks"

CATEGORY_HELP = {
    "Input": "Where data enters and results leave the network.",
    "Convolution": "Learned filters slid over the image.",
    "Pooling": "Shrink the image: max or average of each window; padding.",
    "Dense": "Fully connected layers and reshaping.",
    "Activation": "Non-linearities applied element by element.",
    "Normalization": "Batch and local response normalisation.",
    "Regularization": "Dropout.",
    "Merge": "Join branches: add (skip connections) or concatenate.",
    "Composite": "Blocks made of blocks: Inception, residual blocks.",
    "Generative": "Upsampling and the VAE's reparameterisation.",
}


class PaletteTree(QTreeWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setIndentation(8)
        self.setIconSize(QSize(20, 20))
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setUniformRowHeights(True)
        self.setAnimated(True)
        self.setFrameShape(QTreeWidget.Shape.NoFrame)

    def supportedDropActions(self):
        # a copy, never a move: a "moved" entry would be taken out of the palette
        return Qt.DropAction.CopyAction

    def mimeTypes(self):
        return [BLOCK_MIME]

    def mimeData(self, items):
        payloads = [i.data(0, PAYLOAD) for i in items if i.data(0, PAYLOAD)]
        if not payloads:
            return None
        md = QMimeData()
        md.setData(BLOCK_MIME, payloads[0].encode("utf-8"))
        return md


class PaletteWidget(QWidget):
    block_activated = Signal(str)          # a payload: block type, composite name or library:<name>
    remove_from_library = Signal(str)

    def __init__(self, controller, library=None, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.library = library
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.setSpacing(6)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter blocks…")
        self.filter.setClearButtonEnabled(True)
        self.tree = PaletteTree(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree)
        self._sections: dict[str, QTreeWidgetItem] = {}
        self._composite_names: tuple = ()
        self._build_catalog()
        self.refresh_user_blocks()
        self.filter.textChanged.connect(self.apply_filter)
        self.filter.returnPressed.connect(self._activate_first)
        self.tree.itemActivated.connect(self._activated)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        controller.analysis_changed.connect(lambda _a: self.refresh_user_blocks())
        controller.graph_replaced.connect(lambda _g: self.refresh_user_blocks())

    def _section(self, title: str, help_text: str = "") -> QTreeWidgetItem:
        item = QTreeWidgetItem([title])
        font = QFont(self.font())
        font.setBold(True)
        item.setFont(0, font)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        item.setToolTip(0, help_text)
        self.tree.addTopLevelItem(item)
        item.setExpanded(True)
        self._sections[title] = item
        return item

    def _entry(self, parent: QTreeWidgetItem, text: str, category: str, payload: str, tip: str, search: str):
        item = QTreeWidgetItem([text])
        item.setIcon(0, category_icon(category))
        item.setData(0, PAYLOAD, payload)
        item.setData(0, SEARCH_TEXT, search.lower())
        item.setToolTip(0, tip)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
        parent.addChild(item)
        return item

    def _build_catalog(self):
        by_category: dict[str, list] = {}
        for spec in all_blocks():
            by_category.setdefault(spec.category, []).append(spec)
        for category in [c for c in CATEGORIES if c in by_category] + \
                [c for c in by_category if c not in CATEGORIES]:
            section = self._section(category, CATEGORY_HELP.get(category, ""))
            for spec in by_category[category]:
                tip = f"<b>{spec.type}</b><br>{spec.doc}<br><span style='color:gray'>drag onto the canvas, " \
                      f"or double-click</span>"
                self._entry(section, spec.title or spec.type, category, spec.type, tip,
                            f"{spec.type} {spec.title} {category} {spec.doc}")

    def refresh_user_blocks(self):
        """The document's composites and the library (rebuilt only when their names change)."""
        doc_names = tuple(sorted(self.controller.graph.composites))
        lib_names = tuple(self.library.names()) if self.library is not None else ()
        if (doc_names, lib_names) == self._composite_names:
            return
        self._composite_names = (doc_names, lib_names)
        for title, names, prefix in ((DOCUMENT_SECTION, doc_names, ""), (LIBRARY_SECTION, lib_names, LIBRARY_PREFIX)):
            section = self._sections.get(title)
            if section is not None:
                self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(section))
                del self._sections[title]
            if not names:
                continue
            help_text = "Composites made in this document (Group, Ctrl+G)." if not prefix else \
                "Your own blocks, kept across documents. Save one from its context menu."
            section = self._section(title, help_text)
            for name in names:
                if prefix:
                    definition = self.library.blocks[name]
                    doc = definition.doc or "your block"
                else:
                    doc = self.controller.graph.composites[name].doc or "a composite of this document"
                self._entry(section, name, "Composite", prefix + name, f"<b>{name}</b><br>{doc}", f"{name} {doc}")
        self.apply_filter(self.filter.text())

    def apply_filter(self, text: str):
        words = text.lower().split()
        for i in range(self.tree.topLevelItemCount()):
            section = self.tree.topLevelItem(i)
            section_match = all(w in section.text(0).lower() for w in words) if words else True
            shown = 0
            for j in range(section.childCount()):
                child = section.child(j)
                visible = section_match or all(w in child.data(0, SEARCH_TEXT) for w in words)
                child.setHidden(not visible)
                shown += visible
            section.setHidden(shown == 0)
            if words:
                section.setExpanded(True)

    def _entries(self):
        """(section, entry) for every block listed, top to bottom."""
        for i in range(self.tree.topLevelItemCount()):
            section = self.tree.topLevelItem(i)
            for j in range(section.childCount()):
                yield section, section.child(j)

    def entry(self, payload: str) -> QTreeWidgetItem | None:
        """The palette item that adds `payload` (used by tests and by keyboard navigation)."""
        return next((item for _, item in self._entries() if item.data(0, PAYLOAD) == payload), None)

    def _activate_first(self):
        """Enter in the filter box adds the first block still shown."""
        shown = next((item for section, item in self._entries() if not section.isHidden() and not item.isHidden()),
                     None)
        if shown is not None:
            self._activated(shown)

    def _activated(self, item: QTreeWidgetItem):
        payload = item.data(0, PAYLOAD)
        if payload:
            self.block_activated.emit(payload)

    def _context_menu(self, point):
        item = self.tree.itemAt(point)
        payload = item.data(0, PAYLOAD) if item is not None else None
        if not payload:
            return
        menu = QMenu(self)
        menu.addAction("Add to canvas", lambda: self.block_activated.emit(payload))
        if payload.startswith(LIBRARY_PREFIX):
            name = payload[len(LIBRARY_PREFIX):]
            menu.addAction(f"Remove {name} from My blocks", lambda: self.remove_from_library.emit(name))
        menu.exec(self.tree.viewport().mapToGlobal(point))
