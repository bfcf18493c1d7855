"""Fine-tuning: start from trained weights, freeze what should stay, replace the head.

- Load weights into the drawing from torchvision's ImageNet weights (for a network that
  is torchvision's: designer.compile.pretrained, from torch hub's cache or downloaded),
  a run's checkpoint or a .pt file, through the
  safe loader (designer.compile.transfer): a report says which layers matched by
  name and shape, which are missing, which have another shape. The fitting weights
  become the document's weights (designer.document.Document.weights), so the next
  training run starts from them (the panel hands them to the worker).
- Freeze or unfreeze a range of blocks (first to last, in the order they run): a
  SetField("trainable") edit per block, one undo step; the inspector's switch does
  the same for one block. The trainable-parameter count follows every edit.
- Replace the head: the last Linear gets as many outputs as the dataset has classes.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout, QWidget)

from designer.graph.errors import GraphError
from designer.graph.format import shape as fmt_shape
from designer.graph.model import SetField, SetParam
from designer.graph.presets import PRETRAINED_CHOICE, torchvision_model
from designer.train import run_listing as run_folders

from .. import theme
from .background import Background


# ---- the work, Qt-free (runs on a thread) ------------------------------------------------------------

def weights_in_file(path: Path) -> dict:
    """A .pt file's tensors by layer name: a training checkpoint's network(s) (a GAN's
    two under "generator." and "discriminator."), a weights file, or a plain state dict."""
    from designer.compile.safe_load import load_torch_file
    from designer.compile.transfer import state_dict_of
    obj = load_torch_file(path)
    nets = obj.get("nets") if isinstance(obj, dict) else None
    if isinstance(nets, dict) and nets:
        if set(nets) == {"model"}:
            return dict(nets["model"])
        return {f"{name}.{key}": value for name, sd in nets.items() for key, value in sd.items()}
    return state_dict_of(obj, Path(path).name)


def match_weights(graph_copy, path: Path):
    """(weights that fit the drawing, the report) — `graph_copy` is a copy of the document,
    never the live one: this runs on a thread while the person may be editing."""
    from designer.compile.checkpoint import fit_weights
    return fit_weights(graph_copy, weights_in_file(path))


def match_pretrained(graph_copy, model: str):
    """(torchvision's ImageNet weights of `model` that fit the drawing, the report): the file
    from torch hub's cache, downloaded there first when missing (hash checked)."""
    from designer.compile.checkpoint import fit_weights
    from designer.compile.pretrained import fetch
    return fit_weights(graph_copy, fetch(model, progress=False))


PRETRAINED = "torchvision:"   # the source list's entry for the ImageNet weights


def report_text(report) -> str:
    lines = [str(report).capitalize() + "."]
    if report.matched:
        lines.append("Matched: " + ", ".join(report.matched))
    if report.mismatched:
        shapes = [f"{k} ({fmt_shape(a)} in the file, {fmt_shape(b)} here)" for k, a, b in report.mismatched]
        lines.append("Other shape (kept as initialised): " + ", ".join(shapes))
    if report.missing:
        lines.append("Not in the file (kept as initialised): " + ", ".join(report.missing))
    if report.unexpected:
        lines.append("In the file but not in the drawing (ignored): " + ", ".join(report.unexpected))
    return "\n".join(lines)


# ---- which blocks --------------------------------------------------------------------------------

def weighted_blocks(graph, analysis) -> list[str]:
    """Blocks with parameters, in the order they run (the ones freezing can apply to)."""
    return [i for i in analysis.order if i in graph.nodes and i in analysis.nodes and analysis.nodes[i].params > 0]


def head_of(graph, analysis) -> str | None:
    """The last Linear block to run: the classifier's head."""
    linear = [i for i in analysis.order if i in graph.nodes and graph.nodes[i].type == "Linear"]
    return linear[-1] if linear else None


class FineTunePanel(QWidget):
    weights_changed = Signal()   # the document's weights were loaded, replaced or dropped

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        controller.weights_changed.connect(self._on_document_weights)
        self.class_count: int | None = None
        self.dataset_name = ""
        self.runs: list = []
        muted = f"color: {theme.current().muted};"

        # weights
        self.source = QComboBox()
        self.source.setToolTip("A checkpoint of an earlier run of this document")
        self.load_button = QPushButton("Load")
        self.load_button.clicked.connect(self.load_selected)
        self.file_button = QPushButton("From File…")
        self.file_button.setToolTip("A .pt file: a run's checkpoint, a weights file, or a PyTorch state dict")
        self.file_button.clicked.connect(self.choose_file)
        self.forget_button = QPushButton("Forget")
        self.forget_button.setToolTip("Train from freshly initialised weights again")
        self.forget_button.clicked.connect(self.forget)
        self.pretrained_action = QAction(f"Load {PRETRAINED_CHOICE}", self)
        self.pretrained_action.setToolTip("Start from the weights torchvision trained on ImageNet (its file in "
                                          "torch hub's cache, downloaded there the first time)")
        self.pretrained_action.triggered.connect(self.load_pretrained)
        self.weights_status = QLabel()
        self.weights_status.setWordWrap(True)
        self.report = QLabel()
        self.report.setWordWrap(True)
        self.report.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.report.setStyleSheet(muted)
        weights = QGroupBox("Start from trained weights")
        wl = QVBoxLayout(weights)
        row = QHBoxLayout()
        row.addWidget(self.source, 1)
        row.addWidget(self.load_button)
        row.addWidget(self.file_button)
        row.addWidget(self.forget_button)
        wl.addLayout(row)
        wl.addWidget(self.weights_status)
        wl.addWidget(self.report)

        # freezing
        self.first = QComboBox()
        self.last = QComboBox()
        self.freeze_button = QPushButton("Freeze")
        self.freeze_button.setToolTip("Keep these blocks' weights as they are during training")
        self.unfreeze_button = QPushButton("Unfreeze")
        self.unfreeze_all_button = QPushButton("Unfreeze All")
        self.freeze_button.clicked.connect(lambda: self.set_trainable_range(False))
        self.unfreeze_button.clicked.connect(lambda: self.set_trainable_range(True))
        self.unfreeze_all_button.clicked.connect(self.unfreeze_all)
        self.trainable = QLabel()
        freeze = QGroupBox("Freeze blocks")
        fl = QFormLayout(freeze)
        fl.addRow("From", self.first)
        fl.addRow("To", self.last)
        row = QHBoxLayout()
        row.addWidget(self.freeze_button)
        row.addWidget(self.unfreeze_button)
        row.addWidget(self.unfreeze_all_button)
        row.addStretch(1)
        fl.addRow("", row)
        fl.addRow("", self.trainable)

        # head
        self.head_text = QLabel()
        self.head_text.setWordWrap(True)
        self.head_button = QPushButton("Replace the Head")
        self.head_button.clicked.connect(self.replace_head)
        head = QGroupBox("Replace the head")
        hl = QVBoxLayout(head)
        hl.addWidget(self.head_text)
        row = QHBoxLayout()
        row.addWidget(self.head_button)
        row.addStretch(1)
        hl.addLayout(row)

        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.addWidget(weights)
        column.addWidget(freeze)
        column.addWidget(head)
        column.addStretch(1)

        self._job = Background(self, "load-weights")
        self._job.done.connect(self._on_loaded)
        self._job.failed.connect(self._on_load_failed)
        controller.analysis_changed.connect(self._on_analysis)
        controller.graph_replaced.connect(self._on_graph_replaced)
        self._on_analysis(controller.analysis)
        self._fill_sources()
        self._show_weights()

    # ---- weights ---------------------------------------------------------------------------------
    def set_runs(self, records) -> None:
        self.runs = list(records)
        self._fill_sources()

    def _fill_sources(self) -> None:
        """The ImageNet weights (when the network is torchvision's), then the runs' checkpoints."""
        current = self.source.currentData()
        self.source.clear()
        model = torchvision_model(self.controller.graph)
        self.pretrained_action.setEnabled(model is not None)
        if model is not None:
            self.source.addItem(f"{PRETRAINED_CHOICE} · {model}", PRETRAINED)
        for r in self.runs:
            for name, what in ((run_folders.BEST, "best epoch"), (run_folders.LAST, "last checkpoint")):
                if r.file(name).is_file():
                    self.source.addItem(f"{r.name} · {what}", str(r.file(name)))
        if self.source.count() == 0:
            self.source.addItem("No earlier run has a checkpoint yet", None)
        i = self.source.findData(current)
        self.source.setCurrentIndex(max(i, 0))
        self.load_button.setEnabled(self.source.currentData() is not None)

    def load_selected(self) -> None:
        path = self.source.currentData()
        if path == PRETRAINED:
            self.load_pretrained()
        elif path:
            self.load(Path(path))

    def load_pretrained(self) -> None:
        """torchvision's ImageNet weights (on a thread: the first time they are downloaded)."""
        model = torchvision_model(self.controller.graph)
        if model is None:
            self.report.setText("This network is not one of torchvision's: there are no ImageNet weights for it.")
            return
        self.report.setText(f"Reading torchvision's {model} weights from torch hub's cache (downloading them "
                            "there the first time)…")
        self._start(PRETRAINED_CHOICE, match_pretrained, model)

    def choose_file(self) -> None:
        start = str(self.controller.path.parent) if self.controller.path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Load Weights", start,
                                              "PyTorch weights (*.pt *.pth);;All files (*)")
        if path:
            self.load(Path(path))

    def load(self, path: Path) -> None:
        """Match the file's weights against the drawing (on a thread) and attach those that fit."""
        self.report.setText(f"Reading {path.name}…")
        origin = f"{path.parent.name}/{path.name}" if path.name in (run_folders.BEST, run_folders.LAST) else path.name
        self._start(origin, match_weights, path)

    def _start(self, origin: str, work, source) -> None:
        self.load_button.setEnabled(False)
        self.file_button.setEnabled(False)
        self.pretrained_action.setEnabled(False)
        self._loading = (origin, self.controller.graph)
        self._job.start(work, self.controller.graph.copy(), source)

    def _loading_done(self) -> None:
        self.load_button.setEnabled(self.source.currentData() is not None)
        self.file_button.setEnabled(True)
        self.pretrained_action.setEnabled(torchvision_model(self.controller.graph) is not None)

    def _on_loaded(self, token, result) -> None:
        self._loading_done()
        if not self._job.is_latest(token):
            return
        origin, graph = self._loading
        fitting, report = result
        if graph is not self.controller.graph:
            self.report.setText("Another document was opened meanwhile; nothing was loaded.")
            return
        self.report.setText(report_text(report))
        if origin == PRETRAINED_CHOICE:
            self.controller.message.emit(f"{PRETRAINED_CHOICE}: {report}")
        # the document keeps where they came from, and announces them: _on_document_weights
        self.controller.document.merge_weights(fitting, origin)

    def _on_load_failed(self, token, message) -> None:
        self._loading_done()
        if self._job.is_latest(token):
            self.report.setText(f"Nothing was loaded: {message}")

    def forget(self) -> None:
        self.report.setText("")
        self.controller.document.set_weights(None)

    def _on_document_weights(self) -> None:
        """Loaded here, opened with a .pth, or dropped: the status follows the document."""
        self._show_weights()
        self.weights_changed.emit()

    def attached(self) -> dict | None:
        """The weights the next run starts from: the document's (None: fresh initialisation)."""
        return self.controller.weights

    def _show_weights(self) -> None:
        weights = self.attached()
        origin = self.controller.document.weights_origin
        if weights:
            self.weights_status.setText(f"The next run starts from {len(weights)} trained tensors"
                                        + (f" ({origin})" if origin else "")
                                        + "; the other layers are initialised afresh.")
        else:
            self.weights_status.setText("The next run starts from freshly initialised weights.")
        self.forget_button.setEnabled(bool(weights))

    def _on_graph_replaced(self, _graph) -> None:
        self.report.setText("")
        self._fill_sources()
        self._show_weights()

    # ---- freezing --------------------------------------------------------------------------------
    def _on_analysis(self, analysis) -> None:
        graph = self.controller.graph
        blocks = weighted_blocks(graph, analysis)
        for combo, default in ((self.first, 0), (self.last, len(blocks) - 1)):
            keep = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            for i in blocks:
                node = graph.nodes[i]
                combo.addItem(f"{node.title} ({node.type})" + ("" if node.trainable else " · frozen"), i)
            j = combo.findData(keep)
            combo.setCurrentIndex(j if j >= 0 else default)
            combo.blockSignals(False)
        some = bool(blocks)
        for w in (self.freeze_button, self.unfreeze_button, self.first, self.last):
            w.setEnabled(some)
        frozen = [i for i in blocks if not graph.nodes[i].trainable]
        self.unfreeze_all_button.setEnabled(bool(frozen))
        total = analysis.total_params
        self.trainable.setText(f"Trainable: {analysis.trainable_params:,} of {total:,} parameters"
                               + (f" ({len(frozen)} block{'s' if len(frozen) != 1 else ''} frozen)" if frozen else ""))
        self._show_head(analysis)

    def selected_range(self) -> list[str]:
        ids = [self.first.itemData(i) for i in range(self.first.count())]
        a, b = self.first.currentIndex(), self.last.currentIndex()
        if a < 0 or b < 0:
            return []
        lo, hi = min(a, b), max(a, b)
        return ids[lo:hi + 1]

    def set_trainable_range(self, trainable: bool) -> None:
        graph = self.controller.graph
        ids = [i for i in self.selected_range() if graph.nodes[i].trainable != trainable]
        if not ids:
            return
        names = [graph.nodes[i].title for i in ids]
        what = names[0] if len(names) == 1 else f"{names[0]} … {names[-1]}"
        self._edit(f"{'Unfreeze' if trainable else 'Freeze'} {what}",
                   [SetField(i, "trainable", trainable) for i in ids])

    def unfreeze_all(self) -> None:
        graph = self.controller.graph
        ops = [SetField(i, "trainable", True) for i, n in graph.nodes.items() if not n.trainable]
        self._edit("Unfreeze all blocks", ops)

    # ---- head ------------------------------------------------------------------------------------
    def set_class_count(self, count: int | None, dataset: str = "") -> None:
        self.class_count = count
        self.dataset_name = dataset
        self._show_head(self.controller.analysis)

    def _show_head(self, analysis) -> None:
        graph = self.controller.graph
        head = head_of(graph, analysis)
        self.head_button.setEnabled(False)
        if head is None:
            self.head_text.setText("This network has no Linear layer to act as a classifier's head.")
            return
        node = graph.nodes[head]
        outputs = node.params.get("out_features")
        text = f"The head is {node.title} (Linear, {outputs} outputs)."
        if self.class_count is None:
            self.head_text.setText(text + " Choose a dataset to see how many classes it has.")
            return
        if outputs == self.class_count:
            self.head_text.setText(text + f" {self.dataset_name or 'The dataset'} has {self.class_count} classes: "
                                   "it fits.")
            return
        self.head_text.setText(text + f" {self.dataset_name or 'The dataset'} has {self.class_count} classes: "
                               f"replacing it gives {node.title} {self.class_count} outputs, initialised afresh "
                               "and trainable.")
        self.head_button.setText(f"Set {node.title} to {self.class_count} Outputs")
        self.head_button.setEnabled(True)

    def replace_head(self) -> None:
        graph = self.controller.graph
        head = head_of(graph, self.controller.analysis)
        if head is None or self.class_count is None:
            return
        ops = [SetParam(head, "out_features", self.class_count)]
        if not graph.nodes[head].trainable:
            ops.append(SetField(head, "trainable", True))
        self._edit(f"Replace the head {graph.nodes[head].title} ({self.class_count} outputs)", ops)

    def _edit(self, text: str, ops: list) -> None:
        try:
            self.controller.edit(text, ops)
        except GraphError as exc:
            self.controller.message.emit(str(exc))
