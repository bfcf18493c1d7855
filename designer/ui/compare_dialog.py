"""File ▸ Compare With…: this document against another file, a preset, or its own last
saved version. Two read-only drawings one above the other, before (the other) and now
(this document), with the added, removed and changed blocks outlined in their colours, and the
delta table of designer.graph.diff beneath; clicking a row selects its block in both
drawings and, when it is a block of this document, in the editor too.

The drawings are made of the canvas's own cards and links, in a scene of their own: the
dialog draws copies, so editing the document while it is open changes nothing here
until Compare is pressed again.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDialog, QDialogButtonBox, QFileDialog,
                               QGraphicsEllipseItem, QGraphicsPathItem, QGraphicsScene,
                               QGraphicsSimpleTextItem, QGraphicsView, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from designer.graph.diff import GraphDiff, diff_graphs, inside_at, level_of, signed
from designer.graph.errors import GraphError
from designer.graph.format import count
from designer.graph.layout import layered_positions
from designer.graph.presets import preset_names

from . import document_files, theme
from .canvas.edge_item import link_cards
from .canvas.node_item import RADIUS, NodeItem

SAVED = "saved"            # the source "the last saved version of this document"
OTHER_FILE = "file"        # the source "another file…"
COLUMNS = ("Change", "Block", "Type", "What changed", "Params Δ", "Mult-adds Δ")
SIGN = {"added": "+", "removed": "−", "changed": "~"}
READABLE = 0.6     # the least zoom at which a card still shows its settings and shape


def status_colour(status: str) -> str:
    t = theme.current()
    return {"added": t.ok, "removed": t.error, "changed": t.warning}.get(status, t.muted)


class DiffDrawing(QGraphicsView):
    """One side: the network's top level as cards, each outlined in the colour of its change."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setBackgroundBrush(QBrush(QColor(theme.current().window)))
        self.nodes: dict[str, NodeItem] = {}
        self.marks: dict[str, str] = {}      # node id -> its status
        self._outlines: dict[str, QGraphicsPathItem] = {}

    def show_graph(self, graph, statuses: dict[str, str], analysis=None) -> None:
        """Draw `graph` (None: nothing, this side has no such level) with its analysis."""
        scene = self.scene()
        scene.clear()
        self.nodes.clear()
        self._outlines.clear()
        if graph is None:
            self.marks = {}
            return
        self.marks = {i: s for i, s in statuses.items() if s and i in graph.nodes}
        analysis = analysis if analysis is not None else graph.analyze()
        positions = {i: n.pos for i, n in graph.nodes.items()}
        if len(set(positions.values())) < len(positions):   # never laid out (an imported network)
            positions = layered_positions(graph)
        for node_id, node in graph.nodes.items():
            item = NodeItem(graph, node, editable=False)
            item.setPos(QPointF(*positions[node_id]))
            item.set_info(analysis.nodes.get(node_id))
            scene.addItem(item)
            self.nodes[node_id] = item
            if node_id in self.marks:
                self._outline(node_id, item, self.marks[node_id])
        link_cards(scene, graph, self.nodes, analysis)
        self.fit()

    def _outline(self, node_id: str, item: NodeItem, status: str) -> None:
        path = QPainterPath()
        path.addRoundedRect(item.card_rect().adjusted(-5, -5, 5, 5), RADIUS + 4, RADIUS + 4)
        outline = QGraphicsPathItem(path, item)
        colour = QColor(status_colour(status))
        outline.setPen(QPen(colour, 4))
        fill = QColor(colour)
        fill.setAlpha(40)
        outline.setBrush(QBrush(fill))
        outline.setFlag(QGraphicsPathItem.GraphicsItemFlag.ItemStacksBehindParent)
        outline.setToolTip(status)
        self._outlines[node_id] = outline
        # a badge with the change's sign, so that the outline is not read as a category colour
        corner = item.card_rect().topRight()
        badge = QGraphicsEllipseItem(QRectF(corner.x() - 9, corner.y() - 13, 22, 22), item)
        badge.setPen(QPen(QColor("#FFFFFF"), 2))
        badge.setBrush(QBrush(colour))
        sign = QGraphicsSimpleTextItem(SIGN[status], badge)
        font = QFont()
        font.setPixelSize(16)
        font.setBold(True)
        sign.setFont(font)
        sign.setBrush(QBrush(QColor("#FFFFFF")))
        box = sign.boundingRect()
        sign.setPos(corner.x() + 2 - box.width() / 2, corner.y() - 2 - box.height() / 2)

    def outline_colour(self, node_id: str) -> str:
        """The colour a card is outlined in ("" when it is not)."""
        outline = self._outlines.get(node_id)
        return outline.pen().color().name().upper() if outline is not None else ""

    def select(self, node_id: str | None) -> None:
        for item in self.scene().selectedItems():
            item.setSelected(False)
        item = self.nodes.get(node_id) if node_id else None
        if item is not None:
            item.setSelected(True)
            self.centerOn(item)

    def selected_ids(self) -> list[str]:
        return [i for i, item in self.nodes.items() if item.isSelected()]

    def fit(self) -> None:
        rect = QRectF()
        for item in self.nodes.values():
            rect = rect.united(item.sceneBoundingRect())
        if rect.isEmpty():
            return
        rect = rect.adjusted(-30, -30, 30, 30)
        self.scene().setSceneRect(rect)
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.transform().m11() < READABLE:   # a long network: readable cards, scrolled to the first change
            self.resetTransform()
            self.scale(READABLE, READABLE)
            first = next((self.nodes[i] for i in self.nodes if i in self.marks), None)
            if first is not None:
                self.centerOn(first)
            else:
                self.ensureVisible(QRectF(rect.topLeft(), rect.topLeft() + QPointF(1, 1)))
        elif self.transform().m11() > 1.0:
            self.resetTransform()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit()


