"""The convolution playground reproduces the lecture through its real buttons."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PySide6.QtCore import Qt

from designer.grid_arithmetic import LECTURE_EXAMPLES
from designer.ui.playground import ConvolutionPlayground, open_playground, sample_images


def _t(grid) -> torch.Tensor:
    return torch.tensor(np.asarray(grid, dtype=float), dtype=torch.float64)[None, None]


@pytest.fixture
def playground(qtbot):
    window = ConvolutionPlayground()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def _type_into(qtbot, view, row, col, text):
    """Open a cell's editor, type, press Enter: what a user does."""
    view.begin_edit(row, col)
    view.editor.clear()
    qtbot.keyClicks(view.editor, text)
    qtbot.keyClick(view.editor, Qt.Key_Return)


def test_stepping_the_lecture_convolution_with_the_step_button(qtbot, playground):
    example = LECTURE_EXAMPLES["conv_5x5"]
    playground.load_example("conv_5x5")
    assert np.isnan(playground.output_values()).all()
    assert playground.current_step_text() == ""

    qtbot.mouseClick(playground.step_button, Qt.LeftButton)
    assert playground.current_step_text() == "1×1 + 1×0 + 1×1 + 0×0 + 1×1 + 1×0 + 0×1 + 0×0 + 1×1 = 4"
    assert playground.current_step_text().endswith("= 4")
    first = playground.output_values()
    assert first[0, 0] == 4 and np.isnan(first).sum() == 8

    for _ in range(8):
        qtbot.mouseClick(playground.step_button, Qt.LeftButton)
    output = playground.output_values()
    expected = F.conv2d(_t(example.image), _t(example.kernel))[0, 0].numpy()
    np.testing.assert_array_equal(output, [[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    np.testing.assert_array_equal(output, expected)
    assert not playground.step_button.isEnabled()  # nothing left to compute
    qtbot.mouseClick(playground.back_button, Qt.LeftButton)
    assert np.isnan(playground.output_values()[2, 2])


@pytest.mark.parametrize(
    "name, expected, last_text",
    [
        ("max_pool_4x4", [[20, 30], [112, 37]], "max(37, 4, 25, 12) = 37"),
        ("avg_pool_4x4", [[13, 8], [79, 19.5]], "(37 + 4 + 25 + 12)/4 = 19.5"),
    ],
)
def test_pooling_examples_give_the_slide_numbers(qtbot, playground, name, expected, last_text):
    playground.load_example(name)
    qtbot.mouseClick(playground.step_button, Qt.LeftButton)
    assert playground.current_step_text() in ("max(12, 20, 8, 12) = 20", "(12 + 20 + 8 + 12)/4 = 13")
    qtbot.mouseClick(playground.end_button, Qt.LeftButton)
    np.testing.assert_array_equal(playground.output_values(), expected)
    assert playground.current_step_text() == last_text


def test_padding_examples(playground):
    playground.load_example("padding_5x5")
    playground.seek(25)
    output = playground.output_values()
    assert output.shape == (5, 5)
    np.testing.assert_array_equal(output[:3, :3], [[1, 6, 5], [7, 10, 9], [7, 10, 8]])
    example = LECTURE_EXAMPLES["padding_5x5"]
    np.testing.assert_array_equal(output, F.conv2d(_t(example.image), _t(example.kernel), padding=1)[0, 0].numpy())
    assert "⌊(5 + 2·1 − 3)/1⌋ + 1 = 5" in playground.formula_label.text()

    playground.load_example("pad_28_to_32")
    playground.seek(playground.step_count())
    image = LECTURE_EXAMPLES["pad_28_to_32"].input_grid()
    np.testing.assert_array_equal(playground.output_values(), F.pad(_t(image), (2, 2, 2, 2))[0, 0].numpy())
    assert "28 + 2·2 = 32" in playground.formula_label.text()


def test_invalid_cell_text_shows_a_message_and_keeps_the_last_output(qtbot, playground):
    playground.load_example("conv_5x5")
    playground.seek(9)
    before = playground.output_values()

    _type_into(qtbot, playground.input_view, 1, 1, "abc")
    assert "“abc” is not a number" in playground.message_text()
    assert "row 2, column 2" in playground.message_text()
    np.testing.assert_array_equal(playground.output_values(), before)

    _type_into(qtbot, playground.input_view, 1, 1, "5")
    assert playground.message_text() == ""
    image = np.array(LECTURE_EXAMPLES["conv_5x5"].image, dtype=float)
    image[1, 1] = 5
    kernel = LECTURE_EXAMPLES["conv_5x5"].kernel
    np.testing.assert_array_equal(playground.output_values(), F.conv2d(_t(image), _t(kernel))[0, 0].numpy())


def test_typing_on_a_selected_cell_edits_it(qtbot, playground):
    playground.load_example("conv_5x5")
    view = playground.input_view
    qtbot.mouseClick(view, Qt.LeftButton, pos=view.cell_rect(0, 4).center().toPoint())
    qtbot.keyClick(view, "7")
    assert view.editor.isVisible() and view.editor.text() == "7"
    qtbot.keyClick(view.editor, Qt.Key_Return)
    playground.seek(1)
    image = np.array(LECTURE_EXAMPLES["conv_5x5"].image, dtype=float)
    image[0, 4] = 7
    assert playground.output_values()[0, 0] == 4  # the window at (0, 0) does not reach column 4
    playground.seek(9)
    np.testing.assert_array_equal(
        playground.output_values(), F.conv2d(_t(image), _t(LECTURE_EXAMPLES["conv_5x5"].kernel))[0, 0].numpy()
    )


def test_custom_kernel_cell(qtbot, playground):
    playground.load_example("conv_5x5")
    _type_into(qtbot, playground.kernel_view, 0, 0, "-2")
    assert playground.kernel_combo.currentText() == "custom"
    playground.seek(9)
    kernel = np.array(LECTURE_EXAMPLES["conv_5x5"].kernel, dtype=float)
    kernel[0, 0] = -2
    expected = F.conv2d(_t(LECTURE_EXAMPLES["conv_5x5"].image), _t(kernel))[0, 0].numpy()
    np.testing.assert_array_equal(playground.output_values(), expected)


@pytest.mark.parametrize("kernel, stride, padding, dilation", [(3, 2, 1, 1), (5, 1, 2, 1), (3, 1, 0, 2), (2, 3, 1, 1)])
def test_settings_match_torch(playground, kernel, stride, padding, dilation):
    playground.load_example("padding_5x5")
    playground.kernel_combo.setCurrentText("sobel x")
    playground.kernel_size_spin.setValue(kernel)
    playground.stride_spin.setValue(stride)
    playground.padding_spin.setValue(padding)
    playground.dilation_spin.setValue(dilation)
    playground.seek(playground.step_count())
    example = LECTURE_EXAMPLES["padding_5x5"]
    assert playground.kernel_view.grid_shape == (kernel, kernel)
    expected = F.conv2d(
        _t(example.image), _t(playground.model.kernel), stride=stride, padding=padding, dilation=dilation
    )[0, 0].numpy()
    np.testing.assert_array_equal(playground.output_values(), expected)


def test_impossible_settings_explain_themselves(playground):
    playground.load_example("conv_5x5")
    playground.seek(9)
    before = playground.output_values()
    playground.kernel_size_spin.setValue(7)
    assert "no output" in playground.message_text()
    np.testing.assert_array_equal(playground.output_values(), before)
    playground.padding_spin.setValue(1)
    assert playground.message_text() == ""
    assert playground.output_values().shape == (1, 1)

    playground.load_example("max_pool_4x4")
    playground.padding_spin.setValue(2)
    assert "half" in playground.message_text()


def test_play_runs_to_the_end_and_the_slider_scrubs(qtbot, playground):
    playground.load_example("avg_pool_4x4")
    playground.speed_combo.setCurrentText("100 cells/s")
    qtbot.mouseClick(playground.play_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not np.isnan(playground.output_values()).any(), timeout=3000)
    assert playground.play_button.text() == "Play"
    playground.slider.setValue(1)
    assert (~np.isnan(playground.output_values())).sum() == 1
    assert playground.current_step_text() == "(12 + 20 + 8 + 12)/4 = 13"


def test_sample_images_load_as_grey_grids(playground):
    samples = sample_images()
    assert len(samples) >= 2
    for path in samples:
        assert path.stat().st_size < 20_000
        playground.load_image(path)
        rows, cols = playground.input_view.grid_shape
        assert rows <= 64 and cols <= 64
        assert playground.message_text() == ""
    playground.kernel_combo.setCurrentText("identity")
    playground.padding_spin.setValue(1)
    playground.seek(playground.step_count())
    image = playground.model.input
    assert image.min() >= 0 and image.max() <= 255
    np.testing.assert_array_equal(playground.output_values(), image)


def test_unreadable_image_is_a_message(tmp_path, playground):
    bad = tmp_path / "not_an_image.png"
    bad.write_text("hello")
    playground.load_image(bad)
    assert "Could not read" in playground.message_text()


def test_every_example_in_the_menu_loads(playground):
    titles = [action.text() for action in playground.examples_menu.actions()]
    assert titles == [example.title for example in LECTURE_EXAMPLES.values()]
    for action in playground.examples_menu.actions():
        action.trigger()
        assert playground.message_text() == ""
        assert playground.step_count() > 0


def test_open_playground_shows_a_window(qtbot):
    window = open_playground()
    qtbot.addWidget(window)
    assert window.isVisible()


def test_window_opens_without_loading_torch():
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from designer.ui.playground import open_playground\n"
        "window = open_playground()\n"
        "window.step()\n"
        "print('torch' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(root))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("False")
