"""View ▸ Filters: the kernels of a Conv2d block, initial or trained.

Set DESIGNER_SCREENSHOTS=docs/screenshots to also write the README's pictures."""

import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from designer import load_graph
from designer.graph import Graph
from designer.graph.model import SetParam
from designer.ui.document import DocumentController
from designer.ui.filters_view import FilterView, open_filters
from designer.compile import compile_graph


def save_screenshot(widget, name: str) -> None:
    folder = os.environ.get("DESIGNER_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(folder) / name))


def train_briefly(graph, dataset: str, steps: int, lr: float, weight_decay: float = 0.0, seed: int = 0):
    """A plain torch loop on the compiled graph: (initial state, trained state, accuracy)."""
    from designer.train.datasets import open_dataset
    shape = tuple(graph.nodes[next(i for i, n in graph.nodes.items() if n.type == "Input")].params["shape"])
    source = open_dataset(dataset, shape)
    x, y = source.train.images.float() / 255, source.train.labels
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny batches: one thread beats two busy ones
    try:
        torch.manual_seed(seed)
        model = compile_graph(graph)
        initial = {k: v.clone() for k, v in model.state_dict().items()}
        opt = torch.optim.AdamW(model.parameters(), lr, weight_decay=weight_decay)
        for _ in range(steps):
            idx = torch.randint(0, len(y), (64,))
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            val = source.val.images.float() / 255
            accuracy = (model(val).argmax(1) == source.val.labels).float().mean().item()
    finally:
        torch.set_num_threads(threads)
    return initial, {k: v.detach().clone() for k, v in model.state_dict().items()}, accuracy


@pytest.fixture(scope="module")
def trained_lenet5():
    graph = load_graph("lenet5").graph
    initial, trained, accuracy = train_briefly(graph, "digits", steps=40, lr=0.01)
    assert accuracy > 0.5  # it did learn something
    return graph, initial, trained


def _tile_pixels(view, index) -> np.ndarray:
    image = view.grid.image(index)
    return np.array([[image.pixelColor(c, r).red() for c in range(image.width())] for r in range(image.height())])


def test_trained_lenet5_c1_shows_six_5x5_kernels_that_moved(qtbot, tmp_path, trained_lenet5):
    graph, initial, trained = trained_lenet5
    run = tmp_path / "lenet5_digits"
    run.mkdir()
    torch.save({"format": "network-designer-run", "nets": {"model": trained}}, run / "best.pt")
    view = FilterView(graph, "c1")
    qtbot.addWidget(view)
    view.resize(520, 460)
    view.show()
    assert view.load_checkpoint(run / "best.pt")
    assert view.grid.count() == 6
    kernels = view.kernels()
    assert kernels.shape == (6, 1, 5, 5)
    np.testing.assert_array_equal(kernels, trained["c1.weight"].numpy())
    assert np.abs(kernels - initial["c1.weight"].numpy()).max() > 0.01  # training moved them
    for i in range(6):  # each tile is its kernel, stretched from black to white
        k = trained["c1.weight"][i, 0]
        expected = ((k - k.min()) / (k.max() - k.min()) * 255).round().numpy()
        assert view.grid.image(i).size().toTuple() == (5, 5)
        np.testing.assert_allclose(_tile_pixels(view, i), expected, atol=1)
    assert view.source_box.currentText() == "Checkpoint lenet5_digits/best.pt"
    save_screenshot(view, "filters_lenet5_c1.png")

    view.set_source("initial")  # the same seed the network was compiled with before training
    np.testing.assert_array_equal(view.kernels(), initial["c1.weight"].numpy())
    assert "5×5×1" in view.title_label.text()


def test_colour_first_layer_and_the_channel_picker(qtbot):
    g = Graph()
    g.add_node("Input", {"shape": [3, 32, 32]}, id="x")
    g.add_node("Conv2d", {"out_channels": 12, "kernel_size": 7, "stride": 2}, id="conv1")
    g.connect("x", "conv1")
    view = FilterView(g, "conv1")
    qtbot.addWidget(view)
    assert view.channel_box.currentText() == "RGB colour"
    assert [view.channel_box.itemText(i) for i in range(4)] == ["RGB colour", "R channel only", "G channel only",
                                                                "B channel only"]
    w = view.kernels()
    image = view.grid.image(0)
    k = w[0].transpose(1, 2, 0)
    expected = (k - k.min()) / (k.max() - k.min()) * 255
    pixel = image.pixelColor(3, 2)
    np.testing.assert_allclose([pixel.red(), pixel.green(), pixel.blue()], expected[2, 3], atol=1)

    view.set_channel(1)  # green alone, in grey
    k = w[0, 1]
    expected = (k - k.min()) / (k.max() - k.min()) * 255
    np.testing.assert_allclose(_tile_pixels(view, 0), expected, atol=1)

    view.set_normalise("global")
    assert f"{w[:, 1].min():+.3f}" in view.legend_label.text()
    assert f"{w[:, 1].max():+.3f}" in view.legend_label.text()


def test_bad_checkpoints_and_blocks_are_messages(qtbot, tmp_path, trained_lenet5):
    graph, _, _ = trained_lenet5
    view = FilterView(graph, "c1")
    qtbot.addWidget(view)
    torch.save({"c1.weight": torch.zeros(6, 3, 5, 5)}, tmp_path / "rgb.pt")
    assert not view.load_checkpoint(tmp_path / "rgb.pt")
    assert "another network" in view.message_label.text()
    (tmp_path / "junk.pt").write_bytes(b"junk")
    assert not view.load_checkpoint(tmp_path / "junk.pt")
    assert view.message_label.text() and "\n" not in view.message_label.text()
    assert view.grid.count() == 6  # what was shown stays

    dense = FilterView(graph, "f6")
    qtbot.addWidget(dense)
    assert "filters are shown for Conv2d blocks" in dense.message_label.text()
    assert dense.grid.count() == 0


def test_the_view_follows_edits_and_lets_go_when_closed(qtbot):
    graph = load_graph("lenet5").graph
    view = FilterView(graph, "c3")
    qtbot.addWidget(view)
    assert view.kernels().shape == (16, 6, 5, 5)
    assert view.channel_box.count() == 6
    graph.apply(SetParam("c3", "kernel_size", 3))
    qtbot.waitUntil(lambda: view.kernels().shape == (16, 6, 3, 3))
    undo = graph.remove_nodes(["c3"])
    qtbot.waitUntil(lambda: view.kernels() is None)
    assert "no block 'c3'" in view.message_label.text()
    graph.apply_all(undo)
    qtbot.waitUntil(lambda: view.kernels() is not None and view.kernels().shape == (16, 6, 3, 3))
    observers = len(graph._observers)
    view.close()
    assert len(graph._observers) == observers - 1
    graph.apply(SetParam("c3", "kernel_size", 5))  # a closed view is not called


def test_open_filters_is_a_window_that_closes_with_its_document(qtbot):
    controller = DocumentController(load_graph("lenet5").graph)
    window = open_filters(controller, "c1")
    qtbot.addWidget(window)
    assert window.isWindow() and window.isVisible()
    assert window.windowTitle() == "Filters — C1"
    controller.set_graph(load_graph("mlp").graph)
    qtbot.waitUntil(lambda: not window.isVisible())
    controller.close()


def alexnet_style() -> Graph:
    """AlexNet's first stages shrunk to 32×32 colour images: a large strided colour
    convolution first, so its kernels can be drawn in colour as in the paper's figure."""
    g = Graph()
    g.meta["title"] = "AlexNet-style"
    g.add_node("Input", {"shape": [3, 32, 32], "name": "image"}, id="input")
    g.add_node("Conv2d", {"out_channels": 48, "kernel_size": 7, "stride": 2, "padding": 3}, id="conv1",
               label="CONV1 7×7/2")
    g.add_node("BatchNorm", id="bn1")
    g.add_node("ReLU", id="relu1")
    g.add_node("MaxPool2d", {"kernel_size": 2, "stride": 2}, id="pool1")
    g.add_node("Conv2d", {"out_channels": 64, "kernel_size": 3, "padding": 1}, id="conv2")
    g.add_node("BatchNorm", id="bn2")
    g.add_node("ReLU", id="relu2")
    g.add_node("AdaptiveAvgPool2d", {"output_size": 1}, id="gap")
    g.add_node("Flatten", id="flatten")
    g.add_node("Linear", {"out_features": 3}, id="fc")
    g.chain("input", "conv1", "bn1", "relu1", "pool1", "conv2", "bn2", "relu2", "gap", "flatten", "fc")
    return g


@pytest.mark.slow
def test_alexnet_style_first_layer_kernels_in_colour(qtbot, tmp_path):
    graph = alexnet_style()
    # weight decay fades what the data does not ask for, leaving the edges and colour blobs
    initial, trained, accuracy = train_briefly(graph, "shapes", steps=500, lr=0.01, weight_decay=0.5)
    assert accuracy > 0.6  # circles, squares and triangles told apart
    run = tmp_path / "alexnet_style_shapes"
    run.mkdir()
    torch.save(trained, run / "best.pt")
    view = FilterView(graph, "conv1")
    qtbot.addWidget(view)
    view.resize(640, 660)
    view.show()
    assert view.load_checkpoint(run / "best.pt")
    assert view.grid.count() == 48 and view.channel_box.currentText() == "RGB colour"
    assert view.grid.image(0).size().toTuple() == (7, 7) and not view.grid.image(0).isGrayscale()
    np.testing.assert_array_equal(view.kernels(), trained["conv1.weight"].numpy())
    assert np.abs(view.kernels() - initial["conv1.weight"].numpy()).mean() > 0.01
    save_screenshot(view, "filters_alexnet_style.png")
