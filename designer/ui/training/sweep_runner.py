"""A sweep from the Train panel: the settings to vary (`lr=0.001,0.003; batch_size=32,64`),
trained one run after another through the panel's own worker, each run named after its
point (`run-…-lr=0.001_batch_size=32`). The Compare tab shows the runs as they finish,
best first at the end. Stopping the run that is going stops the sweep, and so does closing
the window; a run that fails while training (a NaN loss at a large learning rate) does not,
one that cannot start does.

The grid and the names are designer.train.sweep's, as `designer train --sweep` makes them.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from designer.train.errors import TrainConfigError
from designer.train.events import CLOSED, SETUP, Done
from designer.train.sweep import parse_axes, plan, setting_name

from .. import theme


class SweepRunner(QObject):
    progressed = Signal(str)      # a line saying where the sweep is
    finished = Signal(list)       # the run folders, in the order they ran

    def __init__(self, panel, parent=None):
        super().__init__(parent)
        self.panel = panel
        self.queue: list[dict] = []
        self.runs: list = []
        self.total = 0
        self.active = False
        panel.session.ended.connect(self._on_ended)

    def start(self, text: str) -> str:
        """Start the sweep `text` describes; "" when it started, else why it cannot."""
        if self.active or self.panel.session.active:
            return "A run is going; start the sweep when it has ended."
        try:
            axes = parse_axes(spec.strip() for spec in text.replace(";", "\n").splitlines() if spec.strip())
            if not axes:
                return "Name the settings to vary, e.g. lr=0.001,0.003; batch_size=32,64"
            base = self.panel.params.config(self.panel.datasets.dataset, self.panel.devices.device)
            points = [point for point, _ in plan(base, axes)]
        except TrainConfigError as exc:
            return str(exc).replace("--sweep ", "")
        self.queue, self.runs, self.total, self.active = points, [], len(points), True
        self._next()
        return ""

    def _next(self) -> None:
        if not self.queue:
            self._finish()
            return
        point = self.queue.pop(0)
        self.progressed.emit(f"Sweep: run {self.total - len(self.queue)} of {self.total}, {setting_name(point)}")
        if not self.panel.start(point, setting_name(point)):
            self._finish()
            return
        self.runs.append(self.panel.shown_run)

    def _on_ended(self, event) -> None:
        if not self.active:
            return
        if self.runs:
            self.panel.comparison.set_runs(self.runs)   # the runs so far, as they finish
        stopped = isinstance(event, Done) and event.reason != "finished"
        # a run that cannot start, or the window closing (its shutdown ends the run going): no more runs
        cannot_start = not isinstance(event, Done) and event.kind in (SETUP, CLOSED)
        if stopped or cannot_start:
            self.queue = []
        QTimer.singleShot(0, self._next)   # after the session has settled on its end

    def _finish(self) -> None:
        if not self.active:
            return
        self.active = False
        done = [r for r in self.runs if r is not None]
        self.progressed.emit(f"Sweep done: {len(done)} of {self.total} runs, best first in the Compare tab."
                             if done else "")
        if done:
            self.panel.comparison.set_runs(done, ranked=True)
            self.panel.tabs.setCurrentWidget(self.panel.comparison)
        self.finished.emit(done)


class SweepBox(QWidget):
    """The settings to vary and a button: the Sweep group of the Train panel's settings column."""

    def __init__(self, runner: SweepRunner, parent=None):
        super().__init__(parent)
        self.runner = runner
        self.text = QLineEdit()
        self.text.setPlaceholderText("lr=0.001,0.003; batch_size=32,64")
        self.text.setToolTip("Each setting with its values; the panel trains every combination, one after "
                             "another (settings not named keep the values above)")
        self.button = QPushButton("Start Sweep")
        self.button.clicked.connect(self._start)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {theme.current().muted};")
        self.note.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.text, 1)
        row.addWidget(self.button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self.note)
        runner.progressed.connect(self._say)
        self.text.returnPressed.connect(self._start)

    def _start(self) -> None:
        problem = self.runner.start(self.text.text())
        if problem:
            self._say(problem, error=True)

    def _say(self, text: str, error: bool = False) -> None:
        t = theme.current()
        self.note.setStyleSheet(f"color: {t.error if error else t.muted};")
        self.note.setText(text)
        self.note.setVisible(bool(text))
