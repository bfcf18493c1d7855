"""The lecture's convolution, pooling and padding arithmetic, cell by cell.

Pure numpy: no Qt and no torch, so the playground window can open before torch
loads and Help ▸ Explain can reuse the same words. Every function mirrors
PyTorch's semantics exactly (``F.conv2d`` is a cross-correlation with zero
padding; ``max_pool2d`` pads with −∞; ``avg_pool2d`` counts the padding zeros,
``count_include_pad=True``), and the tests hold it to that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Union

import numpy as np

IntOrPair = Union[int, Sequence[int]]

CONVOLUTION = "convolution"
MAX_POOL = "max"
AVG_POOL = "avg"
ZERO_PAD = "pad"

MINUS = "\u2212"  # typographic minus, as the slides print it


# --------------------------------------------------------------------------- numbers


def format_number(value: float) -> str:
    """12.0 -> '12', 19.5 -> '19.5', -3 -> '−3', -inf -> '−∞'; at most 4 decimals."""
    value = float(value)
    if np.isnan(value):
        return "?"
    if np.isinf(value):
        return "∞" if value > 0 else MINUS + "∞"
    if value == int(value) and abs(value) < 1e15:
        text = str(int(value))
    else:
        text = f"{value:.4f}".rstrip("0").rstrip(".")
        if text in ("-0", ""):
            text = "0"
    return text.replace("-", MINUS)


def format_factor(value: float) -> str:
    """A number as the right-hand factor of a product: negatives in brackets."""
    text = format_number(value)
    return f"({text})" if text.startswith(MINUS) else text


def _pair(value: IntOrPair, name: str) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    items = tuple(int(v) for v in value)
    if len(items) != 2:
        raise ValueError(f"{name} must be one number or a pair (height, width), got {value!r}")
    return items  # type: ignore[return-value]


def _as_grid(values, name: str) -> np.ndarray:
    grid = np.asarray(values, dtype=float)
    if grid.ndim != 2 or grid.shape[0] == 0 or grid.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D grid, got shape {grid.shape}")
    return grid


def _size_text(h: int, w: int) -> str:
    return f"{h}×{w}"


# --------------------------------------------------------------------------- sizes


def _check_size_arguments(n: int, kernel: int, stride: int, padding: int, dilation: int) -> None:
    if n < 1:
        raise ValueError(f"The input size must be at least 1, got {n}.")
    if kernel < 1:
        raise ValueError(f"The kernel size must be at least 1, got {kernel}.")
    if stride < 1:
        raise ValueError(f"The stride must be at least 1, got {stride}.")
    if padding < 0:
        raise ValueError(f"The padding cannot be negative, got {padding}.")
    if dilation < 1:
        raise ValueError(f"The dilation must be at least 1, got {dilation}.")


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """How many input cells a dilated kernel spans: d·(k − 1) + 1."""
    return dilation * (kernel - 1) + 1


def _formula_body(n: int, kernel: int, stride: int, padding: int, dilation: int) -> str:
    if dilation == 1:
        inner = f"{n} + 2·{padding} {MINUS} {kernel}"
    else:
        inner = f"{n} + 2·{padding} {MINUS} {dilation}·({kernel} {MINUS} 1) {MINUS} 1"
    return f"⌊({inner})/{stride}⌋ + 1"


def output_size(n: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Cells along one side of the output: ⌊(n + 2p − d·(k − 1) − 1)/s⌋ + 1.

    Raises ValueError when the (dilated) kernel does not fit in the padded
    input, i.e. exactly when PyTorch refuses the convolution.
    """
    _check_size_arguments(n, kernel, stride, padding, dilation)
    span = effective_kernel(kernel, dilation)
    size = (n + 2 * padding - span) // stride + 1
    if size <= 0:
        spans = f"{span} cells" if dilation == 1 else f"{span} cells (size {kernel}, dilation {dilation})"
        raise ValueError(
            f"The kernel spans {spans} but the padded input is only "
            f"{n} + 2·{padding} = {n + 2 * padding} cells: "
            f"{_formula_body(n, kernel, stride, padding, dilation)} = {format_number(size)}, "
            f"so there is no output. Use a smaller kernel or more padding."
        )
    return size


