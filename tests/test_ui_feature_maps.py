"""View ▸ Feature Maps: click a block, see its activation maps, strongest first.

Set DESIGNER_SCREENSHOTS=docs/screenshots to also write the README's picture."""

import os
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QGraphicsView

from tests.graphs import module_outputs
from designer import load_graph
from designer.bundled import samples_dir
from designer.compile import compile_graph
from designer.graph import Graph
from designer.introspection.inputs import from_dataset
from designer.ui.document import DocumentController
from designer.introspection.feature_map_session import DRAWING, map_pictures
from designer.ui.feature_maps import FeatureMapPanel

SAMPLES = samples_dir()
RUN_TIMEOUT_MS = 60_000


def save_screenshot(widget, name: str) -> None:
    folder = os.environ.get("DESIGNER_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(folder) / name))


@pytest.fixture
def lenet_panel(qtbot):
    controller = DocumentController(load_graph("lenet5").graph)
    panel = FeatureMapPanel(controller)
    qtbot.addWidget(panel)
    panel.resize(1000, 480)
    with qtbot.waitSignal(panel.ran, timeout=RUN_TIMEOUT_MS) as run:
        panel.show()
    assert not run.args[0].error
    yield controller, panel
    panel.close()
    controller.close()


def test_clicking_a_block_on_the_canvas_shows_one_map_per_channel(qtbot, lenet_panel):
    from designer.ui.canvas.scene import CanvasScene
    controller, panel = lenet_panel
    scene = CanvasScene(controller)
    view = QGraphicsView(scene)
    qtbot.addWidget(view)
    view.resize(900, 300)
    view.show()
    reference = module_outputs(controller.graph, panel.example.tensor)
    for node_id in ["c1", "s2", "c3_tanh", "s4", "c5"]:
        item = scene.nodes[node_id]
        view.centerOn(item)
        QTest.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier,
                         view.mapFromScene(item.sceneBoundingRect().center()))
        assert controller.selection == [node_id]
        channels = reference[node_id].shape[0]
        assert panel.map_count() == channels, node_id
        assert panel.title_label.text().startswith(f"{controller.graph.nodes[node_id].title}: {channels} map")
    scene.detach()


def test_maps_are_the_strongest_first_and_equal_torch(lenet_panel):
    controller, panel = lenet_panel
    controller.select(["c3"])
    reference = module_outputs(controller.graph, panel.example.tensor)["c3"]
    strengths = reference.abs().mean(dim=(1, 2))
    assert panel.channel_order() == torch.argsort(strengths, descending=True, stable=True).tolist()
    first = panel.channel_order()[0]
    assert panel.grid.captions()[0] == f"{first + 1} · {strengths[first]:.2g}"
    torch.testing.assert_close(panel.outcome.activations.of("c3"), reference)
    pictures, lo, hi = map_pictures(reference.numpy())  # one scale for the block, tanh: 0 is mid grey
    assert hi == pytest.approx(float(reference.abs().max())) and lo == -hi
    image = panel.grid.image(0)
    assert image.size().toTuple() == (10, 10)
    assert image.pixelColor(4, 3).red() == pytest.approx(pictures[first, 3, 4] * 255, abs=1)


def test_clicking_a_map_enlarges_it(qtbot, lenet_panel):
    controller, panel = lenet_panel
    controller.select(["c1"])
    panel.grid.resize(600, 300)
    QTest.mouseClick(panel.grid, Qt.LeftButton, Qt.NoModifier, panel.grid.tile_rect(2).center())
    channel = panel.channel_order()[2]
    assert panel.enlarged_channel() == channel
    assert panel.enlarged_caption.text().startswith(f"Channel {channel + 1}, rank 3")
    assert not panel.enlarged.pixmap().isNull()


def test_top5_beside_the_input_equals_torch(lenet_panel):
    controller, panel = lenet_panel
    scores = module_outputs(controller.graph, panel.example.tensor)["__result__"]
    values, indices = torch.topk(torch.softmax(scores, 0), 5)
    assert [p.name for p in panel.predictions] == [str(i) for i in indices.tolist()]
    assert [p.probability for p in panel.predictions] == pytest.approx(values.tolist(), abs=1e-6)
    name, bar = panel.prediction_rows[0]
    assert name.text() == str(indices[0].item()) and bar.format() == f"{values[0] * 100:.1f}%"
    assert panel.predictions_box.isVisibleTo(panel)


