"""See inside: the convolution playground.

A window that slides a kernel (or a pooling window) over a small grid one cell
at a time, the way the lecture's slides do: the window is highlighted on the
padded input with each cell's kernel weight written beside it (``1 ×1``), the
output fills in cell by cell, and the arithmetic of the current cell is written
out below (``1×1 + 1×0 + … = 4``).

All arithmetic comes from :mod:`designer.grid_arithmetic`; this module only draws it, with
the grids of :mod:`designer.ui.grid_view`. It imports neither torch nor the graph,
so it opens instantly.
"""

from __future__ import annotations

import html
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

from designer import grid_arithmetic
from designer.grid_arithmetic import (
    AVG_POOL,
    CONVOLUTION,
    KERNELS,
    LECTURE_EXAMPLES,
    MAX_POOL,
    ZERO_PAD,
    GridResult,
    format_factor,
    format_number,
)
from designer.ui.grid_view import (
    OUTPUT_COLOUR,
    PADDING_COLOUR,
    WEIGHT_COLOUR,
    WINDOW_COLOUR,
    GridView,
    finite_range,
    format_weight,
    parse_cell,
)

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "resources" / "samples"
MAX_IMAGE_SIDE = 64
CUSTOM_KERNEL = "custom"

OPERATIONS = {
    CONVOLUTION: "Convolution",
    MAX_POOL: "Max pooling",
    AVG_POOL: "Average pooling",
    ZERO_PAD: "Zero padding",
}

SPEEDS = {"1 cell/s": 1, "2 cells/s": 2, "5 cells/s": 5, "20 cells/s": 20, "100 cells/s": 100}


def _factor_weight(value: float) -> str:
    text = format_weight(value)
    return f"({text})" if text.startswith("−") else text


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
    return sorted(SAMPLES_DIR.glob("*.png")) if SAMPLES_DIR.is_dir() else []


def _resized(grid: np.ndarray, rows: int, cols: int, centred: bool = False) -> np.ndarray:
    """The grid cut or zero-extended to rows×cols (centred keeps a kernel's middle in the middle)."""
    resized = np.zeros((rows, cols))
    h, w = min(rows, grid.shape[0]), min(cols, grid.shape[1])
    top = (rows - h) // 2 if centred else 0
    left = (cols - w) // 2 if centred else 0
    src_top = (grid.shape[0] - h) // 2 if centred else 0
    src_left = (grid.shape[1] - w) // 2 if centred else 0
    resized[top : top + h, left : left + w] = grid[src_top : src_top + h, src_left : src_left + w]
    return resized