class CompareDialog(QDialog):
    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle(f"Compare {controller.title}")
        self.resize(1200, 820)
        self.diff: GraphDiff | None = None
        self.other_name = ""
        self.other_graph = None
        self.now_graph = None
        self.levels = ("", "")   # the composite insides drawn: (before, now); "" the top levels

        self.source = QComboBox()
        self.source.setMinimumWidth(260)
        if controller.path is not None:
            self.source.addItem(f"The last saved version of {Path(controller.path).name}", SAVED)
        for name in preset_names():
            self.source.addItem(f"Preset {name}", name)
        self.source.addItem("Another file…", OTHER_FILE)
        self.compare_button = QPushButton("Compare")
        self.compare_button.clicked.connect(self._compare_chosen)
        self.source.activated.connect(lambda _i: self._compare_chosen())
        self.up_button = QPushButton("Back to the Top Level")
        self.up_button.setToolTip("The drawings show the inside of a composite; show the whole networks again")
        self.up_button.clicked.connect(lambda: self.show_level("", ""))
        self.up_button.hide()
        self.problem = QLabel()
        self.problem.setStyleSheet(f"color: {theme.current().error};")
        self.problem.hide()
        top = QHBoxLayout()
        top.addWidget(QLabel("Compare this document with"))
        top.addWidget(self.source, 1)
        top.addWidget(self.compare_button)
        top.addWidget(self.up_button)

        self.before = DiffDrawing()
        self.now = DiffDrawing()
        self.before_title, self.now_title = QLabel("Before"), QLabel("Now")
        for label in (self.before_title, self.now_title):
            label.setStyleSheet("font-weight: bold;")
        drawings = QSplitter(Qt.Orientation.Vertical)   # networks read left to right: one above the other
        for title, view in ((self.before_title, self.before), (self.now_title, self.now)):
            side = QWidget()
            column = QVBoxLayout(side)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(title)
            column.addWidget(view, 1)
            drawings.addWidget(side)

        self.totals = QLabel()
        self.totals.setWordWrap(True)
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        t = theme.current()
        self.legend = QLabel(" ".join(f"<span style='color:{status_colour(s)}'>■</span> {s}"
                                      for s in ("added", "removed", "changed")))
        self.legend.setStyleSheet(f"color: {t.muted};")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for k in range(len(COLUMNS)):
            header.setSectionResizeMode(k, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._on_row)
        foot = QHBoxLayout()
        foot.addWidget(self.totals, 1)
        foot.addWidget(self.legend)
        lower = QWidget()
        lc = QVBoxLayout(lower)
        lc.setContentsMargins(0, 0, 0, 0)
        lc.addLayout(foot)
        lc.addWidget(self.table, 1)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(drawings)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.problem)
        layout.addWidget(split, 1)
        layout.addWidget(buttons)

    # ---- what to compare with ---------------------------------------------------------------------
    def _compare_chosen(self) -> None:
        choice = self.source.currentData()
        if choice == SAVED:
            self.compare_with(self.controller.path, f"{Path(self.controller.path).name} as saved")
        elif choice == OTHER_FILE:
            start = str(self.controller.path.parent) if self.controller.path else str(Path.home())
            path, _ = QFileDialog.getOpenFileName(self, "Compare With", start, document_files.DOCUMENT_FILTER)
            if path:
                self.compare_with(path)
        elif choice:
            self.compare_with(choice)

    def compare_with(self, source, name: str = "") -> bool:
        """Compare with a preset name or a file; False (the reason shown) when it cannot be read."""
        try:   # drawn as the window would draw it: a preset laid out for the canvas, like this document
            other = document_files.load_document(source)
        except (GraphError, OSError, ValueError) as exc:
            self._problem(f"Cannot compare: {exc}")
            return False
        self.show_diff(other.graph, name or Path(str(source)).name)
        saved = self.controller.path is not None and Path(str(source)) == Path(self.controller.path)
        index = self.source.findData(SAVED if saved else str(source))
        if index >= 0:
            self.source.setCurrentIndex(index)
        return True

    def show_diff(self, other_graph, other_name: str) -> None:
        """Draw `other_graph` (before) against this document as it is now."""
        self._problem("")
        self.other_name = other_name
        self.other_graph = other_graph
        self.now_graph = self.controller.graph.copy()
        self.diff = d = diff_graphs(other_graph, self.now_graph)
        self.show_level("", "")
        if d.same:
            summary = "Nothing changed."
        else:
            summary = f"{len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed."
        self.totals.setText(f"{summary}  Parameters {count(d.old_params)} → {count(d.new_params)} "
                            f"({signed(d.params_delta)}), multiply-adds {count(d.old_macs)} → {count(d.new_macs)} "
                            f"({signed(d.macs_delta)})")
        self._fill_table(d)

    def show_level(self, before: str, now: str) -> None:
        """Draw the insides at these levels (`features/`; "" the networks themselves), each
        block outlined by what happened to it or inside it."""
        d = self.diff
        self.levels = (before, now)
        for view, graph, level, side, title, name, params in (
                (self.before, self.other_graph, before, "old", self.before_title, self.other_name, d.old_params),
                (self.now, self.now_graph, now, "new", self.now_title, self.controller.title, d.new_params)):
            found = inside_at(graph, level)
            inside, analysis = found if found is not None else (None, None)
            statuses = {i: d.status_of(i, side, level) for i in inside.nodes} if inside is not None else {}
            view.show_graph(inside, statuses, analysis)
            where = f" ▸ {level.rstrip('/').replace('/', ' ▸ ')}" if level else ""
            missing = "  (not in this network)" if inside is None else ""
            title.setText(f"{'Before' if side == 'old' else 'Now'}: {name}{where}{missing}"
                          + (f"  ({count(params)} parameters)" if not level else ""))
        self.up_button.setVisible(bool(before or now))

    def _fill_table(self, d: GraphDiff) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        for entry in d.entries():
            row = self.table.rowCount()
            self.table.insertRow(row)
            cells = (entry.status, entry.id, entry.type, entry.describe(), signed(entry.params_delta),
                     signed(entry.macs_delta))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col >= 4:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if col == 0:
                    item.setForeground(QColor(status_colour(entry.status)))
                    item.setData(Qt.ItemDataRole.UserRole, row)
                self.table.setItem(row, col, item)
        self.table.blockSignals(False)

    def _problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    # ---- a row selects its card -------------------------------------------------------------------
    def _on_row(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or self.diff is None:
            return
        self.select_entry(rows[0].row())

    def select_entry(self, index: int) -> None:
        """Show the level the entry lies at (a composite's inside for `features/16`) and
        select its block on each side that has it, and in the editor its top-level block."""
        entry = self.diff.entries()[index]
        new_path = _block_path(entry.id) if entry.status != "removed" else ""
        old_path = _block_path(entry.old_path) if entry.status != "added" else ""
        levels = (level_of(old_path or new_path), level_of(new_path or old_path))
        if levels != self.levels:
            self.show_level(*levels)
        self.now.select(new_path[len(levels[1]):] if new_path else None)
        self.before.select(old_path[len(levels[0]):] if old_path else None)
        if new_path and entry.top in self.controller.graph.nodes:
            self.controller.select([entry.top])


def _block_path(path: str) -> str:
    """The block a path names: a composite's copy (`layer3/#6`) is shown as its composite."""
    head, _, leaf = path.rpartition("/")
    return head if leaf.startswith("#") and head else path


def open_compare_dialog(window) -> CompareDialog:
    """File ▸ Compare With…: the dialog, compared at once with the last saved version when
    the document has a file (else with nothing until a source is chosen)."""
    dialog = CompareDialog(window.controller, window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    c = window.controller
    if c.path is not None and Path(c.path).is_file():
        dialog.compare_with(c.path, f"{Path(c.path).name} as saved")
    dialog.show()
    return dialog
