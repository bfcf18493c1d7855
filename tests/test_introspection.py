"""designer.introspection: activations, kernels, predictions, inputs and weights, held
against PyTorch computing the same things directly."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from designer import load_graph
from designer.bundled import samples_dir
from designer.compile import compile_graph
from designer.graph import Graph
from designer.introspection.activations import capture, channel_strengths, forward_threads, strongest_first
from designer.introspection.filters import FilterError, check_filter_node, grid_columns, kernel_grid
from designer.introspection.inputs import InputError, from_dataset, from_drawing, from_file, input_shape
from designer.introspection.predictions import class_names, classifier_output, top_k
from designer.introspection.weights import (expected_shape, initial_weight, input_normalisation, node_weight,
                                            read_checkpoint)

SAMPLES = samples_dir()


@pytest.fixture(scope="module")
def lenet():
    graph = load_graph("lenet5").graph
    torch.manual_seed(0)
    return graph, compile_graph(graph)


def _skip_graph() -> Graph:
    """Input → conv → (relu, conv) → Add, Concat; the functional nodes the fx graph
    writes as `a + b` and `torch.cat`, with an explicit Output."""
    g = Graph()
    g.add_node("Input", {"shape": [3, 8, 8], "name": "x"}, id="x")
    g.add_node("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}, id="a")
    g.add_node("ReLU", id="r")
    g.add_node("Conv2d", {"out_channels": 4, "kernel_size": 1}, id="b")
    g.add_node("Add", id="add")
    g.add_node("Concat", id="cat")
    g.add_node("Output", {"name": "y"}, id="out")
    g.chain("x", "a", "r", "b")
    g.connect("a", "add")
    g.connect("b", "add")
    g.connect("add", "cat")
    g.connect("r", "cat")
    g.connect("cat", "out")
    return g


# ---- activations ---------------------------------------------------------------------------------

def test_every_lenet5_node_is_captured_and_equals_torch(lenet):
    graph, model = lenet
    x = torch.rand(1, 32, 32)
    acts = capture(model, graph, x)
    assert set(acts.outputs) == set(graph.nodes)
    ref = x[None]
    for node_id in ["c1", "c1_tanh", "s2", "c3", "c3_tanh", "s4", "c5", "c5_tanh", "flatten", "f6", "f6_tanh",
                    "output"]:
        ref = getattr(model, node_id)(ref)
        torch.testing.assert_close(acts.of(node_id), ref[0], rtol=0, atol=0)
    torch.testing.assert_close(acts.of("input"), x)
    with torch.no_grad():
        torch.testing.assert_close(acts.result, model(x[None])[0])
    assert acts.seconds > 0


def test_add_and_concat_values_equal_torch_arithmetic():
    graph = _skip_graph()
    torch.manual_seed(1)
    model = compile_graph(graph)
    x = torch.randn(3, 8, 8)
    acts = capture(model, graph, x)
    a = F.conv2d(x[None], model.a.weight, model.a.bias, padding=1)[0]
    r = torch.relu(a)
    b = F.conv2d(r[None], model.b.weight, model.b.bias)[0]
    torch.testing.assert_close(acts.of("add"), a + b)
    torch.testing.assert_close(acts.of("cat"), torch.cat([a + b, r]))
    torch.testing.assert_close(acts.of("out"), torch.cat([a + b, r]))  # an Output shows what reaches it
    assert acts.of("cat").shape == (8, 8, 8)


def test_capture_leaves_the_model_in_training_mode_and_refuses_missing_inputs(lenet):
    graph, model = lenet
    model.train()
    capture(model, graph, torch.zeros(1, 32, 32))
    assert model.training
    with pytest.raises(ValueError, match="no input given"):
        capture(model, graph, {"wrong": torch.zeros(1, 32, 32)})


def test_strongest_channels_first_by_mean_absolute_activation():
    t = torch.randn(7, 5, 5)
    t[3] *= 10
    order = strongest_first(t)
    expected = torch.argsort(t.abs().mean(dim=(1, 2)), descending=True).tolist()
    assert order == expected and order[0] == 3
    torch.testing.assert_close(channel_strengths(t), t.abs().mean(dim=(1, 2)))
    assert strongest_first(torch.tensor([0.5, -2.0, 1.0])) == [1, 2, 0]


def test_small_networks_run_on_one_thread():
    assert forward_threads(416_520) == 1
    assert forward_threads(1_814_073_344) >= 1


# ---- kernels ---------------------------------------------------------------------------------------

def test_colour_kernels_are_rgb_and_stretched_per_kernel():
    w = torch.randn(8, 3, 5, 5)
    grid = kernel_grid(w)
    assert grid.colour and grid.tiles.shape == (8, 5, 5, 3) and grid.channel is None
    for i in range(8):
        k = w[i].permute(1, 2, 0)
        expected = (k - k.min()) / (k.max() - k.min())
        np.testing.assert_allclose(grid.tiles[i], expected.numpy(), atol=1e-6)


def test_one_channel_at_a_time_and_one_global_scale():
    w = torch.randn(16, 6, 5, 5)
    grid = kernel_grid(w, channel=2, normalise="global")
    assert not grid.colour and grid.tiles.shape == (16, 5, 5) and grid.channel == 2
    lo, hi = w[:, 2].min(), w[:, 2].max()
    np.testing.assert_allclose(grid.tiles, ((w[:, 2] - lo) / (hi - lo)).numpy(), atol=1e-6)
    assert grid.low == pytest.approx(float(lo)) and grid.high == pytest.approx(float(hi))
    assert kernel_grid(w).channel == 0  # not RGB: the first input channel by default
    with pytest.raises(FilterError, match="channel 6 does not exist"):
        kernel_grid(w, channel=6)


def test_a_constant_kernel_is_mid_grey():
    grid = kernel_grid(torch.zeros(6, 1, 5, 5))
    assert np.all(grid.tiles == 0.5)
    assert grid_columns(6) == 3 and grid_columns(96) == 12


def test_only_conv_blocks_have_filters(lenet):
    graph, _ = lenet
    check_filter_node(graph, "c1")
    with pytest.raises(FilterError, match="Linear block"):
        check_filter_node(graph, "f6")
    with pytest.raises(FilterError, match="no block"):
        check_filter_node(graph, "nope")


# ---- weights ---------------------------------------------------------------------------------------

def test_initial_weight_is_what_the_compiled_network_starts_from(lenet):
    graph, _ = lenet
    torch.manual_seed(0)
    fresh = compile_graph(graph)
    torch.testing.assert_close(initial_weight(graph, "c1", seed=0), fresh.c1.weight.detach())
    assert expected_shape(graph, "c3") == tuple(fresh.c3.weight.shape)


def test_checkpoints_of_every_layout_are_read(tmp_path, lenet):
    graph, model = lenet
    state = {k: v.clone() for k, v in model.state_dict().items()}
    run = {"format": "network-designer-run", "version": 1, "nets": {"model": state},
           "config": {"dataset": "digits", "augment": ["normalize"], "val_fraction": 0.2}}
    for name, payload in {"plain.pt": state, "wrapped.pt": {"state_dict": state},
                          "ddp.pt": {f"module.{k}": v for k, v in state.items()}, "best.pt": run}.items():
        torch.save(payload, tmp_path / name)
        checkpoint = read_checkpoint(tmp_path / name)
        torch.testing.assert_close(node_weight(checkpoint.state, graph, "c1"), model.c1.weight.detach())
    assert checkpoint.normalized and checkpoint.name == f"{tmp_path.name}/best.pt"


def test_a_checkpoint_of_another_network_is_refused_in_words(tmp_path, lenet):
    graph, _ = lenet
    torch.save({"c1.weight": torch.zeros(6, 3, 5, 5)}, tmp_path / "rgb.pt")
    with pytest.raises(FilterError, match="6×3×5×5.*6×1×5×5"):
        node_weight(read_checkpoint(tmp_path / "rgb.pt").state, graph, "c1")
    with pytest.raises(FilterError, match="no 'c3.weight'"):
        node_weight(read_checkpoint(tmp_path / "rgb.pt").state, graph, "c3")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    from designer.graph.errors import GraphError
    with pytest.raises(GraphError) as info:
        read_checkpoint(tmp_path / "junk.pt")
    assert "\n" not in str(info.value)


def test_a_normalised_run_is_fed_as_the_engine_fed_it():
    """The engine measures mean and deviation on its first training images; so must we."""
    from designer.introspection.weights import Checkpoint
    from designer.train.augment import channel_stats
    from designer.train.datasets import open_dataset
    checkpoint = Checkpoint({}, "x", {"dataset": "digits", "augment": ["normalize"], "val_fraction": 0.2})
    mean, std = input_normalisation(checkpoint, (1, 32, 32))
    images = open_dataset("digits", (1, 32, 32), val_fraction=0.2).train.images[:5000].float() / 255
    ref_mean, ref_std = channel_stats(images)
    torch.testing.assert_close(mean, ref_mean[0])
    torch.testing.assert_close(std, ref_std[0])
    assert input_normalisation(Checkpoint({}, "x", {"augment": []}), (1, 32, 32)) is None


# ---- inputs ------------------------------------------------------------------------------------------

def test_a_digits_sample_is_a_validation_image_fitted_like_the_engine_does():
    from designer.train.datasets import open_dataset
    example = from_dataset("digits", 5, (1, 32, 32))
    source = open_dataset("digits", (1, 32, 32))
    torch.testing.assert_close(example.tensor, source.val.images[5].float() / 255)
    assert example.label == int(source.val.labels[5]) and example.label_name == str(example.label)
    assert example.picture.shape == (32, 32)
    flat = from_dataset("digits", 5, (64,))  # an MLP's vector input: the 8×8 image flattened
    assert flat.tensor.shape == (64,) and flat.picture.shape == (8, 8)


def test_an_image_file_is_resized_and_made_colour_or_grey():
    from PIL import Image
    path = SAMPLES / "smiley.png"
    rgb = np.asarray(Image.open(path).convert("RGB"), np.float32) / 255
    colour = from_file(path, (3, 40, 40))
    expected = F.interpolate(torch.from_numpy(rgb).permute(2, 0, 1)[None], size=(40, 40), mode="bilinear",
                             align_corners=False, antialias=rgb.shape[0] > 40)[0].clamp(0, 1)
    torch.testing.assert_close(colour.tensor, expected)
    grey = from_file(path, (1, 40, 40))
    luma = (expected * torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)).sum(0, keepdim=True)
    torch.testing.assert_close(grey.tensor, luma, atol=1e-5, rtol=0)
    assert colour.source == "smiley.png"


def test_a_drawing_fits_a_32x32_input():
    drawing = np.zeros((28, 28), np.float32)
    drawing[4:24, 13:15] = 1.0
    example = from_drawing(drawing, (1, 32, 32))
    expected = F.interpolate(torch.from_numpy(drawing)[None, None], size=(32, 32), mode="bilinear",
                             align_corners=False)[0]
    torch.testing.assert_close(example.tensor, expected)


def test_bad_inputs_are_one_sentence(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        from_file(tmp_path / "missing.png", (1, 32, 32))
    (tmp_path / "notes.png").write_text("hello")
    with pytest.raises(InputError, match="not an image"):
        from_file(tmp_path / "notes.png", (1, 32, 32))
    with pytest.raises(InputError, match="There is no dataset"):
        from_dataset("nonsense", 0, (1, 32, 32))
    with pytest.raises(InputError, match="no Input"):
        input_shape(Graph())


# ---- predictions ---------------------------------------------------------------------------------------

def test_top5_equals_torch_softmax_topk(lenet):
    graph, _ = lenet
    scores = torch.randn(10)
    top = top_k(scores, class_names(graph, 10))
    values, indices = torch.topk(torch.softmax(scores, 0), 5)
    assert [p.index for p in top] == indices.tolist()
    assert [p.probability for p in top] == pytest.approx(values.tolist())
    assert [p.name for p in top] == [str(i) for i in indices.tolist()]  # digits: "0" … "9"
    log = top_k(torch.log_softmax(scores, 0), [], kind="LogSoftmax")
    assert [p.probability for p in log] == pytest.approx(values.tolist())
    probs = torch.softmax(scores, 0)
    assert [p.probability for p in top_k(probs, [], kind="Softmax")] == pytest.approx(values.tolist())


def test_which_networks_are_classifiers(lenet):
    graph, _ = lenet
    assert classifier_output(graph, graph.analyze()) == "output"
    skip = _skip_graph()
    assert classifier_output(skip, skip.analyze()) is None  # an image comes out
    vae = load_graph("vae").graph
    assert classifier_output(vae, vae.analyze()) is None
    assert class_names(graph, 3, ["circle", "square", "triangle"]) == ["circle", "square", "triangle"]
    assert class_names(Graph(), 4) == ["0", "1", "2", "3"]


# ---- layering -------------------------------------------------------------------------------------------

def test_inspect_is_qt_free_and_the_story_needs_no_torch():
    import subprocess
    import sys
    probe = """
import sys
from designer import load_graph
from designer.introspection.explain import explain_node
from designer.introspection.filters import kernel_grid
import numpy as np
g = load_graph("lenet5").graph
assert "= 28" in explain_node(g, g.analyze(), "c1")
kernel_grid(np.zeros((6, 1, 5, 5)))
story_only = sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'PySide6'})
import designer.introspection.activations, designer.introspection.inputs, designer.introspection.predictions, designer.introspection.weights
print(story_only, 'PySide6' in sys.modules)
"""
    root = __import__("pathlib").Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=root, check=True,
                         timeout=120).stdout.strip().splitlines()[-1]
    assert out == "[] False"
