"""View ▸ Feature Maps, in the spirit of the Deep Visualization Toolbox: pick an
input (a dataset image, an image file, or a drawing for digit networks), run the
network once, and see what any block makes of it — its activation maps as a
grid, the strongest channels first. Click a map to enlarge it; classifiers show
their top-5 beside the input.

The panel follows the canvas: selecting a block shows that block's maps. It is a
thin view: what it shows and decides is a Qt-free
`designer.introspection.feature_map_session.FeatureMapSession`, which the panel
feeds with the controller's signals and the person's choices and redraws from;
the forward pass (`feature_map_runs.ForwardRunner`) runs in a worker thread on a
copy of the document, so the window never waits for torch and an edit made
meanwhile cannot disturb it.
"""
from __future__ import annotations

import atexit
from pathlib import Path

from PySide6.QtCore import QObject, QSize, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QApplication, QComboBox, QFileDialog, QFrame, QGridLayout, QHBoxLayout, QLabel,
                               QProgressBar, QPushButton, QScrollArea, QSizePolicy, QSpinBox, QSplitter, QVBoxLayout,
                               QWidget)

from designer.bundled import samples_dir
from designer.introspection.feature_map_runs import ForwardRunner, Job, Outcome
from designer.introspection.feature_map_session import (DRAWING, ENLARGE_HINT, INITIAL, INITIAL_LABEL, SCALES,
                                                        SOURCES, EnlargedChanged, ExampleChanged, FeatureMapSession,
                                                        InputChoiceChanged, MapsChanged, MessageChanged,
                                                        PredictionsChanged, RunRequested, RunScheduled,
                                                        WeightChoiceChanged)
from designer.ui.draw_pad import DrawPad
from designer.ui.observing import Connections
from designer.ui.picture_grid import PictureGrid, array_to_qimage
from designer.ui.torch_loader import load_torch

RUN_DELAY_MS = 120  # edits and drawing strokes come in bursts; run once they settle
ENLARGED_SIDE = 180


# ---- the worker ---------------------------------------------------------------------------------

class _Worker(QObject):
    """A ForwardRunner in the panel's worker thread."""

    finished = Signal(object)

    def __init__(self):
        super().__init__()
        self.runner = ForwardRunner(import_torch=load_torch)

    @Slot(object)
    def run(self, job: Job) -> None:
        outcome = self.runner.run(job)
        if outcome is not None:  # None: a newer request is queued behind this one
            self.finished.emit(outcome)


def _stop(thread: QThread) -> None:
    try:
        if thread.isRunning():
            thread.quit()
            thread.wait()
    except RuntimeError:
        pass  # at interpreter exit the thread object may be gone before the panel


# Each worker thread and its _Worker live until the thread has finished, whatever happens to the
# panel: the application owns the QThread, and this table the _Worker. Owned by the panel's Python
# side, the garbage collector could free them at any moment (a closed window's panel in a
# reference cycle), and Qt aborts when a running QThread is destroyed, or a QObject while its
# thread is inside one of its slots.
_WORKERS: dict[QThread, _Worker] = {}
_HOOKED: list = []    # the application's end is told once to stop them


def _start_thread(worker: _Worker) -> QThread:
    app = QApplication.instance()
    thread = QThread(app)
    thread.setObjectName("feature-maps")
    worker.moveToThread(thread)
    if not _HOOKED:
        app.aboutToQuit.connect(_stop_all)
        atexit.register(_stop_all)    # a process that ends without quitting the application (tests)
        _HOOKED.append(True)
    _WORKERS[thread] = worker
    # called in the finishing thread itself: the _Worker is let go in the thread it lives in
    thread.finished.connect(lambda: _WORKERS.pop(thread, None), Qt.ConnectionType.DirectConnection)
    thread.start()
    return thread


def _stop_all() -> None:
    """At the application's end: no worker thread may outlive it."""
    for thread in list(_WORKERS):
        _stop(thread)


# ---- the panel ----------------------------------------------------------------------------------

