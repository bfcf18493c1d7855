"""The summary: a torchinfo-like table of every block, with totals beneath.

Columns: name, type, output shape, parameters, multiply-adds and the block's
share of all parameters (drawn as a bar). Composite blocks (Inception,
Residual, a person's own) open as a tree onto their inside; a document with
several networks (a GAN) groups its blocks under one heading per network.
Clicking a row selects the block on the canvas and centres it. The rows and totals
are worked out without Qt in designer.graph.summary (which `designer summary` prints
too); this module shows them.

Refreshing must keep up with typing: when an edit leaves the rows as they were
(the usual case: a parameter changed), the model rewrites its cells in place
and tells the view with one dataChanged per level; only a change of structure
resets the model, and the expanded rows and the selection come back after it.
"""
from __future__ import annotations

import html
from difflib import SequenceMatcher

from PySide6.QtCore import (QAbstractItemModel, QItemSelection, QItemSelectionModel, QModelIndex, QRectF,
                            QSortFilterProxyModel, Qt)
from PySide6.QtGui import QBrush, QColor, QFont, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QSizePolicy, QStyle, QStyledItemDelegate,
                               QTabWidget, QTreeView, QVBoxLayout, QWidget)

from designer.graph.format import count
from designer.graph.summary import Row, build_rows, headline, totals
from designer.ui.observing import Connections, ObservingPanel
from designer.ui.param_editors import error_colour, warning_colour

COLUMNS = ("Name", "Type", "Output shape", "Parameters", "Mult-adds", "Share")
NAME, TYPE, SHAPE, PARAMS, MACS, SHARE = range(len(COLUMNS))
NUMERIC = (PARAMS, MACS, SHARE)
SORT_ROLE = int(Qt.ItemDataRole.UserRole.value) + 1
NODE_ROLE = SORT_ROLE + 1
SHARE_ROLE = SORT_ROLE + 2
KEY_ROLE = SORT_ROLE + 3
_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole.value)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole.value)
_FONT = int(Qt.ItemDataRole.FontRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_RIGHT = int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)
_LEFT = int((Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter).value)
ERRORS_SHOWN = 12


# ---- the Qt model -------------------------------------------------------------------------------

