"""The preset gallery: one card per network of the lecture, to start from.

Each card shows the preset's title, paper, authors and year (read straight from
the file, so the grid appears at once), then fills in a thumbnail of its graph
and its parameter count as a QTimer works through the presets one per tick, so
the window never waits for every analysis. Results are cached per file and
modification time for the rest of the session.

Presets are listed with `preset_names()` each time the gallery is shown, and
again whenever the presets folder changes, so new ones appear without a restart.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import (QFileSystemWatcher, QModelIndex, QRectF, QSize, QSortFilterProxyModel, Qt, QTimer,
                            Signal)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QDialog, QDialogButtonBox, QLabel, QLineEdit, QListView, QStyle,
                               QStyledItemDelegate, QTabWidget, QVBoxLayout, QWidget)

from designer.graph.errors import GraphError
from designer.graph.format import count
from designer.graph.presets import (PRESET_DIR, PRETRAINED_CHOICE, PRETRAINED_WEIGHTS, TORCHVISION_KEY, preset_names,
                                    preset_path)
from designer.ui.param_editors import error_colour
from designer.ui.thumbnail import GraphThumbnail

CARD_ROLE = Qt.ItemDataRole.UserRole + 1
NAME_ROLE = Qt.ItemDataRole.UserRole + 2
CARD_SIZE = QSize(248, 246)
THUMB_HEIGHT = 112
MAX_PRESET_BYTES = 20 << 20  # a preset is a few KB; anything this large is not one


@dataclass
class PresetCard:
    """What a card shows about one preset file."""
    name: str
    path: Path
    mtime: float
    title: str = ""
    paper: str = ""
    authors: str = ""
    year: str = ""
    params: int | None = None      # None until analysed
    errors: int = 0
    problem: str = ""              # why the file cannot be used, shown on the card
    thumbnail: GraphThumbnail | None = None
    analysed: bool = False
    torchvision: str = ""          # the torchvision builder it equals: ImageNet weights can start it

    @property
    def search_text(self) -> str:
        return " ".join((self.name, self.title, self.paper, self.authors, self.year)).lower()

    @property
    def byline(self) -> str:
        return " · ".join(t for t in (self.authors, self.year) if t)


_CACHE: dict[str, PresetCard] = {}


def card_for(name: str) -> PresetCard | None:
    """The card of preset `name`, from the cache when its file is unchanged. Reads only
    the metadata; `analyse(card)` fills in the rest."""
    path = preset_path(name)
    if path is None:
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    cached = _CACHE.get(name)
    if cached is not None and cached.mtime == stat.st_mtime and cached.path == path:
        return cached
    card = PresetCard(name, path, stat.st_mtime, title=name)
    try:
        if stat.st_size > MAX_PRESET_BYTES:
            raise ValueError("the file is too large to be a preset")
        meta = json.loads(path.read_text(encoding="utf-8")).get("meta", {})
        if not isinstance(meta, dict):
            meta = {}
        card.title = str(meta.get("title") or name)
        card.paper = str(meta.get("paper") or "")
        card.authors = str(meta.get("authors") or "")
        card.year = str(meta.get("year") or "")
        card.torchvision = str(meta.get(TORCHVISION_KEY) or "")
    except (OSError, ValueError, AttributeError) as exc:
        card.problem = f"cannot be read: {exc}"
        card.analysed = True
    _CACHE[name] = card
    return card


def analyse(card: PresetCard) -> PresetCard:
    """Load the preset's graph for its thumbnail and parameter count (once per file version)."""
    if card.analysed:
        return card
    from designer.graph.fileformat import load
    card.analysed = True
    try:
        graph = load(card.path)
        analysis = graph.analyze()
    except (GraphError, OSError, ValueError) as exc:
        card.problem = str(exc).splitlines()[0] if str(exc) else "cannot be read"
        return card
    card.thumbnail = GraphThumbnail.from_graph(graph)
    card.params = analysis.total_params
    card.errors = len(analysis.errors)
    return card


def _order(card: PresetCard):
    """The lecture's order: by year, then by name."""
    return (card.year if card.year.isdigit() else "9999", card.name)


