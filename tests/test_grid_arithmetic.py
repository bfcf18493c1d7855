"""designer.grid_arithmetic reproduces the slides exactly and agrees with PyTorch everywhere."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from designer.grid_arithmetic import (
    KERNELS,
    LECTURE_EXAMPLES,
    convolve2d,
    explain_conv_shape,
    explain_pool_shape,
    format_number,
    output_size,
    output_size_formula,
    pad2d,
    pool2d,
    zero_pad,
)


def _t(grid) -> torch.Tensor:
    """A 2-D grid as a float64 N×C×H×W tensor."""
    return torch.tensor(np.asarray(grid, dtype=float), dtype=torch.float64)[None, None]


def torch_conv(image, kernel, stride=1, padding=0, dilation=1) -> np.ndarray:
    return F.conv2d(_t(image), _t(kernel), stride=stride, padding=padding, dilation=dilation)[0, 0].numpy()


def torch_pool(grid, kernel, stride, mode, padding=0) -> np.ndarray:
    if mode == "max":
        return F.max_pool2d(_t(grid), kernel, stride, padding)[0, 0].numpy()
    return F.avg_pool2d(_t(grid), kernel, stride, padding, count_include_pad=True)[0, 0].numpy()


# --------------------------------------------------------------------------- the slides


def test_convolution_slide_first_cell_is_4():
    example = LECTURE_EXAMPLES["conv_5x5"]
    result = example.run()
    first = result.steps[0]
    assert result.output[0, 0] == 4
    assert first.text == "1×1 + 1×0 + 1×1 + 0×0 + 1×1 + 1×0 + 0×1 + 0×0 + 1×1 = 4"
    assert first.window == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (2, 2)]
    assert first.weights == (1, 0, 1, 0, 1, 0, 1, 0, 1)


def test_convolution_slide_full_feature_matches_torch():
    example = LECTURE_EXAMPLES["conv_5x5"]
    output = example.run().output
    np.testing.assert_array_equal(output, [[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    np.testing.assert_array_equal(output, torch_conv(example.image, example.kernel))
    np.testing.assert_array_equal(output, example.expected)


def test_pooling_slide():
    grid = [[12, 20, 30, 0], [8, 12, 2, 0], [34, 70, 37, 4], [112, 100, 25, 12]]
    maxed = pool2d(grid, 2, 2, "max")
    averaged = pool2d(grid, 2, 2, "avg")
    np.testing.assert_array_equal(maxed.output, [[20, 30], [112, 37]])
    np.testing.assert_array_equal(averaged.output, [[13, 8], [79, 19.5]])
    assert round(averaged.output[1, 1] + 0.001) == 20  # the slide prints 19.5 rounded up
    assert maxed.steps[0].text == "max(12, 20, 8, 12) = 20"
    assert averaged.steps[0].text == "(12 + 20 + 8 + 12)/4 = 13"
    assert averaged.steps[3].text == "(37 + 4 + 25 + 12)/4 = 19.5"
    np.testing.assert_array_equal(maxed.output, torch_pool(grid, 2, 2, "max"))
    np.testing.assert_array_equal(averaged.output, torch_pool(grid, 2, 2, "avg"))
    for name, result in (("max_pool_4x4", maxed), ("avg_pool_4x4", averaged)):
        np.testing.assert_array_equal(LECTURE_EXAMPLES[name].run().output, result.output)
        np.testing.assert_array_equal(LECTURE_EXAMPLES[name].expected, result.output)


def test_padding_slide_kernel_read_row_by_row_gives_the_slide_numbers():
    example = LECTURE_EXAMPLES["padding_5x5"]
    assert example.kernel == ((2, 0, 1), (1, 0, 0), (0, 1, 1))
    result = example.run()
    assert result.output.shape == (5, 5) == example.expected_shape
    np.testing.assert_array_equal(result.output[:3, :3], [[1, 6, 5], [7, 10, 9], [7, 10, 8]])
    np.testing.assert_array_equal(result.output, torch_conv(example.image, example.kernel, padding=1))
    assert result.padded_input.shape == (7, 7)
    assert result.steps[0].text == "0×2 + 0×0 + 0×1 + 0×1 + 2×0 + 2×0 + 0×0 + 0×1 + 1×1 = 1"


def test_padding_28_to_32():
    example = LECTURE_EXAMPLES["pad_28_to_32"]
    image = example.input_grid()
    assert image.shape == (28, 28) and image.sum() > 0
    result = example.run()
    assert result.output.shape == (32, 32) == example.expected_shape
    np.testing.assert_array_equal(result.output, F.pad(_t(image), (2, 2, 2, 2))[0, 0].numpy())
    assert result.size_formulas() == ("28 + 2·2 = 32", "28 + 2·2 = 32")
    assert len(result.steps) == 32 * 32
    assert result.steps[0].text == "zero padding = 0"
    inside = result.steps[2 * 32 + 2]
    assert inside.text == f"copied from input row 1, column 1 = {format_number(image[0, 0])}"


def test_output_size_formula_strings():
    assert output_size_formula(32, 5) == "⌊(32 + 2·0 − 5)/1⌋ + 1 = 28"
    assert output_size_formula(5, 3) == "⌊(5 + 2·0 − 3)/1⌋ + 1 = 3"
    assert output_size_formula(4, 2, 2) == "⌊(4 + 2·0 − 2)/2⌋ + 1 = 2"
    assert output_size_formula(5, 3, 1, 1) == "⌊(5 + 2·1 − 3)/1⌋ + 1 = 5"
    assert output_size_formula(28, 5, 1, 2) == "⌊(28 + 2·2 − 5)/1⌋ + 1 = 28"
    assert output_size_formula(10, 3, 1, 0, 2) == "⌊(10 + 2·0 − 2·(3 − 1) − 1)/1⌋ + 1 = 6"
    assert output_size(227, 11, 4) == 55  # AlexNet's first layer


@pytest.mark.parametrize(
    "args, fragment",
    [
        ((3, 5), "no output"),
        ((5, 3, 1, 0, 3), "dilation 3"),
        ((5, 3, 0), "stride must be at least 1"),
        ((5, 3, 1, -1), "padding cannot be negative"),
        ((0, 3), "input size must be at least 1"),
        ((5, 0), "kernel size must be at least 1"),
    ],
)
def test_output_size_refuses_with_a_clear_message(args, fragment):
    with pytest.raises(ValueError, match=fragment):
        output_size(*args)
    with pytest.raises(ValueError):
        output_size_formula(*args)


def test_zero_pad_matches_torch_pad():
    grid = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(zero_pad(grid, 1), F.pad(_t(grid), (1, 1, 1, 1))[0, 0].numpy())
    np.testing.assert_array_equal(zero_pad(grid, (2, 0)), F.pad(_t(grid), (0, 0, 2, 2))[0, 0].numpy())
    np.testing.assert_array_equal(zero_pad([[5]], 0), [[5]])
    with pytest.raises(ValueError):
        zero_pad(grid, -1)


def test_number_formatting():
    assert format_number(4.0) == "4"
    assert format_number(19.5) == "19.5"
    assert format_number(-3) == "−3"
    assert format_number(1 / 3) == "0.3333"
    assert format_number(-np.inf) == "−∞"
    assert format_number(-0.0) == "0"


def test_negative_weights_are_bracketed():
    step = convolve2d([[1, 2], [3, 4]], [[1, -1], [-1, 1]]).steps[0]
    assert step.text == "1×1 + 2×(−1) + 3×(−1) + 4×1 = 0"


def test_max_pool_padding_reads_as_minus_infinity():
    step = pool2d([[1, 2], [3, 4]], 2, 2, "max", 1).steps[0]
    assert step.text == "max(−∞, −∞, −∞, 1) = 1"


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_every_kernel_matches_torch(name):
    rng = np.random.default_rng(len(name))
    image = rng.integers(0, 256, size=(9, 11)).astype(float)
    kernel = np.asarray(KERNELS[name])
    np.testing.assert_allclose(convolve2d(image, kernel, padding=1).output, torch_conv(image, kernel, padding=1))


def test_lecture_kernels_are_the_slides():
    assert KERNELS["identity"] == ((0, 0, 0), (0, 1, 0), (0, 0, 0))
    assert KERNELS["edge (lecture)"] == ((1, 0, -1), (0, 0, 0), (-1, 0, 1))
    assert KERNELS["laplacian"] == ((-1, -1, -1), (-1, 8, -1), (-1, -1, -1))
    assert {"sobel x", "sobel y", "box blur", "sharpen"} <= set(KERNELS)


def test_explanations_walk_through_the_numbers():
    text = explain_conv_shape(32, 5, in_channels=1, out_channels=6)
    assert "32×32" in text and "⌊(32 + 2·0 − 5)/1⌋ + 1 = 28" in text and "6×28×28" in text
    padded = explain_conv_shape((28, 28), 5, padding=2)
    assert "32×32" in padded and "28×28" in padded
    dilated = explain_conv_shape(10, 3, dilation=2)
    assert "5×5 input cells" in dilated
    pooled = explain_pool_shape(28, 2, channels=6)
    assert "largest" in pooled and "6×14×14" in pooled and "⌊(28 + 2·0 − 2)/2⌋ + 1 = 14" in pooled
    assert "average" in explain_pool_shape((4, 6), 2, mode="avg")
    assert "no output" in explain_conv_shape(3, 5)  # explains instead of raising
    assert "half" in explain_pool_shape(4, 2, padding=2)


def test_module_imports_neither_torch_nor_qt():
    code = "import sys, designer.grid_arithmetic; print(any(m in sys.modules for m in ('torch', 'PySide6')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# --------------------------------------------------------------------------- random cases against torch

sizes = st.integers(1, 7)
kernels = st.integers(1, 4)
strides = st.integers(1, 3)
paddings = st.integers(0, 3)
dilations = st.integers(1, 3)


def _grid(draw, h, w):
    return np.array(draw(st.lists(st.integers(-9, 9), min_size=h * w, max_size=h * w)), dtype=float).reshape(h, w)


@st.composite
def conv_cases(draw):
    h, w, kh, kw = draw(sizes), draw(sizes), draw(kernels), draw(kernels)
    return dict(
        image=_grid(draw, h, w),
        kernel=_grid(draw, kh, kw),
        stride=(draw(strides), draw(strides)),
        padding=(draw(paddings), draw(paddings)),
        dilation=(draw(dilations), draw(dilations)),
    )


@settings(max_examples=80, deadline=None)
@given(conv_cases())
def test_random_convolutions_match_torch(case):
    try:
        expected = torch_conv(**case)
    except RuntimeError:
        with pytest.raises(ValueError):
            convolve2d(**case)
        with pytest.raises(ValueError):
            for n, k, s, p, d in zip(case["image"].shape, case["kernel"].shape, case["stride"], case["padding"], case["dilation"]):
                output_size(n, k, s, p, d)
        return
    result = convolve2d(**case)
    np.testing.assert_array_equal(result.output, expected)
    shape = tuple(
        output_size(n, k, s, p, d)
        for n, k, s, p, d in zip(case["image"].shape, case["kernel"].shape, case["stride"], case["padding"], case["dilation"])
    )
    assert shape == expected.shape
    np.testing.assert_array_equal(result.padded_input, zero_pad(case["image"], case["padding"]))
    assert len(result.steps) == expected.size
    for step in result.steps:  # each step's window and arithmetic reproduce its cell
        assert [result.padded_input[r, c] for r, c in step.window] == list(step.values)
        assert np.dot(step.values, step.weights) == expected[step.row, step.col] == step.value
        assert step.text.endswith("= " + format_number(expected[step.row, step.col]))


@st.composite
def pool_cases(draw):
    h, w, kh, kw = draw(sizes), draw(sizes), draw(kernels), draw(kernels)
    return dict(
        grid=_grid(draw, h, w),
        kernel=(kh, kw),
        stride=(draw(strides), draw(strides)),
        padding=(draw(st.integers(0, 2)), draw(st.integers(0, 2))),
        mode=draw(st.sampled_from(["max", "avg"])),
    )


@settings(max_examples=80, deadline=None)
@given(pool_cases())
def test_random_pooling_matches_torch(case):
    try:
        expected = torch_pool(**case)
    except RuntimeError:
        with pytest.raises(ValueError):
            pool2d(**case)
        return
    result = pool2d(**case)
    np.testing.assert_allclose(result.output, expected, rtol=0, atol=1e-12)
    for step in result.steps:
        assert len(step.values) == case["kernel"][0] * case["kernel"][1]
        assert step.text.endswith("= " + format_number(step.value))


@settings(max_examples=30, deadline=None)
@given(sizes, sizes, paddings, paddings)
def test_random_padding_matches_torch(h, w, ph, pw):
    grid = np.arange(h * w, dtype=float).reshape(h, w) + 1
    result = pad2d(grid, (ph, pw))
    np.testing.assert_array_equal(result.output, F.pad(_t(grid), (pw, pw, ph, ph))[0, 0].numpy())
    copied = [step for step in result.steps if step.source is not None]
    assert len(copied) == h * w
    assert all(grid[step.source] == step.value for step in copied)

