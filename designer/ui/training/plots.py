"""Live training curves (pyqtgraph): loss per step with a smoothing slider and the
validation loss per epoch; the epoch metrics (accuracy, IoU…); the learning rate.
Log scale, hover read-out, zoom and pan (drag, wheel; right-click for pyqtgraph's
menu), earlier runs overlaid for comparison and removable, the picture saved as
PNG and the numbers as CSV.

Drawing is decoupled from the events: the panel appends to a History and calls
`schedule()`; a QTimer redraws at most 20 times a second (and not at all while the
plots are out of sight), handing pyqtgraph whole arrays (setData) with clipToView
and peak downsampling, so a run of 100,000 steps costs the same per frame as one
of 1,000. Most of a frame's cost is repainting axes, so the axes are kept still:
the step axis spans the whole run from the start, and the loss axis is rescaled
only when the curve leaves it or shrinks well inside it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider,
                               QToolButton, QVBoxLayout, QWidget)

from .. import theme
from .history import History

FRAME_MS = 50                         # ≤ 20 redraws a second: smooth to the eye, light on the CPU
Y_SLACK = 0.6                         # rescale the loss axis when the data fills less than this of it
FRACTIONS = ("accuracy", "top5", "mean_iou", "pixel_accuracy", "d_real", "d_fake")
METRIC_TITLES = {"accuracy": "accuracy", "top5": "top-5 accuracy", "mean_iou": "mean IoU",
                 "pixel_accuracy": "pixel accuracy", "recon": "reconstruction", "kl": "KL divergence",
                 "d_loss": "discriminator loss", "g_loss": "generator loss", "d_real": "D(real)",
                 "d_fake": "D(fake)"}
MAIN_COLORS = ("#2F6FEB", "#DC2626", "#16A34A", "#D97706", "#7C3AED", "#0891B2")
OVERLAY_COLORS = ("#9333EA", "#EA580C", "#0D9488", "#DB2777", "#65A30D", "#475569")


def smooth(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's smoothing: an exponential moving average, debiased at the start
    (so the first points are not pulled towards zero)."""
    values = np.asarray(values, dtype=np.float64)
    if weight <= 0 or len(values) == 0:
        return values.copy()
    # ema[k] = w·ema[k-1] + (1-w)·x[k], with numpy alone (scipy takes a third of a second to import).
    memory = int(np.ceil(np.log(1e-17) / np.log(weight))) if weight < 1 else 1 << 30
    if memory <= 64:   # light smoothing: older terms vanish below double precision, so a short kernel is exact
        return ((1 - weight) * np.convolve(values, weight ** np.arange(memory))[:len(values)]
                / (1 - weight ** np.arange(1, len(values) + 1)))
    # heavy smoothing: blocks short enough that w**-block stays small; within one,
    # ema[k] = w**(k+1)·state + (1-w)·w**k·cumsum(x[j]·w**-j)
    block = int(min(256, np.log(1e-6) / np.log(weight)))
    powers = weight ** np.arange(block + 1)
    ema = np.empty_like(values)
    state = 0.0
    for start in range(0, len(values), block):
        x = values[start:start + block]
        n = len(x)
        ema[start:start + n] = powers[1:n + 1] * state + (1 - weight) * powers[:n] * np.cumsum(x / powers[:n])
        state = ema[start + n - 1]
    return ema / (1 - weight ** np.arange(1, len(values) + 1))


def _finite(x: np.ndarray, y: np.ndarray):
    keep = np.isfinite(x) & np.isfinite(y)
    return (x, y) if keep.all() else (x[keep], y[keep])