class FeatureMapPanel(QWidget):
    """A dock body. Takes the window's DocumentController; follows its selection."""

    request = Signal(object)   # Job, to the worker thread
    ran = Signal(object)       # Outcome, after the panel has shown it (tests, status bar)

    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.session = FeatureMapSession(controller.document)
        self._quiet = False  # True while the panel, not the person, moves the controls
        self._thread: QThread | None = None  # started with the first run
        self._worker: _Worker | None = None
        self._build()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RUN_DELAY_MS)
        self._timer.timeout.connect(self.run_now)
        self.session.subscribe(self._on_session_event)
        self._connections = Connections([
            (controller.selection_changed, self.session.select),
            (controller.analysis_changed, lambda _analysis: self.session.analysis_changed()),
            (controller.graph_replaced, lambda _graph: self.session.open(self.controller.document)),
            (controller.weights_changed, self.session.weights_changed),
        ])
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.detach)

    # ---- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        self.source_box = QComboBox()
        for key, label in SOURCES.items():
            self.source_box.addItem(label, key)
        self.dataset_box = QComboBox()
        self.index_spin = QSpinBox()
        self.index_spin.setRange(1, 1)
        self.index_spin.setToolTip("Which validation image (one the training held out)")
        self.file_button = QPushButton("Open image…")
        self.file_label = QLabel("no file chosen")
        self.pad = DrawPad(28)
        self.clear_button = QPushButton("Clear")
        self.weights_box = QComboBox()
        self.weights_box.addItem(INITIAL_LABEL, INITIAL)
        self.weights_box.setToolTip("The weights the network runs with")
        self.checkpoint_button = QPushButton("Open checkpoint…")
        self.checkpoint_button.setToolTip("Trained weights: a run's best.pt or last.pt, or a weights file")

        dataset_page = QWidget()
        row = QHBoxLayout(dataset_page)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.dataset_box, 1)
        row.addWidget(QLabel("#"))
        row.addWidget(self.index_spin)
        file_page = QWidget()
        row = QHBoxLayout(file_page)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.file_button)
        row.addWidget(self.file_label, 1)
        draw_page = QWidget()
        col = QVBoxLayout(draw_page)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.pad, 1)
        col.addWidget(self.clear_button, 0, Qt.AlignRight)
        self.source_pages = [dataset_page, file_page, draw_page]  # one shown at a time, in source order

        self.input_picture = QLabel()
        self.input_picture.setFixedSize(112, 112)
        self.input_picture.setAlignment(Qt.AlignCenter)
        self.input_picture.setFrameShape(QFrame.StyledPanel)
        self.input_caption = QLabel()
        self.input_caption.setWordWrap(True)
        self.predictions_title = QLabel("<b>Top-5</b>")
        self.prediction_rows: list[tuple[QLabel, QProgressBar]] = []
        predictions = QGridLayout()
        predictions.setColumnStretch(1, 1)
        for i in range(5):
            name, bar = QLabel(), QProgressBar()
            bar.setRange(0, 1000)
            bar.setTextVisible(True)
            bar.setMaximumHeight(16)
            predictions.addWidget(name, i, 0)
            predictions.addWidget(bar, i, 1)
            self.prediction_rows.append((name, bar))
        self.predictions_box = QWidget()
        box = QVBoxLayout(self.predictions_box)
        box.setContentsMargins(0, 4, 0, 0)
        box.addWidget(self.predictions_title)
        box.addLayout(predictions)

        left = QWidget()
        lay = QVBoxLayout(left)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(QLabel("<b>Input</b>"))
        lay.addWidget(self.source_box)
        for page in self.source_pages:
            lay.addWidget(page, 1 if page is draw_page else 0)
            page.setVisible(page is dataset_page)
        top = QHBoxLayout()
        top.addWidget(self.input_picture, 0, Qt.AlignTop)
        top.addWidget(self.input_caption, 1)
        lay.addLayout(top)
        lay.addWidget(self.predictions_box)
        lay.addWidget(QLabel("<b>Weights</b>"))
        lay.addWidget(self.weights_box)
        lay.addWidget(self.checkpoint_button, 0, Qt.AlignLeft)
        lay.addStretch(1)

        self.title_label = QLabel()
        self.title_label.setStyleSheet("font-weight: 600;")
        self.title_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.scale_box = QComboBox()
        for key, label in SCALES.items():
            self.scale_box.addItem(label, key)
        self.scale_box.setToolTip("One scale: a weak channel looks dark. Each map: every map stretched "
                                  "to its own largest value, to see the pattern of weak ones.")
        self.grid = PictureGrid(min_tile=36, max_tile=120, gap=5)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)  # the grid wraps to the width instead
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setWidget(self.grid)
        self.enlarged = QLabel()
        self.enlarged.setFixedSize(ENLARGED_SIDE, ENLARGED_SIDE)
        self.enlarged.setAlignment(Qt.AlignCenter)
        self.enlarged.setFrameShape(QFrame.StyledPanel)
        self.enlarged_caption = QLabel(ENLARGE_HINT)
        self.enlarged_caption.setWordWrap(True)
        self.enlarged_caption.setFixedWidth(ENLARGED_SIDE)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("color: #DC2626;")
        self.message_label.hide()

        zoom = QVBoxLayout()
        zoom.addWidget(self.enlarged)
        zoom.addWidget(self.enlarged_caption)
        zoom.addStretch(1)
        maps = QHBoxLayout()
        maps.addWidget(scroll, 1)
        maps.addLayout(zoom)
        header = QHBoxLayout()
        header.addWidget(self.title_label, 1)
        header.addWidget(self.scale_box)
        right = QWidget()
        lay = QVBoxLayout(right)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(header)
        lay.addWidget(self.message_label)
        lay.addLayout(maps, 1)
        lay.addWidget(self.status_label)

        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([250, 650])
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(splitter)

        self.source_box.currentIndexChanged.connect(
            lambda _i: self._forward(self.session.set_source, self.source_box.currentData()))
        self.dataset_box.currentIndexChanged.connect(
            lambda _i: self._forward(self.session.set_dataset, self.dataset_box.currentData()))
        self.index_spin.valueChanged.connect(lambda value: self._forward(self.session.set_index, value - 1))
        self.file_button.clicked.connect(self._choose_file)
        self.pad.drawn.connect(lambda grid: self._forward(self.session.set_drawing, grid))
        self.clear_button.clicked.connect(self.pad.clear)
        self.weights_box.currentIndexChanged.connect(
            lambda _i: self._forward(self.session.choose_weights, self.weights_box.currentData()))
        self.checkpoint_button.clicked.connect(self._choose_checkpoint)
        self.scale_box.currentIndexChanged.connect(
            lambda _i: self._forward(self.session.set_scale, self.scale_box.currentData()))
        self.grid.clicked.connect(self.enlarge)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(900, 420)

    def _forward(self, method, *args) -> None:
        """A person's choice, to the session (not the panel's own moves of its controls)."""
        if not self._quiet:
            method(*args)

    # ---- the worker thread ----------------------------------------------------------------------
    def _start_worker(self) -> None:
        # Not a child of the panel (see _WORKERS): a window torn down without closing its docks
        # tells the thread to end through the panel's `destroyed`, a connection between Qt objects
        # that holds whatever becomes of the panel's Python side.
        self._worker = worker = _Worker()
        self.request.connect(worker.run, Qt.QueuedConnection)
        worker.finished.connect(self._on_outcome, Qt.QueuedConnection)
        self._thread = _start_thread(worker)
        self.destroyed.connect(self._thread.quit)

    def _send(self, job: Job) -> None:
        if self._thread is None:
            self._start_worker()
        self._worker.runner.latest = job.number
        self.request.emit(job)

    def _on_outcome(self, outcome: Outcome) -> None:
        if self.session.finished(outcome):
            self.ran.emit(outcome)

    def detach(self) -> None:
        """Stop following the document and end the worker thread (safe to call twice)."""
        self._timer.stop()
        self._connections.disconnect_all()
        if self._thread is not None:
            _stop(self._thread)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.detach()
        super().closeEvent(event)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        # catch up after this paint: the window must be drawn before torch loads
        QTimer.singleShot(0, self._catch_up)

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().hideEvent(event)
        self.session.visible = self.isVisible()  # a minimised window still counts as shown

    def _catch_up(self) -> None:
        if self.isVisible():
            self.session.set_visible(True)

    # ---- what callers and tests use -------------------------------------------------------------
    @property
    def example(self):
        return self.session.example

    @property
    def outcome(self) -> Outcome | None:
        return self.session.outcome

    @property
    def predictions(self) -> list:
        return self.session.predictions

    def shown_node(self) -> str | None:
        """The block whose maps are shown: the selected one, else the first convolution."""
        return self.session.shown_node()

    def map_count(self) -> int:
        return self.grid.count()

    def channel_order(self) -> list[int]:
        """The channels in the order the grid shows them (strongest first)."""
        return self.session.channel_order()

    def enlarged_channel(self) -> int | None:
        return self.session.enlarged_channel()

    def enlarge(self, index: int) -> None:
        """Show grid tile `index` (as ordered on screen) large beside the grid."""
        self.session.enlarge(index)

    def run_now(self) -> None:
        """Send the current example through the network (in the worker thread)."""
        self._timer.stop()
        self.session.run_now()

    def set_dataset_sample(self, name: str, index: int) -> None:
        """Show validation image `index` (from 0) of dataset `name`."""
        self.session.set_dataset_sample(name, index)

    def set_image_file(self, path) -> None:
        self.session.set_image_file(path)

    def load_checkpoint(self, path) -> bool:
        return self.session.load_checkpoint(path)

    def _choose_file(self) -> None:
        samples = samples_dir()
        path, _ = QFileDialog.getOpenFileName(self, "Open image", str(samples if samples.is_dir() else Path.cwd()),
                                              "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp);;All files (*)")
        if path:
            self.set_image_file(path)

    def _choose_checkpoint(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open checkpoint", str(Path.cwd()),
                                              "PyTorch weights (*.pt *.pth);;All files (*)")
        if path:
            self.load_checkpoint(path)

    # ---- drawing what the session says ----------------------------------------------------------
    def _on_session_event(self, event) -> None:
        match event:
            case RunScheduled():
                self._timer.start()
            case RunRequested(job):
                self._send(job)
            case MessageChanged(text):
                self.message_label.setText(text)
                self.message_label.setVisible(bool(text))
            case InputChoiceChanged(choice):
                self._show_input_choice(choice)
            case ExampleChanged(example):
                self._show_example(example)
            case WeightChoiceChanged(choice):
                self._quiet = True
                try:
                    self.weights_box.clear()
                    for key, label in choice.choices:
                        self.weights_box.addItem(label, key)
                    self.weights_box.setCurrentIndex(self.weights_box.findData(choice.current))
                finally:
                    self._quiet = False
            case MapsChanged(maps):
                self._show_maps(maps)
            case EnlargedChanged(enlarged):
                self._show_enlarged(enlarged)
            case PredictionsChanged(predictions):
                self._show_predictions(predictions)

    def _show_input_choice(self, choice) -> None:
        self._quiet = True
        try:
            self.source_box.setCurrentIndex(self.source_box.findData(choice.source))
            for page, key in zip(self.source_pages, SOURCES):
                page.setVisible(key == choice.source)
            if [self.dataset_box.itemData(i) for i in range(self.dataset_box.count())] != \
                    [name for name, _title in choice.datasets]:
                self.dataset_box.clear()
                for name, title in choice.datasets:
                    self.dataset_box.addItem(title, name)
            self.dataset_box.setCurrentIndex(self.dataset_box.findData(choice.dataset) if choice.dataset else -1)
            self.index_spin.setRange(1, choice.dataset_size)
            self.index_spin.setValue(choice.index + 1)
            self.file_label.setText(choice.file.name if choice.file is not None else "no file chosen")
            drawing = self.source_box.model().item(self.source_box.findData(DRAWING))
            drawing.setEnabled(choice.drawing_allowed)
            self.pad.set_grid_size(choice.pad_side)
        finally:
            self._quiet = False

    def _show_example(self, example) -> None:
        image = array_to_qimage(example.picture)
        self.input_picture.setPixmap(QPixmap.fromImage(image).scaled(
            self.input_picture.size() - QSize(4, 4), Qt.KeepAspectRatio, Qt.FastTransformation))
        label = f"<br>label: <b>{example.label_name}</b>" if example.label_name is not None else ""
        self.input_caption.setText(f"{example.source}{label}")

    def _show_maps(self, maps) -> None:
        images = [array_to_qimage(p) for p in maps.pictures]
        self.grid.set_pictures(images, list(maps.captions), list(maps.tips), columns=maps.columns)
        self.title_label.setText(maps.title)
        if maps.status is not None:
            self.status_label.setText(maps.status)
        self._show_enlarged(maps.enlarged)

    def _show_enlarged(self, enlarged) -> None:
        if enlarged.selected is not None:
            self.grid.set_selected(enlarged.selected)
        if enlarged.picture is None:
            self.enlarged.clear()
        else:
            self.enlarged.setPixmap(QPixmap.fromImage(array_to_qimage(enlarged.picture)).scaled(
                self.enlarged.size() - QSize(4, 4), Qt.KeepAspectRatio, Qt.FastTransformation))
        self.enlarged_caption.setText(enlarged.caption)

    def _show_predictions(self, predictions) -> None:
        self.predictions_box.setVisible(predictions is not None)
        if predictions is None:
            return
        for (name, bar), p in zip(self.prediction_rows, list(predictions) + [None] * 5):
            name.setVisible(p is not None)
            bar.setVisible(p is not None)
            if p is not None:
                name.setText(p.name)
                bar.setValue(int(round(p.probability * 1000)))
                bar.setFormat(f"{p.probability * 100:.1f}%")