def output_size_formula(n: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> str:
    """'⌊(32 + 2·0 − 5)/1⌋ + 1 = 28' (raises ValueError like output_size)."""
    size = output_size(n, kernel, stride, padding, dilation)
    return f"{_formula_body(n, kernel, stride, padding, dilation)} = {size}"


def padded_size_formula(n: int, padding: int) -> str:
    """'28 + 2·2 = 32'."""
    if padding < 0:
        raise ValueError(f"The padding cannot be negative, got {padding}.")
    return f"{n} + 2·{padding} = {n + 2 * padding}"


def _check_pool_padding(kernel: tuple[int, int], padding: tuple[int, int]) -> None:
    # PyTorch's rule: a pooling window may hang over the edge by at most half
    # its size, otherwise some windows would see nothing but padding.
    for k, p in zip(kernel, padding):
        if p > k // 2:
            raise ValueError(
                f"Pooling padding {p} is more than half the {k}-wide window "
                f"(at most {k // 2}): some windows would hold only padding."
            )


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Step:
    """One output cell: where the window sat and the arithmetic that made the value."""

    operation: str
    row: int
    col: int
    window: list[tuple[int, int]]  # (r, c) in the padded input, one per kernel tap
    values: tuple[float, ...]
    weights: tuple[float, ...]  # kernel weights per tap; empty for pooling and padding
    value: float

    @property
    def text(self) -> str:
        """The arithmetic as the slide writes it: '1×1 + 1×0 + … = 4'."""
        result = format_number(self.value)
        if self.operation == CONVOLUTION:
            terms = " + ".join(f"{format_factor(x)}×{format_factor(w)}" for x, w in zip(self.values, self.weights))
            return f"{terms} = {result}"
        if self.operation == MAX_POOL:
            return f"max({', '.join(format_number(x) for x in self.values)}) = {result}"
        if self.operation == AVG_POOL:
            terms = " + ".join(format_number(x) if i == 0 else format_factor(x) for i, x in enumerate(self.values))
            return f"({terms})/{len(self.values)} = {result}"
        if self.operation == ZERO_PAD:
            return result
        raise ValueError(f"unknown operation {self.operation!r}")


@dataclass(frozen=True)
class PaddingStep(Step):
    """A cell of a zero-padded grid: either a border zero or a copied input cell."""

    source: tuple[int, int] | None = None  # input (r, c), None for a border zero

    @property
    def text(self) -> str:
        if self.source is None:
            return "zero padding = 0"
        r, c = self.source
        return f"copied from input row {r + 1}, column {c + 1} = {format_number(self.value)}"


@dataclass
class GridResult:
    """An operation applied to a grid: the answer plus every step that led to it."""

    operation: str
    output: np.ndarray
    padded_input: np.ndarray
    steps: list[Step]
    kernel_size: tuple[int, int]
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    kernel: np.ndarray | None = None

    @property
    def input_size(self) -> tuple[int, int]:
        h, w = self.padded_input.shape
        return h - 2 * self.padding[0], w - 2 * self.padding[1]

    def size_formulas(self) -> tuple[str, str]:
        """(height formula, width formula) for this result's settings."""
        if self.operation == ZERO_PAD:
            return tuple(padded_size_formula(n, p) for n, p in zip(self.input_size, self.padding))  # type: ignore[return-value]
        return tuple(  # type: ignore[return-value]
            output_size_formula(n, k, s, p, d)
            for n, k, s, p, d in zip(self.input_size, self.kernel_size, self.stride, self.padding, self.dilation)
        )


# --------------------------------------------------------------------------- operations


def zero_pad(grid, padding: IntOrPair, value: float = 0.0) -> np.ndarray:
    """The grid with `padding` rows/columns of `value` (zeros) added on every side."""
    array = _as_grid(grid, "grid")
    ph, pw = _pair(padding, "padding")
    if ph < 0 or pw < 0:
        raise ValueError(f"The padding cannot be negative, got {(ph, pw)}.")
    return np.pad(array, ((ph, ph), (pw, pw)), mode="constant", constant_values=value)


def _window_positions(out_h: int, out_w: int, kernel, stride, dilation):
    kh, kw = kernel
    (sh, sw), (dh, dw) = stride, dilation
    for i in range(out_h):
        for j in range(out_w):
            yield i, j, [(i * sh + a * dh, j * sw + b * dw) for a in range(kh) for b in range(kw)]


def convolve2d(image, kernel, stride: IntOrPair = 1, padding: IntOrPair = 0, dilation: IntOrPair = 1) -> GridResult:
    """Slide `kernel` over `image` exactly as ``F.conv2d`` does (cross-correlation)."""
    array = _as_grid(image, "image")
    weights = _as_grid(kernel, "kernel")
    stride, padding, dilation = _pair(stride, "stride"), _pair(padding, "padding"), _pair(dilation, "dilation")
    out_h, out_w = (
        output_size(n, k, s, p, d)
        for n, k, s, p, d in zip(array.shape, weights.shape, stride, padding, dilation)
    )
    padded = zero_pad(array, padding)
    flat_weights = tuple(float(w) for w in weights.ravel())
    output = np.zeros((out_h, out_w))
    steps: list[Step] = []
    for i, j, window in _window_positions(out_h, out_w, weights.shape, stride, dilation):
        values = tuple(float(padded[r, c]) for r, c in window)
        value = float(np.dot(values, flat_weights))
        output[i, j] = value
        steps.append(Step(CONVOLUTION, i, j, window, values, flat_weights, value))
    return GridResult(CONVOLUTION, output, padded, steps, weights.shape, stride, padding, dilation, weights)


def pool2d(grid, kernel: IntOrPair = 2, stride: IntOrPair = 2, mode: str = "max", padding: IntOrPair = 0) -> GridResult:
    """Max or average pooling as ``max_pool2d`` / ``avg_pool2d(count_include_pad=True)``."""
    if mode not in (MAX_POOL, AVG_POOL):
        raise ValueError(f"Pooling mode must be 'max' or 'avg', got {mode!r}")
    array = _as_grid(grid, "grid")
    kernel, stride, padding = _pair(kernel, "kernel"), _pair(stride, "stride"), _pair(padding, "padding")
    out_h, out_w = (output_size(n, k, s, p) for n, k, s, p in zip(array.shape, kernel, stride, padding))
    _check_pool_padding(kernel, padding)
    padded = zero_pad(array, padding, value=-np.inf if mode == MAX_POOL else 0.0)
    output = np.zeros((out_h, out_w))
    steps: list[Step] = []
    for i, j, window in _window_positions(out_h, out_w, kernel, stride, (1, 1)):
        values = tuple(float(padded[r, c]) for r, c in window)
        value = max(values) if mode == MAX_POOL else sum(values) / len(values)
        output[i, j] = value
        steps.append(Step(mode, i, j, window, values, (), value))
    return GridResult(mode, output, padded, steps, kernel, stride, padding)


def pad2d(grid, padding: IntOrPair) -> GridResult:
    """Zero padding as a step-by-step operation (each output cell is one step)."""
    array = _as_grid(grid, "grid")
    ph, pw = _pair(padding, "padding")
    padded = zero_pad(array, (ph, pw))
    steps: list[Step] = []
    for i in range(padded.shape[0]):
        for j in range(padded.shape[1]):
            r, c = i - ph, j - pw
            inside = 0 <= r < array.shape[0] and 0 <= c < array.shape[1]
            value = float(padded[i, j])
            steps.append(PaddingStep(ZERO_PAD, i, j, [(i, j)], (value,), (), value, (r, c) if inside else None))
    return GridResult(ZERO_PAD, padded.copy(), padded, steps, (1, 1), (1, 1), (ph, pw))


def apply_operation(
    operation: str,
    grid,
    kernel=None,
    kernel_size: IntOrPair = 3,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> GridResult:
    """One of the four operations by name: a convolution with `kernel`, a pooling with a
    `kernel_size` window, or a zero padding (which reads only `padding`)."""
    if operation == CONVOLUTION:
        return convolve2d(grid, kernel, stride, padding, dilation)
    if operation in (MAX_POOL, AVG_POOL):
        return pool2d(grid, kernel_size, stride, operation, padding)
    if operation == ZERO_PAD:
        return pad2d(grid, padding)
    raise ValueError(f"unknown operation {operation!r}")


# --------------------------------------------------------------------------- explanations


def _sizes(input_size: IntOrPair) -> tuple[int, int]:
    return _pair(input_size, "input size")


def explain_conv_shape(
    input_size: IntOrPair,
    kernel: IntOrPair,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    in_channels: int | None = None,
    out_channels: int | None = None,
) -> str:
    """A few sentences walking from input size to output size, with the numbers.

    Never raises for sizes that do not fit: it explains why instead, because it
    is what a student reads when their layer is wrong.
    """
    (h, w), (kh, kw) = _sizes(input_size), _pair(kernel, "kernel")
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride, "stride"), _pair(padding, "padding"), _pair(dilation, "dilation")
    maps = f"{in_channels} map{'s' if in_channels != 1 else ''} of " if in_channels else ""
    sentences = [f"The input is {maps}{_size_text(h, w)}."]
    if ph or pw:
        sentences.append(
            f"Zero padding adds {_side_text(ph, pw)} of zeros around it, "
            f"so the kernel slides over {_size_text(h + 2 * ph, w + 2 * pw)}."
        )
    if dh > 1 or dw > 1:
        sentences.append(
            f"Dilation {_pair_text(dh, dw)} spreads the kernel's taps apart, so the {_size_text(kh, kw)} kernel "
            f"covers {_size_text(effective_kernel(kh, dh), effective_kernel(kw, dw))} input cells."
        )
    sentences.append(
        f"A {_size_text(kh, kw)} kernel moves {_stride_text(sh, sw)} at a time, multiplying each input value "
        f"under it by its weight and adding them up into one cell of the convolved feature."
    )
    try:
        size_h = output_size(h, kh, sh, ph, dh)
        size_w = output_size(w, kw, sw, pw, dw)
    except ValueError as error:
        sentences.append(str(error))
        return " ".join(sentences)
    sentences.append(_fit_sentence(h, w, kh, kw, sh, sw, ph, pw, dh, dw, size_h, size_w))
    if out_channels:
        depth = f"×{in_channels}" if in_channels else ""
        sentences.append(
            f"Each of the {out_channels} kernels ({_size_text(kh, kw)}{depth} weights) gives one feature map, "
            f"so the output is {out_channels}×{_size_text(size_h, size_w)}."
        )
    else:
        sentences.append(f"The convolved feature is {_size_text(size_h, size_w)}.")
    return " ".join(sentences)


def explain_pool_shape(
    input_size: IntOrPair,
    kernel: IntOrPair = 2,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    mode: str = MAX_POOL,
    channels: int | None = None,
) -> str:
    """Sentences for a pooling layer; stride defaults to the window size as in PyTorch."""
    (h, w), (kh, kw) = _sizes(input_size), _pair(kernel, "kernel")
    (sh, sw) = _pair(stride if stride is not None else kernel, "stride")
    (ph, pw) = _pair(padding, "padding")
    what = "the largest value" if mode == MAX_POOL else "the average"
    maps = f"each of the {channels} maps of " if channels else "a map of "
    sentences = [
        f"Pooling with a {_size_text(kh, kw)} window and stride {_pair_text(sh, sw)} keeps {what} "
        f"of every window of {maps}{_size_text(h, w)}."
    ]
    if ph or pw:
        filler = "−∞ (never the maximum)" if mode == MAX_POOL else "zeros (counted in the average)"
        sentences.append(f"Padding adds {_side_text(ph, pw)} of {filler} around it.")
    try:
        size_h = output_size(h, kh, sh, ph)
        size_w = output_size(w, kw, sw, pw)
        _check_pool_padding((kh, kw), (ph, pw))
    except ValueError as error:
        sentences.append(str(error))
        return " ".join(sentences)
    sentences.append(_fit_sentence(h, w, kh, kw, sh, sw, ph, pw, 1, 1, size_h, size_w))
    depth = f"{channels}×" if channels else ""
    sentences.append(
        f"Pooling works on each map separately and has no weights, so the output is "
        f"{depth}{_size_text(size_h, size_w)}."
    )
    return " ".join(sentences)


def _fit_sentence(h, w, kh, kw, sh, sw, ph, pw, dh, dw, size_h, size_w) -> str:
    formula_h = output_size_formula(h, kh, sh, ph, dh)
    if (h, kh, sh, ph, dh) == (w, kw, sw, pw, dw):
        return f"It fits {formula_h} times down and as many across."
    return f"It fits {formula_h} times down and {output_size_formula(w, kw, sw, pw, dw)} times across."


def _pair_text(a: int, b: int) -> str:
    return f"{a}" if a == b else f"{a}×{b}"


def _stride_text(sh: int, sw: int) -> str:
    if sh == sw:
        return f"{sh} cell{'s' if sh != 1 else ''}"
    return f"{sh} rows down and {sw} columns across"


def _side_text(ph: int, pw: int) -> str:
    if ph == pw:
        return f"{ph} row{'s' if ph != 1 else ''} and column{'s' if ph != 1 else ''}"
    return f"{ph} row{'s' if ph != 1 else ''} top and bottom and {pw} column{'s' if pw != 1 else ''} left and right"


# --------------------------------------------------------------------------- lecture data


@dataclass(frozen=True)
class LectureExample:
    """One worked example from the slides, with the numbers the slide prints."""

    name: str
    title: str
    operation: str
    image: tuple[tuple[float, ...], ...]
    kernel: tuple[tuple[float, ...], ...] | None = None
    kernel_size: int = 3
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    expected: tuple[tuple[float, ...], ...] | None = None  # full result, or None
    expected_top_left: tuple[tuple[float, ...], ...] | None = None  # a corner the slide shows
    expected_shape: tuple[int, int] | None = None
    note: str = ""

    def input_grid(self) -> np.ndarray:
        return np.array(self.image, dtype=float)

    def kernel_grid(self) -> np.ndarray | None:
        return None if self.kernel is None else np.array(self.kernel, dtype=float)

    def run(self) -> GridResult:
        return apply_operation(self.operation, self.image, self.kernel, self.kernel_size, self.stride,
                               self.padding, self.dilation)


def _rows(grid) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(row) for row in grid)


