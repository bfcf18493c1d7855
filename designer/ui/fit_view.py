"""The summary's Fit view: the network measured on this machine.

Measure runs designer.train.profile in the worker process (designer.train.worker's profile
job), never in the GUI thread: a reader thread takes its messages off the queue and a timer
on the GUI thread shows them. The view then lists each layer's measured forward and backward
time with its share of a training step (a bar), and a small table of batch size → step time,
images/s and peak memory beside the analysis's estimate, with the largest batch that fits
marked (tried on a GPU, computed on the CPU).

A result is kept under the document's structure (designer.train.profile.structure_key: the
blocks, their parameters and wiring, not where they sit). After an edit the last result stays
on screen, marked stale; undoing back to the measured structure makes it current again.
"""
from __future__ import annotations

import collections
import threading
import time

from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer
from PySide6.QtGui import QFont, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QPushButton, QSizePolicy, QSplitter, QTreeView, QVBoxLayout, QWidget)

from designer.graph.format import nbytes
from designer.train.profile import Profile, describe_estimate, largest_text, structure_key
from designer.ui.observing import Connections
from designer.ui.param_editors import warning_colour
from designer.ui.summary_panel import SHARE_ROLE, ShareBarDelegate

LAYER_COLUMNS = ("Layer", "Type", "Forward ms", "Backward ms", "Share of a step")
BATCH_COLUMNS = ("Batch", "Step time", "Images/s", "Peak memory", "Estimate", "Est./meas.")
POLL_MS = 100
NODE_ROLE = int(Qt.ItemDataRole.UserRole.value) + 10
SORT_ROLE = NODE_ROLE + 1
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def parse_batch_sizes(text: str) -> list[int] | None:
    try:
        sizes = sorted({int(v) for v in text.replace(";", ",").replace(" ", ",").split(",") if v.strip()})
    except ValueError:
        return None
    return sizes if sizes and sizes[0] >= 1 else None


def _ms(v: float) -> str:
    return f"{v:,.2f} ms" if v < 100 else f"{v:,.0f} ms"


def _cell(text: str, right: bool = False, bold: bool = False, sort=None) -> QStandardItem:
    item = QStandardItem(text)
    item.setEditable(False)
    item.setData(text if sort is None else sort, SORT_ROLE)
    if right:
        item.setTextAlignment(_RIGHT)
    if bold:
        font = QFont()
        font.setWeight(QFont.Weight.DemiBold)
        item.setFont(font)
    return item


