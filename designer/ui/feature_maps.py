"""View ▸ Feature Maps, in the spirit of the Deep Visualization Toolbox: pick an
input (a dataset image, an image file, or a drawing for digit networks), run the
network once, and see what any block makes of it — its activation maps as a
grid, the strongest channels first. Click a map to enlarge it; classifiers show
their top-5 beside the input.

The panel follows the canvas: selecting a block shows that block's maps. The
forward pass runs in a worker thread on a copy of the document, so the window
never waits for torch and an edit made meanwhile cannot disturb it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QSize, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QApplication, QComboBox, QFileDialog, QFrame, QGridLayout, QHBoxLayout, QLabel,
                               QProgressBar, QPushButton, QScrollArea, QSizePolicy, QSpinBox, QSplitter, QVBoxLayout,
                               QWidget)

from designer.ui.draw_pad import DrawPad
from designer.ui.torch_loader import load_torch
from designer.ui.observing import Connections
from designer.ui.picture_grid import PictureGrid, array_to_qimage

DATASET, FILE, DRAWING = "dataset", "file", "drawing"
SHARED, EACH = "shared", "each"
INITIAL, ATTACHED = "initial", "attached"
RUN_DELAY_MS = 120  # edits and drawing strokes come in bursts; run once they settle
ENLARGED_SIDE = 180


# ---- colouring maps (numpy only) --------------------------------------------------------------

def map_pictures(activation, scale: str = SHARED) -> tuple[np.ndarray, float, float]:
    """C×H×W activations → C×H×W greys in [0, 1], and the (low, high) values drawn black
    and white. Maps that are all ≥ 0 (after a ReLU) run from black at 0; signed maps
    (after tanh) put 0 at mid grey so that negative and positive read apart. `shared`
    uses one scale for the whole block, so weak channels look weak."""
    a = np.asarray(activation, dtype=np.float64)
    signed = bool((a < 0).any())
    if scale == SHARED:
        peak = np.abs(a).max() if a.size else 0.0
        peaks = np.full((a.shape[0], 1, 1), peak)
    else:
        peaks = np.abs(a).reshape(a.shape[0], -1).max(axis=1).reshape(-1, 1, 1)
    safe = np.where(peaks > 0, peaks, 1.0)
    pictures = (a / safe + 1.0) / 2.0 if signed else a / safe
    peak = float(peaks.max()) if peaks.size else 0.0
    return np.clip(pictures, 0.0, 1.0), (-peak if signed else 0.0), peak


def vector_picture(values) -> np.ndarray:
    """A vector laid out as a near-square grid of cells, one per unit (as the Deep
    Visualization Toolbox draws fully connected layers); unused cells are left dark."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    side = int(np.ceil(np.sqrt(len(v)))) or 1
    rows = int(np.ceil(len(v) / side)) or 1
    pictures, _lo, _hi = map_pictures(v.reshape(-1, 1, 1))
    grid = np.zeros(rows * side)
    grid[:len(v)] = pictures.reshape(-1)
    return grid.reshape(rows, side)


# ---- the worker ---------------------------------------------------------------------------------

@dataclass
class Job:
    number: int
    graph: object                # a copy: the worker never touches the document being edited
    network: str | None
    model_key: tuple             # structure + weights: the compiled model is reused while it matches
    checkpoint: object           # designer.introspection.weights.Checkpoint to load, or None
    example: object              # designer.introspection.inputs.Example
    macs: int                    # multiply-adds of one forward pass: how many threads are worth it


@dataclass
class Outcome:
    number: int
    network: str | None
    example: object
    activations: object = None   # designer.introspection.activations.Activations
    compile_seconds: float = 0.0
    weights_note: str = ""
    error: str = ""


