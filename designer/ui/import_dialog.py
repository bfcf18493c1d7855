"""File ▸ Import…: bring an existing network in (designer.importer) — a torchvision classifier
from the list, or a file: a Python module's class (`.py`), an `.onnx` file, a torch.export `.pt2`,
or a TorchScript `.pt` (its input shape asked for unless this application wrote it). The import
runs on a worker thread (building and tracing a large network takes seconds) under a busy
indicator; its result opens as a new document, its problems as one message."""
from __future__ import annotations

import ast
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QDialog, QDialogButtonBox, QFileDialog, QHeaderView,
                               QInputDialog, QLabel, QLineEdit, QProgressDialog, QPushButton, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from designer.graph.fileformat import carries_drawing
from designer.graph.format import count
from designer.graph.presets import PRETRAINED_CHOICE, PRETRAINED_WEIGHTS
from designer.ui.torch_loader import load_torch

FILE_FILTER = ("Networks (*.py *.onnx *.pt2 *.pt);;Python module (*.py);;ONNX (*.onnx);;torch.export (*.pt2);;"
               "TorchScript (*.pt)")
NAME_ROLE = Qt.ItemDataRole.UserRole + 1


def torchvision_models() -> list[tuple[str, int | None]]:
    """(name, parameter count from torchvision's weights table) of every classification model,
    read without building any of them."""
    load_torch()
    import torchvision.models as tvm
    out = []
    for name in tvm.list_models(module=tvm):
        try:
            params = next(iter(tvm.get_model_weights(name))).meta.get("num_params")
        except (ValueError, StopIteration):
            params = None
        out.append((name, params))
    return out


def python_classes(path: Path) -> list[str]:
    """The classes a .py file defines, read with ast: nothing in it runs before one is chosen."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return []
    return [node.name for node in tree.body if isinstance(node, ast.ClassDef)]


class ImportRunner(QObject):
    """One import at a time on a worker thread; `finished(imported)` or `failed(message)` come
    back on the GUI thread."""
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.busy = False

    def start(self, source, input_shape=None, weights: str | None = None) -> bool:
        if self.busy:
            self.failed.emit("an import is already running")
            return False
        self.busy = True
        threading.Thread(target=self._run, args=(source, input_shape, weights), name="import", daemon=True).start()
        return True

    def _run(self, source, input_shape, weights):
        try:
            load_torch()
            from designer.importer import ImportFailure, import_network
            try:
                imported = import_network(source, input_shape, weights)
            except ImportFailure as exc:
                self._done(None, "\n".join(exc.problems[:12]) + (f"\n… and {len(exc.problems) - 12} more"
                                                                  if len(exc.problems) > 12 else ""))
                return
        except Exception as exc:  # noqa: BLE001 - a failed import must never take the window down
            self._done(None, f"import failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            return
        self._done(imported, "")

    def _done(self, imported, message):
        self.busy = False
        if imported is not None:
            self.finished.emit(imported)
        else:
            self.failed.emit(message)


class TorchvisionList(QWidget):
    """Every torchvision classifier with torchvision's parameter count, searchable; activating
    one emits `chosen("torchvision:NAME")`. Listing them imports torchvision (a second or two)."""
    chosen = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("torchvision classification models (random weights unless ImageNet's are "
                                "chosen):"))
        self.search = QLineEdit(placeholderText="Search…")
        self.search.textChanged.connect(self._filter)
        layout.addWidget(self.search)
        self.list = QTreeWidget()
        self.list.setHeaderLabels(["Model", "Parameters"])
        self.list.setRootIsDecorated(False)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.list.header().setStretchLastSection(False)
        for name, params in torchvision_models():
            item = QTreeWidgetItem([name, count(params) if params else ""])
            item.setData(0, NAME_ROLE, name)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.list.addTopLevelItem(item)
        self.list.resizeColumnToContents(1)
        self.list.itemDoubleClicked.connect(lambda item, _col: self.chosen.emit("torchvision:" + item.data(0, NAME_ROLE)))
        layout.addWidget(self.list)

    def names(self, shown_only: bool = False) -> list[str]:
        items = [self.list.topLevelItem(i) for i in range(self.list.topLevelItemCount())]
        return [item.data(0, NAME_ROLE) for item in items if not (shown_only and item.isHidden())]

    def choose_current(self) -> bool:
        item = self.list.currentItem()
        if item is None or item.isHidden():
            return False
        self.chosen.emit("torchvision:" + item.data(0, NAME_ROLE))
        return True

    def _filter(self, text: str):
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            item.setHidden(text.lower() not in item.data(0, NAME_ROLE))


class ImportDialog(QDialog):
    """Choose what to import: a torchvision model from the list, or a file."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Import a Network")
        self.resize(460, 520)
        self.source: str | None = None
        self.input_shape = None
        layout = QVBoxLayout(self)
        self.models = TorchvisionList(self)
        self.models.chosen.connect(self._choose)
        layout.addWidget(self.models)
        self.weights: str | None = None
        self.pretrained = QCheckBox(f"Start from {PRETRAINED_CHOICE}")
        self.pretrained.setToolTip("The chosen torchvision model with torchvision's trained weights, from torch "
                                   "hub's cache (downloaded there the first time)")
        layout.addWidget(self.pretrained)
        from_file = QPushButton("From a &File… (.py class, .onnx, .pt2, TorchScript .pt)")
        from_file.clicked.connect(self._from_file)
        layout.addWidget(from_file)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.models.choose_current)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _choose(self, source: str):
        self.source = source
        torchvision = source.startswith("torchvision:")
        self.weights = PRETRAINED_WEIGHTS if torchvision and self.pretrained.isChecked() else None
        self.accept()

    def _from_file(self):
        path, _ = QFileDialog.getOpenFileName(self, "Import a Network", str(Path.home()), FILE_FILTER)
        if not path:
            return
        if path.endswith(".py"):
            classes = python_classes(Path(path))
            if not classes:
                self.parent().show_problem("Cannot import", f"{Path(path).name} defines no class to import")
                return
            cls, ok = QInputDialog.getItem(self, "Import", "The network's class (built with no arguments; "
                                           "this runs the file):", classes, len(classes) - 1, False)
            if ok and self._ask_input_shape():
                self._choose(f"{path}:{cls}")
        elif path.endswith(".pt") and not carries_drawing(path):   # TorchScript from elsewhere: no shape inside
            if self._ask_input_shape():
                self._choose(path)
        else:
            self._choose(path)

    def _ask_input_shape(self) -> bool:
        shape, ok = QInputDialog.getText(self, "Import", "Input shape without the batch (C,H,W):", text="3,224,224")
        if ok:
            self.input_shape = shape
        return ok


