"""View ▸ Filters: a Conv2d block's kernels as a grid of small pictures, as the
lecture shows AlexNet's first layer.

First-layer kernels of a colour network are drawn in colour (their three input
channels as red, green and blue); others one input channel at a time, picked
with the channel box. The weights come from a fresh initialisation, from the
weights file the document was opened from, or from a checkpoint the person
opens (a training run's best.pt / last.pt, or any state dict).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout,
                               QWidget)

from designer.graph.events import NodeChanged
from designer.introspection.filters import GLOBAL, PER_KERNEL, FilterError, check_filter_node, grid_columns, kernel_grid
from designer.ui.picture_grid import PictureGrid, array_to_qimage

INITIAL, ATTACHED, GIVEN = "initial", "attached", "given"
RGB = "RGB colour"


class FilterView(QWidget):
    """The kernels of one Conv2d node. `state_dict` (optional) is a trained network's
    weights; it becomes the source "trained" and is shown first."""

    def __init__(self, graph, node_id: str, state_dict: dict | None = None, parent: QWidget | None = None,
                 source_name: str = "Trained weights", document_weights: dict | None = None):
        super().__init__(parent)
        self.graph, self.node_id = graph, node_id
        self._sources: dict[str, dict | None] = {}  # key -> state dict (None: initial)
        self._weight = None
        self._unsubscribe = graph.subscribe(self._on_model_event)
        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(0)
        self._reload_timer.timeout.connect(self._reload)
        self._build()
        self.setWindowTitle(f"Filters — {self._title()}")
        self._add_source(INITIAL, "Initial weights (fresh, seed 0)", None)
        if document_weights:
            from designer.introspection.weights import has_node_weight
            if has_node_weight(document_weights, graph, node_id):
                self._add_source(ATTACHED, "The document's weights (opened or loaded)", document_weights)
        if state_dict is not None:
            self._add_source(GIVEN, source_name, state_dict)
        self.source_box.setCurrentIndex(self.source_box.count() - 1)
        self._reload()

    # ---- building -------------------------------------------------------------------------------
    def _build(self) -> None:
        self.title_label = QLabel()
        self.title_label.setStyleSheet("font-weight: 600; font-size: 13px;")
        self.source_box = QComboBox()
        self.source_box.setToolTip("Where the weights come from")
        self.open_button = QPushButton("Open checkpoint…")
        self.open_button.setToolTip("Read trained weights from a .pt file: a run's best.pt or last.pt, "
                                    "an exported state dict or a weights file")
        self.channel_box = QComboBox()
        self.channel_box.setToolTip("Kernels have one slice per input channel: colour shows the three of an "
                                    "RGB image together; otherwise one channel is shown at a time")
        self.normalise_box = QComboBox()
        self.normalise_box.addItem("Each kernel on its own scale", PER_KERNEL)
        self.normalise_box.addItem("One scale for all kernels", GLOBAL)
        self.normalise_box.setToolTip("Per kernel: black is each kernel's smallest weight, white its largest. "
                                      "One scale: the same for all, so strong and weak kernels compare.")
        self.grid = PictureGrid(min_tile=28, max_tile=112)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)  # the grid wraps to the width instead
        scroll.setWidget(self.grid)
        scroll.setFrameShape(QScrollArea.NoFrame)
        self.legend_label = QLabel()
        self.legend_label.setWordWrap(True)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("color: #DC2626;")
        self.message_label.hide()

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Weights"))
        controls.addWidget(self.source_box, 1)
        controls.addWidget(self.open_button)
        controls2 = QHBoxLayout()
        controls2.addWidget(QLabel("Channel"))
        controls2.addWidget(self.channel_box)
        controls2.addSpacing(12)
        controls2.addWidget(QLabel("Scale"))
        controls2.addWidget(self.normalise_box)
        controls2.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title_label)
        layout.addLayout(controls)
        layout.addLayout(controls2)
        layout.addWidget(self.message_label)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.legend_label)

        self.source_box.currentIndexChanged.connect(lambda _i: self._reload())
        self.open_button.clicked.connect(self._choose_checkpoint)
        self.channel_box.currentIndexChanged.connect(lambda _i: self._redraw())
        self.normalise_box.currentIndexChanged.connect(lambda _i: self._redraw())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(560, 520)

    def _title(self) -> str:
        node = self.graph.nodes.get(self.node_id)
        return node.title if node else self.node_id

    def _add_source(self, key: str, text: str, state: dict | None) -> None:
        index = self.source_box.findData(key)
        self._sources[key] = state
        if index < 0:
            self.source_box.addItem(text, key)
        else:
            self.source_box.setItemText(index, text)

    # ---- public -----------------------------------------------------------------------------------
    def load_checkpoint(self, path) -> bool:
        """Add a checkpoint file as a source and show it; False (and a message) if unreadable."""
        from designer.graph.errors import GraphError
        from designer.introspection.weights import node_weight, read_checkpoint
        try:
            checkpoint = read_checkpoint(path)
            node_weight(checkpoint.state, self.graph, self.node_id)  # refuse a file without this layer now
        except (GraphError, FilterError) as exc:
            self._show_message(str(exc))
            return False
        key = f"file:{Path(path).resolve()}"
        self._add_source(key, f"Checkpoint {checkpoint.name}", checkpoint.state)
        self.source_box.setCurrentIndex(self.source_box.findData(key))
        self._reload()
        return True

    def set_source(self, key: str) -> None:
        self.source_box.setCurrentIndex(self.source_box.findData(key))

    def kernels(self) -> np.ndarray | None:
        """The weight shown, out × in/groups × kh × kw (None when there is none)."""
        return None if self._weight is None else self._weight.numpy().copy()

    def set_channel(self, channel: int | None) -> None:
        self.channel_box.setCurrentIndex(self.channel_box.findData(-1 if channel is None else channel))

    def set_normalise(self, mode: str) -> None:
        self.normalise_box.setCurrentIndex(self.normalise_box.findData(mode))

    def detach(self) -> None:
        self._reload_timer.stop()
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.detach()  # a closed view must stop listening to a graph that lives on
        super().closeEvent(event)

    # ---- internals --------------------------------------------------------------------------------
    def _on_model_event(self, event) -> None:
        if isinstance(event, NodeChanged) and event.moved_only:
            return
        # a new kernel size or input channel count changes the weight's shape; one gesture may
        # send many events (an undo, an ungroup), so they are gathered into one reload
        self._reload_timer.start()

    def _choose_checkpoint(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open checkpoint", str(Path.cwd()),
                                              "PyTorch weights (*.pt *.pth);;All files (*)")
        if path:
            self.load_checkpoint(path)

    def _reload(self) -> None:
        from designer.graph.errors import GraphError
        from designer.introspection.weights import initial_weight, node_weight
        self.title_label.setText(self._title())
        key = self.source_box.currentData()
        try:
            check_filter_node(self.graph, self.node_id)
            state = self._sources.get(key)
            self._weight = initial_weight(self.graph, self.node_id) if state is None else \
                node_weight(state, self.graph, self.node_id)
        except (FilterError, GraphError) as exc:
            self._weight = None
            self.grid.set_pictures([])
            self.legend_label.clear()
            self._show_message(str(exc))
            return
        self._show_message("")
        self._fill_channels()
        self._redraw()

    def _fill_channels(self) -> None:
        depth = int(self._weight.shape[1])
        wanted = [(RGB, -1)] if depth == 3 else []
        wanted += [(f"input channel {c + 1} of {depth}" if depth != 3 else f"{'RGB'[c]} channel only", c)
                   for c in range(depth)]
        current = self.channel_box.currentData()
        self.channel_box.blockSignals(True)
        self.channel_box.clear()
        for text, data in wanted:
            self.channel_box.addItem(text, data)
        index = self.channel_box.findData(current)
        self.channel_box.setCurrentIndex(index if index >= 0 else 0)
        self.channel_box.setEnabled(len(wanted) > 1)
        self.channel_box.blockSignals(False)

    def _redraw(self) -> None:
        if self._weight is None:
            return
        channel = self.channel_box.currentData()
        grid = kernel_grid(self._weight, None if channel in (None, -1) else channel,
                           self.normalise_box.currentData() or PER_KERNEL)
        w = self._weight.numpy()
        images = [array_to_qimage(tile) for tile in grid.tiles]
        captions = [f"{i + 1}" for i in range(grid.count)]
        tips = [f"kernel {i + 1}: weights from {w[i].min():+.3f} to {w[i].max():+.3f}" for i in range(grid.count)]
        self.grid.set_pictures(images, captions, tips, grid_columns(grid.count))
        out, depth, kh, kw = w.shape
        what = "in colour: red, green and blue are the weights on the image's three channels" if grid.colour \
            else f"input channel {grid.channel + 1} of {depth}"
        scale = (f"one scale for all: black {grid.low:+.3f}, white {grid.high:+.3f}" if grid.normalise == GLOBAL
                 else "each kernel from its own smallest (black) to largest (white) weight")
        self.title_label.setText(f"{self._title()}: {out} kernels of {kh}×{kw}×{depth}")
        self.legend_label.setText(f"Shown {what}; {scale}.")

    def _show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))


def open_filters(controller, node_id: str, parent: QWidget | None = None) -> QWidget:
    """View ▸ Filters for `node_id` of the controller's document: a window of its own,
    closed when the document is replaced. The caller keeps the reference."""
    view = FilterView(controller.graph, node_id, parent=parent, document_weights=controller.weights)
    view.setWindowFlag(Qt.Window, True)
    view.setAttribute(Qt.WA_DeleteOnClose, True)
    controller.graph_replaced.connect(view.close)
    view.resize(view.sizeHint())
    view.show()
    view.raise_()
    return view