class ConvolutionPlayground(QMainWindow):
    """Watch a convolution, a pooling or a zero padding happen cell by cell."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Convolution playground")
        self._input = np.zeros((5, 5))
        self._bad_input: dict[tuple[int, int], str] = {}
        self._kernel = np.array(KERNELS["identity"], dtype=float)
        self._bad_kernel: dict[tuple[int, int], str] = {}
        self._result: GridResult | None = None  # the last result that could be computed
        self._result_geometry: tuple | None = None  # the settings self._result was computed with
        self._index = 0  # how many output cells are filled
        self._note = ""
        self._quiet = False  # True while code, not the user, moves the controls
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._build_menus()
        self._build_body()
        self.resize(1240, 800)
        self.load_example("conv_5x5")

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
            self.examples_menu.addAction(example.title, lambda n=name: self.load_example(n))

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
        self.kernel_size_spin = self._spin(1, 7)
        self.stride_spin = self._spin(1, 8)
        self.padding_spin = self._spin(0, 8)
        self.dilation_spin = self._spin(1, 4)
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
        self.rows_spin = self._spin(1, MAX_IMAGE_SIDE)
        self.cols_spin = self._spin(1, MAX_IMAGE_SIDE)
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

        self.operation_combo.currentIndexChanged.connect(self._operation_changed)
        self.kernel_combo.currentTextChanged.connect(self._kernel_chosen)
        self.kernel_size_spin.valueChanged.connect(self._kernel_size_changed)
        for spin in (self.stride_spin, self.padding_spin, self.dilation_spin):
            spin.valueChanged.connect(self._user_changed)
        self.rows_spin.valueChanged.connect(self._input_size_changed)
        self.cols_spin.valueChanged.connect(self._input_size_changed)
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
        self.input_view.cellEdited.connect(self._input_cell_edited)
        self.kernel_view.cellEdited.connect(self._kernel_cell_edited)
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
        self.reset_button.clicked.connect(lambda: self.seek(0))
        self.back_button.clicked.connect(lambda: self.seek(self._index - 1))
        self.play_button.clicked.connect(self._toggle_play)
        self.step_button.clicked.connect(self.step)
        self.end_button.clicked.connect(lambda: self.seek(self.step_count()))
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setMinimumWidth(140)
        self.slider.setToolTip("Drag to scrub through the output cells")
        self.slider.valueChanged.connect(self._slider_moved)
        self.position_label = QLabel()
        self.position_label.setMinimumWidth(110)
        self.speed_combo = QComboBox()
        self.speed_combo.addItems(list(SPEEDS))
        self.speed_combo.setCurrentText("2 cells/s")
        self.speed_combo.currentTextChanged.connect(self._speed_changed)
        for button in (self.reset_button, self.back_button, self.play_button, self.step_button, self.end_button):
            row.addWidget(button)
        row.addWidget(self.slider, stretch=1)
        row.addWidget(self.position_label)
        row.addWidget(QLabel("Speed"))
        row.addWidget(self.speed_combo)
        return row

    # ------------------------------------------------------------------ public API

    def load_example(self, name: str) -> None:
        """Set everything up as one of the lecture's worked examples (see LECTURE_EXAMPLES)."""
        example = LECTURE_EXAMPLES[name]
        self.pause()
        self._input = example.input_grid()
        self._bad_input = {}
        self._bad_kernel = {}
        if example.kernel is not None:
            self._kernel = example.kernel_grid()
        with self._quietly():
            self.operation_combo.setCurrentIndex(self.operation_combo.findData(example.operation))
            self.kernel_combo.setCurrentText(self._kernel_name(self._kernel))
            size = self._kernel.shape[0] if example.operation == CONVOLUTION else example.kernel_size
            self.kernel_size_spin.setValue(size)
            self.stride_spin.setValue(example.stride)
            self.padding_spin.setValue(example.padding)
            self.dilation_spin.setValue(example.dilation)
            self.rows_spin.setValue(self._input.shape[0])
            self.cols_spin.setValue(self._input.shape[1])
        self._index = 0
        self._note = f"Lecture example — {example.title}. {example.note}".strip()
        self._recompute()

    def load_image(self, path: str | Path) -> None:
        """Use a picture (as grey levels, at most 64×64) as the input."""
        try:
            grid = image_to_grid(path)
        except ValueError as error:
            self._show_message(str(error))
            return
        self._input = grid
        self._bad_input = {}
        with self._quietly():
            self.rows_spin.setValue(grid.shape[0])
            self.cols_spin.setValue(grid.shape[1])
        self._index = 0
        self._note = f"Image {Path(path).name}: {grid.shape[0]}×{grid.shape[1]} grey levels 0–255."
        self._recompute()

    def set_input(self, grid) -> None:
        """Replace the input with a 2-D grid of numbers."""
        self._input = np.array(grid, dtype=float)
        self._bad_input = {}
        with self._quietly():
            self.rows_spin.setValue(self._input.shape[0])
            self.cols_spin.setValue(self._input.shape[1])
        self._user_changed()

    def step_count(self) -> int:
        return len(self._result.steps) if self._result is not None else 0

    def step(self) -> None:
        """Compute one more output cell."""
        self.seek(self._index + 1)

    def seek(self, index: int) -> None:
        """Show the state after `index` output cells have been computed."""
        self._index = min(max(int(index), 0), self.step_count())
        if self._index >= self.step_count():
            self.pause()
        self._refresh_animation()

    def output_values(self) -> np.ndarray:
        """The output cells filled so far; NaN where the window has not been yet."""
        if self._result is None:
            return np.full((0, 0), np.nan)
        values = np.full(self._result.output.shape, np.nan)
        for step in self._result.steps[: self._index]:
            values[step.row, step.col] = step.value
        return values

    def current_step_text(self) -> str:
        """The arithmetic of the cell computed last ('' before the first step)."""
        if self._result is None or self._index == 0:
            return ""
        return self._result.steps[self._index - 1].text

    def message_text(self) -> str:
        return self.message_label.text() if self.message_label.isVisibleTo(self) else ""

    def play(self) -> None:
        if self.step_count() == 0:
            return
        if self._index >= self.step_count():
            self.seek(0)
        self._timer.start(int(1000 / SPEEDS[self.speed_combo.currentText()]))
        self.play_button.setText("Pause")
        self.play_button.setIcon(self.style().standardIcon(QStyle.SP_MediaPause))

    def pause(self) -> None:
        self._timer.stop()
        self.play_button.setText("Play")
        self.play_button.setIcon(self.style().standardIcon(QStyle.SP_MediaPlay))

    # ------------------------------------------------------------------ reacting to the user

    @contextmanager
    def _quietly(self):
        """Move controls from code without their handlers recomputing halfway through."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    def _user_changed(self) -> None:
        if self._quiet:
            return
        self._note = ""  # the settings no longer are the lecture's, so its note would mislead
        self._recompute()

    def _operation_changed(self) -> None:
        if self._quiet:
            return
        operation = self._operation()
        with self._quietly():
            if operation == CONVOLUTION:
                self.kernel_size_spin.setValue(self._kernel.shape[0])
        self._user_changed()

    def _kernel_chosen(self, name: str) -> None:
        if self._quiet or name == CUSTOM_KERNEL:
            return
        self._kernel = np.array(KERNELS[name], dtype=float)
        self._bad_kernel = {}
        with self._quietly():
            self.kernel_size_spin.setValue(self._kernel.shape[0])
        self._user_changed()

    def _kernel_size_changed(self, size: int) -> None:
        if self._quiet:
            return
        if self._operation() == CONVOLUTION and size != self._kernel.shape[0]:
            self._kernel = _resized(self._kernel, size, size, centred=True)
            self._bad_kernel = {}
            self._mark_custom_kernel()
        self._user_changed()

    def _input_size_changed(self) -> None:
        if self._quiet:
            return
        self._input = _resized(self._input, self.rows_spin.value(), self.cols_spin.value())
        rows, cols = self._input.shape
        self._bad_input = {cell: text for cell, text in self._bad_input.items() if cell[0] < rows and cell[1] < cols}
        self._user_changed()

    def _input_cell_edited(self, row: int, col: int, text: str) -> None:
        try:
            self._input[row, col] = parse_cell(text)
            self._bad_input.pop((row, col), None)
        except (ValueError, ZeroDivisionError):
            self._bad_input[(row, col)] = text
        self._user_changed()

    def _kernel_cell_edited(self, row: int, col: int, text: str) -> None:
        try:
            self._kernel[row, col] = parse_cell(text)
            self._bad_kernel.pop((row, col), None)
        except (ValueError, ZeroDivisionError):
            self._bad_kernel[(row, col)] = text
        self._mark_custom_kernel()
        self._user_changed()

    def _mark_custom_kernel(self) -> None:
        with self._quietly():
            self.kernel_combo.setCurrentText(self._kernel_name(self._kernel))

    def _open_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open image", str(SAMPLES_DIR), "Images (*.png *.jpg *.jpeg *.bmp *.gif)"
        )
        if path:
            self.load_image(path)

    def _toggle_play(self) -> None:
        if self._timer.isActive():
            self.pause()
        else:
            self.play()

    def _tick(self) -> None:
        self.step()

    def _speed_changed(self, text: str) -> None:
        if self._timer.isActive():
            self._timer.setInterval(int(1000 / SPEEDS[text]))

    def _slider_moved(self, value: int) -> None:
        if not self._quiet and value != self._index:
            self.seek(value)

    # ------------------------------------------------------------------ computing

    def _operation(self) -> str:
        return self.operation_combo.currentData()

    @staticmethod
    def _kernel_name(kernel: np.ndarray) -> str:
        for name, values in KERNELS.items():
            if np.array_equal(np.array(values, dtype=float), kernel):
                return name
        return CUSTOM_KERNEL

    def _compute(self) -> GridResult:
        return grid_arithmetic.apply_operation(self._operation(), self._input, self._kernel, self.kernel_size_spin.value(),
                                       self.stride_spin.value(), self.padding_spin.value(),
                                       self.dilation_spin.value())

    def _geometry(self) -> tuple:
        """What decides where the windows fall; a result is only drawn on an input of the same geometry."""
        operation = self._operation()
        size = self._kernel.shape if operation == CONVOLUTION else self.kernel_size_spin.value()
        return (operation, self._input.shape, size, self.stride_spin.value(), self.padding_spin.value(),
                self.dilation_spin.value())

    @property
    def _result_current(self) -> bool:
        return self._result is not None and self._result_geometry == self._geometry()

    def _problems(self) -> list[str]:
        problems = []
        for (row, col), text in sorted(self._bad_input.items()):
            problems.append(f"Input cell (row {row + 1}, column {col + 1}): “{text}” is not a number.")
        if self._operation() == CONVOLUTION:
            for (row, col), text in sorted(self._bad_kernel.items()):
                problems.append(f"Kernel cell (row {row + 1}, column {col + 1}): “{text}” is not a number.")
        return problems

    def _recompute(self) -> None:
        problems = self._problems()
        if not problems:
            try:
                result = self._compute()
            except ValueError as error:
                problems.append(str(error))
            else:
                self._result = result
                self._result_geometry = self._geometry()
                self._index = min(self._index, len(result.steps))
        if problems:
            self.pause()
            suffix = " The output shown is from the last valid input." if self._result is not None else ""
            self._show_message(" ".join(problems) + suffix)
        else:
            self._show_message("")
        self._refresh_controls()
        self._refresh_static()
        self._refresh_animation()

    def _show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    # ------------------------------------------------------------------ drawing

    def _refresh_controls(self) -> None:
        operation = self._operation()
        convolution = operation == CONVOLUTION
        pooling = operation in (MAX_POOL, AVG_POOL)
        self.kernel_combo.setEnabled(convolution)
        self.kernel_size_label.setText("Window size" if pooling else "Kernel size")
        self.kernel_size_spin.setEnabled(convolution or pooling)
        self.stride_spin.setEnabled(convolution or pooling)
        self.dilation_spin.setEnabled(convolution)
        for widget in self._kernel_widgets:
            widget.setVisible(convolution)
        self.equals_label.setVisible(convolution)
        if convolution:
            self.operator_label.setText("∗")
        elif pooling:
            size = self.kernel_size_spin.value()
            self.operator_label.setText(f"{'max' if operation == MAX_POOL else 'avg'}\n{size}×{size}\n→")
        else:
            self.operator_label.setText(f"pad {self.padding_spin.value()}\n→")

    def _refresh_static(self) -> None:
        """Everything that does not change while the animation plays."""
        operation = self._operation()
        padding = self.padding_spin.value()
        ring = (padding, padding) if operation != ZERO_PAD else (0, 0)
        shown_input = grid_arithmetic.zero_pad(self._input, ring, value=-np.inf if operation == MAX_POOL else 0.0)
        self.input_view.set_values(shown_input, ring)
        self.input_view.set_colour_range(*finite_range(self._input))
        self.input_view.set_invalid(self._bad_input)
        rows, cols = self._input.shape
        padded = f" — padded to {rows + 2 * padding}×{cols + 2 * padding}" if any(ring) else ""
        self.input_title.setText(f"Input {rows}×{cols}{padded}")
        self.kernel_view.set_values(self._kernel)
        self.kernel_view.set_invalid(self._bad_kernel)
        kh, kw = self._kernel.shape
        self.kernel_title.setText(f"Kernel {kh}×{kw} — {self.kernel_combo.currentText()}")
        if self._result is not None:
            out_h, out_w = self._result.output.shape
            self.output_title.setText(f"Output {out_h}×{out_w}")
            self.output_view.set_colour_range(*finite_range(self._result.output))
        self._refresh_formula()
        self._balance_grids()
        with self._quietly():
            self.slider.setRange(0, self.step_count())

    def _refresh_formula(self) -> None:
        if not self._result_current or self._result is None:
            self.formula_label.setText("<b>Output size:</b> — (see the message below)")
        else:
            formula_h, formula_w = self._result.size_formulas()
            out_h, out_w = self._result.output.shape
            name = "Padded size" if self._result.operation == ZERO_PAD else "Output size"
            if formula_h == formula_w:
                text = f"<b>{name}:</b> {html.escape(formula_h)} in each direction → <b>{out_h}×{out_w}</b>"
            else:
                text = (
                    f"<b>{name}:</b> height {html.escape(formula_h)}, width {html.escape(formula_w)} "
                    f"→ <b>{out_h}×{out_w}</b>"
                )
            self.formula_label.setText(text)
        self.note_label.setText(self._note)
        self.note_label.setVisible(bool(self._note))

    def _balance_grids(self) -> None:
        """Give each grid room in proportion to its columns so cells come out the same size."""
        columns = [self.input_view.grid_shape[1], self.kernel_view.grid_shape[1], self.output_view.grid_shape[1]]
        if self._result is not None:
            columns[2] = self._result.output.shape[1]
        for index, count in zip((0, 2, 4), columns):
            self._grid_row.setStretch(index, max(count, 2))

    def _refresh_animation(self) -> None:
        """Window highlight, output fill, step text, slider: everything that moves."""
        total = self.step_count()
        output = self.output_values()
        if self._result is not None:
            operation = self._result.operation
            self.output_view.set_values(output, self._result.padding if operation == ZERO_PAD else (0, 0))
            self.output_view.set_colour_range(*finite_range(self._result.output))
        current = self._result.steps[self._index - 1] if (self._result and self._index) else None
        self.input_view.set_window(self._window_cells(current) if self._result_current else {})
        self.output_view.set_current((current.row, current.col) if current else None)
        self.step_label.setText(self._step_html(current, total))
        self.position_label.setText(f"cell {self._index} of {total}")
        with self._quietly():
            self.slider.setValue(self._index)
        self.back_button.setEnabled(self._index > 0)
        self.reset_button.setEnabled(self._index > 0)
        self.step_button.setEnabled(self._index < total)
        self.end_button.setEnabled(self._index < total)
        self.play_button.setEnabled(total > 0)

    def _window_cells(self, step) -> dict[tuple[int, int], str]:
        if step is None:
            return {}
        if step.operation == ZERO_PAD:
            return {step.source: ""} if step.source is not None else {}
        if step.operation == CONVOLUTION:
            return {cell: "×" + format_weight(w) for cell, w in zip(step.window, step.weights)}
        return {cell: "" for cell in step.window}

    def _step_html(self, step, total: int) -> str:
        if step is None:
            if total == 0:
                return "Nothing to compute yet."
            return "Press <b>Step</b> or <b>Play</b> to slide the window over the input, one output cell at a time."
        where = f"Output row {step.row + 1}, column {step.col + 1}:&nbsp;&nbsp;"
        weight = WEIGHT_COLOUR.name()
        if step.operation == CONVOLUTION:
            terms = " + ".join(
                f"{format_factor(x)}×<span style='color:{weight}; font-weight:600'>{_factor_weight(w)}</span>"
                for x, w in zip(step.values, step.weights)
            )
            return f"{where}{terms} = <b>{format_number(step.value)}</b>"
        body, _, result = step.text.rpartition(" = ")
        return f"{where}{html.escape(body)} = <b>{html.escape(result)}</b>"

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.pause()  # a timer firing into a closed window would keep stepping invisibly
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
