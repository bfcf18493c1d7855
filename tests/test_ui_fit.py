"""The summary's Fit view through its real widgets and the real worker process: Measure
returns at once (the measuring happens in another process), the layers and batch sizes
arrive with the largest batch marked, an edit marks the result stale and undo makes it
current again."""
from __future__ import annotations

import os
import time

import pytest
from PySide6.QtCore import Qt

from designer.graph.model import SetField, SetParam
from designer.ui.fit_view import FitView
from designer.ui.summary_panel import SHARE_ROLE, SummaryPanel


@pytest.fixture
def fit(qtbot, doc):
    panel = SummaryPanel(doc)
    qtbot.addWidget(panel)
    panel.resize(1100, 500)
    panel.show()
    panel.tabs.setCurrentIndex(panel.tabs.indexOf(panel.fit_view))
    view = panel.fit_view
    view.measure_options = dict(warmup=0, iterations=1, threads=1)
    view.device_box.setCurrentText("cpu")
    yield view
    panel.detach()


def rows(model) -> list[list[str]]:
    return [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]


def test_measure_in_the_worker_then_stale_after_an_edit(qtbot, fit: FitView, doc):
    assert "Not measured yet" in fit.status.text()
    fit.batch_edit.setText("1, 4")
    started = time.perf_counter()
    qtbot.mouseClick(fit.measure_button, Qt.MouseButton.LeftButton)
    assert time.perf_counter() - started < 2          # the window did not wait for the measurement
    assert fit.running() and fit.job.process.pid != os.getpid()
    assert not fit.measure_button.isEnabled() and fit.cancel_button.isVisible()
    qtbot.waitUntil(lambda: not fit.running(), timeout=120_000)
    assert "Measured on cpu (1 thread)" in fit.status.text(), fit.status.text()

    layers = {r[0]: r for r in rows(fit.layer_model)}
    for name in ("c1", "c3", "c5", "f6", "output"):
        assert layers[name][1] in ("Conv2d", "Linear")
        assert float(layers[name][2]) > 0 and float(layers[name][3].replace(",", "")) > 0
    assert "outside the layers" in layers
    percents = [float(r[4].rstrip(" %")) for r in rows(fit.layer_model)]   # of one step, the rest included
    assert sum(percents) == pytest.approx(100, abs=0.1 * len(percents))
    bars = [fit.layer_model.index(r, 4).data(SHARE_ROLE) for r in range(fit.layer_model.rowCount())]
    assert max(bars) == pytest.approx(1) and all(0 <= b <= 1 for b in bars)   # drawn against the biggest layer
    assert bars[-1] == 0                                                       # the rest: a figure, no bar
    # a click on the header sorts by the backward time, as numbers
    fit.layer_view.sortByColumn(3, Qt.SortOrder.DescendingOrder)
    ordered = [fit.layer_proxy.index(r, 3).data() for r in range(fit.layer_proxy.rowCount())]
    numbers = [float(v.replace(",", "")) for v in ordered if v]
    assert numbers == sorted(numbers, reverse=True)
    fit.layer_view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)

    batches = rows(fit.batch_model)
    assert [b[0] for b in batches[:2]] == ["1", "4"]
    assert all(b[1].endswith(" ms") and b[3].endswith("B") for b in batches[:2])
    assert batches[2][0].startswith("★ ") and batches[2][3].startswith("≈ ")   # computed on the CPU
    assert "Largest batch that fits" in fit.estimate_note.text() and "computed, not tried" in fit.estimate_note.text()

    # moving a block changes nothing measured; a parameter does
    # (the analysis follows an edit on a zero-delay timer)
    doc.edit("Move", [SetField("c1", "pos", (900.0, 900.0))])
    qtbot.wait(50)
    assert not fit.stale
    doc.edit("Channels", [SetParam("c1", "out_channels", 8)])
    qtbot.waitUntil(lambda: fit.stale)
    assert "Stale: the network has changed" in fit.status.text()
    assert not fit.layer_view.isEnabled()
    assert rows(fit.layer_model)[0][0] == "c1"                  # the last figures stay on screen
    doc.history.undo()
    qtbot.waitUntil(lambda: not fit.stale)
    assert fit.layer_view.isEnabled() and "Measured on cpu" in fit.status.text()

    # a layer row selects its block
    fit.layer_view.clicked.emit(fit.layer_model.index(3, 0))
    assert doc.selection == ["c3"]


def test_bad_batch_sizes_are_refused_in_words(qtbot, fit: FitView):
    fit.batch_edit.setText("8, many")
    qtbot.mouseClick(fit.measure_button, Qt.MouseButton.LeftButton)
    assert not fit.running()
    assert "The batch sizes must read like 1, 8, 32 (whole numbers of 1 or more)." in fit.status.text()


def test_a_network_with_errors_cannot_be_measured(qtbot, fit: FitView, doc):
    doc.edit("Break", [SetParam("c3", "kernel_size", 30)])
    assert not doc.analysis.ok
    qtbot.waitUntil(lambda: not fit.measure_button.isEnabled())
    assert fit.measure_button.toolTip() == "Fix the network's errors first"


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has a CUDA GPU")
def test_no_gpu_is_said_in_words(qtbot, fit: FitView):
    fit.device_box.setCurrentText("cuda")
    qtbot.mouseClick(fit.measure_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not fit.running(), timeout=120_000)
    assert "CUDA was asked for, but this PyTorch sees no CUDA GPU; use --device cpu or auto." in fit.status.text()
    assert fit.measure_button.isEnabled() and fit.shown is None


def test_cancel_ends_the_measuring_process_and_nothing_arrives_after(qtbot, fit: FitView):
    fit.batch_edit.setText("1, 2, 4, 8")
    qtbot.mouseClick(fit.measure_button, Qt.MouseButton.LeftButton)
    job = fit.job
    qtbot.mouseClick(fit.cancel_button, Qt.MouseButton.LeftButton)
    assert not fit.running() and not job.process.is_alive() and job.process.exitcode is not None
    assert fit.status.text() == "Measuring cancelled." and fit.measure_button.isEnabled()
    qtbot.wait(300)   # the reader thread's last poll lands nowhere
    assert fit.status.text() == "Measuring cancelled." and fit.shown is None
