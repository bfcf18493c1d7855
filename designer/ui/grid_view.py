"""The playground's grids: an input, a kernel or an output, painted cell by cell.

Numbers are written in the cells while they fit; a grid too fine for numbers (a
64×64 image) is drawn as one grey-level picture. The sliding window, the kernel
weight of each tap and the cell being written are marked in the colours below,
which the playground's legend and step text use too. No torch, no graph.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QKeyEvent, QPainter, QPen
from PySide6.QtWidgets import QLineEdit, QSizePolicy, QWidget

from designer.grid_arithmetic import format_number
from designer.playground_model import finite_range, format_weight, parse_cell

# One colour per role, used by the grids, the text and the legend alike.
WINDOW_COLOUR = QColor("#f39c12")  # the sliding window and the cell it is writing
WEIGHT_COLOUR = QColor("#c0392b")  # kernel weights (the slide's red subscripts)
OUTPUT_COLOUR = QColor("#dff3e6")  # output cells already computed
PADDING_COLOUR = QColor("#e4e9f0")  # the ring of zeros
INK = QColor("#1f2933")
FAINT_INK = QColor("#7b8794")
GRID_LINE = QColor("#c3cad4")
PIXEL_LINE = QColor(128, 128, 128, 60)
EMPTY_COLOUR = QColor("#f7f8fa")  # an output cell not computed yet
PICTURE_DARK = QColor("#101418")  # grey levels of a grid too small for numbers
PICTURE_LIGHT = QColor("#fbfcfd")
ERROR_COLOUR = QColor("#d64545")
WINDOW_VEIL = QColor(WINDOW_COLOUR.red(), WINDOW_COLOUR.green(), WINDOW_COLOUR.blue(), 110)  # over a cell


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    t = min(max(t, 0.0), 1.0)
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
    )


class GridView(QWidget):
    """A painted grid of numbers: an input, a kernel or an output.

    Display coordinates include any padding ring; editing speaks in data
    coordinates (without the ring), because that is what the user typed into.
    Cells shrink to fit; when they get too small for numbers the grid is drawn
    as a grey-level picture instead, so a 64×64 image still reads as an image.
    """

    cellEdited = Signal(int, int, str)  # data row, data column, the text typed

    MAX_CELL = 64.0
    NUMBERS_FROM = 19.0  # smallest cell (px) that still gets its number written
    SUBSCRIPTS_FROM = 30.0

    def __init__(self, role: str, editable: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.role = role  # "input", "kernel" or "output"
        self.editable = editable
        self._values = np.zeros((1, 1))
        self._ring = (0, 0)
        self._window: dict[tuple[int, int], str] = {}  # display cell -> weight subscript
        self._current: tuple[int, int] | None = None
        self._invalid: dict[tuple[int, int], str] = {}  # data cell -> rejected text
        self._range = (0.0, 1.0)
        self._selected: tuple[int, int] | None = None
        self._editing: tuple[int, int] | None = None
        self.editor = QLineEdit(self)
        self.editor.hide()
        self.editor.setAlignment(Qt.AlignCenter)
        self.editor.returnPressed.connect(self._commit_edit)
        self.editor.installEventFilter(self)
        self.setFocusPolicy(Qt.StrongFocus if editable else Qt.NoFocus)
        self.setMinimumSize(110, 110)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    # ---- content

    def set_values(self, values: np.ndarray, ring: tuple[int, int] = (0, 0)) -> None:
        shape_changed = values.shape != self._values.shape or ring != self._ring
        self._values = np.asarray(values, dtype=float)
        self._ring = ring
        self._range = finite_range(self._values)
        if shape_changed:
            self._cancel_edit()
            self._selected = None
            self.updateGeometry()
        self.update()

    def set_colour_range(self, low: float, high: float) -> None:
        """Fix the grey-level scale (the output uses its final range so colours do not shift)."""
        self._range = (low, high)
        self.update()

    def set_window(self, cells: dict[tuple[int, int], str]) -> None:
        self._window = cells
        self.update()

    def set_current(self, cell: tuple[int, int] | None) -> None:
        self._current = cell
        self.update()

    def set_invalid(self, cells: dict[tuple[int, int], str]) -> None:
        self._invalid = dict(cells)
        self.update()

    @property
    def grid_shape(self) -> tuple[int, int]:
        return self._values.shape  # type: ignore[return-value]

    # ---- geometry

    def _cell_size(self) -> float:
        rows, cols = self._values.shape
        return max(1.0, min((self.width() - 4) / cols, (self.height() - 4) / rows, self.MAX_CELL))

    def cell_rect(self, row: int, col: int) -> QRectF:
        """Where display cell (row, col) is drawn, in widget pixels."""
        rows, cols = self._values.shape
        cell = self._cell_size()
        left = (self.width() - cols * cell) / 2
        top = (self.height() - rows * cell) / 2
        return QRectF(left + col * cell, top + row * cell, cell, cell)

    def _cell_at(self, point: QPointF) -> tuple[int, int] | None:
        rows, cols = self._values.shape
        origin = self.cell_rect(0, 0)
        cell = origin.width()
        row = math.floor((point.y() - origin.top()) / cell)
        col = math.floor((point.x() - origin.left()) / cell)
        return (row, col) if 0 <= row < rows and 0 <= col < cols else None

    def _is_ring(self, row: int, col: int) -> bool:
        rows, cols = self._values.shape
        ph, pw = self._ring
        return row < ph or row >= rows - ph or col < pw or col >= cols - pw

    def _to_data(self, row: int, col: int) -> tuple[int, int]:
        return row - self._ring[0], col - self._ring[1]

    def _to_display(self, row: int, col: int) -> tuple[int, int]:
        return row + self._ring[0], col + self._ring[1]

    def sizeHint(self) -> QSize:
        rows, cols = self._values.shape
        side = 40.0 if max(rows, cols) <= 9 else max(6.0, 360.0 / max(rows, cols))
        return QSize(int(cols * side) + 4, int(rows * side) + 4)

    # ---- painting

    def _fill(self, row: int, col: int, value: float) -> QColor:
        if np.isnan(value):
            return EMPTY_COLOUR
        if self._is_ring(row, col):
            return PADDING_COLOUR
        low, high = self._range
        if self.role == "kernel":
            scale = max(abs(low), abs(high)) or 1.0
            tint = QColor("#f1948a") if value > 0 else QColor("#85c1e9")
            return _mix(QColor("white"), tint, abs(value) / scale)
        # cells are painted one by one only with their numbers (kernels always): else _picture()
        return OUTPUT_COLOUR if self.role == "output" else QColor("white")

    def _picture(self) -> QImage:
        """The whole grid as one grey-level image: one draw call instead of thousands of cells."""
        values = self._values
        low, high = self._range
        level = np.full(values.shape, 0.5) if high == low else (values - low) / (high - low)
        level = np.clip(np.nan_to_num(level, nan=0.5), 0.0, 1.0)[..., None]
        dark = np.array([PICTURE_DARK.red(), PICTURE_DARK.green(), PICTURE_DARK.blue()], dtype=float)
        light = np.array([PICTURE_LIGHT.red(), PICTURE_LIGHT.green(), PICTURE_LIGHT.blue()], dtype=float)
        rgb = dark + (light - dark) * level
        ph, pw = self._ring
        ring = np.ones(values.shape, dtype=bool)
        ring[ph : values.shape[0] - ph, pw : values.shape[1] - pw] = False
        rgb[ring] = [PADDING_COLOUR.red(), PADDING_COLOUR.green(), PADDING_COLOUR.blue()]
        rgb[np.isnan(values)] = [EMPTY_COLOUR.red(), EMPTY_COLOUR.green(), EMPTY_COLOUR.blue()]
        pixels = rgb.astype(np.uint32)
        argb = np.ascontiguousarray((0xFF << 24) | (pixels[..., 0] << 16) | (pixels[..., 1] << 8) | pixels[..., 2])
        rows, cols = values.shape
        return QImage(argb.data, cols, rows, cols * 4, QImage.Format_RGB32).copy()

    def _paint_picture(self, painter: QPainter, cell: float) -> None:
        rows, cols = self._values.shape
        area = self.cell_rect(0, 0).united(self.cell_rect(rows - 1, cols - 1))
        painter.drawImage(area, self._picture())
        if cell >= 8:  # faint lines keep pixels countable without veiling the picture
            painter.setPen(QPen(PIXEL_LINE, 1))
            for row in range(rows + 1):
                y = area.top() + row * cell
                painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            for col in range(cols + 1):
                x = area.left() + col * cell
                painter.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()))
        for cell_position in self._window:
            painter.fillRect(self.cell_rect(*cell_position), WINDOW_VEIL)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        rows, cols = self._values.shape
        cell = self._cell_size()
        numbers = cell >= self.NUMBERS_FROM
        if not numbers and self.role != "kernel":
            self._paint_picture(painter, cell)
            self._paint_outlines(painter, cell)
            painter.end()
            return
        number_font = QFont(self.font())
        number_font.setPixelSize(max(9, int(cell * 0.36)))
        subscript_font = QFont(self.font())
        subscript_font.setPixelSize(max(8, int(cell * 0.24)))
        subscript_font.setBold(True)
        for row in range(rows):
            for col in range(cols):
                self._paint_cell(painter, row, col, numbers, number_font, subscript_font)
        self._paint_outlines(painter, cell)
        painter.end()

    def _paint_cell(self, painter, row, col, numbers, number_font, subscript_font) -> None:
        rect = self.cell_rect(row, col)
        value = float(self._values[row, col])
        fill = self._fill(row, col, value)
        painter.fillRect(rect, fill)
        subscript = self._window.get((row, col))
        if subscript is not None:
            painter.fillRect(rect, WINDOW_VEIL)
        painter.setPen(QPen(GRID_LINE, 1))
        painter.drawRect(rect)
        if not numbers:
            return
        rejected = self._invalid.get(self._to_data(row, col)) if not self._is_ring(row, col) else None
        text = rejected if rejected is not None else ("" if np.isnan(value) else self._format(value))
        ink = ERROR_COLOUR if rejected is not None else (FAINT_INK if self._is_ring(row, col) else INK)
        if fill.lightnessF() < 0.45:
            ink = QColor("white")
        body = QRectF(rect)
        if subscript and rect.width() >= self.SUBSCRIPTS_FROM:
            body.setRight(rect.right() - rect.width() * 0.28)  # leave room for the ×w
        painter.setFont(self._fitted(number_font, text, body.width() - 4))
        painter.setPen(ink)
        painter.drawText(body, Qt.AlignCenter, text)
        if subscript and rect.width() >= self.SUBSCRIPTS_FROM:
            painter.setFont(self._fitted(subscript_font, subscript, rect.width() * 0.5))
            painter.setPen(WEIGHT_COLOUR)
            corner = rect.adjusted(0, 0, -3, -2)
            painter.drawText(corner, Qt.AlignRight | Qt.AlignBottom, subscript)

    @staticmethod
    def _fitted(font: QFont, text: str, width: float) -> QFont:
        """The font, made smaller until text fits the width (long decimals)."""
        fitted = QFont(font)
        while fitted.pixelSize() > 7 and QFontMetricsF(fitted).horizontalAdvance(text) > width:
            fitted.setPixelSize(fitted.pixelSize() - 1)
        return fitted

    def _paint_outlines(self, painter: QPainter, cell: float) -> None:
        width = 2.5 if cell >= 12 else 1.5
        painter.setBrush(Qt.NoBrush)
        if self._window:
            painter.setPen(QPen(WINDOW_COLOUR, width))
            for row, col in self._window:
                painter.drawRect(self.cell_rect(row, col))
        if self._current is not None:
            painter.setPen(QPen(WINDOW_COLOUR, width + 1))
            painter.drawRect(self.cell_rect(*self._current).adjusted(1, 1, -1, -1))
        painter.setPen(QPen(ERROR_COLOUR, width))
        for data_cell in self._invalid:
            painter.drawRect(self.cell_rect(*self._to_display(*data_cell)).adjusted(1, 1, -1, -1))
        if self._selected is not None and self.hasFocus():
            painter.setPen(QPen(QColor("#2b6cb0"), 2, Qt.DashLine))
            painter.drawRect(self.cell_rect(*self._to_display(*self._selected)).adjusted(2, 2, -2, -2))

    # ---- editing

    def _data_shape(self) -> tuple[int, int]:
        rows, cols = self._values.shape
        return rows - 2 * self._ring[0], cols - 2 * self._ring[1]

    def begin_edit(self, row: int, col: int, initial: str | None = None) -> None:
        """Open the cell editor on data cell (row, col)."""
        if not self.editable:
            return
        self._selected = (row, col)
        self._editing = (row, col)
        display = self._to_display(row, col)
        rect = self.cell_rect(*display).toRect()
        rect.setWidth(max(rect.width(), 56))
        rect.setHeight(max(rect.height(), 28))
        self.editor.setGeometry(rect)
        if initial is None:
            rejected = self._invalid.get((row, col))
            value = float(self._values[display])
            self.editor.setText(rejected if rejected is not None else self._editable_text(value))
            self.editor.selectAll()
        else:
            self.editor.setText(initial)
        self.editor.show()
        self.editor.setFocus()

    def _editable_text(self, value: float) -> str:
        """The cell as the user would type it, exact enough that Enter changes nothing."""
        short = self._format(value).replace("−", "-")
        return short if parse_cell(short) == value else repr(value)

    def _format(self, value: float) -> str:
        return format_weight(value) if self.role == "kernel" else format_number(value)

    def _commit_edit(self) -> None:
        if self._editing is None:
            return
        row, col = self._editing
        self._editing = None
        self.editor.hide()
        self.setFocus()
        self.cellEdited.emit(row, col, self.editor.text())

    def _cancel_edit(self) -> None:
        self._editing = None
        self.editor.hide()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        if watched is self.editor:
            if event.type() == QEvent.KeyPress and event.key() == Qt.Key_Escape:
                self._cancel_edit()
                self.setFocus()
                return True
            if event.type() == QEvent.FocusOut and self._editing is not None:
                self._commit_edit()
        return super().eventFilter(watched, event)

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        cell = self._cell_at(event.position())
        if self.editable and cell is not None and not self._is_ring(*cell):
            self._selected = self._to_data(*cell)
            self.setFocus()
            self.update()
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 (Qt name)
        cell = self._cell_at(event.position())
        if self.editable and cell is not None and not self._is_ring(*cell):
            self.begin_edit(*self._to_data(*cell))

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt name)
        if not self.editable or self._selected is None:
            return super().keyPressEvent(event)
        rows, cols = self._data_shape()
        row, col = self._selected
        moves = {Qt.Key_Up: (-1, 0), Qt.Key_Down: (1, 0), Qt.Key_Left: (0, -1), Qt.Key_Right: (0, 1)}
        if event.key() in moves:
            dr, dc = moves[event.key()]
            self._selected = (min(max(row + dr, 0), rows - 1), min(max(col + dc, 0), cols - 1))
            self.update()
        elif event.key() in (Qt.Key_Return, Qt.Key_Enter, Qt.Key_F2):
            self.begin_edit(row, col)
        elif event.text() and (event.text()[0].isalnum() or event.text()[0] in "-.+"):
            self.begin_edit(row, col, initial=event.text())  # typing starts an edit, as in a spreadsheet
        else:
            super().keyPressEvent(event)