class FitView(QWidget):
    """Measured time per layer and memory per batch size for the controller's document."""

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.measure_options: dict = {}    # passed on to profile_graph (tests: fewer steps, one thread)
        self.results: dict[str, tuple[Profile, str]] = {}   # structure key -> (result, when measured)
        self.shown: tuple[str, Profile, str] | None = None   # (key, result, when) on screen
        self.stale = False
        self.job = None
        self._job_key = ""
        self._inbox: collections.deque = collections.deque()
        self._reader: threading.Thread | None = None
        self._dirty = True

        self.measure_button = QPushButton("Measure")
        self.measure_button.setToolTip("Train a few steps on random data in a separate process and time them")
        self.measure_button.clicked.connect(self.measure)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.batch_edit = QLineEdit("1, 8, 32")
        self.batch_edit.setToolTip("The batch sizes to measure, e.g. 1, 8, 32")
        self.batch_edit.setMaximumWidth(self.fontMetrics().horizontalAdvance("1, 8, 32, 128, 256") + 16)
        self.device_box = QComboBox()
        self.device_box.addItems(["auto", "cpu", "cuda"])
        self.device_box.setToolTip("auto: the GPU when there is one, else the CPU")
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.measure_button)
        controls.addWidget(self.cancel_button)
        controls.addWidget(QLabel("Batch sizes"))
        controls.addWidget(self.batch_edit)
        controls.addWidget(QLabel("Device"))
        controls.addWidget(self.device_box)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        controls.addWidget(self.status, 1)

        self.layer_model = QStandardItemModel(0, len(LAYER_COLUMNS), self)
        self.layer_model.setHorizontalHeaderLabels(list(LAYER_COLUMNS))
        # sorted through a proxy: a click on a header finds the slowest layer, a third click
        # gives back the order the network runs in
        self.layer_proxy = QSortFilterProxyModel(self)
        self.layer_proxy.setSourceModel(self.layer_model)
        self.layer_proxy.setSortRole(SORT_ROLE)
        self.layer_view = self._table(self.layer_proxy)
        self.layer_view.header().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.layer_view.header().setSortIndicatorClearable(True)
        self.layer_view.setSortingEnabled(True)
        self.layer_view.setItemDelegateForColumn(4, ShareBarDelegate(self.layer_view))
        self.layer_view.clicked.connect(self._on_layer_clicked)
        # names, types and times as wide as they are; the share bar takes the rest
        header = self.layer_view.header()
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(self.fontMetrics().horizontalAdvance("100.0 %") + 40)
        for col in range(len(LAYER_COLUMNS) - 1):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)

        self.batch_model = QStandardItemModel(0, len(BATCH_COLUMNS), self)
        self.batch_model.setHorizontalHeaderLabels(list(BATCH_COLUMNS))
        self.batch_view = self._table(self.batch_model)
        header = self.batch_view.header()
        header.setStretchLastSection(True)
        for col in range(len(BATCH_COLUMNS) - 1):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.estimate_note = QLabel()
        self.estimate_note.setWordWrap(True)
        self.estimate_note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        batches = QWidget()
        lay = QVBoxLayout(batches)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.batch_view, 1)
        lay.addWidget(self.estimate_note)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.layer_view)
        self.splitter.addWidget(batches)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([600, 400])   # the layers' names, times and share bars need the room

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)
        outer.addLayout(controls)
        outer.addWidget(self.splitter, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._drain)
        self._connections = Connections()
        self.attach()

    def _table(self, model) -> QTreeView:
        view = QTreeView()
        view.setModel(model)
        view.setRootIsDecorated(False)
        view.setUniformRowHeights(True)
        view.setAlternatingRowColors(True)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        return view

    # ---- observing the document ---------------------------------------------------------------------
    def attach(self) -> None:
        if self._connections:
            return
        c = self.controller
        self._connections.connect([(c.analysis_changed, self._on_changed), (c.graph_replaced, self._on_replaced)])
        self._dirty = True
        self.refresh()

    def detach(self) -> None:
        """Stop observing (the window closes) and end a measurement still running."""
        self._connections.disconnect_all()
        self.cancel()

    def showEvent(self, event):  # noqa: N802 (Qt name)
        self.attach()   # observes again after the window's close hook detached it
        if self._dirty:
            self.refresh()
        super().showEvent(event)

    def _on_replaced(self, graph) -> None:
        self.shown = None   # another document: the last one's figures say nothing about it
        self._on_changed()

    def _on_changed(self, *_) -> None:
        self._dirty = True
        if self.isVisible():
            self.refresh()

    def current_key(self) -> str:
        return structure_key(self.controller.graph)

    def refresh(self) -> None:
        """Show the result measured for the document as it is now, or the last one, marked stale."""
        self._dirty = False
        analysis = self.controller.analysis
        can_measure = analysis.ok and bool(self.controller.graph.nodes)
        self.measure_button.setEnabled(can_measure and self.job is None)
        self.measure_button.setToolTip("" if can_measure else "Fix the network's errors first")
        key = self.current_key()
        if key in self.results:
            result, when = self.results[key]
            self._show(key, result, when, stale=False)
        elif self.shown is not None:
            self._show(*self.shown, stale=True)
        else:
            self._clear()
        if self.job is None:
            self._show_status()

    # ---- measuring ---------------------------------------------------------------------------------
    def measure(self) -> None:
        """Start measuring the document as it is now, in the worker process."""
        from designer.graph.fileformat import dumps
        from designer.train.worker import start_profile
        sizes = parse_batch_sizes(self.batch_edit.text())
        if sizes is None:
            self._say("The batch sizes must read like 1, 8, 32 (whole numbers of 1 or more).", warn=True)
            return
        if self.job is not None or not self.controller.analysis.ok:
            return
        options = dict(batch_sizes=sizes, device=self.device_box.currentText(), **self.measure_options)
        self._job_key = self.current_key()
        self._inbox.clear()
        self.job = start_profile(dumps(self.controller.graph), options)
        self._reader = threading.Thread(target=self._read, args=(self.job,), name="profile-messages", daemon=True)
        self._reader.start()
        self._timer.start()
        self.measure_button.setEnabled(False)
        self.cancel_button.show()
        self._say("Starting the measuring process…")

    def cancel(self) -> None:
        if self.job is None:
            return
        self.job.cancel()
        self._finish()
        self._say("Measuring cancelled.")

    def running(self) -> bool:
        return self.job is not None

    def _read(self, job) -> None:
        # off the GUI thread: a queue read can block on a half-written message of a killed process
        while not job.finished:
            messages = job.poll()
            self._inbox.extend((job, m) for m in messages)   # with their job: a cancelled one's are dropped
            if not messages:
                time.sleep(0.05)

    def _drain(self) -> None:
        while self._inbox:
            job, message = self._inbox.popleft()
            if job is not self.job:
                continue   # a cancelled measurement's last words
            if "progress" in message:
                self._say(f"Measuring: {message['progress']}…")
            elif "result" in message:
                result = Profile.from_message(message["result"])
                self.results[self._job_key] = (result, time.strftime("%H:%M"))
                self._finish()
                self.shown = None
                self.refresh()
            elif "error" in message:
                self._finish()
                self._say(message["error"], warn=True)

    def _finish(self) -> None:
        self._timer.stop()
        self.job = None
        self.cancel_button.hide()
        self.measure_button.setEnabled(self.controller.analysis.ok)

    # ---- showing -----------------------------------------------------------------------------------
    def _say(self, text: str, warn: bool = False) -> None:
        import html
        text = html.escape(text)
        self.status.setText(f'<span style="color:{warning_colour(self.palette())}">{text}</span>' if warn else text)

    def _show_status(self) -> None:
        if self.shown is None:
            self._say("Not measured yet. Measure trains a few steps on random data in a separate process.")
            return
        _, result, when = self.shown
        where = f"Measured on {result.device} at {when}; per layer at batch {result.layers_batch_size}."
        if self.stale:
            self._say("Stale: the network has changed since it was measured. " + where + " Measure again.",
                      warn=True)
        else:
            self._say(where + (" " + " ".join(result.notes) if result.notes else ""))

    def _clear(self) -> None:
        self.shown = None
        self.stale = False
        self.layer_model.removeRows(0, self.layer_model.rowCount())
        self.batch_model.removeRows(0, self.batch_model.rowCount())
        self.estimate_note.clear()

    def _show(self, key: str, result: Profile, when: str, stale: bool) -> None:
        same = self.shown is not None and self.shown[0] == key and self.shown[1] is result
        self.shown = (key, result, when)
        self.stale = stale
        self.layer_view.setEnabled(not stale)
        self.batch_view.setEnabled(not stale)
        if same:
            return
        graph = self.controller.graph
        self.layer_model.removeRows(0, self.layer_model.rowCount())
        other = result.other_ms / result.profiled_step_ms if result.profiled_step_ms else 0.0
        # the bars are drawn against the biggest layer's share, so that a deep network's 3 % layers
        # still show; the rest of the step (its optimizer step and adds) has its figure, not a bar
        biggest = max([result.share(x) for x in result.layers], default=0.0) or 1.0
        for layer in result.layers:
            share = result.share(layer)
            cells = [_cell(layer.name), _cell(layer.type), _cell(f"{layer.forward_ms:,.2f}", True, sort=layer.forward_ms),
                     _cell(f"{layer.backward_ms:,.2f}", True, sort=layer.backward_ms),
                     _cell(f"{share * 100:.1f} %", True, sort=share)]
            cells[4].setData(share / biggest, SHARE_ROLE)
            top = layer.name.split(".")[0]
            cells[0].setData(top if top in graph.nodes else "", NODE_ROLE)
            self.layer_model.appendRow(cells)
        if result.profiled_step_ms:
            row = [_cell("outside the layers"), _cell("adds, loss, optimizer"), _cell("", sort=-1.0),
                   _cell("", sort=-1.0), _cell(f"{other * 100:.1f} %", True, sort=other)]
            row[4].setData(0.0, SHARE_ROLE)
            self.layer_model.appendRow(row)
        self.batch_model.removeRows(0, self.batch_model.rowCount())
        for b in result.batches:
            self.batch_model.appendRow([_cell(f"{b.batch_size:,}", True), _cell(_ms(b.step_ms), True),
                                        _cell(f"{b.images_per_s:,.1f}", True), _cell(nbytes(b.peak_bytes), True),
                                        _cell(nbytes(b.estimated_bytes), True), _cell(f"{b.ratio:.2f}", True)])
        self.batch_model.appendRow(self._largest_row(result))
        self.estimate_note.setText(f"★ {largest_text(result)}\nThe {describe_estimate(result)}.")

    def _largest_row(self, result: Profile) -> list[QStandardItem]:
        tried = result.largest_batch_method == "tried"
        step = _ms(result.largest_step_ms) if tried and result.largest_step_ms else "—"
        rate = f"{result.largest_batch * 1000 / result.largest_step_ms:,.1f}" \
            if tried and result.largest_step_ms else "—"
        peak = nbytes(result.largest_peak_bytes) if result.largest_peak_bytes else "—"
        estimate = result.fixed_estimate_bytes + result.activation_bytes * result.largest_batch
        row = [_cell(f"★ {result.largest_batch:,}", True, bold=True), _cell(step, True, True),
               _cell(rate, True, True), _cell(peak if tried else f"≈ {peak}", True, True),
               _cell(nbytes(estimate), True), _cell("")]
        for item in row:
            item.setToolTip(largest_text(result))
        return row

    def _on_layer_clicked(self, index) -> None:
        node_id = index.siblingAtColumn(0).data(NODE_ROLE)
        if node_id:
            self.controller.select([node_id], focus=True)