def _digit_28x28() -> tuple[tuple[float, ...], ...]:
    """A 28×28 hand-drawn-looking '7' (0/1), so the padding example has content."""
    grid = np.zeros((28, 28), dtype=int)
    grid[5:8, 6:22] = 1  # the bar
    for r in range(8, 24):  # the stroke, drifting left as it goes down
        c = 20 - (r - 8) * 9 // 16
        grid[r, c - 1 : c + 2] = 1
    grid[14, 10:19] = 1  # the continental cross stroke
    return _rows(grid.tolist())


# the 4×4 grid the pooling slide pools both ways
_POOLING_SLIDE = _rows([[12, 20, 30, 0], [8, 12, 2, 0], [34, 70, 37, 4], [112, 100, 25, 12]])

LECTURE_EXAMPLES: dict[str, LectureExample] = {
    example.name: example
    for example in (
        LectureExample(
            name="conv_5x5",
            title="Convolution: 5×5 image, 3×3 kernel, stride 1",
            operation=CONVOLUTION,
            image=_rows([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]]),
            kernel=_rows([[1, 0, 1], [0, 1, 0], [1, 0, 1]]),
            expected=_rows([[4, 3, 4], [2, 4, 3], [2, 3, 4]]),
            note="The slide shows the first cell of the convolved feature: 4.",
        ),
        LectureExample(
            name="max_pool_4x4",
            title="Max pooling: 4×4 grid, 2×2 window, stride 2",
            operation=MAX_POOL,
            image=_POOLING_SLIDE,
            kernel_size=2,
            stride=2,
            expected=_rows([[20, 30], [112, 37]]),
        ),
        LectureExample(
            name="avg_pool_4x4",
            title="Average pooling: 4×4 grid, 2×2 window, stride 2",
            operation=AVG_POOL,
            image=_POOLING_SLIDE,
            kernel_size=2,
            stride=2,
            expected=_rows([[13, 8], [79, 19.5]]),
            note="(37 + 4 + 25 + 12)/4 = 19.5; the slide rounds it to 20.",
        ),
        LectureExample(
            name="padding_5x5",
            title="Zero padding 1: 5×5 input, 3×3 kernel, stride 1 → 5×5",
            operation=CONVOLUTION,
            image=_rows([[2, 2, 3, 3, 3], [0, 1, 3, 0, 3], [2, 3, 0, 1, 3], [3, 3, 2, 1, 2], [3, 3, 0, 2, 3]]),
            # Read row by row from the slide's subscripts on the padded top-left
            # window (0₂ 0₀ 0₁ / 0₁ 2₀ 2₀ / 0₀ 0₁ 1₁); torch confirms it gives
            # the slide's 1 6 5 / 7 10 9 / 7 10 8.
            kernel=_rows([[2, 0, 1], [1, 0, 0], [0, 1, 1]]),
            padding=1,
            expected_top_left=_rows([[1, 6, 5], [7, 10, 9], [7, 10, 8]]),
            expected_shape=(5, 5),
            note="With padding 1 a 3×3 kernel keeps the 5×5 size; the slide shows the top-left 3×3 block.",
        ),
        LectureExample(
            name="pad_28_to_32",
            title="Zero padding 2: 28×28 → 32×32",
            operation=ZERO_PAD,
            image=_digit_28x28(),
            padding=2,
            expected_shape=(32, 32),
            note="Two rings of zeros turn a 28×28 image into 32×32, as LeNet-5's input.",
        ),
    )
}


def _box_blur() -> tuple[tuple[float, ...], ...]:
    return _rows(np.full((3, 3), 1 / 9).tolist())


KERNELS: dict[str, tuple[tuple[float, ...], ...]] = {
    "identity": _rows([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "edge (lecture)": _rows([[1, 0, -1], [0, 0, 0], [-1, 0, 1]]),
    "laplacian": _rows([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
    "sobel x": _rows([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel y": _rows([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "box blur": _box_blur(),
    "sharpen": _rows([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "X (lecture example)": LECTURE_EXAMPLES["conv_5x5"].kernel,  # type: ignore[dict-item]
}
