"""The Train panel: what to train on and how (left), and what is happening (right):
progress, live curves, results, the log, earlier runs and fine-tuning.

It trains the document shown in the window, as it is when Start is pressed: the
worker gets a copy (JSON text), so the person may go on editing; the panel then
says that the run uses the earlier version.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QCursor, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QGroupBox, QHBoxLayout, QLabel, QMenu, QMessageBox,
                               QPushButton, QScrollArea, QSplitter, QTabWidget, QVBoxLayout, QWidget)

from designer.graph.fileformat import dumps
from designer.train import run_listing as run_folders
from designer.train.errors import TrainConfigError
from designer.train.events import CLOSED, Done, Epoch, Error, Started, Step

from .. import theme
from . import results_store
from .dataset_picker import DatasetPicker
from .device_picker import DevicePicker
from .finetune import FineTunePanel
from .history import History
from .hyperparams import HyperParams
from .plots import TrainingPlots
from .progress import LogView, ProgressStrip
from .results import ResultsView
from .runs_compare import RunsComparison
from .runs_list import RunsList
from .sweep_runner import SweepBox, SweepRunner
from .session import ENDED, IDLE, PAUSED, RUNNING, STARTING, STOPPING, TrainingSession, end_reason
from .trained_export import TrainedExporter, available_formats

STATE_TEXT = {IDLE: "Ready to train", STARTING: "Starting the training process…", RUNNING: "Training",
              PAUSED: "Paused", STOPPING: "Stopping after the current step…"}


class TrainingPanel(QWidget):
    run_state_changed = Signal(str)

    def __init__(self, controller, data_dir: Path | None = None, parent=None, session: TrainingSession | None = None):
        super().__init__(parent)
        self.controller = controller
        self._data_dir = data_dir
        self.session = session or TrainingSession(self)
        self.history = History()
        self.shown_run: Path | None = None       # whose curves and results are shown
        self._run_graph = None                   # the document object the run was started from
        self._run_undo_index = 0
        self._run_title = ""
        t = theme.current()

        # ---- left: settings ----
        self.state_label = QLabel()
        self.state_label.setWordWrap(True)
        font = self.state_label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.state_label.setFont(font)
        self.version_note = QLabel()
        self.version_note.setWordWrap(True)
        self.version_note.setStyleSheet(f"color: {t.warning};")
        self.version_note.hide()
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem.setStyleSheet(f"color: {t.error};")
        self.problem.hide()

        self.datasets = DatasetPicker()
        self.params = HyperParams()
        self.devices = DevicePicker()
        data_box = _group("Data", self.datasets)
        settings_box = _group("Settings", self.params)
        device_box = _group("Device", self.devices)
        self.sweeper = SweepRunner(self, self)
        sweep_box = _group("Sweep", SweepBox(self.sweeper))

        self.start_action = self._action("Start Training", self.start, "F5", "Train the network as drawn now")
        self.pause_action = self._action("Pause", self.toggle_pause, "F6", "Pause the run after the current step")
        self.stop_action = self._action("Stop", self.stop, "Shift+F5",
                                        "Stop after the current step; the checkpoint and model.pt are written")
        self.open_folder_action = self._action("Open Run Folder", self.open_run_folder, None,
                                               "Show the files of the run in the file manager")
        self.exporter = TrainedExporter(self)
        self.exporter.finished.connect(lambda p: self._note(f"Exported {p}"))
        self.exporter.failed.connect(lambda m: self._show_problem(f"Export failed: {m}"))
        self.export_actions = [self._action(fmt.label, lambda f=fmt: self.export_trained(f), None,
                                            f"Write the trained network of the run shown as {fmt.label.rstrip('…')}")
                               for fmt in available_formats()]
        self.start_button = _button(self.start_action)
        self.pause_button = _button(self.pause_action)
        self.stop_button = _button(self.stop_action)
        self.start_button.setDefault(True)
        self.folder_button = _button(self.open_folder_action)
        self.export_menu = QMenu(self)
        for action in self.export_actions:
            self.export_menu.addAction(action)
        self.export_button = QPushButton("Export Trained Model")
        self.export_button.setToolTip("Write the run's trained network: TorchScript, weights with the drawing, ONNX")
        self.export_button.setMenu(self.export_menu)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)
        more = QHBoxLayout()
        more.addWidget(self.folder_button)
        more.addWidget(self.export_button)

        left = QWidget()
        lc = QVBoxLayout(left)
        lc.setContentsMargins(6, 6, 6, 6)
        lc.addWidget(self.state_label)
        lc.addWidget(self.version_note)
        lc.addWidget(self.problem)
        lc.addLayout(buttons)
        lc.addLayout(more)
        lc.addWidget(data_box)
        lc.addWidget(settings_box)
        lc.addWidget(device_box)
        lc.addWidget(sweep_box)
        lc.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(left)
        # as wide as the narrowest the settings can be, so that nothing (an error's sentence
        # above all) is ever cut off at the right behind a horizontal scroll bar
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(max(290, left.minimumSizeHint().width()
                                   + scroll.verticalScrollBar().sizeHint().width()))
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)

        # ---- right: what happens ----
        self.progress = ProgressStrip()
        self.plots = TrainingPlots()
        self.results = ResultsView()
        self.log = LogView()
        self.runs = RunsList()
        self.finetune = FineTunePanel(controller)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.plots, "Curves")
        self.tabs.addTab(self.results, "Results")
        self.tabs.addTab(self.log, "Log")
        self.tabs.addTab(self.runs, "Runs")
        self.comparison = RunsComparison()
        self.tabs.addTab(self.comparison, "Compare")
        self.tabs.addTab(self.finetune, "Fine-tune")
        right = QWidget()
        rc = QVBoxLayout(right)
        rc.setContentsMargins(6, 6, 6, 6)
        rc.addWidget(self.progress)
        rc.addWidget(self.tabs, 1)

        self.splitter = splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(scroll)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        self._settings_column = left
        self._sized = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        # ---- wiring ----
        s = self.session
        s.state_changed.connect(self._on_state)
        s.started.connect(self._on_started)
        s.steps.connect(self._on_steps)
        s.epoch.connect(self._on_epoch)
        s.log.connect(self.log.add)
        s.ended.connect(self._on_ended)
        s.gpu_memory.connect(lambda n: self.progress.show_memory(n))
        self.runs.view_requested.connect(self.show_run)
        self.runs.compare_requested.connect(self.compare_run)
        self.runs.resume_requested.connect(self.resume_run)
        self.runs.compare_runs_requested.connect(self.compare_runs)
        self.runs.export_all_requested.connect(lambda rs: self.comparison.export_dialog([r.path for r in rs]))
        self.runs.open_requested.connect(lambda r: self.open_folder(r.path))
        self.runs.export_requested.connect(lambda _r: self.export_menu.exec(QCursor.pos()))   # for the selected run
        self.datasets.changed.connect(self._on_dataset)
        self.datasets.classes_known.connect(
            lambda n: self.finetune.set_class_count(n, self.datasets.combo.currentText()))
        self.finetune.weights_changed.connect(self._update_controls)
        controller.graph_replaced.connect(self._on_graph_replaced)
        controller.path_changed.connect(lambda _p: self._refresh_runs())
        controller.analysis_changed.connect(self._on_analysis)
        controller.history_changed.connect(self._check_version)
        self._on_graph_replaced(controller.graph)
        self._update_controls()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._sized and self.width() > 0:
            # the settings column as wide as its content wants, the views take the rest
            self._sized = True
            left = min(self._settings_column.sizeHint().width() + 24, self.width() // 2)
            self.splitter.setSizes([left, max(self.width() - left, 1)])

    def on_brought_to_front(self) -> None:
        """The panel came into view (its dock's tab raised): list datasets, probe devices."""
        self.datasets.on_shown()
        self.devices.on_shown()

    # ---- helpers ---------------------------------------------------------------------------------
    def _action(self, text: str, slot, shortcut, tip: str) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setStatusTip(tip)
        action.setToolTip(tip)
        action.triggered.connect(lambda _c=False: slot())
        return action

    def data_dir(self) -> Path:
        if self._data_dir is None:
            from ..settings import data_dir
            self._data_dir = data_dir()
        return Path(self._data_dir)

    def runs_root(self) -> Path:
        c = self.controller
        return run_folders.runs_root(c.path, c.title, self.data_dir())

    def _note(self, text: str) -> None:
        self.log.add(text)
        self.controller.message.emit(text)

    def _show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))
        if text:
            self.controller.message.emit(text.splitlines()[0])

    # ---- the document ----------------------------------------------------------------------------
    def _on_graph_replaced(self, graph) -> None:
        if not self.session.active:
            problem = self.params.set_from_graph(graph)
            self._show_problem(problem)
            config_dataset = (graph.meta.get("training") or {}).get("dataset")
            if config_dataset:
                self.datasets.select(str(config_dataset))
            device = (graph.meta.get("training") or {}).get("device")
            if device:
                self.devices.select(str(device))
        self._on_analysis(self.controller.analysis)
        self._refresh_runs()
        self._check_version()

    def _on_analysis(self, analysis) -> None:
        shapes = list(analysis.input_shapes.values()) if analysis is not None else []
        if len(shapes) == 1:
            self.datasets.set_input_shape(shapes[0])
        elif "discriminator" in self.controller.graph.networks():
            disc = [n for n in self.controller.graph.nodes.values()
                    if n.type == "Input" and n.network == "discriminator"]
            if disc and disc[0].id in analysis.nodes:
                self.datasets.set_input_shape(analysis.nodes[disc[0].id].out_shapes.get("out"))
        self._update_controls()

    def _on_dataset(self, name: str) -> None:
        self.finetune.set_class_count(None, self.datasets.combo.currentText())

    def _refresh_runs(self) -> None:
        self.runs.set_root(self.runs_root())
        self.finetune.set_runs(self.runs.records)

    def _check_version(self) -> None:
        """While a run goes on, say whether the drawing still is what it trains."""
        if not self.session.active or self._run_graph is None:
            self.version_note.hide()
            return
        started = self.session.started_at.strftime("%H:%M:%S") if self.session.started_at else ""
        if self.controller.graph is not self._run_graph:
            self.version_note.setText(f"The run trains {self._run_title} as it was at {started}; another "
                                      "document is open now.")
            self.version_note.show()
        elif self.controller.history.index != self._run_undo_index:
            self.version_note.setText(f"The run uses the drawing as it was at {started}; your edits since "
                                      "apply to the next run.")
            self.version_note.show()
        else:
            self.version_note.hide()

    # ---- control ---------------------------------------------------------------------------------
    def start(self, changes: dict | None = None, name: str = "") -> bool:
        """Start a run of the drawing as it is now; False (with the reason shown) when it cannot.
        `changes` overrides settings and `name` ends the run folder's name (a sweep's point)."""
        if self.session.active:
            return False
        self.reveal()
        c = self.controller
        analysis = c.analysis
        if not c.graph.nodes:
            self._show_problem("The drawing is empty: add blocks (or open a preset) to train.")
            return False
        if analysis.errors:
            node, message = analysis.errors[0]
            self._show_problem("Fix the drawing first: " + (f"{node}: " if node else "") + message)
            return False
        try:
            config = self.params.config(self.datasets.dataset, self.devices.device)
            config = config.replace(**changes) if changes else config
        except TrainConfigError as exc:
            self._show_problem(str(exc))
            return False
        run_dir = run_folders.new_run_dir(self.runs_root())
        run_dir = run_dir.with_name(f"{run_dir.name}-{name}") if name else run_dir
        init = None
        try:
            run_dir.mkdir(parents=True)
            weights = self.finetune.attached()
            if weights:
                from designer.train import checkpoint   # torch: already imported, the weights were loaded with it
                init = run_dir / run_folders.INIT_WEIGHTS
                checkpoint.save(weights, init)   # atomic; a full disk is an OSError (torch's own 'unexpected pos' too)
            self._begin(c.graph, c.title)
            self.session.start(dumps(c.graph), config.to_dict(), run_dir, init_weights=init, title=c.title)
        except OSError as exc:
            self._show_problem(f"The run folder {run_dir} cannot be written: {exc.strerror or exc}")
            self._run_graph = None
            return False
        self.shown_run = run_dir
        self.tabs.setCurrentWidget(self.plots)
        # the runs list a turn later, so that Start returns at once
        QTimer.singleShot(0, lambda: (self._refresh_runs(), self.runs.select(run_dir)))
        return True

    def _begin(self, graph, title: str, history: History | None = None) -> None:
        self._show_problem("")
        self._run_graph = graph
        self._run_title = title
        self._run_undo_index = self.controller.history.index
        self.history = history or History()
        self.plots.set_history(self.history)
        self.results.clear()
        self.progress.starting()

    def reveal(self) -> None:
        """Bring the dock this panel sits in to the front."""
        w = self.parentWidget()
        while w is not None and not isinstance(w, QDockWidget):
            w = w.parentWidget()
        if w is not None:
            w.show()
            w.raise_()

    def resume_run(self, record) -> bool:
        if self.session.active or not record.can_resume:
            return False
        document = record.file(run_folders.DOCUMENT).read_text(encoding="utf-8")
        history = History.from_csv(record.file(run_folders.METRICS)) if record.file(run_folders.METRICS).is_file() \
            else None
        self._begin(self.controller.graph, record.document_title or self.controller.title, history)
        self.results.load(results_store.load_epochs(record.path))
        self.session.start(document, record.config, record.path, resume=True, title=self._run_title)
        self.shown_run = record.path
        self.tabs.setCurrentWidget(self.plots)
        return True

    def toggle_pause(self) -> None:
        if self.session.state == RUNNING:
            self.session.pause()
        elif self.session.state == PAUSED:
            self.session.resume()

    def stop(self) -> None:
        self.session.stop()

    def shutdown(self) -> None:
        """The window closes: end the run (cleanly when it can) and stop listening."""
        self.session.shutdown()

    # ---- the run's events ------------------------------------------------------------------------
    def _on_state(self, state: str) -> None:
        self._update_controls()
        self.runs.set_busy(self.session.active)
        self._check_version()
        self.run_state_changed.emit(state)

    def _on_started(self, event: Started) -> None:
        self.progress.on_start(event)
        self.plots.set_extent(event.total_steps)
        self.results.set_classes(event.classes)
        self._update_controls()

    def _on_steps(self, events: list[Step]) -> None:
        self.history.add_steps(events)
        self.plots.schedule()
        self.progress.on_steps(events)

    def _on_epoch(self, event: Epoch) -> None:
        self.history.add_epoch(event)
        self.plots.schedule()
        self.progress.on_epoch(event)
        self.results.add_epoch(event)

    def _on_ended(self, event: Done | Error) -> None:
        self.progress.on_end(event)
        self.plots.schedule()
        if isinstance(event, Error):
            self._show_problem(end_reason(event))
        self._run_graph = None
        self.version_note.hide()
        self._refresh_runs()
        if self.shown_run is not None:
            self.runs.select(self.shown_run)
        self._update_controls()

    def _update_controls(self) -> None:
        state = self.session.state
        active = self.session.active
        self.start_action.setEnabled(not active and bool(self.controller.graph.nodes))
        self.pause_action.setEnabled(state in (RUNNING, PAUSED))
        self.pause_action.setText("Resume" if state == PAUSED else "Pause")
        self.stop_action.setEnabled(state in (STARTING, RUNNING, PAUSED))
        self.open_folder_action.setEnabled(self.shown_run is not None and self.shown_run.is_dir())
        record = run_folders.read_run(self.shown_run) if self.shown_run is not None and not active else None
        exportable = bool(record and record.can_export) or bool(self.runs.selected() and self.runs.selected().can_export
                                                               and not active)
        for action in self.export_actions:
            action.setEnabled(exportable and not self.exporter.busy)
        self.export_button.setEnabled(exportable and bool(self.export_actions))
        if active:
            info = self.session.start_info
            what = f" {self._run_title}" if self._run_title else ""
            detail = f" ({info.task}) on {info.device}" if info is not None else ""
            self.state_label.setText(f"{STATE_TEXT.get(state, state)}{what}{detail if state != STARTING else ''}")
        elif state == ENDED:
            last = self.session.last_event   # an error's sentence is shown once, in red below
            told = isinstance(last, Error) and last.kind != CLOSED and self.problem.isVisibleTo(self)
            self.state_label.setText("The run ended on an error." if told else end_reason(last) or "The run ended.")
        else:
            self.state_label.setText(f"{STATE_TEXT[IDLE]} {self.controller.title}")

    # ---- earlier runs ----------------------------------------------------------------------------
    def show_run(self, record) -> None:
        """Show an earlier run's curves and results (not while a run is going)."""
        if self.session.active:
            return
        metrics = record.file(run_folders.METRICS)
        history = History.from_csv(metrics) if metrics.is_file() else History()
        self.history = history
        self.plots.set_history(history)
        epochs = results_store.load_epochs(record.path)
        self.results.set_classes(record.classes)
        self.results.load(epochs)
        self.shown_run = record.path
        self.state_label.setText(f"{record.name}: {record.status}" + (f" ({record.reason})" if record.reason else ""))
        self._update_controls()

    def compare_run(self, record) -> None:
        metrics = record.file(run_folders.METRICS)
        if metrics.is_file():
            self.plots.add_overlay(record.name, History.from_csv(metrics))
            self.tabs.setCurrentWidget(self.plots)

    def compare_runs(self, records) -> None:
        """Two or more runs side by side in the Compare tab."""
        self.comparison.set_runs([r.path for r in records])
        self.tabs.setCurrentWidget(self.comparison)

    def open_run_folder(self) -> None:
        if self.shown_run is not None:
            self.open_folder(self.shown_run)

    def open_folder(self, path: Path) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def export_trained(self, fmt, run_dir: Path | None = None) -> None:
        """Ask where, then write the trained network of `run_dir` (default: the run selected
        in the runs list, else the one shown) on a thread."""
        if run_dir is None:
            selected = self.runs.selected()
            run_dir = selected.path if selected is not None else self.shown_run
        record = run_folders.read_run(run_dir) if run_dir is not None else None
        if record is None or not record.can_export:
            self._show_problem("Choose a finished or stopped run with a checkpoint to export.")
            return
        suggestion = str(record.path / ("trained" + fmt.suffix))
        path, _ = QFileDialog.getSaveFileName(self, f"Export Trained Model ({record.name})", suggestion,
                                              fmt.file_filter)
        if not path:
            return
        target = Path(path)
        if target.suffix.lower() != fmt.suffix:
            target = target.with_name(target.name + fmt.suffix)
        self._note(f"Exporting {record.name} to {target.name}…")
        self.exporter.start(record.path, target, fmt.format)

    def confirm_close(self) -> bool:
        """Whether the window may close while a run goes on (asks the person)."""
        if not self.session.active:
            return True
        answer = QMessageBox.question(self, "Training is running",
                                      "A training run is going on. Stop it (its last checkpoint is kept) and close?",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                                      QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes


def _group(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(8, 8, 8, 8)
    layout.addWidget(widget)
    return box


def _button(action: QAction) -> QPushButton:
    """A push button that mirrors an action (text, enabled state) and triggers it."""
    button = QPushButton(action.text())
    button.setToolTip(action.toolTip())
    button.clicked.connect(action.trigger)

    def sync():
        button.setText(action.text())
        button.setEnabled(action.isEnabled())
    action.changed.connect(sync)
    sync()
    return button
