"""Where to train: automatic, the CPU (with its core count), or a GPU PyTorch can
use (with its name and memory). The GPUs are found by a short child process
(hardware.probe_devices) started on a thread the first time the picker is shown,
so the window neither imports torch nor opens a CUDA context for it."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .. import theme
from .background import Background
from .hardware import cpu_choice, probe_devices

DEVICE_ROLE = Qt.ItemDataRole.UserRole


class DevicePicker(QWidget):
    probed = Signal(list)   # the accelerators found (DeviceChoice)

    def __init__(self, parent=None, probe=probe_devices):
        super().__init__(parent)
        self._probe = probe
        self.choices: list = []
        self.probe_started = False
        self._wanted = ""          # a device asked for before the probe answered (a document's setting)
        self.combo = QComboBox()
        self.combo.addItem("Automatic (a GPU when there is one)", "auto")
        cpu = cpu_choice()
        self.combo.addItem(cpu.label, cpu.value)
        self.combo.setItemData(1, cpu.detail, Qt.ItemDataRole.ToolTipRole)
        self.note = QLabel("Looking for GPUs…")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {theme.current().muted};")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.combo, 1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self.note)
        self._job = Background(self, "device-probe")
        self._job.done.connect(self._on_probe)
        self._job.failed.connect(lambda _t, msg: self.note.setText(f"GPUs could not be looked for: {msg}"))

    def probe(self) -> None:
        if not self.probe_started:
            self.probe_started = True
            self._job.start(self._probe)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self.on_shown)  # after this paint, if still on screen

    def on_shown(self) -> None:
        if self.isVisible() and not self.visibleRegion().isEmpty():
            self.probe()

    def _on_probe(self, _token, found) -> None:
        choices, note = found
        self.choices = list(choices)
        for choice in choices:
            self.combo.addItem(choice.label, choice.value)
            self.combo.setItemData(self.combo.count() - 1, choice.detail, Qt.ItemDataRole.ToolTipRole)
        if self._wanted:
            self.select(self._wanted)
        if choices:
            self.note.setText("Automatic picks " + choices[0].label.split(",")[0].replace("GPU: ", "the GPU ") + ".")
        else:
            self.note.setText(note)
        self.probed.emit(self.choices)

    @property
    def device(self) -> str:
        return str(self.combo.currentData() or "auto")

    def select(self, value: str) -> None:
        i = self.combo.findData(value)
        if i >= 0:
            self.combo.setCurrentIndex(i)
            self._wanted = ""
        else:
            self._wanted = value