def test_inputs_from_a_file_and_a_drawing(qtbot, lenet_panel):
    controller, panel = lenet_panel
    with qtbot.waitSignal(panel.ran, timeout=RUN_TIMEOUT_MS):
        panel.set_image_file(SAMPLES / "digit_seven.png")
    assert panel.example.source == "digit_seven.png" and tuple(panel.example.tensor.shape) == (1, 32, 32)
    assert panel.pad.grid().shape == (32, 32)  # the pad matches the 32×32 Input
    with qtbot.waitSignal(panel.ran, timeout=RUN_TIMEOUT_MS):
        panel.source_box.setCurrentIndex(panel.source_box.findData(DRAWING))
    assert panel.pad.isVisibleTo(panel) and float(panel.example.tensor.abs().sum()) == 0  # a blank pad
    with qtbot.waitSignal(panel.ran, timeout=RUN_TIMEOUT_MS):
        panel.pad.stroke([(6, 16), (26, 16)])  # a stroke down the middle: a "1"
    assert panel.example.source == "your drawing"
    assert panel.example.tensor[0, 16, 16] > 0.9 and panel.example.tensor[0, 16, 4] == 0


def test_vectors_and_errors(qtbot, lenet_panel):
    controller, panel = lenet_panel
    controller.select(["f6"])
    assert panel.map_count() == 1 and "a vector of 84 values" in panel.title_label.text()
    from designer.graph.model import SetParam
    with qtbot.waitSignal(controller.analysis_changed):
        controller.edit("break", [SetParam("c5", "kernel_size", 7)])  # 5×5 maps cannot take a 7×7 kernel
    panel.run_now()
    assert "error" in panel.message_label.text() and "\n" not in panel.message_label.text()


def test_a_new_input_size_refits_the_example(qtbot, lenet_panel):
    from designer.graph.model import SetParam
    controller, panel = lenet_panel
    with qtbot.waitSignal(panel.ran, timeout=RUN_TIMEOUT_MS) as run:
        controller.edit("bigger input", [SetParam("input", "shape", [1, 36, 36])])
    assert not run.args[0].error
    assert tuple(panel.example.tensor.shape) == (1, 36, 36)
    controller.select(["c1"])
    assert panel.title_label.text().startswith("C1: 6 maps of 32×32")


def test_an_edit_inside_a_users_own_block_rebuilds_the_network(qtbot):
    """Editing inside a composite leaves the revisions of the blocks using it as they were;
    the panel must still build the network again rather than reuse the old one."""
    from designer.graph.model import SetParam
    g = Graph()
    g.add_node("Input", {"shape": [1, 12, 12], "name": "image"}, id="image")
    g.add_node("Conv2d", {"out_channels": 4, "kernel_size": 3}, id="c1")
    g.add_node("ReLU", id="act")
    g.add_node("Flatten", id="flat")
    g.chain("image", "c1", "act", "flat")
    g.group(["c1", "act"], "ConvBlock")
    block = next(i for i, n in g.nodes.items() if n.type == "ConvBlock")
    controller = DocumentController(g)
    panel = FeatureMapPanel(controller)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.ran, timeout=RUN_TIMEOUT_MS) as run:
        panel.show()
    assert not run.args[0].error and run.args[0].activations.of(block).shape[0] == 4
    inside = g.composites["ConvBlock"].graph
    conv = next(i for i, n in inside.nodes.items() if n.type == "Conv2d")
    with qtbot.waitSignal(panel.ran, timeout=RUN_TIMEOUT_MS) as run:
        controller.edit("wider", [SetParam(conv, "out_channels", 7)], graph=inside)
    assert not run.args[0].error
    assert tuple(run.args[0].activations.of(block).shape) == controller.analysis.nodes[block].output_shape
    assert run.args[0].activations.of(block).shape[0] == 7
    panel.close()
    controller.close()


