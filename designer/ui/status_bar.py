"""The status bar's permanent part: totals of the whole document (parameters,
multiply-adds, memory) and its error count, which takes you to the first error
when clicked."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QToolButton

from designer.graph.format import count, nbytes, si

from . import theme

BYTES_PER_WEIGHT = 4


class DocumentStatus:
    def __init__(self, controller, status_bar):
        self.controller = controller
        self.params = QLabel()
        self.macs = QLabel()
        self.memory = QLabel()
        self.errors = QToolButton()
        self.errors.setAutoRaise(True)
        self.errors.setCursor(Qt.CursorShape.PointingHandCursor)
        self.errors.clicked.connect(self.show_first_error)
        for widget in (self.params, self.macs, self.memory, self.errors):
            status_bar.addPermanentWidget(widget)
        self.params.setToolTip("Learned values: weights + biases (trainable ones in brackets when some are frozen)")
        self.macs.setToolTip("Multiply-adds for one sample, forward pass")
        self.memory.setToolTip("float32 weights, and the activations of one sample in the forward pass")
        controller.analysis_changed.connect(self.update)
        self.update(controller.analysis)

    def set_visible(self, visible: bool):
        for widget in (self.params, self.macs, self.memory, self.errors):
            widget.setVisible(visible)

    def update(self, a):
        if a is None:
            return
        frozen = a.total_params - a.trainable_params
        text = f"<b>{count(a.total_params)}</b> parameters"
        if frozen:
            text += f" ({count(a.trainable_params)} trainable)"
        self.params.setText(text)
        self.macs.setText(f"<b>{si(a.macs)}</b> MACs")
        self.memory.setText(f"weights {nbytes(a.total_params * BYTES_PER_WEIGHT)} · "
                            f"activations {nbytes(a.activation_bytes)}/sample")
        t = theme.current()
        n = len(a.errors)
        if n:
            self.errors.setText(f"✖ {n} error{'s' if n > 1 else ''}")
            self.errors.setStyleSheet(f"color: {t.error}; font-weight: 600;")
            self.errors.setToolTip("\n".join(f"{node or 'network'}: {msg}" for node, msg in a.errors[:12])
                                   + ("\n…" if n > 12 else "") + "\nClick to go to the first one.")
        else:
            self.errors.setText("✓ no errors")
            self.errors.setStyleSheet(f"color: {t.ok};")
            self.errors.setToolTip("Every block has its shapes.")
        self.errors.setEnabled(bool(n) and any(node for node, _ in a.errors))

    def show_first_error(self):
        a = self.controller.analysis
        node = next((node for node, _ in a.errors if node), None)
        if node is not None:
            self.controller.select([node], focus=True)
