"""How far a run has come: epoch and step bars, samples per second, elapsed time and
ETA, GPU memory in use; and the log pane with the engine's messages."""
from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QGridLayout, QLabel, QPlainTextEdit, QProgressBar, QWidget

from designer.train.events import Done, Epoch, Started, Step

from .. import theme
from .hardware import gib

LOG_LINES = 5000


def duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressStrip(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.epoch_bar = QProgressBar()
        self.step_bar = QProgressBar()
        for bar in (self.epoch_bar, self.step_bar):
            bar.setTextVisible(True)
            bar.setMaximumHeight(18)
        self.speed = QLabel("—")
        self.elapsed = QLabel("—")
        self.eta = QLabel("—")
        self.memory = QLabel("")
        self.memory.setToolTip("GPU memory the training process holds (nvidia-smi)")
        muted = f"color: {theme.current().muted};"
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.epoch_bar, 0, 0)
        grid.addWidget(self.step_bar, 1, 0)
        for col, (title, value) in enumerate((("speed", self.speed), ("elapsed", self.elapsed),
                                              ("remaining", self.eta), ("GPU memory", self.memory)), start=1):
            caption = QLabel(title)
            caption.setStyleSheet(muted)
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            value.setAlignment(Qt.AlignmentFlag.AlignCenter)
            value.setMinimumWidth(70)
            grid.addWidget(caption, 0, col)
            grid.addWidget(value, 1, col)
            if title == "GPU memory":
                self.memory_caption = caption
        grid.setColumnStretch(0, 1)
        self.reset()

    def reset(self) -> None:
        self.total_steps = self.steps_per_epoch = self.epochs = 0
        self.first_step = None       # global step the rate is measured from (a resume starts later)
        self.first_time = 0.0
        self.global_step = 0
        self.wall_start = time.monotonic()
        self.epoch_bar.setRange(0, 1)
        self.epoch_bar.setValue(0)
        self.epoch_bar.setFormat("Epoch —")
        self.step_bar.setRange(0, 1)
        self.step_bar.setValue(0)
        self.step_bar.setFormat("Step —")
        for label in (self.speed, self.elapsed, self.eta):
            label.setText("—")
        self.show_memory(None, visible=False)

    def starting(self) -> None:
        self.reset()
        self.epoch_bar.setRange(0, 0)   # busy: the worker is loading PyTorch and the data
        self.epoch_bar.setFormat("Starting…")
        self.step_bar.setFormat("Loading PyTorch and the dataset…")

    def on_start(self, event: Started) -> None:
        self.epochs = max(event.epochs, 1)
        self.steps_per_epoch = max(event.steps_per_epoch, 1)
        self.total_steps = event.total_steps or self.epochs * self.steps_per_epoch
        self.global_step = event.resumed_at or 0
        self.epoch_bar.setRange(0, self.epochs)
        self.step_bar.setRange(0, self.steps_per_epoch)
        done_epochs = self.global_step // max(self.steps_per_epoch, 1)
        self._bars(done_epochs + 1, self.global_step - done_epochs * self.steps_per_epoch, done_epochs)
        self.show_memory(None, visible=event.device.startswith("cuda"))

    def on_steps(self, events: list[Step]) -> None:
        last = events[-1]
        if self.first_step is None:
            self.first_step = events[0].global_step
            self.first_time = events[0].time_s
        self.global_step = last.global_step
        self._bars(last.epoch, last.step, last.epoch - 1)
        rate = last.samples_per_s
        self.speed.setText(f"{rate:,.0f} img/s" if rate else "—")
        elapsed = last.time_s
        self.elapsed.setText(duration(elapsed))
        done = self.global_step - self.first_step
        spent = elapsed - self.first_time
        if done > 0 and spent > 0 and self.total_steps:
            self.eta.setText(duration((self.total_steps - self.global_step) * spent / done))

    def on_epoch(self, event: Epoch) -> None:
        epoch = event.epoch
        self.epoch_bar.setValue(min(epoch, self.epochs))
        self.epoch_bar.setFormat(f"Epoch {epoch} of {self.epochs} done")

    def on_end(self, event) -> None:
        if self.epoch_bar.maximum() == 0:   # ended before it started
            self.epoch_bar.setRange(0, 1)
            self.epoch_bar.setFormat("Not started")
            self.step_bar.setFormat("—")
        elif isinstance(event, Done) and event.reason == "finished":
            self.epoch_bar.setValue(self.epoch_bar.maximum())
            self.eta.setText(duration(0))
        else:
            self.eta.setText("—")

    def _bars(self, epoch: int, step: int, completed: int) -> None:
        self.epoch_bar.setValue(min(completed, self.epochs))
        self.epoch_bar.setFormat(f"Epoch {min(epoch, self.epochs)} of {self.epochs}")
        self.step_bar.setValue(min(step, self.steps_per_epoch))
        self.step_bar.setFormat(f"Step {step} of {self.steps_per_epoch}  ·  {self.global_step} of "
                                f"{self.total_steps} in all")

    def show_memory(self, n_bytes, visible: bool = True) -> None:
        self.memory.setVisible(visible)
        self.memory_caption.setVisible(visible)
        self.memory.setText(gib(n_bytes) if n_bytes is not None else "—")


class LogView(QPlainTextEdit):
    """The engine's messages, newest at the bottom, each with the time it arrived."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(LOG_LINES)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setPlaceholderText("The training engine's messages appear here.")

    def add(self, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        for i, line in enumerate(str(text).splitlines() or [""]):
            self.appendPlainText(f"{stamp}  {line}" if i == 0 else f"          {line}")
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