class CardDelegate(QStyledItemDelegate):
    """Paints one preset as a card: thumbnail, title, paper, authors and year, size."""

    def sizeHint(self, option, index):
        return CARD_SIZE

    def paint(self, painter: QPainter, option, index):
        card: PresetCard = index.data(CARD_ROLE)
        if card is None:
            return
        pal = option.palette
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        outer = QRectF(option.rect).adjusted(5, 5, -5, -5)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        border = pal.color(QPalette.ColorRole.Highlight) if selected else pal.color(QPalette.ColorRole.Mid)
        if hovered and not selected:
            border = QColor(pal.color(QPalette.ColorRole.Highlight))
            border.setAlphaF(0.55)
        painter.setPen(QPen(border, 2 if selected else 1))
        painter.setBrush(pal.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(outer, 8, 8)

        thumb = QRectF(outer.left() + 8, outer.top() + 8, outer.width() - 16, THUMB_HEIGHT)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(pal.color(QPalette.ColorRole.AlternateBase))
        painter.drawRoundedRect(thumb, 6, 6)
        if card.thumbnail is not None:
            card.thumbnail.paint(painter, thumb.adjusted(10, 10, -10, -10), pal)
        elif not card.analysed:
            painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(thumb, int(Qt.AlignmentFlag.AlignCenter), "…")

        text_rect = QRectF(outer.left() + 12, thumb.bottom() + 8, outer.width() - 24, 0)
        y = text_rect.top()
        width = int(text_rect.width())

        title_font = QFont(option.font)
        title_font.setPointSizeF(option.font.pointSizeF() * 1.15)
        title_font.setWeight(QFont.Weight.DemiBold)
        small = QFont(option.font)
        small.setPointSizeF(option.font.pointSizeF() * 0.92)
        muted = pal.color(QPalette.ColorRole.PlaceholderText)
        year_width = 0
        if card.year:  # the year on the title's line, so a long author list never hides it
            year_font = QFont(title_font)
            year_font.setWeight(QFont.Weight.Normal)
            year_width = QFontMetrics(year_font).horizontalAdvance(card.year) + 8
            self._line(painter, year_font, muted, card.year, text_rect.left(), y, width,
                       Qt.AlignmentFlag.AlignRight)
        y = self._wrapped(painter, title_font, pal.color(QPalette.ColorRole.Text), card.title, text_rect.left(), y,
                          width, lines=2, first_width=width - year_width)
        y = self._wrapped(painter, small, muted, card.paper, text_rect.left(), y + 2, width, lines=2)
        y = self._line(painter, small, pal.color(QPalette.ColorRole.Text), card.authors, text_rect.left(), y + 2,
                       width)
        if card.problem:
            status, colour = card.problem, QColor(error_colour(pal))
        elif card.params is None:
            status, colour = "counting parameters…", muted
        else:
            status = f"{count(card.params)} parameters"
            if card.errors:
                status += f" · {card.errors} error{'s' if card.errors != 1 else ''}"
            colour = QColor(error_colour(pal)) if card.errors else pal.color(QPalette.ColorRole.Text)
        bold = QFont(small)
        bold.setWeight(QFont.Weight.DemiBold)
        bottom = outer.bottom() - 10 - QFontMetrics(bold).height()
        # the count is what people compare; the preset's name gives way to it
        status_width = QFontMetrics(bold).horizontalAdvance(status) + 12
        if width - status_width > 30:
            self._line(painter, small, muted, card.name, text_rect.left() + status_width, bottom,
                       width - status_width, Qt.AlignmentFlag.AlignRight)
        self._line(painter, bold, colour, status, text_rect.left(), bottom, width)
        painter.restore()

    @staticmethod
    def _line(painter, font, colour, text, x, y, width, align=Qt.AlignmentFlag.AlignLeft) -> float:
        if not text:
            return y
        fm = QFontMetrics(font)
        painter.setFont(font)
        painter.setPen(colour)
        painter.drawText(QRectF(x, y, width, fm.height()), int(align | Qt.AlignmentFlag.AlignTop),
                         fm.elidedText(text, Qt.TextElideMode.ElideRight, int(width)))
        return y + fm.height()

    @staticmethod
    def _wrapped(painter, font, colour, text, x, y, width, lines, first_width=None) -> float:
        """Up to `lines` lines of word-wrapped text, the last one elided; the first line
        may be narrower (it shares its row with the year)."""
        if not text:
            return y
        fm = QFontMetrics(font)
        widths = [first_width or width] + [width] * (lines - 1)
        out, current = [], ""
        for word in text.split():
            trial = f"{current} {word}".strip()
            if fm.horizontalAdvance(trial) <= widths[min(len(out), lines - 1)] or not current:
                current = trial
            else:
                out.append(current)
                current = word
        out.append(current)
        if len(out) > lines:
            out = out[:lines - 1] + [" ".join(out[lines - 1:])]
        for i, line in enumerate(out):
            y = CardDelegate._line(painter, font, colour, line, x, y, widths[i])
        return y


class _SearchProxy(QSortFilterProxyModel):
    """Every word typed must appear in the name, title, paper, authors or year."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._words: list[str] = []

    def set_query(self, text: str):
        if hasattr(self, "beginFilterChange"):  # Qt ≥ 6.10, where invalidateFilter is deprecated
            self.beginFilterChange()
            self._words = text.lower().split()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self._words = text.lower().split()
            self.invalidateFilter()

    def filterAcceptsRow(self, row, parent):
        card = self.sourceModel().index(row, 0, parent).data(CARD_ROLE)
        return card is not None and all(w in card.search_text for w in self._words)


class PresetGalleryWidget(QWidget):
    """A searchable grid of preset cards; activating one (double-click, Enter) emits its name."""

    preset_chosen = Signal(str)
    current_changed = Signal(str)   # the highlighted preset's name, or ''

    def __init__(self, parent=None):
        super().__init__(parent)
        self._items: dict[str, QStandardItem] = {}
        self._pending: list[str] = []
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._analyse_next)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by name, paper, author or year")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_search)
        self.search.returnPressed.connect(self._choose_first)
        self.search.installEventFilter(self)

        self.model = QStandardItemModel(self)
        self.proxy = _SearchProxy(self)
        self.proxy.setSourceModel(self.model)
        self.view = QListView()
        self.view.setModel(self.proxy)
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setUniformItemSizes(True)
        self.view.setSpacing(4)
        self.view.setWordWrap(True)
        self.view.setMouseTracking(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setItemDelegate(CardDelegate(self.view))
        self.view.setMinimumSize(CARD_SIZE.width() * 2 + 40, CARD_SIZE.height() + 20)
        self.view.activated.connect(self._on_activated)
        self.view.selectionModel().currentChanged.connect(
            lambda cur, _prev: self.current_changed.emit(cur.data(NAME_ROLE) or ""))

        self.status = QLabel()
        self.status.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.search)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.status)

        self._watcher = QFileSystemWatcher(self)
        if PRESET_DIR.is_dir():
            self._watcher.addPath(str(PRESET_DIR))
        self._watcher.directoryChanged.connect(lambda _path: self.refresh())
        self.refresh()

    # ---- public API ---------------------------------------------------------------------------
    def refresh(self):
        """List the presets on disk now: new ones appear, removed ones go, changed ones reload."""
        cards = [c for c in (card_for(n) for n in preset_names()) if c is not None]
        cards.sort(key=_order)
        names = [c.name for c in cards]
        current = self.current_name()
        if names != list(self._items) or any(self._items[c.name].data(CARD_ROLE) is not c for c in cards):
            self.model.clear()
            self._items = {}
            for card in cards:
                item = QStandardItem()
                item.setData(card, CARD_ROLE)
                item.setData(card.name, NAME_ROLE)
                item.setToolTip(self._tooltip(card))
                item.setEditable(False)
                self.model.appendRow(item)
                self._items[card.name] = item
            self.select(current or (names[0] if names else ""))
        self._pending = [c.name for c in cards if not c.analysed]
        if self._pending:
            self._timer.start()
        self._update_status()

    def names(self) -> list[str]:
        """The presets the grid shows now (after the search), in order."""
        return [self.proxy.index(r, 0).data(NAME_ROLE) for r in range(self.proxy.rowCount())]

    def current_name(self) -> str:
        index = self.view.currentIndex()
        return (index.data(NAME_ROLE) or "") if index.isValid() else ""

    def select(self, name: str) -> bool:
        for r in range(self.proxy.rowCount()):
            index = self.proxy.index(r, 0)
            if index.data(NAME_ROLE) == name:
                self.view.setCurrentIndex(index)
                self.view.scrollTo(index)
                return True
        return False

    def index_of(self, name: str) -> QModelIndex:
        for r in range(self.proxy.rowCount()):
            index = self.proxy.index(r, 0)
            if index.data(NAME_ROLE) == name:
                return index
        return QModelIndex()

    def card(self, name: str) -> PresetCard | None:
        item = self._items.get(name)
        return item.data(CARD_ROLE) if item else None

    def is_loaded(self) -> bool:
        """Every card has its thumbnail and parameter count (or the reason it has none)."""
        return not self._pending

    def choose(self, name: str | None = None):
        """Choose `name` (default: the highlighted preset), as a double-click would."""
        name = name or self.current_name()
        if name and self.card(name) is not None and not self.card(name).problem:
            self.preset_chosen.emit(name)

    # ---- internals ----------------------------------------------------------------------------
    def showEvent(self, event):
        self.refresh()
        super().showEvent(event)

    def eventFilter(self, obj, event):
        # Down from the search field walks into the grid, as in a launcher
        if obj is self.search and event.type() == event.Type.KeyPress and event.key() == Qt.Key.Key_Down:
            self.view.setFocus()
            if not self.view.currentIndex().isValid() and self.proxy.rowCount():
                self.view.setCurrentIndex(self.proxy.index(0, 0))
            return True
        return super().eventFilter(obj, event)

    def _on_activated(self, index):
        self.choose(index.data(NAME_ROLE))

    def _choose_first(self):
        names = self.names()
        if len(names) == 1 or (names and self.current_name() not in names):
            self.choose(names[0])
        elif names:
            self.choose()

    def _on_search(self, text: str):
        self.proxy.set_query(text)
        names = self.names()
        if names and self.current_name() not in names:
            self.select(names[0])
        self._update_status()

    def _analyse_next(self):
        while self._pending:
            name = self._pending.pop(0)
            item = self._items.get(name)
            if item is None:
                continue
            card = analyse(item.data(CARD_ROLE))
            item.setToolTip(self._tooltip(card))
            item.emitDataChanged()
            break
        if not self._pending:
            self._timer.stop()

    def _update_status(self):
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        if not total:
            self.status.setText("No presets found in " + str(PRESET_DIR))
        elif shown == total:
            self.status.setText(f"{total} preset{'s' if total != 1 else ''} · double-click or press Enter to open one")
        elif shown:
            self.status.setText(f"{shown} of {total} presets match")
        else:
            self.status.setText(f"No preset matches “{self.search.text()}”")

    @staticmethod
    def _tooltip(card: PresetCard) -> str:
        lines = [card.title]
        if card.paper:
            lines.append(card.paper)
        if card.byline:
            lines.append(card.byline)
        lines.append(f"preset: {card.name}")
        if card.problem:
            lines.append(card.problem)
        return "\n".join(lines)


class PresetGalleryDialog(QDialog):
    """File ▸ New from Preset: pick a network to start from."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("New from Preset")
        self._chosen: str | None = None
        self.gallery = PresetGalleryWidget(self)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open
                                        | QDialogButtonBox.StandardButton.Cancel)
        self._open = self.buttons.button(QDialogButtonBox.StandardButton.Open)
        self.buttons.accepted.connect(lambda: self.gallery.choose())
        self.buttons.rejected.connect(self.reject)
        self.gallery.preset_chosen.connect(self._on_chosen)
        self.gallery.current_changed.connect(self._update_open)
        # a card may turn out unreadable once analysed: Open must follow
        self.gallery.model.dataChanged.connect(lambda *_: self._update_open(self.gallery.current_name()))
        self.pretrained = QCheckBox(f"Start from {PRETRAINED_CHOICE}")
        self.pretrained.setToolTip("For the networks that are torchvision's (VGG 11/13/16/19, ResNet-18/34/50, "
                                   "the transfer preset): its ImageNet weights, from torch hub's cache")
        # a torchvision section: every classifier, imported on open (listed when first shown: it
        # imports torchvision)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.gallery, "Lecture presets")
        self.tabs.addTab(QWidget(), "torchvision")
        self.tabs.currentChanged.connect(self._on_tab)
        self.torchvision = None
        lay = QVBoxLayout(self)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(self.pretrained)
        lay.addWidget(self.buttons)
        self.resize(CARD_SIZE.width() * 3 + 80, CARD_SIZE.height() * 2 + 130)
        self._update_open(self.gallery.current_name())
        self.gallery.search.setFocus()

    def _on_tab(self, index: int):
        if index == 1 and self.torchvision is None:
            from designer.ui.import_dialog import TorchvisionList
            self.torchvision = TorchvisionList()
            self.torchvision.chosen.connect(self._import)
            self.tabs.removeTab(1)
            self.tabs.addTab(self.torchvision, "torchvision")
            self.tabs.setCurrentIndex(1)
        on_models = index == 1
        if on_models:   # every torchvision model may start from its ImageNet weights
            self._open.setEnabled(True)
            self.pretrained.setEnabled(True)
        else:
            self._update_open(self.gallery.current_name())
        self.buttons.accepted.disconnect()
        self.buttons.accepted.connect(self.torchvision.choose_current if on_models else lambda: self.gallery.choose())

    def _import(self, source: str):
        """A torchvision model opens through the importer, in the background, as a new document."""
        from designer.ui.import_dialog import start_import
        self.reject()
        if self.parent() is not None:
            start_import(self.parent(), source, weights=PRETRAINED_WEIGHTS if self.pretrained.isChecked() else None)

    def chosen_name(self) -> str | None:
        """The preset chosen, or None when the dialog was cancelled."""
        return self._chosen

    def with_pretrained(self) -> bool:
        """Start the chosen preset from torchvision's ImageNet weights?"""
        return self.pretrained.isEnabled() and self.pretrained.isChecked()

    def _on_chosen(self, name: str):
        self._chosen = name
        self.accept()

    def _update_open(self, name: str):
        card = self.gallery.card(name) if name else None
        self._open.setEnabled(card is not None and not card.problem)
        self.pretrained.setEnabled(card is not None and bool(card.torchvision))