class TrainingPlots(QWidget):
    overlays_changed = Signal(list)   # the names of the runs compared now

    def __init__(self, parent=None):
        super().__init__(parent)
        self.history = History()
        self.overlays: dict[str, History] = {}
        self._drawn_revision = -1
        self._settings_changed = True
        self.extent = 0                     # the step the x axis ends at (the run's last step)
        self._titles: dict = {}
        self._lr_top = None
        self._items: dict[str, pg.PlotDataItem] = {}
        self._overlay_items: dict[str, list] = {}
        t = theme.current()

        self.smoothing = QSlider(Qt.Orientation.Horizontal)
        self.smoothing.setRange(0, 99)
        self.smoothing.setValue(60)
        self.smoothing.setFixedWidth(100)
        self.smoothing.setToolTip("Smoothing of the training loss: an exponential moving average "
                                  "(0 shows the raw values)")
        self.smoothing_label = QLabel()
        self.smoothing.valueChanged.connect(self._on_smoothing)
        self.log_scale = QCheckBox("Log scale")
        self.log_scale.setToolTip("Show the losses on a logarithmic axis")
        self.log_scale.toggled.connect(self._on_log)
        self.fit_button = QToolButton()
        self.fit_button.setText("Fit")
        self.fit_button.setToolTip("Zoom out to show every point (after zooming or panning)")
        self.fit_button.clicked.connect(self.fit)
        self.png_button = QPushButton("PNG…")
        self.png_button.setToolTip("Save the curves as a picture")
        self.png_button.clicked.connect(lambda: self.save_png_dialog())
        self.csv_button = QPushButton("CSV…")
        self.csv_button.setToolTip("The plotted numbers, one row per step and per epoch (metrics.csv's layout)")
        self.csv_button.clicked.connect(lambda: self.save_csv_dialog())
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(QLabel("Smoothing"))
        controls.addWidget(self.smoothing)
        controls.addWidget(self.smoothing_label)
        controls.addSpacing(12)
        controls.addWidget(self.log_scale)
        controls.addWidget(self.fit_button)
        controls.addStretch(1)
        controls.addWidget(self.png_button)
        controls.addWidget(self.csv_button)

        self.compare_row = QHBoxLayout()
        self.compare_row.setContentsMargins(0, 0, 0, 0)
        self.compare_label = QLabel("Compared with:")
        self.compare_row.addWidget(self.compare_label)
        self.compare_row.addStretch(1)
        self._chips: dict[str, QToolButton] = {}

        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(t.panel)
        self.canvas.setMinimumHeight(220)
        # the loss large on the left; the epoch metrics and the learning rate beside it
        self.loss_plot = self._plot("loss", row=0, col=0, rowspan=2)
        self.metric_plot = self._plot("validation", row=0, col=1)
        self.lr_plot = self._plot("learning rate", row=1, col=1)
        self.canvas.ci.layout.setColumnStretchFactor(0, 3)
        self.canvas.ci.layout.setColumnStretchFactor(1, 2)
        self.canvas.ci.layout.setRowStretchFactor(0, 3)
        self.canvas.ci.layout.setRowStretchFactor(1, 2)
        self.loss_plot.setLabel("bottom", "step")
        self.metric_plot.setXLink(self.loss_plot)
        self.lr_plot.setXLink(self.loss_plot)
        self.lr_plot.setLabel("bottom", "step")
        self._user_zoomed = False
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot):
            plot.getViewBox().sigRangeChangedManually.connect(self._on_user_zoom)
        self.loss_plot.getViewBox().disableAutoRange(axis="y")   # see _fit_loss_axis
        self.loss_legend = self.loss_plot.addLegend(offset=(-10, 10), labelTextSize="8pt")
        # the metrics rise, so the legend goes where the curves are not: bottom right
        self.metric_legend = self.metric_plot.addLegend(offset=(-10, -10), labelTextSize="8pt")
        self.cursors = []
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot):
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(t.muted, width=1, style=Qt.PenStyle.DotLine))
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)
            self.cursors.append(line)
        self.readout = QLabel("Point at a curve to read its values")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.readout.setStyleSheet(f"color: {t.muted};")
        # a long read-out is cut at the edge rather than widening the window
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._mouse = pg.SignalProxy(self.canvas.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse)

        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.addLayout(controls)
        column.addLayout(self.compare_row)
        column.addWidget(self.canvas, 1)
        column.addWidget(self.readout)

        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._frame)
        self.frames = 0                       # redraws done (tests, the benchmark)
        self._on_smoothing(self.smoothing.value())
        self._update_compare_row()

    def _plot(self, title: str, row: int, col: int, rowspan: int = 1) -> pg.PlotItem:
        t = theme.current()
        plot = self.canvas.addPlot(row=row, col=col, rowspan=rowspan)
        plot.setTitle(title, color=t.text, size="9pt")
        plot.showGrid(x=False, y=True, alpha=0.15)   # vertical grid lines would be redrawn on every frame
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        plot.getViewBox().setMouseMode(pg.ViewBox.PanMode)
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setTextPen(t.muted)
            plot.getAxis(axis).setPen(t.card_border)
        return plot

    # ---- what is shown ---------------------------------------------------------------------------
    def set_history(self, history: History, extent: int = 0) -> None:
        """Show `history` as the main curves (a live run, or an earlier run selected);
        `extent` is the step the run will end at, when known."""
        self.history = history
        self._clear_main()
        self._settings_changed = True
        self._titles.clear()
        self._lr_top = None
        self.extent = extent
        self.redraw()
        self.fit()

    def set_extent(self, total_steps: int) -> None:
        """Fix the step axis to the whole run: the curves grow across a still axis, which
        is also far cheaper to draw than an axis rescaled every frame."""
        self.extent = int(total_steps)
        self.fit()

    def schedule(self) -> None:
        """New points arrived: draw them at the next frame (at most ~30 a second)."""
        if not self._timer.isActive():
            self._timer.start()

    def add_overlay(self, name: str, history: History) -> None:
        self.remove_overlay(name, emit=False)
        self.overlays[name] = history
        self._draw_overlay(name, len(self.overlays) - 1)
        self._update_compare_row()
        self.overlays_changed.emit(list(self.overlays))

    def remove_overlay(self, name: str, emit: bool = True) -> None:
        if name not in self.overlays:
            return
        del self.overlays[name]
        for plot, item in self._overlay_items.pop(name, []):
            self._remove_item(plot, item)
        self._update_compare_row()
        if emit:
            self.overlays_changed.emit(list(self.overlays))

    @property
    def smoothing_weight(self) -> float:
        return self.smoothing.value() / 100.0

    # ---- drawing ---------------------------------------------------------------------------------
    def _frame(self) -> None:
        if (self.history.revision == self._drawn_revision and not self._settings_changed) or not self.isVisible():
            self._timer.stop()   # out of sight: showEvent draws what was missed
            return
        self.redraw()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.schedule()

    def redraw(self) -> None:
        h = self.history
        self._drawn_revision = h.revision
        self._settings_changed = False
        self.frames += 1
        x = h.column("global_step")
        loss = h.column("loss")
        if len(x):
            raw_pen = pg.mkPen(QColor(MAIN_COLORS[0]).lighter(160), width=1)
            self._curve(self.loss_plot, "loss_raw", *_finite(x, loss), pen=raw_pen, name=None)
            sx, sy = _finite(x, loss)
            self._curve(self.loss_plot, "loss_smooth", sx, smooth(sy, self.smoothing_weight),
                        pen=pg.mkPen(MAIN_COLORS[0], width=2), name="training loss")
            for i, name in enumerate(n for n in h.step_names if n != "loss" and n.endswith("_loss")):
                nx, ny = _finite(x, h.column(name))
                self._curve(self.loss_plot, f"step_{name}", nx, smooth(ny, self.smoothing_weight),
                            pen=pg.mkPen(MAIN_COLORS[(i + 2) % len(MAIN_COLORS)], width=2),
                            name=METRIC_TITLES.get(name, name))
            lx, ly = _finite(x, h.column("lr"))
            self._curve(self.lr_plot, "lr", lx, ly, pen=pg.mkPen(MAIN_COLORS[3], width=2), name=None)
            top = float(ly.max()) * 1.15 if len(ly) else 0.0
            if top and top != self._lr_top:   # from zero, so a constant rate reads as the number it is
                self._lr_top = top
                self.lr_plot.setYRange(0, top, padding=0)
        part = "val" if any(e["val"] for e in h.epochs) else "train"
        vx, vy = h.epoch_series(part, "loss")
        if len(vx):
            self._curve(self.loss_plot, "epoch_loss", vx, vy, pen=pg.mkPen(MAIN_COLORS[1], width=2),
                        symbol="o", symbolSize=6, symbolBrush=MAIN_COLORS[1], symbolPen=None,
                        name="validation loss" if part == "val" else "epoch loss")
        metrics = [n for n in h.epoch_metric_names() if n != "loss"]
        self._title(self.metric_plot, ("validation" if part == "val" else "per epoch") + ": "
                    + (", ".join(METRIC_TITLES.get(m, m) for m in metrics) or "—"))
        for i, name in enumerate(metrics):
            color = MAIN_COLORS[(i + 2) % len(MAIN_COLORS)]
            mx, my = h.epoch_series(part, name)
            if len(mx):
                self._curve(self.metric_plot, f"metric_{part}_{name}", mx, my, pen=pg.mkPen(color, width=2),
                            symbol="o", symbolSize=6, symbolBrush=color, symbolPen=None,
                            name=METRIC_TITLES.get(name, name))
            if part == "val":
                tx, ty = h.epoch_series("train", name)
                if len(tx):
                    self._curve(self.metric_plot, f"metric_train_{name}", tx, ty,
                                pen=pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine),
                                name=f"training {METRIC_TITLES.get(name, name)}")
        fractions = bool(metrics) and all(m in FRACTIONS for m in metrics)
        if fractions != self._titles.get("fractions"):
            self._titles["fractions"] = fractions
            if fractions:
                self.metric_plot.setYRange(0, 1.02, padding=0)
            else:
                self.metric_plot.enableAutoRange(axis="y")
        for name in list(self.overlays):
            self._refresh_overlay(name)
        self._fit_loss_axis()

    def _fit_loss_axis(self, force: bool = False) -> None:
        """The loss axis follows the curves with some slack, so that it is not redrawn on
        every frame as the loss creeps down (pyqtgraph's auto-range would)."""
        if self._user_zoomed or self.log_scale.isChecked():
            return
        values = [item.yData for key, item in self._items.items() if self._plot_of(key) is self.loss_plot]
        values += [item.yData for items in self._overlay_items.values() for plot, item in items
                   if plot is self.loss_plot]
        values = [v[np.isfinite(v)] for v in values if v is not None and len(v)]
        values = [v for v in values if len(v)]
        if not values:
            return
        lo = float(min(v.min() for v in values))
        hi = float(max(v.max() for v in values))
        span = max(hi - lo, abs(hi) * 1e-3, 1e-12)
        cur_lo, cur_hi = self.loss_plot.getViewBox().viewRange()[1]
        if force or lo < cur_lo or hi > cur_hi or span < Y_SLACK * (cur_hi - cur_lo):
            self.loss_plot.setYRange(lo - 0.05 * span, hi + 0.05 * span, padding=0)

    def _on_user_zoom(self, *_):
        self._user_zoomed = True

    def _title(self, plot: pg.PlotItem, text: str) -> None:
        """Set only on change: a new title lays the plot out again."""
        if self._titles.get(id(plot)) != text:
            self._titles[id(plot)] = text
            plot.setTitle(text, color=theme.current().text, size="9pt")

    def _curve(self, plot: pg.PlotItem, key: str, x, y, name: str | None, **style) -> pg.PlotDataItem:
        item = self._items.get(key)
        if item is None:
            item = plot.plot(name=name, **style)
            self._items[key] = item
        item.setData(x, y)
        return item

    def _clear_main(self) -> None:
        for key, item in self._items.items():
            plot = self._plot_of(key)
            self._remove_item(plot, item)
        self._items.clear()

    def _plot_of(self, key: str) -> pg.PlotItem:
        if key.startswith("metric_"):
            return self.metric_plot
        return self.lr_plot if key == "lr" else self.loss_plot

    @staticmethod
    def _remove_item(plot: pg.PlotItem, item) -> None:
        plot.removeItem(item)
        if plot.legend is not None:
            plot.legend.removeItem(item)

    def _draw_overlay(self, name: str, index: int) -> None:
        color = OVERLAY_COLORS[index % len(OVERLAY_COLORS)]
        items = []
        dashed = pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine)
        items.append((self.loss_plot, self.loss_plot.plot(pen=dashed, name=f"{name}: training loss")))
        items.append((self.loss_plot, self.loss_plot.plot(pen=dashed, symbol="t", symbolSize=6, symbolBrush=color,
                                                          symbolPen=None, name=f"{name}: validation loss")))
        items.append((self.metric_plot, self.metric_plot.plot(pen=dashed, symbol="t", symbolSize=6,
                                                              symbolBrush=color, symbolPen=None, name=name)))
        items.append((self.lr_plot, self.lr_plot.plot(pen=dashed)))
        self._overlay_items[name] = items
        self._refresh_overlay(name)

    def _refresh_overlay(self, name: str) -> None:
        h = self.overlays[name]
        (_, loss), (_, val), (_, metric), (_, lr) = self._overlay_items[name]
        x = h.column("global_step")
        lx, ly = _finite(x, h.column("loss"))
        loss.setData(lx, smooth(ly, self.smoothing_weight))
        part = "val" if any(e["val"] for e in h.epochs) else "train"
        val.setData(*h.epoch_series(part, "loss"))
        names = [n for n in h.epoch_metric_names() if n != "loss"]
        metric.setData(*(h.epoch_series(part, names[0]) if names else (np.empty(0), np.empty(0))))
        lr.setData(*_finite(x, h.column("lr")))

    def fit(self) -> None:
        self._user_zoomed = False
        last = max([self.extent, self.history.step_count] +
                   [int(h.column("global_step").max()) for h in self.overlays.values() if h.step_count])
        for plot in (self.metric_plot, self.lr_plot):
            plot.enableAutoRange(axis="y")
        if self.log_scale.isChecked():
            self.loss_plot.enableAutoRange(axis="y")
        else:
            self.loss_plot.getViewBox().disableAutoRange(axis="y")
            self._fit_loss_axis(force=True)
        if self.extent:
            self.loss_plot.setXRange(0, last, padding=0.02)   # the other plots follow (linked)
        else:
            self.loss_plot.enableAutoRange(axis="x")

    # ---- controls --------------------------------------------------------------------------------
    def _on_smoothing(self, value: int) -> None:
        self.smoothing_label.setText(f"{value / 100:.2f}")
        self._settings_changed = True
        self.schedule()

    def _on_log(self, on: bool) -> None:
        self.loss_plot.setLogMode(y=on)
        self.fit()

    def _update_compare_row(self) -> None:
        for name in [n for n in self._chips if n not in self.overlays]:
            chip = self._chips.pop(name)
            self.compare_row.removeWidget(chip)
            chip.deleteLater()
        for i, name in enumerate(self.overlays):
            if name in self._chips:
                continue
            chip = QToolButton()
            chip.setText(f"{name}  ✕")
            chip.setToolTip(f"Stop comparing with {name}")
            color = OVERLAY_COLORS[i % len(OVERLAY_COLORS)]
            chip.setStyleSheet(f"QToolButton {{ color: {color}; border: 1px solid {color}; border-radius: 9px;"
                               " padding: 1px 8px; }")
            chip.clicked.connect(lambda _c=False, n=name: self.remove_overlay(n))
            self._chips[name] = chip
            self.compare_row.insertWidget(self.compare_row.count() - 1, chip)
        visible = bool(self.overlays)
        self.compare_label.setVisible(visible)

    def _on_mouse(self, args) -> None:
        pos = args[0]
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot):
            if plot.sceneBoundingRect().contains(pos):
                x = plot.getViewBox().mapSceneToView(pos).x()
                self.show_readout(x)
                return

    def show_readout(self, step: float) -> str:
        """The values at the step nearest `step`, in the read-out line; returns the text."""
        h = self.history
        values = h.value_at(step)
        if not values:
            return self.readout.text()
        gs = values["global_step"]
        for line in self.cursors:
            line.setPos(gs)
            line.setVisible(True)
        x, y = _finite(h.column("global_step"), h.column("loss"))
        i = int(np.searchsorted(x, gs)) if len(x) else 0
        smoothed = smooth(y[:i + 1], self.smoothing_weight)[-1] if len(y) else float("nan")
        parts = [f"step {int(gs)} (epoch {int(values.get('epoch', 0))})",
                 f"loss {values.get('loss', float('nan')):.4g} (smoothed {smoothed:.4g})"]
        for name in h.step_names:
            if name != "loss":
                parts.append(f"{METRIC_TITLES.get(name, name)} {values.get(name, float('nan')):.4g}")
        parts.append(f"lr {values.get('lr', float('nan')):.3g}")
        done = [e for e in h.epochs if e["global_step"] <= gs]
        if done:
            e = done[-1]
            shown = e["val"] or e["train"]
            metrics = ", ".join(f"{METRIC_TITLES.get(k, k)} {v:.1%}" if k in FRACTIONS else
                                f"{METRIC_TITLES.get(k, k)} {v:.4g}" for k, v in shown.items())
            parts.append(f"after epoch {e['epoch']}: {'validation ' if e['val'] else ''}{metrics}")
        text = " · ".join(parts)
        self.readout.setText(text)
        return text

    # ---- files -----------------------------------------------------------------------------------
    def save_png(self, path: Path) -> None:
        self.redraw()
        if not self.canvas.grab().save(str(path), "PNG"):
            raise OSError(f"cannot write {path}")

    def save_csv(self, path: Path) -> None:
        self.history.to_csv(Path(path))

    def save_png_dialog(self, start_dir: str = "") -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save Plot as PNG", str(Path(start_dir) / "training.png"),
                                              "PNG image (*.png)")
        if path:
            self._write(self.save_png, path, ".png")

    def save_csv_dialog(self, start_dir: str = "") -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save Metrics as CSV", str(Path(start_dir) / "metrics.csv"),
                                              "CSV table (*.csv)")
        if path:
            self._write(self.save_csv, path, ".csv")

    def _write(self, write, path: str, suffix: str) -> None:
        target = Path(path)
        if target.suffix.lower() != suffix:
            target = target.with_name(target.name + suffix)
        try:
            write(target)
        except OSError as exc:
            self.readout.setText(f"Could not save {target.name}: {exc.strerror or exc}")
            return
        self.readout.setText(f"Saved {target}")
