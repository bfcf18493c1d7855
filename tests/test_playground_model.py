"""The playground's decisions without a window: designer.playground_model.Playground.

No Qt here (the last test checks that importing the model loads neither PySide6 nor
torch); the window's own tests (test_playground.py) drive the same model through
its buttons."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from designer.grid_arithmetic import AVG_POOL, CONVOLUTION, KERNELS, LECTURE_EXAMPLES, MAX_POOL, ZERO_PAD
from designer.playground_model import (CUSTOM_KERNEL, SPEEDS, Change, Playground, finite_range, format_weight,
                                       kernel_name, parse_cell, resized)


@pytest.fixture
def playground():
    model = Playground()
    model.changes = []
    model.subscribe(model.changes.append)
    return model


def test_it_opens_on_the_lecture_convolution():
    model = Playground()
    example = LECTURE_EXAMPLES["conv_5x5"]
    assert model.example == "conv_5x5" and model.operation == CONVOLUTION
    np.testing.assert_array_equal(model.input, example.input_grid())
    assert model.kernel_choice == "X (lecture example)"
    assert model.step_count() == 9 and model.index == 0
    assert model.note.startswith("Lecture example — Convolution: 5×5 image")
    assert model.message == "" and model.current_step_text() == ""
    assert model.step_html() .startswith("Press <b>Step</b>")
    assert model.input_title() == "Input 5×5" and model.kernel_title() == "Kernel 3×3 — X (lecture example)"
    assert model.output_title() == "Output 3×3"
    assert model.formula_html() == "<b>Output size:</b> ⌊(5 + 2·0 − 3)/1⌋ + 1 = 3 in each direction → <b>3×3</b>"


def test_stepping_fills_the_output_and_marks_the_window(playground):
    playground.step()
    assert playground.changes == [Change.POSITION]
    assert playground.current_step_text() == "1×1 + 1×0 + 1×1 + 0×0 + 1×1 + 1×0 + 0×1 + 0×0 + 1×1 = 4"
    assert playground.window_cells() == {(0, 0): "×1", (0, 1): "×0", (0, 2): "×1", (1, 0): "×0", (1, 1): "×1",
                                         (1, 2): "×0", (2, 0): "×1", (2, 1): "×0", (2, 2): "×1"}
    assert "<b>4</b>" in playground.step_html("#123456") and "color:#123456" in playground.step_html("#123456")
    playground.seek(99)
    np.testing.assert_array_equal(playground.output_values(), LECTURE_EXAMPLES["conv_5x5"].expected)
    transport = playground.transport()
    assert (transport.index, transport.total, transport.position) == (9, 9, "cell 9 of 9")
    assert transport.back and not transport.forward and transport.play
    playground.back()
    assert np.isnan(playground.output_values()[2, 2])


def test_playing_stops_at_the_end_and_starts_again_from_the_start(playground):
    playground.play()
    assert playground.playing and playground.changes == [Change.PLAYING]
    for _ in range(9):
        playground.step()  # what the window's timer does
    assert not playground.playing and playground.changes[-2:] == [Change.PLAYING, Change.POSITION]
    playground.play()
    assert playground.playing and playground.index == 0
    playground.set_speed("100 cells/s")
    assert playground.interval_ms == 1000 // SPEEDS["100 cells/s"]
    playground.toggle_play()
    assert not playground.playing


@pytest.mark.parametrize("name", list(LECTURE_EXAMPLES))
def test_every_lecture_example_gives_the_slide_numbers(name):
    example = LECTURE_EXAMPLES[name]
    model = Playground(name)
    model.seek(model.step_count())
    output = model.output_values()
    if example.expected is not None:
        np.testing.assert_array_equal(output, example.expected)
    if example.expected_top_left is not None:
        corner = np.array(example.expected_top_left)
        np.testing.assert_array_equal(output[: corner.shape[0], : corner.shape[1]], corner)
    if example.expected_shape is not None:
        assert output.shape == example.expected_shape
    assert model.message == "" and model.example == name


def test_which_controls_apply_to_each_operation(playground):
    playground.load_example("max_pool_4x4")
    controls = playground.controls()
    assert not controls.kernel_choice and controls.size_label == "Window size" and not controls.dilation
    assert controls.size and controls.stride and not controls.kernel_shown
    assert controls.operator == "max\n2×2\n→"
    assert playground.kernel_size == 2
    playground.set_operation(AVG_POOL)
    assert playground.controls().operator == "avg\n2×2\n→"
    assert playground.output_values().shape == (2, 2) and playground.note == "" and playground.example is None
    playground.set_operation(ZERO_PAD)
    controls = playground.controls()
    assert controls.operator == "pad 0\n→" and not controls.size and not controls.stride
    assert playground.input_ring() == (0, 0)
    playground.set_padding(2)
    assert playground.output_ring() == (2, 2) and playground.output_values().shape == (8, 8)
    assert playground.formula_html().startswith("<b>Padded size:</b> 4 + 2·2 = 8")
    playground.set_operation(CONVOLUTION)
    assert playground.kernel_size == playground.kernel.shape[0] == 3  # the spin box reads the kernel again
    assert playground.controls().operator == "∗" and playground.input_title() == "Input 4×4 — padded to 8×8"


def test_max_pooling_pads_with_minus_infinity(playground):
    playground.load_example("max_pool_4x4")
    playground.set_padding(1)
    shown = playground.shown_input()
    assert shown.shape == (6, 6) and shown[0, 0] == -np.inf and shown[1, 1] == 12
    playground.set_operation(CONVOLUTION)
    assert playground.shown_input()[0, 0] == 0


def test_kernels_from_the_menu_and_by_hand(playground):
    playground.choose_kernel("laplacian")
    np.testing.assert_array_equal(playground.kernel, KERNELS["laplacian"])
    assert playground.kernel_choice == "laplacian" and playground.kernel_title() == "Kernel 3×3 — laplacian"
    playground.set_kernel_size(5)  # grows around its middle
    assert playground.kernel.shape == (5, 5) and playground.kernel[2, 2] == 8 and playground.kernel[0, 0] == 0
    assert playground.kernel_choice == CUSTOM_KERNEL
    playground.set_kernel_size(3)
    assert playground.kernel_choice == "laplacian"
    playground.edit_kernel_cell(0, 0, "1/9")
    assert playground.kernel[0, 0] == pytest.approx(1 / 9) and playground.kernel_choice == CUSTOM_KERNEL
    playground.choose_kernel(CUSTOM_KERNEL)  # renames only
    assert playground.kernel[0, 0] == pytest.approx(1 / 9)
    playground.set_kernel_size(99)
    assert playground.kernel.shape == (7, 7)  # the settings keep to their ranges


def test_text_that_is_not_a_number_keeps_the_last_output(playground):
    playground.seek(9)
    before = playground.output_values()
    playground.edit_input_cell(1, 1, "abc")
    assert playground.message == ("Input cell (row 2, column 2): “abc” is not a number. "
                                  "The output shown is from the last valid input.")
    np.testing.assert_array_equal(playground.output_values(), before)
    assert playground.bad_input == {(1, 1): "abc"}
    playground.edit_input_cell(1, 1, "5")
    assert playground.message == "" and playground.bad_input == {}
    assert playground.output_values()[0, 0] == 8  # the 1 under the kernel's middle tap is now 5


def test_bad_kernel_cells_count_only_for_a_convolution(playground):
    playground.edit_kernel_cell(2, 2, "x")
    assert "Kernel cell (row 3, column 3)" in playground.message
    playground.set_operation(MAX_POOL)
    assert playground.message == ""
    playground.set_operation(CONVOLUTION)
    assert "Kernel cell" in playground.message


def test_impossible_settings_explain_themselves_and_keep_the_drawing(playground):
    playground.seek(9)
    playground.set_kernel_size(7)
    assert "no output" in playground.message and not playground.result_current
    assert playground.window_cells() == {}  # the old windows do not fit the new geometry
    assert playground.formula_html() == "<b>Output size:</b> — (see the message below)"
    assert playground.output_values().shape == (3, 3)
    playground.set_padding(1)
    assert playground.message == "" and playground.output_values().shape == (1, 1)


def test_resizing_the_input_keeps_the_corner_and_forgets_bad_cells_cut_off(playground):
    playground.edit_input_cell(4, 4, "?")
    playground.edit_input_cell(0, 0, "?")
    playground.resize_input(3, 4)
    assert playground.input.shape == (3, 4) and playground.bad_input == {(0, 0): "?"}
    playground.resize_input(6, 6)
    assert playground.input.shape == (6, 6) and playground.input[5, 5] == 0


def test_images_and_grids_as_input(playground):
    grid = np.arange(12, dtype=float).reshape(3, 4) * 20
    playground.load_image(grid, "ramp.png")
    assert playground.note == "Image ramp.png: 3×4 grey levels 0–255." and playground.example is None
    assert playground.index == 0 and finite_range(playground.input) == (0.0, 220.0)
    playground.image_failed("Could not read an image from junk.png.")
    assert playground.message == "Could not read an image from junk.png." and playground.input.shape == (3, 4)
    playground.set_input([[1, 2], [3, 4]])
    assert playground.note == "" and playground.message.startswith("The kernel")
    assert playground.grid_columns()[0] == 2


def test_the_listener_hears_each_change_and_can_stop(playground):
    stop = playground.subscribe(playground.changes.append)
    playground.set_stride(2)
    assert playground.changes == [Change.SETTINGS, Change.SETTINGS]
    stop()
    playground.set_stride(1)
    assert len(playground.changes) == 3


def test_cells_and_weights_read_and_written_as_people_type_them():
    assert parse_cell(" −2 ") == -2 and parse_cell("1/9") == pytest.approx(1 / 9) and parse_cell("0,5") == 0.5
    for bad in ("", "abc", "inf", "1/0"):
        with pytest.raises((ValueError, ZeroDivisionError)):
            parse_cell(bad)
    assert format_weight(1 / 9) == "1/9" and format_weight(-0.5) == "−1/2" and format_weight(2.0) == "2"
    assert finite_range(np.array([-np.inf, 3.0, 1.0])) == (1.0, 3.0)
    assert finite_range(np.array([np.nan])) == (0.0, 1.0)
    assert kernel_name(np.array(KERNELS["sobel x"], dtype=float)) == "sobel x"
    np.testing.assert_array_equal(resized(np.ones((3, 3)), 5, 5, centred=True)[1:4, 1:4], np.ones((3, 3)))


def test_the_model_imports_neither_qt_nor_torch():
    code = ("import sys\nfrom designer.playground_model import Playground\nPlayground().seek(9)\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'PySide6'}))")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=60,
                         check=True).stdout
    assert out.strip() == "[]"
