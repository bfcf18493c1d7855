"""The Train panel's Compare tab: two or more runs at once. Their training loss (per step,
lightly smoothed) and their validation metric (per epoch) overlaid, each run in one
colour that its row of the table, its chip and both plots share
(designer.train.run_compare.run_colour); the table lists only the settings that differ,
the best and last metrics side by side, and what differs between the networks when the
runs trained different drawings. Export All Runs writes every run's metrics into one
long CSV with a `run` column.
"""
from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QMessageBox,
                               QPlainTextEdit, QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from designer.atomic import WriteFailed
from designer.train.run_compare import PERCENT, RunComparison, compare_runs, rank, write_long_csv
from designer.train.run_listing import METRICS

from .. import theme
from .history import History
from .plots import METRIC_TITLES, smooth

SMOOTHING = 0.6


class RunsComparison(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.comparison: RunComparison | None = None
        self.histories: dict[str, History] = {}
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}   # (plot, run) -> its curve
        t = theme.current()
        self.heading = QLabel("Select two or more runs in the Runs tab and press Compare Selected.")
        self.heading.setWordWrap(True)
        self.heading.setStyleSheet(f"color: {t.muted};")
        self.export_button = QPushButton("Export These Runs…")
        self.export_button.setToolTip("Every step and epoch of these runs in one CSV, with a run column")
        self.export_button.clicked.connect(lambda: self.export_dialog())
        self.export_button.setEnabled(False)
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(self.export_button)

        pg.setConfigOptions(antialias=True)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(t.panel)
        self.loss_plot = self._plot("training loss (per step)", 0)
        self.metric_plot = self._plot("validation", 1)

        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.networks = QPlainTextEdit()
        self.networks.setReadOnly(True)
        self.networks.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.networks.hide()
        lower = QSplitter(Qt.Orientation.Vertical)
        lower.addWidget(self.table)
        lower.addWidget(self.networks)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.canvas)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.addLayout(top)
        column.addWidget(split, 1)

    def _plot(self, title: str, col: int) -> pg.PlotItem:
        t = theme.current()
        plot = self.canvas.addPlot(row=0, col=col)
        plot.setTitle(title, color=t.text, size="9pt")
        plot.showGrid(x=False, y=True, alpha=0.15)
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        plot.setLabel("bottom", "step")
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setTextPen(t.muted)
            plot.getAxis(axis).setPen(t.card_border)
        plot.addLegend(offset=(-10, 10) if col == 0 else (-10, -10), labelTextSize="8pt", labelTextColor=t.text)
        return plot

    # ---- what is compared ------------------------------------------------------------------------
    def set_runs(self, paths, ranked: bool = False) -> None:
        """Compare these run folders, in this order (which gives each its colour); `ranked`
        lists the best first (a finished sweep)."""
        self.comparison = c = compare_runs(list(paths))
        if ranked:
            c.runs, c.numbered = rank(c.runs), True
        self.histories = {}
        for r in c.runs:
            metrics = r.record.file(METRICS)
            try:
                self.histories[r.label] = History.from_csv(metrics) if metrics.is_file() else History()
            except (OSError, ValueError):
                self.histories[r.label] = History()
        self._draw()
        self._fill_table()
        self.networks.setPlainText(c.networks_text())
        self.networks.setVisible(bool(c.diffs))
        n = len(c.runs)
        self.heading.setText(f"{n} run{'s' if n != 1 else ''} compared"
                             + (f"; settings that differ: {', '.join(c.settings)}" if c.settings else
                                "; their settings are the same" if n > 1 else ""))
        self.export_button.setEnabled(n > 0)

    def _draw(self) -> None:
        c = self.comparison
        for plot in (self.loss_plot, self.metric_plot):
            plot.clear()   # its legend lets go of the curves too
        self.curves.clear()
        metric = self._metric()
        self.metric_plot.setTitle(f"validation {METRIC_TITLES.get(metric, metric)} (per epoch)",
                                  color=theme.current().text, size="9pt")
        for r in c.runs:
            h = self.histories[r.label]
            pen = pg.mkPen(r.colour, width=2)
            x, y = h.column("global_step"), h.column("loss")
            if len(y):
                curve = self.loss_plot.plot(x, smooth(y, SMOOTHING), pen=pen, name=r.label)
                self.curves[("loss", r.label)] = curve
            ex, ey = h.epoch_series("val", metric)
            if len(ey):
                self.curves[("metric", r.label)] = self.metric_plot.plot(
                    ex, ey, pen=pen, symbol="o", symbolSize=7, symbolBrush=r.colour, symbolPen=None, name=r.label)

    def _metric(self) -> str:
        """The validation metric the runs share: accuracy (or another fraction) when they have
        one, else the loss."""
        names = [m for m in self.comparison.metrics if m in PERCENT]
        return names[0] if names else "loss"

    def _fill_table(self) -> None:
        c = self.comparison
        header, rows = c.header(), c.rows()
        self.table.clear()
        self.table.setColumnCount(len(header))
        self.table.setHorizontalHeaderLabels(header)
        self.table.setRowCount(len(rows))
        for k, (r, row) in enumerate(zip(c.runs, rows)):
            for col, text in enumerate(row):
                first = col == (1 if c.numbered else 0)
                item = QTableWidgetItem(("■ " if first else "") + text)
                if first:
                    item.setForeground(QColor(r.colour))
                    item.setToolTip(str(r.record.path))
                self.table.setItem(k, col, item)

    def colour_of(self, label: str) -> str:
        """The colour of a run, as its curves and its row draw it."""
        return next(r.colour for r in self.comparison.runs if r.label == label)

    # ---- export ----------------------------------------------------------------------------------
    def export_dialog(self, paths=None, start_dir: str = "") -> Path | None:
        """Ask where, then write the runs' metrics (these runs, or `paths`) into one CSV."""
        paths = list(paths) if paths is not None else [r.record.path for r in self.comparison.runs]
        if not paths:
            return None
        target, _ = QFileDialog.getSaveFileName(self, "Export Runs", str(Path(start_dir or paths[0].parent) /
                                                                          "runs.csv"), "CSV (*.csv)")
        if not target:
            return None
        try:
            write_long_csv(paths, Path(target))
        except OSError as exc:   # a full disk says what is kept (WriteFailed); else the OS's reason
            told = str(exc) if isinstance(exc, WriteFailed) else f"{target} cannot be written: {exc.strerror or exc}."
            QMessageBox.warning(self, "Export Runs", told)
            return None
        return Path(target)