class _Worker(QObject):
    finished = Signal(object)

    def __init__(self):
        super().__init__()
        self.latest = 0
        self._model = None
        self._model_key = None
        self._normalisation = None  # (mean, std) the checkpoint's run fed its images with
        self._note = ""             # what loading the weights had to say, shown with every run

    @Slot(object)
    def run(self, job: Job) -> None:
        if job.number < self.latest:
            return  # a newer request is queued behind this one
        outcome = Outcome(job.number, job.network, job.example)
        try:
            load_torch()
            outcome.compile_seconds, outcome.weights_note = self._prepare(job)
            from designer.introspection.activations import capture, forward_threads
            import torch
            torch.set_num_threads(forward_threads(job.macs))
            x = _normalised(job.example.tensor, self._normalisation)
            outcome.activations = capture(self._model, job.graph, x, job.network)
        except Exception as exc:  # noqa: BLE001 - shown as one line in the panel, never a traceback
            outcome.error = _one_line(exc)
        self.finished.emit(outcome)

    def _prepare(self, job: Job) -> tuple[float, str]:
        if self._model is not None and self._model_key == job.model_key:
            return 0.0, self._note
        import torch
        start = time.perf_counter()
        self._model = None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)  # "initial weights" are the same draw every time
            model = job.graph.compile(network=job.network, device="cpu")
        note = ""
        self._normalisation = None
        if job.checkpoint is not None:
            from designer.compile.transfer import load_matching, network_share
            from designer.introspection.inputs import input_shape
            from designer.introspection.weights import input_normalisation
            state = job.checkpoint.state
            if job.network and len(job.graph.networks()) > 1:
                state = network_share(state, job.network) or state  # else a file of this network alone
            report = load_matching(model, state)
            if not report.matched:
                raise ValueError(f"none of the checkpoint's weights fit this network ({report})")
            if not report.ok:
                note = f"weights partly loaded: {report}"
            self._normalisation = input_normalisation(job.checkpoint, input_shape(job.graph, job.network))
        self._model, self._model_key, self._note = model, job.model_key, note
        return time.perf_counter() - start, note


