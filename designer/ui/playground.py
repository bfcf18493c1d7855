"""See inside: the convolution playground.

A window that slides a kernel (or a pooling window) over a small grid one cell
at a time, the way the lecture's slides do: the window is highlighted on the
padded input with each cell's kernel weight written beside it (``1 ×1``), the
output fills in cell by cell, and the arithmetic of the current cell is written
out below (``1×1 + 1×0 + … = 4``).

This module is the view: widgets, layout and wiring. What the playground holds
and decides — the operation, the grids, the settings, the step, the example, the
note and the message — is a :class:`designer.playground_model.Playground`; the
window forwards what a person does to it and redraws when it says what changed.
The arithmetic comes from :mod:`designer.grid_arithmetic`, the grids are
:mod:`designer.ui.grid_view`'s. It imports neither torch nor the graph, so it
opens instantly.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QFont, QImage
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from designer.bundled import samples_dir
from designer.grid_arithmetic import KERNELS, LECTURE_EXAMPLES
from designer.playground_model import (
    CUSTOM_KERNEL,
    DILATIONS,
    INPUT_SIDES,
    KERNEL_SIZES,
    MAX_IMAGE_SIDE,
    OPERATIONS,
    PADDINGS,
    SPEEDS,
    STRIDES,
    Change,
    Playground,
    finite_range,
)
from designer.ui.grid_view import OUTPUT_COLOUR, PADDING_COLOUR, WEIGHT_COLOUR, WINDOW_COLOUR, GridView


def image_to_grid(path: str | Path, max_side: int = MAX_IMAGE_SIDE) -> np.ndarray:
    """A picture as grey levels 0–255, shrunk so neither side exceeds max_side."""
    image = QImage(str(path))
    if image.isNull():
        raise ValueError(f"Could not read an image from {Path(path).name}.")
    if max(image.width(), image.height()) > max_side:
        image = image.scaled(max_side, max_side, Qt.KeepAspectRatio, Qt.SmoothTransformation)
    grey = image.convertToFormat(QImage.Format_Grayscale8)
    rows = [
        np.frombuffer(grey.constScanLine(y), dtype=np.uint8, count=grey.width()).copy()
        for y in range(grey.height())
    ]
    return np.array(rows, dtype=float)


def sample_images() -> list[Path]:
    folder = samples_dir()
    return sorted(folder.glob("*.png")) if folder.is_dir() else []


class ConvolutionPlayground(QMainWindow):
    """Watch a convolution, a pooling or a zero padding happen cell by cell: a view of a Playground."""

    def __init__(self, parent: QWidget | None = None, model: Playground | None = None):
        super().__init__(parent)
        self.setWindowTitle("Convolution playground")
        self.model = model if model is not None else Playground()
        self._quiet = False  # True while the view, not the user, moves the controls
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.model.step)
        self._build_menus()
        self._build_body()
        self.resize(1240, 800)
        self._unsubscribe = self.model.subscribe(self._on_change)
        self._on_change(Change.SETTINGS)
        self._on_change(Change.PLAYING)

    # ------------------------------------------------------------------ building

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_action = QAction("&Open image…", self, shortcut="Ctrl+O", triggered=self._open_image_dialog)
        file_menu.addAction(open_action)
        self.samples_menu = file_menu.addMenu("&Sample images")
        for path in sample_images():
            self.samples_menu.addAction(path.stem.replace("_", " "), lambda p=path: self.load_image(p))
        self.samples_menu.setEnabled(bool(sample_images()))
        file_menu.addSeparator()
        file_menu.addAction(QAction("&Close", self, shortcut="Ctrl+W", triggered=self.close))
        self.examples_menu = self.menuBar().addMenu("&Examples")
        for name, example in LECTURE_EXAMPLES.items():
            self.examples_menu.addAction(example.title, lambda n=name: self.model.load_example(n))

    def _build_body(self) -> None:
        body = QWidget(self)
        layout = QHBoxLayout(body)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(14)
        layout.addWidget(self._build_settings())
        main = QVBoxLayout()
        main.setSpacing(8)
        main.addLayout(self._build_grids(), stretch=1)
        main.addWidget(self._build_explanation())
        main.addLayout(self._build_transport())
        layout.addLayout(main, stretch=1)
        self.setCentralWidget(body)
        self.setStyleSheet(
            "QGroupBox { font-weight: 600; border: 1px solid #d5dbe3; border-radius: 6px; margin-top: 10px;"
            " padding: 10px 8px 8px 8px; }"
            "QGroupBox::title { subcontrol-origin: margin; left: 10px; padding: 0 4px; }"
            "QLabel#heading { font-weight: 600; font-size: 11pt; color: #1f2933; }"
            "QLabel#operator { font-size: 20pt; color: #52606d; }"
            "QFrame#stepBox { background: #fbf7ee; border: 1px solid #f0d9a8; border-radius: 6px; }"
            "QLabel#message { background: #fdecea; color: #9b2c2c; border: 1px solid #f5b5ae;"
            " border-radius: 6px; padding: 6px 8px; }"
        )

    def _build_settings(self) -> QWidget:
        panel = QWidget()
        panel.setFixedWidth(270)
        column = QVBoxLayout(panel)
        column.setContentsMargins(0, 0, 0, 0)

        operation_box = QGroupBox("Operation")
        form = QFormLayout(operation_box)
        self.operation_combo = QComboBox()
        for key, label in OPERATIONS.items():
            self.operation_combo.addItem(label, key)
        self.kernel_combo = QComboBox()
        self.kernel_combo.addItems([*KERNELS, CUSTOM_KERNEL])
        self.kernel_size_label = QLabel("Kernel size")
        self.kernel_size_spin = self._spin(*KERNEL_SIZES)
        self.stride_spin = self._spin(*STRIDES)
        self.padding_spin = self._spin(*PADDINGS)
        self.dilation_spin = self._spin(*DILATIONS)
        self.stride_spin.setToolTip("How many cells the window moves at each step")
        self.padding_spin.setToolTip("Rings of zeros added around the input (−∞ for max pooling)")
        self.dilation_spin.setToolTip("Spacing between the kernel's taps: 1 means side by side")
        form.addRow("Type", self.operation_combo)
        form.addRow("Kernel", self.kernel_combo)
        form.addRow(self.kernel_size_label, self.kernel_size_spin)
        form.addRow("Stride", self.stride_spin)
        form.addRow("Padding", self.padding_spin)
        form.addRow("Dilation", self.dilation_spin)
        column.addWidget(operation_box)

        input_box = QGroupBox("Input")
        input_form = QFormLayout(input_box)
        self.rows_spin = self._spin(*INPUT_SIDES)
        self.cols_spin = self._spin(*INPUT_SIDES)
        input_form.addRow("Rows", self.rows_spin)
        input_form.addRow("Columns", self.cols_spin)
        open_button = QPushButton("Open image…")
        open_button.clicked.connect(self._open_image_dialog)
        input_form.addRow(open_button)
        samples_button = QToolButton()
        samples_button.setText("Sample image")
        samples_button.setMenu(self.samples_menu)
        samples_button.setPopupMode(QToolButton.InstantPopup)
        samples_button.setEnabled(self.samples_menu.isEnabled())
        samples_button.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        input_form.addRow(samples_button)
        hint = QLabel("Click a cell of the input or the kernel and type a number; Enter confirms.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #616e7c;")
        input_form.addRow(hint)
        column.addWidget(input_box)

        examples_box = QGroupBox("From the lecture")
        examples_layout = QVBoxLayout(examples_box)
        examples_button = QToolButton()
        examples_button.setText("Worked examples")
        examples_button.setMenu(self.examples_menu)
        examples_button.setPopupMode(QToolButton.InstantPopup)
        examples_button.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        examples_layout.addWidget(examples_button)
        column.addWidget(examples_box)
        column.addWidget(self._build_legend())
        column.addStretch(1)

        self._forward(self.operation_combo.currentIndexChanged,
                      lambda _i: self.model.set_operation(self.operation_combo.currentData()))
        self._forward(self.kernel_combo.currentTextChanged, self.model.choose_kernel)
        self._forward(self.kernel_size_spin.valueChanged, self.model.set_kernel_size)
        self._forward(self.stride_spin.valueChanged, self.model.set_stride)
        self._forward(self.padding_spin.valueChanged, self.model.set_padding)
        self._forward(self.dilation_spin.valueChanged, self.model.set_dilation)
        for spin in (self.rows_spin, self.cols_spin):
            self._forward(spin.valueChanged,
                          lambda _v: self.model.resize_input(self.rows_spin.value(), self.cols_spin.value()))
        return panel

    def _build_legend(self) -> QWidget:
        box = QGroupBox("Colours")
        rows = QVBoxLayout(box)
        rows.setSpacing(4)
        for colour, text in (
            (WINDOW_COLOUR, "window / cell being computed"),
            (WEIGHT_COLOUR, "kernel weight (×w)"),
            (OUTPUT_COLOUR.darker(115), "output computed so far"),
            (PADDING_COLOUR.darker(110), "padding"),
        ):
            label = QLabel(f"<span style='color:{colour.name()}; font-size:14pt'>■</span>&nbsp; {text}")
            rows.addWidget(label)
        return box

    @staticmethod
    def _spin(low: int, high: int) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setKeyboardTracking(False)  # recompute once per typed number, not per digit
        return spin

    def _panel(self, view: GridView) -> tuple[QVBoxLayout, QLabel]:
        title = QLabel()
        title.setObjectName("heading")
        title.setAlignment(Qt.AlignCenter)
        box = QVBoxLayout()
        box.addWidget(title)
        box.addWidget(view, stretch=1)
        return box, title

    def _build_grids(self) -> QHBoxLayout:
        self.input_view = GridView("input", editable=True)
        self.kernel_view = GridView("kernel", editable=True)
        self.output_view = GridView("output")
        self.input_view.cellEdited.connect(self.model.edit_input_cell)
        self.kernel_view.cellEdited.connect(self.model.edit_kernel_cell)
        row = QHBoxLayout()
        row.setSpacing(8)
        input_box, self.input_title = self._panel(self.input_view)
        kernel_box, self.kernel_title = self._panel(self.kernel_view)
        output_box, self.output_title = self._panel(self.output_view)
        self.operator_label = QLabel("∗")
        self.equals_label = QLabel("=")
        for label in (self.operator_label, self.equals_label):
            label.setObjectName("operator")
            label.setAlignment(Qt.AlignCenter)
        self._kernel_widgets = [self.kernel_view, self.kernel_title]
        # Stretch slots 0, 2 and 4 hold the grids; _balance_grids sizes them by column count.
        row.addLayout(input_box, 5)
        row.addWidget(self.operator_label)
        row.addLayout(kernel_box, 3)
        row.addWidget(self.equals_label)
        row.addLayout(output_box, 4)
        self._grid_row = row
        return row

    def _build_explanation(self) -> QWidget:
        frame = QFrame()
        frame.setObjectName("stepBox")
        layout = QVBoxLayout(frame)
        layout.setContentsMargins(12, 8, 12, 8)
        self.step_label = QLabel()
        self.step_label.setWordWrap(True)
        self.step_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.step_label.setMinimumHeight(48)
        step_font = QFont(self.font())
        step_font.setPointSizeF(step_font.pointSizeF() * 1.3)
        self.step_label.setFont(step_font)
        self.formula_label = QLabel()
        self.formula_label.setWordWrap(True)
        self.formula_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.note_label = QLabel()
        self.note_label.setWordWrap(True)
        self.note_label.setStyleSheet("color: #52606d; font-style: italic;")
        self.message_label = QLabel()
        self.message_label.setObjectName("message")
        self.message_label.setWordWrap(True)
        self.message_label.hide()
        for widget in (self.step_label, self.formula_label, self.note_label, self.message_label):
            layout.addWidget(widget)
        return frame

    def _build_transport(self) -> QHBoxLayout:
        row = QHBoxLayout()
        # Standard icons rather than ⏮/⏭ glyphs, which many fonts lack.
        style = self.style()
        self.reset_button = QPushButton(style.standardIcon(QStyle.SP_MediaSkipBackward), "Start")
        self.back_button = QPushButton(style.standardIcon(QStyle.SP_MediaSeekBackward), "Back")
        self.play_button = QPushButton()
        self.step_button = QPushButton(style.standardIcon(QStyle.SP_MediaSeekForward), "Step")
        self.end_button = QPushButton(style.standardIcon(QStyle.SP_MediaSkipForward), "End")
        self.play_button.setMinimumWidth(96)
        self.step_button.setToolTip("Compute the next output cell")
        self.back_button.setToolTip("Undo the last output cell")
        self.reset_button.clicked.connect(lambda: self.model.seek(0))
        self.back_button.clicked.connect(self.model.back)
        self.play_button.clicked.connect(self.model.toggle_play)
        self.step_button.clicked.connect(self.model.step)
        self.end_button.clicked.connect(lambda: self.model.seek(self.model.step_count()))
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setMinimumWidth(140)
        self.slider.setToolTip("Drag to scrub through the output cells")
        self._forward(self.slider.valueChanged, self.model.seek)
        self.position_label = QLabel()
        self.position_label.setMinimumWidth(110)
        self.speed_combo = QComboBox()
        self.speed_combo.addItems(list(SPEEDS))
        self.speed_combo.setCurrentText(self.model.speed)
        self.speed_combo.currentTextChanged.connect(self.model.set_speed)
        for button in (self.reset_button, self.back_button, self.play_button, self.step_button, self.end_button):
            row.addWidget(button)
        row.addWidget(self.slider, stretch=1)
        row.addWidget(self.position_label)
        row.addWidget(QLabel("Speed"))
        row.addWidget(self.speed_combo)
        return row

    def _forward(self, signal, slot) -> None:
        """Connect a control to the model, except while the view itself moves the control."""
        signal.connect(lambda *args: None if self._quiet else slot(*args))

    @contextmanager
    def _quietly(self):
        """Move controls from code without forwarding those moves to the model."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    # ------------------------------------------------------------------ public API (the model's, for callers and tests)

    def load_example(self, name: str) -> None:
        """Set everything up as one of the lecture's worked examples (see LECTURE_EXAMPLES)."""
        self.model.load_example(name)

    def load_image(self, path: str | Path) -> None:
        """Use a picture (as grey levels, at most 64×64) as the input."""
        try:
            grid = image_to_grid(path)
        except ValueError as error:
            self.model.image_failed(str(error))
            return
        self.model.load_image(grid, Path(path).name)

    def set_input(self, grid) -> None:
        """Replace the input with a 2-D grid of numbers."""
        self.model.set_input(grid)

    def step_count(self) -> int:
        return self.model.step_count()

    def step(self) -> None:
        """Compute one more output cell."""
        self.model.step()

    def seek(self, index: int) -> None:
        """Show the state after `index` output cells have been computed."""
        self.model.seek(index)

    def output_values(self) -> np.ndarray:
        """The output cells filled so far; NaN where the window has not been yet."""
        return self.model.output_values()

    def current_step_text(self) -> str:
        """The arithmetic of the cell computed last ('' before the first step)."""
        return self.model.current_step_text()

    def message_text(self) -> str:
        return self.message_label.text() if self.message_label.isVisibleTo(self) else ""

    def play(self) -> None:
        self.model.play()

    def pause(self) -> None:
        self.model.pause()

    # ------------------------------------------------------------------ reacting to the model

    def _on_change(self, change: Change) -> None:
        if change is Change.SETTINGS:
            self._refresh_controls()
            self._refresh_static()
            self._refresh_animation()
        elif change is Change.POSITION:
            self._refresh_animation()
        elif change is Change.PLAYING:
            self._refresh_playing()

    def _open_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open image", str(samples_dir()), "Images (*.png *.jpg *.jpeg *.bmp *.gif)"
        )
        if path:
            self.load_image(path)

    # ------------------------------------------------------------------ drawing

    def _refresh_controls(self) -> None:
        """The settings column: the model's values, and which of them apply."""
        model, controls = self.model, self.model.controls()
        with self._quietly():
            self.operation_combo.setCurrentIndex(self.operation_combo.findData(model.operation))
            self.kernel_combo.setCurrentText(model.kernel_choice)
            self.kernel_size_spin.setValue(model.kernel_size)
            self.stride_spin.setValue(model.stride)
            self.padding_spin.setValue(model.padding)
            self.dilation_spin.setValue(model.dilation)
            self.rows_spin.setValue(model.input.shape[0])
            self.cols_spin.setValue(model.input.shape[1])
        self.kernel_combo.setEnabled(controls.kernel_choice)
        self.kernel_size_label.setText(controls.size_label)
        self.kernel_size_spin.setEnabled(controls.size)
        self.stride_spin.setEnabled(controls.stride)
        self.dilation_spin.setEnabled(controls.dilation)
        for widget in self._kernel_widgets:
            widget.setVisible(controls.kernel_shown)
        self.equals_label.setVisible(controls.kernel_shown)
        self.operator_label.setText(controls.operator)
        self.message_label.setText(model.message)
        self.message_label.setVisible(bool(model.message))

    def _refresh_static(self) -> None:
        """Everything that does not change while the animation plays."""
        model = self.model
        self.input_view.set_values(model.shown_input(), model.input_ring())
        self.input_view.set_colour_range(*finite_range(model.input))
        self.input_view.set_invalid(model.bad_input)
        self.input_title.setText(model.input_title())
        self.kernel_view.set_values(model.kernel)
        self.kernel_view.set_invalid(model.bad_kernel)
        self.kernel_title.setText(model.kernel_title())
        if model.output_title() is not None:
            self.output_title.setText(model.output_title())
        self.formula_label.setText(model.formula_html())
        self.note_label.setText(model.note)
        self.note_label.setVisible(bool(model.note))
        for index, count in zip((0, 2, 4), model.grid_columns()):  # the grids' stretch slots
            self._grid_row.setStretch(index, max(count, 2))
        with self._quietly():
            self.slider.setRange(0, model.step_count())

    def _refresh_animation(self) -> None:
        """Window highlight, output fill, step text, slider: everything that moves."""
        model, transport = self.model, self.model.transport()
        if model.result is not None:
            self.output_view.set_values(model.output_values(), model.output_ring())
            self.output_view.set_colour_range(*finite_range(model.result.output))
        step = model.current_step
        self.input_view.set_window(model.window_cells())
        self.output_view.set_current((step.row, step.col) if step else None)
        self.step_label.setText(model.step_html(WEIGHT_COLOUR.name()))
        self.position_label.setText(transport.position)
        with self._quietly():
            self.slider.setValue(transport.index)
        self.back_button.setEnabled(transport.back)
        self.reset_button.setEnabled(transport.back)
        self.step_button.setEnabled(transport.forward)
        self.end_button.setEnabled(transport.forward)
        self.play_button.setEnabled(transport.play)

    def _refresh_playing(self) -> None:
        if self.model.playing:
            self._timer.start(self.model.interval_ms)
            self.play_button.setText("Pause")
            self.play_button.setIcon(self.style().standardIcon(QStyle.SP_MediaPause))
        else:
            self._timer.stop()
            self.play_button.setText("Play")
            self.play_button.setIcon(self.style().standardIcon(QStyle.SP_MediaPlay))

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.model.pause()  # a timer firing into a closed window would keep stepping invisibly
        super().closeEvent(event)


def open_playground(parent: QWidget | None = None) -> ConvolutionPlayground:
    """Open (show) a playground window; the caller keeps the returned reference."""
    if QApplication.instance() is None:
        raise RuntimeError("open_playground needs a running QApplication")
    window = ConvolutionPlayground(parent)
    window.show()
    window.raise_()
    return window


def main() -> int:
    """`python -m designer.ui.playground`: the playground on its own."""
    import sys

    app = QApplication.instance() or QApplication(sys.argv)
    window = open_playground()  # noqa: F841 (kept alive while the event loop runs)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
