"""The earlier runs of this document (designer.train.run_listing.list_runs): when
each started, how it ended, its settings and its best metric. Selecting one shows
its curves and results; it can be compared on the plot, resumed when it was
stopped, opened in the file manager, or exported."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from designer.train import run_listing
from designer.train.run_listing import RunRecord

from .. import theme

COLUMNS = ("Run", "Status", "Settings", "Best")
STATUS_TEXT = {run_listing.RUNNING: "running", run_listing.FINISHED: "finished", run_listing.STOPPED: "stopped",
               run_listing.FAILED: "failed"}


class RunsList(QWidget):
    view_requested = Signal(object)      # RunRecord: show its curves and results
    compare_requested = Signal(object)   # RunRecord: overlay its curves
    resume_requested = Signal(object)
    open_requested = Signal(object)
    export_requested = Signal(object)
    compare_runs_requested = Signal(list)   # [RunRecord]: two or more runs side by side (the Compare tab)
    export_all_requested = Signal(list)     # [RunRecord]: every run listed, into one CSV

    def __init__(self, parent=None):
        super().__init__(parent)
        self.root: Path | None = None
        self.records: list[RunRecord] = []
        self.busy = False                 # a run is going: views stay on it, nothing resumes
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemDoubleClicked.connect(lambda *_: self._emit(self.view_requested))
        self.where = QLabel()
        self.where.setWordWrap(True)
        self.where.setStyleSheet(f"color: {theme.current().muted};")
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.view_button = QPushButton("Show")
        self.view_button.setToolTip("Show this run's curves and results")
        self.compare_button = QPushButton("Compare")
        self.compare_button.setToolTip("Draw this run's curves over the ones shown, for comparison")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Go on training a stopped run from its last checkpoint")
        self.open_button = QPushButton("Open Folder")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Write this run's trained network as TorchScript, weights or ONNX")
        self.refresh_button = QPushButton("Refresh")
        self.compare_runs_button = QPushButton("Compare Selected")
        self.compare_runs_button.setToolTip("Two or more runs side by side: curves, differing settings, best metrics")
        self.compare_runs_button.clicked.connect(lambda: self.compare_runs_requested.emit(self.selected_all()))
        self.export_all_button = QPushButton("Export All Runs…")
        self.export_all_button.setToolTip("Every run's metrics in one long CSV, with a run column")
        self.export_all_button.clicked.connect(lambda: self.export_all_requested.emit(list(self.records)))
        buttons = QHBoxLayout()
        for b, signal in ((self.view_button, self.view_requested), (self.compare_button, self.compare_requested),
                          (self.resume_button, self.resume_requested), (self.open_button, self.open_requested),
                          (self.export_button, self.export_requested)):
            b.clicked.connect(lambda _c=False, s=signal: self._emit(s))
            buttons.addWidget(b)
        buttons.addWidget(self.compare_runs_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_all_button)
        buttons.addWidget(self.refresh_button)
        self.refresh_button.clicked.connect(self.refresh)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.addWidget(self.tree, 1)
        column.addLayout(buttons)
        column.addWidget(self.where)
        self._update_buttons()

    def set_root(self, root: Path | None) -> None:
        self.root = Path(root) if root else None
        self.refresh()

    def refresh(self) -> None:
        selected = self.selected()
        self.records = run_listing.list_runs(self.root) if self.root else []
        self.tree.clear()
        for r in self.records:
            item = QTreeWidgetItem([r.name, STATUS_TEXT.get(r.status, r.status), r.settings_text(), r.best_text()])
            item.setData(0, Qt.ItemDataRole.UserRole, str(r.path))
            item.setToolTip(1, r.reason or STATUS_TEXT.get(r.status, r.status))
            item.setToolTip(0, str(r.path))
            self.tree.addTopLevelItem(item)
            if selected is not None and r.path == selected.path:
                item.setSelected(True)
        self.where.setText(f"Runs are kept in {self.root}" if self.root else "")
        self._update_buttons()

    def selected(self) -> RunRecord | None:
        items = self.tree.selectedItems()
        if not items:
            return None
        path = items[0].data(0, Qt.ItemDataRole.UserRole)
        return next((r for r in self.records if str(r.path) == path), None)

    def selected_all(self) -> list[RunRecord]:
        """The runs selected, in the list's order."""
        paths = {item.data(0, Qt.ItemDataRole.UserRole) for item in self.tree.selectedItems()}
        return [r for r in self.records if str(r.path) in paths]

    def select(self, path: Path) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            item.setSelected(item.data(0, Qt.ItemDataRole.UserRole) == str(path))

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self._update_buttons()

    def _emit(self, signal) -> None:
        record = self.selected()
        if record is not None:
            signal.emit(record)

    def _update_buttons(self) -> None:
        r = self.selected()
        some = r is not None
        self.view_button.setEnabled(some and not self.busy)
        self.compare_button.setEnabled(some and r.file(run_listing.METRICS).is_file())
        self.resume_button.setEnabled(some and not self.busy and r.can_resume)
        self.open_button.setEnabled(some)
        self.export_button.setEnabled(some and r.can_export)
        self.compare_runs_button.setEnabled(len(self.tree.selectedItems()) >= 2)
        self.export_all_button.setEnabled(bool(self.records))