def weights_origin(source: str, weights: str | None) -> str:
    """Where an import's weights come from, in the words the Summary and Train panel show."""
    if weights == PRETRAINED_WEIGHTS:
        return PRETRAINED_CHOICE
    if weights:
        return f"torchvision's {weights} weights"
    if source.startswith("torchvision:"):
        return f"{source}, initialised at random"
    return Path(source).name


def start_import(window, source: str, input_shape=None, weights: str | None = None) -> ImportRunner:
    """Import `source` for `window` with a busy indicator; the result opens as a new document.
    `weights` ("IMAGENET1K_V1"): a torchvision model starts from torchvision's trained weights."""
    from designer.document import Document
    runner = getattr(window, "_importer", None)
    if runner is None:
        runner = window._importer = ImportRunner(window)
    with_weights = f" with torchvision's {weights} weights" if weights else ""
    progress = QProgressDialog(f"Importing {source}{with_weights}…", "", 0, 0, window)
    progress.setCancelButton(None)
    progress.setWindowTitle("Import")
    progress.setMinimumDuration(400)   # a moment's import shows nothing
    progress.setWindowModality(Qt.WindowModality.WindowModal)

    def finished(imported):
        progress.close()
        disconnect()
        window.set_document(Document(imported.graph, imported.weights, origin=weights_origin(source, weights)))
        notes = f"; {len(imported.notes)} notes: {imported.notes[0]}" if imported.notes else ""
        window.statusBar().showMessage(f"Imported {source}{with_weights}{notes}", 10000)

    def failed(message):
        progress.close()
        disconnect()
        window.show_problem("Cannot import", message)

    def disconnect():
        runner.finished.disconnect(finished)
        runner.failed.disconnect(failed)

    runner.finished.connect(finished)
    runner.failed.connect(failed)
    if not runner.start(source, input_shape, weights):
        return runner
    progress.setValue(0)
    return runner


def import_dialog(window) -> None:
    """File ▸ Import…"""
    if not window.maybe_save():
        return
    dialog = ImportDialog(window)
    if dialog.exec() and dialog.source:
        start_import(window, dialog.source, dialog.input_shape, dialog.weights)
