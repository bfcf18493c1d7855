"""What the convolution playground decides, without a widget.

The playground window (:mod:`designer.ui.playground`) draws a :class:`Playground`:
the operation, the input grid, the kernel, the window settings, the lecture
example or image it came from, the note and message shown, how many output cells
are filled, and whether it is playing. Every choice the window used to make in its
slots — what a changed kernel size does to the kernel, which cells are not
numbers, which result is still drawn after an impossible setting, what the step
text and the titles say, which buttons are enabled — is made here, so the tests
can hold it to the lecture without opening a window.

The window calls the methods below when a person acts and redraws when the
playground tells it what changed (:class:`Change`). The arithmetic itself is
:mod:`designer.grid_arithmetic`'s. Pure numpy: no Qt, no torch.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from typing import Callable

import numpy as np

from designer import grid_arithmetic
from designer.grid_arithmetic import (
    AVG_POOL,
    CONVOLUTION,
    KERNELS,
    LECTURE_EXAMPLES,
    MAX_POOL,
    ZERO_PAD,
    GridResult,
    Step,
    format_factor,
    format_number,
)
from designer.observers import Observers

CUSTOM_KERNEL = "custom"
MAX_IMAGE_SIDE = 64

OPERATIONS = {
    CONVOLUTION: "Convolution",
    MAX_POOL: "Max pooling",
    AVG_POOL: "Average pooling",
    ZERO_PAD: "Zero padding",
}

# the range of each setting (the window's spin boxes offer the same)
KERNEL_SIZES = (1, 7)
STRIDES = (1, 8)
PADDINGS = (0, 8)
DILATIONS = (1, 4)
INPUT_SIDES = (1, MAX_IMAGE_SIDE)

SPEEDS = {"1 cell/s": 1, "2 cells/s": 2, "5 cells/s": 5, "20 cells/s": 20, "100 cells/s": 100}
DEFAULT_SPEED = "2 cells/s"
FIRST_EXAMPLE = "conv_5x5"


class Change(Enum):
    """What a view of the playground has to redraw."""

    SETTINGS = "settings"  # anything: operation, grids, settings, result, message, note
    POSITION = "position"  # only how many output cells are filled
    PLAYING = "playing"  # started or stopped playing


# ---- numbers in cells ----------------------------------------------------------------------------


def format_weight(value: float) -> str:
    """A kernel weight, as a small fraction where it is one (box blur's 1/9 beats 0.1111)."""
    fraction = Fraction(value).limit_denominator(32)
    if fraction.denominator > 1 and abs(float(fraction) - value) < 1e-9:
        sign = "−" if fraction < 0 else ""
        return f"{sign}{abs(fraction.numerator)}/{fraction.denominator}"
    return format_number(value)


def parse_cell(text: str) -> float:
    """A typed cell as a number: accepts '3', '-1.5', '−2', '1/9'."""
    cleaned = text.strip().replace("−", "-").replace(",", ".")
    if "/" in cleaned:
        top, _, bottom = cleaned.partition("/")
        value = float(top) / float(bottom)
    else:
        value = float(cleaned)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def finite_range(values: np.ndarray) -> tuple[float, float]:
    """(smallest, largest) of the finite values; (0, 1) when there are none."""
    finite = values[np.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)


def kernel_name(kernel: np.ndarray) -> str:
    """The name of a kernel in KERNELS with exactly these values, else 'custom'."""
    for name, values in KERNELS.items():
        if np.array_equal(np.array(values, dtype=float), kernel):
            return name
    return CUSTOM_KERNEL


def resized(grid: np.ndarray, rows: int, cols: int, centred: bool = False) -> np.ndarray:
    """The grid cut or zero-extended to rows×cols (centred keeps a kernel's middle in the middle)."""
    out = np.zeros((rows, cols))
    h, w = min(rows, grid.shape[0]), min(cols, grid.shape[1])
    top = (rows - h) // 2 if centred else 0
    left = (cols - w) // 2 if centred else 0
    src_top = (grid.shape[0] - h) // 2 if centred else 0
    src_left = (grid.shape[1] - w) // 2 if centred else 0
    out[top : top + h, left : left + w] = grid[src_top : src_top + h, src_left : src_left + w]
    return out


def _clamp(value: int, limits: tuple[int, int]) -> int:
    return min(max(int(value), limits[0]), limits[1])


def _factor_weight(value: float) -> str:
    text = format_weight(value)
    return f"({text})" if text.startswith("−") else text


@dataclass(frozen=True)
class Controls:
    """Which settings apply to the operation, and how the operator between the grids reads."""

    kernel_choice: bool  # the kernel menu
    size_label: str  # "Kernel size" or "Window size"
    size: bool
    stride: bool
    dilation: bool
    kernel_shown: bool  # the kernel grid, its title and the "=" sign
    operator: str  # "∗", "max\n2×2\n→", "pad 2\n→"


@dataclass(frozen=True)
class Transport:
    """Where the animation stands, for the buttons and the slider."""

    index: int
    total: int
    position: str  # "cell 4 of 9"
    back: bool  # Start and Back
    forward: bool  # Step and End
    play: bool
    playing: bool


# ---- the playground ------------------------------------------------------------------------------


class Playground:
    """The state of one playground and every decision about it."""

    def __init__(self, example: str | None = FIRST_EXAMPLE):
        self.operation = CONVOLUTION
        self.input = np.zeros((5, 5))
        self.kernel = np.array(KERNELS["identity"], dtype=float)
        self.kernel_choice = kernel_name(self.kernel)  # the kernel menu's entry: a name, or "custom"
        self.kernel_size = 3  # a convolution's kernel side, or a pooling's window side
        self.stride = 1
        self.padding = 0
        self.dilation = 1
        self.bad_input: dict[tuple[int, int], str] = {}  # cell -> text that is not a number
        self.bad_kernel: dict[tuple[int, int], str] = {}
        self.result: GridResult | None = None  # the last result that could be computed
        self._result_geometry: tuple | None = None  # the settings `result` was computed with
        self.index = 0  # how many output cells are filled
        self.example: str | None = None  # the lecture example the settings are, while they are
        self.note = ""  # where the settings came from (a lecture example, an image)
        self.message = ""  # what is wrong, or ""
        self.playing = False
        self.speed = DEFAULT_SPEED
        self._listeners: Observers[Change] = Observers()
        if example is not None:
            self.load_example(example)

    # ---- observing ------------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[Change], None]) -> Callable[[], None]:
        """Call `callback(change)` after every change; returns the function that stops it."""
        return self._listeners.subscribe(callback)

    def _emit(self, change: Change) -> None:
        self._listeners.emit(change)

    # ---- what a person does ---------------------------------------------------------------------

    def load_example(self, name: str) -> None:
        """Set everything up as one of the lecture's worked examples (see LECTURE_EXAMPLES)."""
        example = LECTURE_EXAMPLES[name]
        self.pause()
        self.input = example.input_grid()
        self.bad_input = {}
        self.bad_kernel = {}
        if example.kernel is not None:
            self.kernel = example.kernel_grid()
        self.operation = example.operation
        self.kernel_choice = kernel_name(self.kernel)
        self.kernel_size = self.kernel.shape[0] if example.operation == CONVOLUTION else example.kernel_size
        self.stride = example.stride
        self.padding = example.padding
        self.dilation = example.dilation
        self.index = 0
        self.example = name
        self.note = f"Lecture example — {example.title}. {example.note}".strip()
        self._recompute()

    def load_image(self, grid, name: str) -> None:
        """Use a picture, already read as grey levels 0–255, as the input."""
        self.input = np.array(grid, dtype=float)
        self.bad_input = {}
        self.index = 0
        self.example = None
        rows, cols = self.input.shape
        self.note = f"Image {name}: {rows}×{cols} grey levels 0–255."
        self._recompute()

    def image_failed(self, text: str) -> None:
        """An image could not be read: say so; everything else stays."""
        self.message = text
        self._emit(Change.SETTINGS)

    def set_input(self, grid) -> None:
        """Replace the input with a 2-D grid of numbers."""
        self.input = np.array(grid, dtype=float)
        self.bad_input = {}
        self._changed_by_hand()

    def set_operation(self, operation: str) -> None:
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}")
        self.operation = operation
        if operation == CONVOLUTION:
            self.kernel_size = self.kernel.shape[0]  # the spin box reads the kernel's side again
        self._changed_by_hand()

    def choose_kernel(self, name: str) -> None:
        """A kernel from the menu; 'custom' keeps the values and only renames them."""
        if name == CUSTOM_KERNEL:
            self.kernel_choice = CUSTOM_KERNEL
            self._emit(Change.SETTINGS)
            return
        self.kernel = np.array(KERNELS[name], dtype=float)
        self.kernel_choice = name
        self.bad_kernel = {}
        self.kernel_size = self.kernel.shape[0]
        self._changed_by_hand()

    def set_kernel_size(self, size: int) -> None:
        """A convolution's kernel grows or shrinks around its middle; a pooling's window just resizes."""
        size = _clamp(size, KERNEL_SIZES)
        if self.operation == CONVOLUTION and size != self.kernel.shape[0]:
            self.kernel = resized(self.kernel, size, size, centred=True)
            self.bad_kernel = {}
            self.kernel_choice = kernel_name(self.kernel)
        self.kernel_size = size
        self._changed_by_hand()

    def set_stride(self, stride: int) -> None:
        self.stride = _clamp(stride, STRIDES)
        self._changed_by_hand()

    def set_padding(self, padding: int) -> None:
        self.padding = _clamp(padding, PADDINGS)
        self._changed_by_hand()

    def set_dilation(self, dilation: int) -> None:
        self.dilation = _clamp(dilation, DILATIONS)
        self._changed_by_hand()

    def resize_input(self, rows: int, cols: int) -> None:
        """Cut the input, or extend it with zeros, keeping its top-left corner."""
        rows, cols = _clamp(rows, INPUT_SIDES), _clamp(cols, INPUT_SIDES)
        self.input = resized(self.input, rows, cols)
        self.bad_input = {cell: text for cell, text in self.bad_input.items() if cell[0] < rows and cell[1] < cols}
        self._changed_by_hand()

    def edit_input_cell(self, row: int, col: int, text: str) -> None:
        """A number typed into an input cell; text that is not one is kept and named in the message."""
        self._edit_cell(self.input, self.bad_input, row, col, text)
        self._changed_by_hand()

    def edit_kernel_cell(self, row: int, col: int, text: str) -> None:
        self._edit_cell(self.kernel, self.bad_kernel, row, col, text)
        self.kernel_choice = kernel_name(self.kernel)
        self._changed_by_hand()

    @staticmethod
    def _edit_cell(grid: np.ndarray, bad: dict, row: int, col: int, text: str) -> None:
        try:
            grid[row, col] = parse_cell(text)
            bad.pop((row, col), None)
        except (ValueError, ZeroDivisionError):
            bad[(row, col)] = text

    # ---- moving through the steps ---------------------------------------------------------------

    def step_count(self) -> int:
        return len(self.result.steps) if self.result is not None else 0

    def step(self) -> None:
        """Compute one more output cell."""
        self.seek(self.index + 1)

    def back(self) -> None:
        self.seek(self.index - 1)

    def seek(self, index: int) -> None:
        """Show the state after `index` output cells have been computed; playing stops at the end."""
        self.index = min(max(int(index), 0), self.step_count())
        if self.index >= self.step_count():
            self.pause()
        self._emit(Change.POSITION)

    def play(self) -> None:
        """Start stepping (from the start again when at the end); the view's timer calls step()."""
        if self.step_count() == 0:
            return
        if self.index >= self.step_count():
            self.seek(0)
        if not self.playing:
            self.playing = True
            self._emit(Change.PLAYING)

    def pause(self) -> None:
        if self.playing:
            self.playing = False
            self._emit(Change.PLAYING)

    def toggle_play(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def set_speed(self, name: str) -> None:
        if name not in SPEEDS:
            raise ValueError(f"unknown speed {name!r}")
        self.speed = name
        self._emit(Change.PLAYING)

    @property
    def interval_ms(self) -> int:
        """Milliseconds between two steps while playing."""
        return int(1000 / SPEEDS[self.speed])

    # ---- computing ------------------------------------------------------------------------------

    def _changed_by_hand(self) -> None:
        self.note = ""  # the settings no longer are the lecture's, so its note would mislead
        self.example = None
        self._recompute()

    def _geometry(self) -> tuple:
        """What decides where the windows fall; a result is only drawn on an input of the same geometry."""
        size = self.kernel.shape if self.operation == CONVOLUTION else self.kernel_size
        return (self.operation, self.input.shape, size, self.stride, self.padding, self.dilation)

    @property
    def result_current(self) -> bool:
        """Was the result shown computed with the settings shown? (Not after an impossible setting.)"""
        return self.result is not None and self._result_geometry == self._geometry()

    def problems(self) -> list[str]:
        problems = []
        for (row, col), text in sorted(self.bad_input.items()):
            problems.append(f"Input cell (row {row + 1}, column {col + 1}): “{text}” is not a number.")
        if self.operation == CONVOLUTION:
            for (row, col), text in sorted(self.bad_kernel.items()):
                problems.append(f"Kernel cell (row {row + 1}, column {col + 1}): “{text}” is not a number.")
        return problems

    def _recompute(self) -> None:
        problems = self.problems()
        if not problems:
            try:
                result = grid_arithmetic.apply_operation(self.operation, self.input, self.kernel, self.kernel_size,
                                                         self.stride, self.padding, self.dilation)
            except ValueError as error:
                problems.append(str(error))
            else:
                self.result = result
                self._result_geometry = self._geometry()
                self.index = min(self.index, len(result.steps))
        if problems:
            self.pause()
            suffix = " The output shown is from the last valid input." if self.result is not None else ""
            self.message = " ".join(problems) + suffix
        else:
            self.message = ""
        self._emit(Change.SETTINGS)

    # ---- what is shown --------------------------------------------------------------------------

    @property
    def current_step(self) -> Step | None:
        """The output cell computed last (None before the first step)."""
        return self.result.steps[self.index - 1] if (self.result is not None and self.index) else None

    def current_step_text(self) -> str:
        """The arithmetic of the cell computed last ('' before the first step)."""
        step = self.current_step
        return step.text if step is not None else ""

    def output_values(self) -> np.ndarray:
        """The output cells filled so far; NaN where the window has not been yet."""
        if self.result is None:
            return np.full((0, 0), np.nan)
        values = np.full(self.result.output.shape, np.nan)
        for step in self.result.steps[: self.index]:
            values[step.row, step.col] = step.value
        return values

    def output_ring(self) -> tuple[int, int]:
        """The padding ring to mark on the output (a zero padding's result is the padded grid)."""
        return self.result.padding if self.result is not None and self.result.operation == ZERO_PAD else (0, 0)

    def input_ring(self) -> tuple[int, int]:
        """The padding ring drawn around the input (a zero padding draws it on the output)."""
        return (self.padding, self.padding) if self.operation != ZERO_PAD else (0, 0)

    def shown_input(self) -> np.ndarray:
        """The input with its padding ring: zeros, or −∞ for max pooling (as PyTorch pads it)."""
        return grid_arithmetic.zero_pad(self.input, self.input_ring(),
                                        value=-np.inf if self.operation == MAX_POOL else 0.0)

    def window_cells(self) -> dict[tuple[int, int], str]:
        """The cells under the window of the current step, in padded coordinates, each with
        the kernel weight written beside it ('×1') for a convolution."""
        step = self.current_step
        if step is None or not self.result_current:
            return {}
        if step.operation == ZERO_PAD:
            return {step.source: ""} if step.source is not None else {}
        if step.operation == CONVOLUTION:
            return {cell: "×" + format_weight(w) for cell, w in zip(step.window, step.weights)}
        return {cell: "" for cell in step.window}

    def controls(self) -> Controls:
        convolution = self.operation == CONVOLUTION
        pooling = self.operation in (MAX_POOL, AVG_POOL)
        if convolution:
            operator = "∗"
        elif pooling:
            size = self.kernel_size
            operator = f"{'max' if self.operation == MAX_POOL else 'avg'}\n{size}×{size}\n→"
        else:
            operator = f"pad {self.padding}\n→"
        return Controls(kernel_choice=convolution, size_label="Window size" if pooling else "Kernel size",
                        size=convolution or pooling, stride=convolution or pooling, dilation=convolution,
                        kernel_shown=convolution, operator=operator)

    def transport(self) -> Transport:
        total = self.step_count()
        return Transport(self.index, total, f"cell {self.index} of {total}", back=self.index > 0,
                         forward=self.index < total, play=total > 0, playing=self.playing)

    def input_title(self) -> str:
        rows, cols = self.input.shape
        p = self.padding
        padded = f" — padded to {rows + 2 * p}×{cols + 2 * p}" if any(self.input_ring()) else ""
        return f"Input {rows}×{cols}{padded}"

    def kernel_title(self) -> str:
        kh, kw = self.kernel.shape
        return f"Kernel {kh}×{kw} — {self.kernel_choice}"

    def output_title(self) -> str | None:
        """None while nothing could be computed yet (the title stays as it was)."""
        if self.result is None:
            return None
        out_h, out_w = self.result.output.shape
        return f"Output {out_h}×{out_w}"

    def grid_columns(self) -> tuple[int, int, int]:
        """Columns of the input (padded), kernel and output grids: the window gives each
        grid room in proportion, so that cells come out the same size."""
        ring = self.input_ring()
        output = self.result.output.shape[1] if self.result is not None else 1
        return self.input.shape[1] + 2 * ring[1], self.kernel.shape[1], output

    def formula_html(self) -> str:
        """The output-size formula with the numbers of the current settings (rich text)."""
        if not self.result_current:
            return "<b>Output size:</b> — (see the message below)"
        formula_h, formula_w = self.result.size_formulas()
        out_h, out_w = self.result.output.shape
        name = "Padded size" if self.result.operation == ZERO_PAD else "Output size"
        if formula_h == formula_w:
            return f"<b>{name}:</b> {html.escape(formula_h)} in each direction → <b>{out_h}×{out_w}</b>"
        return (f"<b>{name}:</b> height {html.escape(formula_h)}, width {html.escape(formula_w)} "
                f"→ <b>{out_h}×{out_w}</b>")

    def step_html(self, weight_colour: str = "#c0392b") -> str:
        """The arithmetic of the current cell as rich text, kernel weights in `weight_colour`."""
        step = self.current_step
        if step is None:
            if self.step_count() == 0:
                return "Nothing to compute yet."
            return "Press <b>Step</b> or <b>Play</b> to slide the window over the input, one output cell at a time."
        where = f"Output row {step.row + 1}, column {step.col + 1}:&nbsp;&nbsp;"
        if step.operation == CONVOLUTION:
            terms = " + ".join(
                f"{format_factor(x)}×<span style='color:{weight_colour}; font-weight:600'>{_factor_weight(w)}</span>"
                for x, w in zip(step.values, step.weights)
            )
            return f"{where}{terms} = <b>{format_number(step.value)}</b>"
        body, _, result = step.text.rpartition(" = ")
        return f"{where}{html.escape(body)} = <b>{html.escape(result)}</b>"