def _normalised(x, normalisation):
    """The example as the run fed its images: minus the mean, over the deviation, per channel."""
    if normalisation is None:
        return x
    mean, std = normalisation
    if x.dim() == 1:  # a flattened image: normalise it as the image it was
        c = mean.shape[0]
        side = int(round((x.numel() // c) ** 0.5))
        return ((x.reshape(c, side, side) - mean) / std).reshape(-1)
    return (x - mean) / std


def _stop(thread: QThread) -> None:
    try:
        if thread.isRunning():
            thread.quit()
            thread.wait()
    except RuntimeError:
        pass  # at interpreter exit the thread object may be gone before the panel


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# ---- the panel ----------------------------------------------------------------------------------

class FeatureMapPanel(QWidget):
    """A dock body. Takes the window's DocumentController; follows its selection."""

    request = Signal(object)   # Job, to the worker thread
    ran = Signal(object)       # Outcome, after the panel has shown it (tests, status bar)

    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.example = None
        self.outcome: Outcome | None = None
        self._job_number = 0
        self._weights: dict[str, object] = {INITIAL: None}  # key -> Checkpoint to load, or None
        self._node_id: str | None = None
        self._order: list[int] = []
        self._thread: QThread | None = None  # started with the first run
        self._worker: _Worker | None = None
        # hidden, the panel only notes what changed: torch and the datasets load when it is shown
        self._stale_document = True
        self._stale_run = False
        self._build()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RUN_DELAY_MS)
        self._timer.timeout.connect(self.run_now)
        self._connections = Connections([
            (controller.selection_changed, self._on_selection_changed),
            (controller.analysis_changed, self._on_analysis_changed),
            (controller.graph_replaced, self._on_graph_replaced),
        ])
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.detach)

    # ---- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        self.source_box = QComboBox()
        self.source_box.addItem("Dataset image", DATASET)
        self.source_box.addItem("Image file", FILE)
        self.source_box.addItem("Drawing", DRAWING)
        self.dataset_box = QComboBox()
        self.index_spin = QSpinBox()
        self.index_spin.setRange(1, 1)
        self.index_spin.setToolTip("Which validation image (one the training held out)")
        self.file_button = QPushButton("Open image…")
        self.file_label = QLabel("no file chosen")
        self.pad = DrawPad(28)
        self.clear_button = QPushButton("Clear")
        self.weights_box = QComboBox()
        self.weights_box.addItem("Initial weights (seed 0)", INITIAL)
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
        self.scale_box.addItem("One scale for the block", SHARED)
        self.scale_box.addItem("Each map on its own scale", EACH)
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
        self.enlarged_caption = QLabel("Click a map to enlarge it.")
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

        self.source_box.currentIndexChanged.connect(self._source_changed)
        self.dataset_box.currentIndexChanged.connect(lambda _i: self._dataset_changed())
        self.index_spin.valueChanged.connect(lambda _v: self._load_example())
        self.file_button.clicked.connect(self._choose_file)
        self.pad.drawn.connect(lambda _grid: self._load_example())
        self.clear_button.clicked.connect(self.pad.clear)
        self.weights_box.currentIndexChanged.connect(lambda _i: self.schedule_run())
        self.checkpoint_button.clicked.connect(self._choose_checkpoint)
        self.scale_box.currentIndexChanged.connect(lambda _i: self._show_node())
        self.grid.clicked.connect(self.enlarge)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(900, 420)

    # ---- the worker thread ----------------------------------------------------------------------
    def _start_worker(self) -> None:
        # Not a child of the panel: a window torn down without closing its docks must not
        # destroy a running QThread (Qt aborts). The panel's `destroyed` stops it instead.
        thread = QThread()
        thread.setObjectName("feature-maps")
        self._worker = _Worker()
        self._worker.moveToThread(thread)
        self.request.connect(self._worker.run, Qt.QueuedConnection)
        self._worker.finished.connect(self._on_outcome, Qt.QueuedConnection)
        self.destroyed.connect(lambda *_: _stop(thread))
        thread.start()
        self._thread = thread

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

    def _catch_up(self) -> None:
        if not self.isVisible():
            return
        if self._stale_document:
            self._on_graph_replaced(self.graph)
        elif self._stale_run:
            self._on_analysis_changed(None)
            self._show_node()

    def _hidden(self, document: bool = False) -> bool:
        """True (and the change noted for later) while the panel is not on screen."""
        if self.isVisible():
            return False
        self._stale_document |= document
        self._stale_run = True
        return True

    # ---- what to run ----------------------------------------------------------------------------
    @property
    def graph(self):
        return self.controller.graph

    def network(self) -> str | None:
        """The network of the block shown (a GAN document holds two)."""
        nets = self.graph.networks()
        if len(nets) <= 1:
            return None
        node = self.graph.nodes.get(self._node_id or "")
        return node.network if node else nets[0]

    def _input_shape(self):
        from designer.introspection.inputs import input_shape
        return input_shape(self.graph, self.network())

    def schedule_run(self) -> None:
        self._timer.start()

    def run_now(self) -> None:
        """Send the current example through the network (in the worker thread)."""
        self._timer.stop()
        if self.example is None:
            return
        analysis = self.controller.analysis
        network = self.network()
        errors = [m for i, m in analysis.errors if i is None or network is None
                  or self.graph.nodes[i].network == network]
        if errors:
            self._show_message(f"The network has {len(errors)} error{'s' if len(errors) > 1 else ''} "
                               f"({errors[0]}); fix {'them' if len(errors) > 1 else 'it'} to see its maps.")
            return
        from designer.compile.checkpoint import attached_weights
        self._offer_document_weights()
        key = self.weights_box.currentData()
        if self._thread is None:
            self._start_worker()
        self._job_number += 1
        self._worker.latest = self._job_number
        # the document's weights travel with the copy; a checkpoint is loaded onto a bare copy
        attached = id(attached_weights(self.graph)) if key == ATTACHED else None  # new weights: a new model
        self.request.emit(Job(self._job_number, _copy(self.graph, with_weights=key == ATTACHED), network,
                              (_structure_key(self.graph), key, attached), self._weights.get(key), self.example,
                              analysis.macs))

    def _offer_document_weights(self) -> None:
        """Weights attached to the document (opened from a weights file, or loaded into the
        drawing by fine-tuning) are offered, and chosen when they first appear."""
        from designer.compile.checkpoint import attached_weights
        index = self.weights_box.findData(ATTACHED)
        if attached_weights(self.graph) and index < 0:
            self._weights[ATTACHED] = None  # compiled in with the document's copy
            self.weights_box.blockSignals(True)
            self.weights_box.insertItem(0, "The document's weights", ATTACHED)
            self.weights_box.setCurrentIndex(0)
            self.weights_box.blockSignals(False)
        elif not attached_weights(self.graph) and index >= 0:
            self.weights_box.removeItem(index)

    # ---- inputs -----------------------------------------------------------------------------------
    def _source_changed(self, _index: int) -> None:
        for i, page in enumerate(self.source_pages):
            page.setVisible(i == self.source_box.currentIndex())
        self._load_example()

    def _dataset_changed(self) -> None:
        from designer.graph.errors import GraphError
        from designer.introspection.inputs import dataset_size
        name = self.dataset_box.currentData()
        if not name:
            return
        try:
            size = dataset_size(name, self._input_shape())
        except GraphError as exc:
            self._show_message(str(exc))
            return
        self.index_spin.blockSignals(True)
        self.index_spin.setRange(1, max(1, size))
        self.index_spin.blockSignals(False)
        self._load_example()

    def set_dataset_sample(self, name: str, index: int) -> None:
        """Show validation image `index` (from 0) of dataset `name`."""
        self.source_box.setCurrentIndex(self.source_box.findData(DATASET))
        self.dataset_box.blockSignals(True)
        self.dataset_box.setCurrentIndex(max(0, self.dataset_box.findData(name)))
        self.dataset_box.blockSignals(False)
        self._dataset_changed()
        self.index_spin.setValue(index + 1)
        self._load_example()

    def set_image_file(self, path) -> None:
        self._file = Path(path)
        self.file_label.setText(self._file.name)
        self.source_box.setCurrentIndex(self.source_box.findData(FILE))
        self._load_example()

    def set_drawing(self, grid) -> None:
        self.source_box.setCurrentIndex(self.source_box.findData(DRAWING))
        self.pad.set_grid(grid)

    def _choose_file(self) -> None:
        samples = Path(__file__).resolve().parents[2] / "resources" / "samples"
        path, _ = QFileDialog.getOpenFileName(self, "Open image", str(samples if samples.is_dir() else Path.cwd()),
                                              "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp);;All files (*)")
        if path:
            self.set_image_file(path)

    def _load_example(self) -> None:
        from designer.graph.errors import GraphError
        from designer.introspection import inputs
        source = self.source_box.currentData()
        try:
            shape = self._input_shape()
            if source == DATASET:
                name = self.dataset_box.currentData()
                if not name:
                    return
                example = inputs.from_dataset(name, self.index_spin.value() - 1, shape)
            elif source == FILE:
                if getattr(self, "_file", None) is None:
                    self._show_message("Choose an image file.")
                    return
                example = inputs.from_file(self._file, shape)
            else:
                example = inputs.from_drawing(self.pad.grid(), shape)
        except GraphError as exc:
            self._show_message(str(exc))
            return
        self._show_message("")
        self.example = example
        self._show_input()
        self.schedule_run()

    def _show_input(self) -> None:
        ex = self.example
        image = array_to_qimage(ex.picture)
        self.input_picture.setPixmap(QPixmap.fromImage(image).scaled(
            self.input_picture.size() - QSize(4, 4), Qt.KeepAspectRatio, Qt.FastTransformation))
        label = f"<br>label: <b>{ex.label_name}</b>" if ex.label_name is not None else ""
        self.input_caption.setText(f"{ex.source}{label}")

    # ---- weights ------------------------------------------------------------------------------------
    def load_checkpoint(self, path) -> bool:
        from designer.graph.errors import GraphError
        from designer.introspection.weights import read_checkpoint
        try:
            checkpoint = read_checkpoint(path)
        except GraphError as exc:
            self._show_message(str(exc))
            return False
        key = f"file:{Path(path).resolve()}"
        self._weights[key] = checkpoint
        if self.weights_box.findData(key) < 0:
            self.weights_box.addItem(f"Checkpoint {checkpoint.name}", key)
        self.weights_box.setCurrentIndex(self.weights_box.findData(key))
        self.schedule_run()
        return True

    def _choose_checkpoint(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open checkpoint", str(Path.cwd()),
                                              "PyTorch weights (*.pt *.pth);;All files (*)")
        if path:
            self.load_checkpoint(path)

    # ---- following the document -----------------------------------------------------------------
    def _on_graph_replaced(self, graph) -> None:
        self.outcome = None
        self._node_id = None
        if self._hidden(document=True):
            return
        self._stale_document = self._stale_run = False
        self._weights = {INITIAL: None}
        self.weights_box.blockSignals(True)
        self.weights_box.clear()
        self.weights_box.addItem("Initial weights (seed 0)", INITIAL)
        self.weights_box.blockSignals(False)
        self._offer_document_weights()
        self._fill_datasets()
        self._on_selection_changed(list(self.controller.selection))
        self._dataset_changed()

    def _fill_datasets(self) -> None:
        from designer.introspection.inputs import InputError, image_shape, input_shape
        from designer.train.datasets import available_datasets
        try:
            channels, height, _width = image_shape(input_shape(self.graph, self.network()))
        except InputError:
            channels, height = 1, 28
        preferred = str((self.graph.meta.get("training") or {}).get("dataset", "digits"))
        # grey images can become colour and colour grey; nothing else converts
        usable = [d for d in available_datasets()
                  if d.available and (d.channels in (1, channels) or channels == 1)]
        self.dataset_box.blockSignals(True)
        self.dataset_box.clear()
        for info in usable:
            self.dataset_box.addItem(info.title, info.name)
        index = self.dataset_box.findData(preferred)
        self.dataset_box.setCurrentIndex(index if index >= 0 else 0)
        self.dataset_box.blockSignals(False)
        drawing = self.source_box.model().item(self.source_box.findData(DRAWING))
        drawing.setEnabled(channels == 1)  # a drawing pad makes sense for digit networks
        self.pad.set_grid_size(32 if height >= 32 else 28)

    def _on_selection_changed(self, ids) -> None:
        ids = [i for i in ids if i in self.graph.nodes]
        before = self.network()
        self._node_id = ids[0] if ids else None
        if self._hidden():
            return
        if self.network() != before:
            self._load_example()  # another network of the document: another Input
        self._show_node()

    def _on_analysis_changed(self, _analysis) -> None:
        if self._node_id and self._node_id not in self.graph.nodes:
            self._node_id = None
        if self._hidden():
            return  # torch loads only once the panel is shown
        from designer.introspection.inputs import InputError
        self._stale_run = False
        try:
            shape = self._input_shape()
        except InputError as exc:
            self._show_message(str(exc))
            return
        if self.example is None or tuple(self.example.tensor.shape) != tuple(shape):
            self._fill_datasets()  # the Input changed: another size, maybe grey ↔ colour
            if self.source_box.currentData() == DATASET:
                self._dataset_changed()
            else:
                self._load_example()
        else:
            self.schedule_run()

    def _on_outcome(self, outcome: Outcome) -> None:
        if outcome.number != self._job_number:
            return  # an older run finished after a newer one was asked for
        if outcome.error:
            self._show_message(outcome.error)
            self.outcome = None
        else:
            self._show_message(outcome.weights_note)
            self.outcome = outcome
            self._show_predictions()
            self._show_node()
        self.ran.emit(outcome)

    # ---- showing ----------------------------------------------------------------------------------
    def shown_node(self) -> str | None:
        """The block whose maps are shown: the selected one, else the first convolution."""
        if self._node_id:
            return self._node_id
        for node_id, node in self.graph.nodes.items():
            if node.type == "Conv2d" and (self.network() is None or node.network == self.network()):
                return node_id
        return None

    def map_count(self) -> int:
        return self.grid.count()

    def channel_order(self) -> list[int]:
        """The channels in the order the grid shows them (strongest first)."""
        return list(self._order)

    def _show_node(self) -> None:
        node_id = self.shown_node()
        self._order = []
        self.enlarged.clear()
        self.enlarged_caption.setText("Click a map to enlarge it.")
        if self.outcome is None or node_id is None:
            self.grid.set_pictures([])
            self.title_label.setText("Select a block on the canvas to see its maps." if node_id is None else "")
            return
        node = self.graph.nodes[node_id]
        value = self.outcome.activations.of(node_id)
        if value is None:
            self.grid.set_pictures([])
            self.title_label.setText(f"{node.title}: nothing to show (it is not part of the network that ran).")
            return
        acts = self.outcome.activations
        hint = "" if self._node_id else "Showing the first convolution: click a block on the canvas to choose. "
        timing = f"One forward pass: {acts.seconds * 1000:.1f} ms on the CPU"
        if self.outcome.compile_seconds:
            timing += f" (building the network: {self.outcome.compile_seconds * 1000:.0f} ms)"
        if value.dim() == 3:
            legend = self._show_maps(node, value.numpy())
        else:
            legend = self._show_vector(node, value.numpy().reshape(-1))
        self.status_label.setText(f"{hint}{legend} {timing}.")

    def _show_maps(self, node, maps: np.ndarray) -> str:
        from designer.introspection.activations import channel_strengths, strongest_first
        import torch
        strengths = channel_strengths(torch.from_numpy(maps)).numpy()
        self._order = strongest_first(torch.from_numpy(maps))
        pictures, lo, hi = map_pictures(maps, self.scale_box.currentData() or SHARED)
        images = [array_to_qimage(pictures[c]) for c in self._order]
        captions = [f"{c + 1} · {strengths[c]:.2g}" for c in self._order]
        tips = [f"channel {c + 1}: mean |activation| {strengths[c]:.4g}, from {maps[c].min():.4g} "
                f"to {maps[c].max():.4g}" for c in self._order]
        self.grid.set_pictures(images, captions, tips)
        c, h, w = maps.shape
        self.title_label.setText(f"{node.title}: {c} map{'s' if c != 1 else ''} of {h}×{w}, strongest first")
        self._maps = maps
        if images:
            self.enlarge(0)
        zero = f"black {lo:.3g}, mid grey 0, white {hi:.3g}" if lo < 0 else f"black 0, white {hi:.3g}"
        if self.scale_box.currentData() == EACH:
            zero = "each map stretched to its own largest |value|" + ("; 0 is mid grey" if lo < 0 else "")
        return f"Under each map: channel · mean |activation|; {zero}."

    def _show_vector(self, node, values: np.ndarray) -> str:
        self._maps = None
        picture = vector_picture(values)
        top = np.argsort(-np.abs(values))[:3]
        self.grid.set_pictures([array_to_qimage(picture)], [f"{len(values)} values"],
                               [f"one cell per value, row by row; largest |value| at "
                                + ", ".join(f"{i + 1} ({values[i]:.3g})" for i in top)], columns=1)
        self.title_label.setText(f"{node.title}: a vector of {len(values)} values")
        self.enlarged.setPixmap(QPixmap.fromImage(array_to_qimage(picture)).scaled(
            self.enlarged.size() - QSize(4, 4), Qt.KeepAspectRatio, Qt.FastTransformation))
        self.enlarged_caption.setText(f"Values from {values.min():.4g} to {values.max():.4g}")
        return "One cell per value, row by row."

    def enlarge(self, index: int) -> None:
        """Show grid tile `index` (as ordered on screen) large beside the grid."""
        if not 0 <= index < self.grid.count():
            return
        self.grid.set_selected(index)
        self.enlarged.setPixmap(QPixmap.fromImage(self.grid.image(index)).scaled(
            self.enlarged.size() - QSize(4, 4), Qt.KeepAspectRatio, Qt.FastTransformation))
        if self._order and getattr(self, "_maps", None) is not None:
            c = self._order[index]
            m = self._maps[c]
            self.enlarged_caption.setText(f"Channel {c + 1}, rank {index + 1}\n{m.shape[0]}×{m.shape[1]}, "
                                          f"{m.min():.3g} to {m.max():.3g}\nmean |activation| {np.abs(m).mean():.3g}")

    def enlarged_channel(self) -> int | None:
        index = self.grid._selected
        return self._order[index] if index is not None and index < len(self._order) else None

    def _show_predictions(self) -> None:
        from designer.introspection.predictions import class_names, classifier_output, top_k
        analysis = self.controller.analysis
        node_id = classifier_output(self.graph, analysis, self.network())
        scores = self.outcome.activations.of(node_id) if node_id else None
        self.predictions_box.setVisible(scores is not None)
        self.predictions = []
        if scores is None:
            return
        names = class_names(self.graph, scores.numel(), self.example.class_names)
        self.predictions = top_k(scores, names, 5, self.graph.nodes[node_id].type)
        for (name, bar), p in zip(self.prediction_rows, self.predictions + [None] * 5):
            name.setVisible(p is not None)
            bar.setVisible(p is not None)
            if p is not None:
                name.setText(p.name)
                bar.setValue(int(round(p.probability * 1000)))
                bar.setFormat(f"{p.probability * 100:.1f}%")

    def _show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))


def _structure_key(graph) -> tuple:
    """Changes whenever the compiled network would: nodes, their settings, edges, and the
    insides of the document's own composite blocks (an edit inside one leaves the
    revisions of the blocks using it as they were)."""
    return _wiring(graph), tuple((name, _wiring(d.graph)) for name, d in sorted(graph.composites.items()))


def _wiring(graph) -> tuple:
    return tuple((i, n.type, n.revision, n.network) for i, n in graph.nodes.items()), tuple(graph.edges), id(graph)


def _copy(graph, with_weights: bool):
    """A copy the worker may compile while the person edits the original, with the
    weights attached to the original or without any."""
    from designer.compile.checkpoint import attach_weights, attached_weights
    copy = graph.copy()
    state = attached_weights(graph) if with_weights else None
    if state:
        attach_weights(copy, state)
    return copy