def test_a_trained_checkpoint_reads_the_digit(qtbot, tmp_path, lenet_panel):
    """LeNet-5 trained a few seconds on the digits, then shown one of the held-out digits."""
    from test_ui_filters import train_briefly
    controller, panel = lenet_panel
    _initial, trained, accuracy = train_briefly(controller.graph, "digits", steps=60, lr=0.01)
    assert accuracy > 0.8
    run = tmp_path / "lenet5_digits"
    run.mkdir()
    torch.save({"format": "network-designer-run", "nets": {"model": trained}, "config": {"augment": []}},
               run / "best.pt")
    index = next(i for i in range(40) if from_dataset("digits", i, (1, 32, 32)).label == 3)
    example = from_dataset("digits", index, (1, 32, 32))
    with qtbot.waitSignal(panel.ran, timeout=RUN_TIMEOUT_MS):
        panel.load_checkpoint(run / "best.pt")
    with qtbot.waitSignal(panel.ran, timeout=RUN_TIMEOUT_MS):
        panel.set_dataset_sample("digits", index)
    torch.testing.assert_close(panel.example.tensor, example.tensor)
    model = compile_graph(controller.graph)
    model.load_state_dict(trained)
    with torch.no_grad():
        expected = torch.softmax(model.eval()(example.tensor[None])[0], 0)
    assert panel.predictions[0].index == int(expected.argmax())
    assert panel.predictions[0].probability == pytest.approx(float(expected.max()), abs=1e-5)
    controller.select(["c1"])
    assert panel.map_count() == 6
    panel.resize(1000, 440)
    save_screenshot(panel, "feature_maps_lenet5.png")

    # a run that normalised its images is fed the example normalised the same way
    from designer.train.augment import channel_stats
    from designer.train.datasets import open_dataset
    config = {"dataset": "digits", "augment": ["normalize"], "val_fraction": 0.2}
    torch.save({"nets": {"model": trained}, "config": config}, run / "last.pt")
    with qtbot.waitSignal(panel.ran, timeout=RUN_TIMEOUT_MS):
        panel.load_checkpoint(run / "last.pt")
    mean, std = channel_stats(open_dataset("digits", (1, 32, 32), val_fraction=0.2).train.images[:5000].float() / 255)
    torch.testing.assert_close(panel.outcome.activations.of("input"), (example.tensor - mean[0]) / std[0])


def test_resnet18_conv1_shows_64_maps(qtbot):
    controller = DocumentController(load_graph("resnet18").graph)
    panel = FeatureMapPanel(controller)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.ran, timeout=RUN_TIMEOUT_MS) as run:
        panel.show()
    outcome = run.args[0]
    assert not outcome.error
    assert panel.shown_node() == "conv1" and panel.map_count() == 64
    assert panel.example.tensor.shape == (3, 224, 224)
    controller.select(["layer2"])  # a composite shows what comes out of it
    assert panel.map_count() == 128
    panel.close()
    controller.close()


def test_closing_the_panel_ends_its_thread_and_lets_go(qtbot):
    g = Graph()
    g.add_node("Input", {"shape": [64]}, id="x")  # an MLP that reads the 8×8 digits as 64 numbers
    g.add_node("Linear", {"out_features": 10}, id="fc")
    g.connect("x", "fc")
    controller = DocumentController(g)
    panel = FeatureMapPanel(controller)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.ran, timeout=RUN_TIMEOUT_MS):
        panel.show()
    assert tuple(panel.example.tensor.shape) == (64,)
    controller.select(["fc"])
    assert panel.map_count() == 1 and "a vector of 10 values" in panel.title_label.text()
    panel.close()
    assert not panel._thread.isRunning()
    assert not panel._connections
    controller.set_graph(Graph())  # a closed panel is not called
    controller.close()


def test_a_hidden_panel_waits_and_a_torn_down_window_takes_it_cleanly(qtbot):
    from PySide6.QtWidgets import QDockWidget, QMainWindow
    controller = DocumentController(load_graph("lenet5").graph)
    window = QMainWindow()
    dock = QDockWidget("Feature Maps", window)
    panel = FeatureMapPanel(controller)
    dock.setWidget(panel)
    window.addDockWidget(Qt.BottomDockWidgetArea, dock)
    dock.hide()
    window.show()
    controller.select(["c3"])
    assert panel._thread is None and panel.example is None  # nothing computed for a hidden dock
    with qtbot.waitSignal(panel.ran, timeout=RUN_TIMEOUT_MS):
        dock.show()
    assert panel.shown_node() == "c3" and panel.map_count() == 16
    thread = panel._thread
    from designer.ui import feature_maps
    assert feature_maps._WORKERS[thread] is panel._worker   # held apart from the panel while it runs
    assert thread.parent() is QApplication.instance()      # so the garbage collector cannot end it running
    window.deleteLater()  # the window goes without closing its docks
    qtbot.waitUntil(lambda: not thread.isRunning())
    qtbot.waitUntil(lambda: thread not in feature_maps._WORKERS)
    controller.close()