class SummaryModel(QAbstractItemModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.roots: list[Row] = []
        self._bold = QFont()
        self._bold.setWeight(QFont.Weight.DemiBold)
        self.set_palette(QPalette())

    def set_palette(self, palette: QPalette):
        self._palette = palette
        self._brushes = {"error": QBrush(QColor(error_colour(palette))),
                         "warning": QBrush(QColor(warning_colour(palette))),
                         "blocked": palette.brush(QPalette.ColorRole.PlaceholderText)}

    def update(self, rows: list[Row]) -> bool:
        """Show `rows`; returns True when the model had to be reset (nothing in common with
        what it showed). Otherwise rows are matched by key: a matched row keeps its place in the
        view (expanded, selected) and takes the new values, rows that appeared are inserted and
        rows that went are removed, and only the changed rows are announced."""
        if not self.roots or not {r.key for r in self.roots} & {r.key for r in rows}:
            self.beginResetModel()
            self.roots = rows
            self.endResetModel()
            return True
        self._merge(QModelIndex(), None, self.roots, rows)
        return False

    def _merge(self, parent_index: QModelIndex, parent: Row | None, old: list[Row], new: list[Row]):
        old_keys, new_keys = [r.key for r in old], [r.key for r in new]
        if old_keys == new_keys:
            self._take_level(parent_index, old, new, 0, 0, len(old))
            return
        # back to front, so the rows before each change keep their places
        for tag, i1, i2, j1, j2 in reversed(SequenceMatcher(None, old_keys, new_keys, autojunk=False)
                                            .get_opcodes()):
            if tag == "equal":
                self._take_level(parent_index, old, new, i1, j1, i2 - i1)
                continue
            if i2 > i1:
                self.beginRemoveRows(parent_index, i1, i2 - 1)
                del old[i1:i2]
                _renumber(old, i1)
                self.endRemoveRows()
            if j2 > j1:
                self.beginInsertRows(parent_index, i1, i1 + j2 - j1 - 1)
                for r in new[j1:j2]:
                    r.parent = parent
                old[i1:i1] = new[j1:j2]
                _renumber(old, i1)
                self.endInsertRows()

    def _take_level(self, parent_index: QModelIndex, old: list[Row], new: list[Row], i: int, j: int, n: int):
        """old[i:i+n] take the values of new[j:j+n] (same keys): one dataChanged per run of changed
        rows, then the same one level down where the old row's inside is on show."""
        start = None
        for k in range(n + 1):
            hit = k < n and old[i + k].take_values(new[j + k])
            if hit and start is None:
                start = k
            elif not hit and start is not None:
                self.dataChanged.emit(self.index(i + start, 0, parent_index),
                                      self.index(i + k - 1, len(COLUMNS) - 1, parent_index))
                start = None
        for a, b in zip(old[i:i + n], new[j:j + n]):
            if not a.built:          # never shown: worked out from the new values when first asked for
                a.take_children_from(b)
            elif a.children or b.has_children:
                self._merge(self.createIndex(a.row, 0, a), a, a.children, b.children)

    def index_of(self, row: Row, column: int = 0) -> QModelIndex:
        return self.createIndex(row.row, column, row)

    # ---- QAbstractItemModel -------------------------------------------------------------------
    def index(self, row, column, parent=QModelIndex()):
        rows = parent.internalPointer().children if parent.isValid() else self.roots
        if 0 <= row < len(rows) and 0 <= column < len(COLUMNS):
            return self.createIndex(row, column, rows[row])
        return QModelIndex()

    def parent(self, index=QModelIndex()):
        if not index.isValid():
            return QModelIndex()
        up = index.internalPointer().parent
        return self.createIndex(up.row, 0, up) if up is not None else QModelIndex()

    def rowCount(self, parent=QModelIndex()):
        if parent.isValid():
            return len(parent.internalPointer().children) if parent.column() == 0 else 0
        return len(self.roots)

    def columnCount(self, parent=QModelIndex()):
        return len(COLUMNS)

    def hasChildren(self, parent=QModelIndex()):
        if not parent.isValid():
            return bool(self.roots)
        # without working a composite's inside out: the view asks this of every row it draws
        return parent.column() == 0 and parent.internalPointer().has_children

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole and section in NUMERIC:
                return _RIGHT
        return None

    def data(self, index, role=_DISPLAY):
        # called thousands of times per repaint: plain int roles, most frequent first
        row: Row = index.internalPointer()
        if row is None:
            return None
        if role == _DISPLAY:
            return row.cells[index.column()] if row.cells else ""
        if role == _ALIGNMENT:
            return _RIGHT if index.column() in NUMERIC else _LEFT
        if role == _FOREGROUND:
            if row.error:
                return self._brushes["error"]
            if row.blocked:
                return self._brushes["blocked"]
            if row.warning and index.column() == NAME:
                return self._brushes["warning"]
            return None
        if role == _FONT:
            return self._bold if row.heading else None
        if role == SORT_ROLE:
            return row.sort[index.column()] if row.sort else 0
        if role == SHARE_ROLE:
            return row.share
        if role == _TOOLTIP:
            return row.tooltip or None
        if role == NODE_ROLE:
            return row.node_id
        if role == KEY_ROLE:
            return row.key
        return None


def _renumber(rows: list[Row], start: int):
    for k in range(start, len(rows)):
        rows[k].row = k


class ShareBarDelegate(QStyledItemDelegate):
    """The share of all parameters as a bar behind the percentage."""

    def paint(self, painter, option, index):
        share = index.data(SHARE_ROLE) or 0.0
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget else None
        text = option.text
        option.text = ""
        if style:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        rect = QRectF(option.rect).adjusted(4, 0, -4, 0)
        # the bar takes the room the percentage leaves, so the two never overlap
        text_width = option.fontMetrics.horizontalAdvance("100.0 %") + 8
        track = QRectF(rect.left(), rect.top(), max(0.0, rect.width() - text_width), rect.height())
        if share > 0 and track.width() > 4:
            painter.save()
            painter.setRenderHint(painter.RenderHint.Antialiasing)
            colour = QColor(option.palette.color(QPalette.ColorRole.Highlight))
            colour.setAlphaF(0.35)
            inset = max(2.0, rect.height() * 0.18)
            bar = QRectF(track.left(), track.top() + inset, max(2.0, track.width() * min(share, 1.0)),
                         track.height() - 2 * inset)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(bar, 2, 2)
            painter.restore()
        if text:
            painter.save()
            selected = option.state & QStyle.StateFlag.State_Selected
            painter.setPen(option.palette.color(QPalette.ColorRole.HighlightedText if selected
                                                else QPalette.ColorRole.Text))
            painter.drawText(rect.adjusted(0, 0, -2, 0), _RIGHT, text)
            painter.restore()


class _SortProxy(QSortFilterProxyModel):
    def lessThan(self, left, right):
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if type(a) is not type(b):
            return str(a) < str(b)
        return a < b


# ---- the panel ----------------------------------------------------------------------------------

class SummaryPanel(ObservingPanel, QWidget):
    """Per-block table, totals, the whole-network formula and the errors of a document."""

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self._syncing = False
        self._rows_by_node: dict[str, Row] = {}
        self._expanded: set[str] = set()
        self._totals_plain = ""

        self.model = SummaryModel(self)
        self.model.set_palette(self.palette())
        self.proxy = _SortProxy(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.view = QTreeView()
        self.view.setModel(self.proxy)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setItemDelegateForColumn(SHARE, ShareBarDelegate(self.view))
        header = self.view.header()
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # document order until asked
        header.setSortIndicatorClearable(True)
        self.view.setSortingEnabled(True)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        fm = self.view.fontMetrics()
        for col, sample in ((TYPE, "LocalResponseNorm"), (SHAPE, "1024×112×112"), (PARAMS, "138,357,544"),
                            (MACS, "15,470,264,320"), (SHARE, "100.0 %" + " " * 30)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            self.view.setColumnWidth(col, fm.horizontalAdvance(sample) + 24)
        self.view.expanded.connect(self._on_expanded)
        self.model.rowsInserted.connect(self._on_rows_inserted)
        self.view.collapsed.connect(lambda i: self._expanded.discard(i.data(KEY_ROLE)))
        self.view.selectionModel().selectionChanged.connect(self._on_view_selection)
        self.view.clicked.connect(self._on_row_clicked)
        self.view.activated.connect(self._on_row_clicked)

        self._totals = QLabel()
        self._totals.setWordWrap(True)
        self._totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._totals.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._formula = QLabel()
        self._formula.setWordWrap(True)
        self._formula.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._formula.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._errors = QLabel()
        self._errors.setWordWrap(True)
        self._errors.setTextFormat(Qt.TextFormat.RichText)
        self._errors.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._errors.linkActivated.connect(self._on_error_link)

        table = QWidget()
        lay = QVBoxLayout(table)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addWidget(self.view, 1)
        lay.addWidget(self._totals)
        lay.addWidget(self._formula)
        lay.addWidget(self._errors)
        # the Fit view (measured time and memory) draws its share bars with this module's delegate
        from designer.ui.fit_view import FitView
        self.fit_view = FitView(controller)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(table, "Table")
        self.tabs.addTab(self.fit_view, "Fit")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(self.tabs)

        self._connections = Connections()
        self.attach()

    # ---- public API ---------------------------------------------------------------------------
    def row_count(self) -> int:
        """How many document blocks the table lists (their insides not counted)."""
        return len(self._rows_by_node)

    def row_for(self, node_id: str) -> int:
        """The row (among its siblings, as sorted now) that shows `node_id`; -1 if none."""
        index = self.index_for(node_id)
        return index.row() if index.isValid() else -1

    def index_for(self, node_id: str, column: int = NAME) -> QModelIndex:
        """The view's index of the row showing `node_id` (for clicking it in tests)."""
        row = self._rows_by_node.get(node_id)
        if row is None:
            return QModelIndex()
        return self.proxy.mapFromSource(self.model.index_of(row, column))

    def totals_text(self) -> str:
        return self._totals_plain

    def attach(self):
        observing = bool(self._connections)
        super().attach()
        if not observing:   # and what the weights are, in the totals
            self._connections.connect([(self.controller.weights_changed, self._on_weights_changed)])

    def detach(self):
        super().detach()
        self.fit_view.detach()   # and ends a measurement still running

    # ---- observing (see ObservingPanel) ---------------------------------------------------------
    def _catch_up(self):
        self._on_analysis_changed(self.controller.analysis)
        self._on_selection_changed(list(self.controller.selection))

    def _on_palette_changed(self):
        # a light/dark switch: the reds must stay readable
        self.model.set_palette(self.palette())
        self._on_analysis_changed(self.controller.analysis)

    # ---- observers ----------------------------------------------------------------------------
    def _on_graph_replaced(self, graph):
        self._expanded.clear()
        self.view.header().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)

    def _on_analysis_changed(self, analysis):
        graph = self.controller.graph
        rows = build_rows(graph, analysis)
        reset = self.model.update(rows)
        self._rows_by_node = {}
        for r in self.model.roots:
            for row in ([r] + r.children if r.heading else [r]):
                if row.node_id and not row.heading:
                    self._rows_by_node[row.node_id] = row
        if reset:
            self._after_reset()
        self._show_totals(graph, analysis)

    def _after_reset(self):
        self.view.setRootIsDecorated(any(r.has_children for r in self.model.roots))
        self._syncing = True
        try:
            self._restore_expanded(self.model.roots)
            self._select_rows(self.controller.selection)
        finally:
            self._syncing = False

    def _restore_expanded(self, rows):
        """Expand the rows that were expanded (and network headings), and theirs inside them:
        only those rows' insides are worked out."""
        for r in rows:
            if r.has_children and (r.heading or r.key in self._expanded):
                self.view.expand(self.proxy.mapFromSource(self.model.index_of(r)))
                self._restore_expanded(r.children)

    def _on_expanded(self, index):
        self._expanded.add(index.data(KEY_ROLE))
        row = self.proxy.mapToSource(index).internalPointer()
        if row is not None:
            self._restore_expanded(row.children)

    def _on_rows_inserted(self, parent, first, last):
        rows = parent.internalPointer().children if parent.isValid() else self.model.roots
        self._restore_expanded(rows[first:last + 1])
        if not parent.isValid():
            self.view.setRootIsDecorated(any(r.has_children for r in self.model.roots))

    def _on_selection_changed(self, ids):
        if set(ids) == set(self._selected_ids()):
            return  # the table made this selection itself
        self._syncing = True
        try:
            self._select_rows(ids)
        finally:
            self._syncing = False

    def _select_rows(self, ids):
        selection = QItemSelection()
        first = None
        for node_id in ids:
            index = self.index_for(node_id)
            if index.isValid():
                last = index.siblingAtColumn(len(COLUMNS) - 1)
                selection.select(index, last)
                first = first or index
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.view.selectionModel().select(selection, flags)
        if first is not None:
            self.view.selectionModel().setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)
            self.view.scrollTo(first)

    def _selected_ids(self) -> list[str]:
        ids = []
        for index in self.view.selectionModel().selectedRows(NAME):
            node_id = index.data(NODE_ROLE)
            if node_id and node_id not in ids:
                ids.append(node_id)
        return ids

    def _on_view_selection(self, *_):
        if not self._syncing:
            self.controller.select(self._selected_ids())

    def _on_row_clicked(self, index):
        node_id = index.data(NODE_ROLE)
        if node_id:
            ids = self._selected_ids() or [node_id]
            if node_id in ids:  # the clicked block goes first: it is the one centred
                ids.remove(node_id)
            self.controller.select([node_id] + ids, focus=True)

    def _on_error_link(self, link: str):
        if link.startswith("node:"):
            self.controller.select([link[5:]], focus=True)

    # ---- totals -------------------------------------------------------------------------------
    def _weights_part(self) -> list[tuple[str, str]]:
        """What the network starts from, when it carries trained weights: how many tensors, and
        where they came from (ImageNet's, a run's checkpoint, a file)."""
        document = self.controller.document
        if not document.weights:
            return []
        origin = document.weights_origin
        return [(count(len(document.weights)), " weight tensors" + (f", from {origin}" if origin else ""))]

    def _on_weights_changed(self):
        self._show_totals(self.controller.graph, self.controller.analysis)

    def _show_totals(self, graph, a):
        t = totals(a)
        parts = headline(t) + self._weights_part()
        plain = " · ".join(b + rest for b, rest in parts)
        # each part stays on one line; a short panel wraps only between parts
        rich = " · ".join((f"<b>{_nbsp(b)}</b>" if b else "") + _nbsp(rest) for b, rest in parts)
        self._totals.setText(rich)

        formula = f"Weights: {t.weight_sum} weights" if t.weight_sum else ""
        if formula and a.bias_params:
            formula += f", plus {t.biases} biases"
        self._formula.setText(formula)
        self._formula.setVisible(bool(formula))
        if formula:
            plain += "\n" + formula

        red = error_colour(self.palette())
        lines, rich_lines = [], []
        for node_id, message in a.errors[:ERRORS_SHOWN]:
            node = graph.nodes.get(node_id) if node_id else None
            where = node.title if node else ""
            lines.append(f"{where}: {message}" if where else message)
            link = f'<a href="node:{html.escape(node_id)}" style="color:{red}">{html.escape(where)}</a>: ' \
                if node else ""
            rich_lines.append(f'<span style="color:{red}">{link}{html.escape(message)}</span>')
        if len(a.errors) > ERRORS_SHOWN:
            more = f"… and {len(a.errors) - ERRORS_SHOWN} more"
            lines.append(more)
            rich_lines.append(f'<span style="color:{red}">{more}</span>')
        self._errors.setText("<br>".join(rich_lines))
        self._errors.setVisible(bool(rich_lines))
        if lines:
            plain += "\n" + "\n".join(lines)
        self._totals_plain = plain


def _nbsp(text: str) -> str:
    return html.escape(text).replace(" ", "&nbsp;")