def test_weights_loaded_into_the_drawing_are_offered_and_used(qtbot, lenet_panel):
    controller, panel = lenet_panel
    torch.manual_seed(5)
    other = compile_graph(controller.graph).state_dict()
    with qtbot.waitSignal(panel.ran, timeout=RUN_TIMEOUT_MS):
        controller.document.load_weights(other)  # what Training ▸ Load weights into the drawing does
    assert panel.weights_box.currentText() == "The document's weights"
    x = panel.example.tensor[None]
    expected = torch.nn.functional.conv2d(x, other["c1.weight"], other["c1.bias"])[0]
    torch.testing.assert_close(panel.outcome.activations.of("c1"), expected)

    # weights loaded again are new weights: the network is built again with them
    doubled = {name: value * 2 for name, value in other.items()}
    with qtbot.waitSignal(panel.ran, timeout=RUN_TIMEOUT_MS) as run:
        controller.document.set_weights(doubled)
    assert run.args[0].compile_seconds > 0
    expected = torch.nn.functional.conv2d(x, doubled["c1.weight"], doubled["c1.bias"])[0]
    torch.testing.assert_close(panel.outcome.activations.of("c1"), expected)

    # dropped, they are no longer offered, and the initial weights run again
    with qtbot.waitSignal(panel.ran, timeout=RUN_TIMEOUT_MS):
        controller.document.set_weights(None)
    assert panel.weights_box.findData("document") < 0
    assert panel.weights_box.currentText() == "Initial weights (seed 0)"
    torch.testing.assert_close(panel.outcome.activations.of("c1"), module_outputs(controller.graph, x[0])["c1"])


def test_a_document_opened_with_weights_runs_with_them(qtbot):
    graph = load_graph("lenet5").graph
    torch.manual_seed(7)
    weights = compile_graph(graph).state_dict()
    controller = DocumentController(Graph())
    panel = FeatureMapPanel(controller)
    qtbot.addWidget(panel)
    panel.show()
    with qtbot.waitSignal(panel.ran, timeout=RUN_TIMEOUT_MS):
        controller.set_graph(graph, weights=weights)  # what opening a .pth does
    assert panel.weights_box.currentData() == "document"
    x = panel.example.tensor[None]
    expected = torch.nn.functional.conv2d(x, weights["c1.weight"], weights["c1.bias"])[0]
    torch.testing.assert_close(panel.outcome.activations.of("c1"), expected)
    panel.close()
    controller.close()


def test_a_panel_freed_by_the_garbage_collector_while_its_thread_runs_does_not_abort():
    """The panel's Python side in a reference cycle (as a closed window's lambdas make it),
    collected while its worker thread runs: Qt aborted the whole program ("QThread: Destroyed
    while thread 'feature-maps' is still running"). Run apart, since an abort ends the process."""
    import subprocess
    import sys
    code = """
import gc, time
from PySide6.QtWidgets import QApplication
app = QApplication([])
from designer import load_graph
from designer.ui.document import DocumentController
from designer.ui.feature_maps import FeatureMapPanel
for _ in range(3):
    panel = FeatureMapPanel(DocumentController(load_graph("lenet5").graph))
    panel.resize(1000, 480)
    panel.show()
    start = time.time()
    while panel._thread is None and time.time() - start < 60:
        app.processEvents()
        time.sleep(0.005)
    assert panel._thread.isRunning()
    panel.cycle = panel
    del panel
    gc.collect()
    for _ in range(20):
        app.processEvents()
        time.sleep(0.01)
print("survived")
"""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240, env=env,
                          cwd=Path(__file__).resolve().parents[1])
    assert (done.returncode, done.stdout.strip()) == (0, "survived"), done.stderr[-2000:]
