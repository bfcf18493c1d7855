"""The analysis: errors in words a student understands, on the node that has them;
several inputs, outputs and networks; incremental re-analysis that recomputes
only what an edit can reach and always equals a fresh analysis; the lecture's
formulas."""
from __future__ import annotations

import re

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from designer import load_graph
from designer.graph import Edge, Graph
from designer.graph.block import all_blocks
from designer.graph.errors import CycleError, GraphFileError
from designer.graph.fileformat import dumps, loads
from tests.graphs import tiny_gan
from designer.graph.model import Disconnect


def chain_graph(*layers, shape=(3, 32, 32)):
    """Input → layers… → Output; each layer a (type, params) pair, ids l1, l2, …"""
    g = Graph()
    g.add_node("Input", {"shape": list(shape)}, id="x")
    ids = ["x"]
    for i, (t, p) in enumerate(layers, 1):
        g.add_node(t, p, id=f"l{i}")
        ids.append(f"l{i}")
    g.add_node("Output", id="y")
    g.chain(*ids, "y")
    return g


def errors_of(a, node_id):
    return a.nodes[node_id].errors


# ---- errors on the node that has them -------------------------------------------------------------

def two_branches(second_stride=2, second_channels=128, merge="Add", crop=False):
    g = Graph()
    g.add_node("Input", {"shape": [64, 56, 56]}, id="x")
    g.add_node("ReLU", id="left")
    g.add_node("Conv2d", {"out_channels": second_channels, "kernel_size": 1, "stride": second_stride}, id="right")
    g.add_node(merge, {"crop": crop} if merge == "Concat" else {}, id="merge")
    g.add_node("Output", id="y")
    g.chain("x", "left", "merge", "y")
    g.chain("x", "right")
    g.connect("right", "merge", dst_port="in2")
    return g


def test_add_of_unequal_shapes_is_an_error_on_the_add():
    a = two_branches().analyze()
    assert errors_of(a, "merge") == ["Add needs equal shapes: 64×56×56 and 128×28×28"]
    assert a.nodes["y"].blocked and not a.nodes["y"].errors, "downstream waits, it is not wrong itself"
    assert [n for n, _ in a.errors] == ["merge"]
    assert a.nodes["left"].ok and a.nodes["right"].ok


def test_concat_needs_equal_sizes_unless_it_crops():
    a = two_branches(merge="Concat").analyze()
    assert errors_of(a, "merge") == ["Concat needs equal sizes apart from channels: 64×56×56 and 128×28×28 "
                                     "(turn on crop to centre-crop the larger ones, as U-Net does)"]
    a = two_branches(merge="Concat", crop=True).analyze()
    info = a.nodes["merge"]
    assert info.ok and info.output_shape == (192, 28, 28)
    assert info.shape_formula == "64 + 128 = 192 channels, cropped to 28×28"
    a = two_branches(merge="Concat", second_stride=1).analyze()
    assert a.nodes["merge"].output_shape == (192, 56, 56)


def test_linear_after_an_image_asks_for_a_flatten():
    a = chain_graph(("Conv2d", {"out_channels": 16, "kernel_size": 5}), ("Linear", {"out_features": 10}),
                    shape=(1, 9, 9)).analyze()
    assert errors_of(a, "l2") == ["Linear needs a flat vector, got 16×5×5: add a Flatten before it"]
    assert a.nodes["l1"].ok


def test_a_kernel_larger_than_the_padded_input_is_named_with_the_sizes():
    a = chain_graph(("Conv2d", {"kernel_size": 7, "padding": 1}), shape=(1, 4, 4)).analyze()
    assert errors_of(a, "l1") == ["kernel 7 is larger than the padded input 4 + 2·1 = 6"]
    a = chain_graph(("Conv2d", {"kernel_size": 3, "dilation": 3}), shape=(1, 6, 6)).analyze()
    assert errors_of(a, "l1") == ["kernel 7 is larger than the padded input 6 + 2·0 = 6"]
    a = chain_graph(("MaxPool2d", {"kernel_size": 3, "stride": 2}), shape=(1, 2, 2)).analyze()
    assert errors_of(a, "l1") == ["window 3 is larger than the padded input 2 + 2·0 = 2"]


def test_a_non_positive_output_size_shows_the_formula():
    a = chain_graph(("ConvTranspose2d", {"kernel_size": 2, "stride": 1, "padding": 2}), shape=(1, 2, 2)).analyze()
    assert errors_of(a, "l1") == ["output size would be -1: (2 − 1)·1 − 2·2 + 2 − 1 + 0 + 1 = -1"]
    a = chain_graph(("Upsample", {"scale_factor": 0.1}), shape=(1, 5, 5)).analyze()
    assert errors_of(a, "l1") == ["output size would be 0×0"]


def test_pooling_padding_and_same_refusals_say_why():
    a = chain_graph(("MaxPool2d", {"kernel_size": 2, "padding": 2}), shape=(1, 8, 8)).analyze()
    assert errors_of(a, "l1") == ["padding 2 is more than half the 2×2 window (PyTorch refuses it)"]
    a = chain_graph(("Conv2d", {"stride": 2, "padding": "same"}), shape=(1, 8, 8)).analyze()
    assert errors_of(a, "l1") == ["padding 'same' works only with stride 1 (as in PyTorch)"]
    a = chain_graph(("Conv2d", {"out_channels": 6, "groups": 4}), shape=(8, 8, 8)).analyze()
    assert errors_of(a, "l1") == ["groups 4 must divide the 6 output channels"]


def test_ceil_mode_pooling_lets_a_window_overhang_as_torch_does():
    """Regression: a 2×2/2 ceil-mode window on a 1×1 map gives 1×1 in torch; it used to be refused."""
    a = chain_graph(("MaxPool2d", {"kernel_size": 2, "stride": 2, "ceil_mode": True}), shape=(4, 1, 1)).analyze()
    assert a.nodes["l1"].ok and a.nodes["l1"].output_shape == (4, 1, 1)
    assert torch.nn.MaxPool2d(2, 2, ceil_mode=True)(torch.zeros(1, 4, 1, 1)).shape == (1, 4, 1, 1)


def test_unconnected_ports_are_errors_on_the_node():
    g = Graph()
    g.add_node("Input", {"shape": [8]}, id="x")
    g.add_node("Add", id="add")
    g.add_node("Reparameterize", id="z")
    g.add_node("Output", id="y")
    g.connect("x", "add")
    g.connect("add", "y")
    a = g.analyze()
    assert errors_of(a, "add") == ["input 'in2' is not connected"]
    assert errors_of(a, "z") == ["inputs 'mu', 'logvar' are not connected"]


def test_a_network_without_input_or_output_is_an_error_of_the_graph():
    g = Graph()
    g.add_node("ReLU", id="r")
    a = g.analyze()
    assert (None, "the network has no Input block") in a.errors
    g = Graph()
    g.add_node("Input", {"shape": [4]}, id="x")
    a = g.analyze()
    assert a.errors == [(None, "the network has no output")]
    assert Graph().analyze().errors == []


def test_cycles_are_refused_when_connecting_and_loading_and_found_by_the_analysis():
    g = chain_graph(("ReLU", {}), ("ReLU", {}), ("ReLU", {}))
    g.add_node("Add", id="join")
    g.apply(Disconnect(Edge("l1", "out", "l2", "in")))
    g.connect("l1", "join")
    g.connect("join", "l2")
    with pytest.raises(CycleError):
        g.connect("l3", "join")
    text = dumps(g).replace('"edges": [', '"edges": [\n    ["l3.out", "join.in2"],')
    with pytest.raises(GraphFileError, match="would make a cycle"):
        loads(text)
    # a graph whose edge list was edited behind the model's back: the analysis finds the loop
    h = Graph()
    h.add_node("Input", {"shape": [4]}, id="x")
    for i in ("a", "b", "c", "after"):
        h.add_node("ReLU" if i != "a" else "Add", id=i)
    h.add_node("Output", id="y")
    h.edges = [Edge("x", "out", "a", "in1"), Edge("a", "out", "b", "in"), Edge("b", "out", "c", "in"),
               Edge("c", "out", "a", "in2"), Edge("c", "out", "after", "in"), Edge("after", "out", "y", "in")]
    a = h.analyze()
    for node in ("a", "b", "c"):
        assert errors_of(a, node) == ["is part of a cycle: data would flow in a loop"]
    assert a.nodes["after"].blocked and not a.nodes["after"].errors, "downstream of a loop, not on it"
    assert a.nodes["x"].ok
    assert {n for n, _ in a.errors} == {"a", "b", "c"}
    h.edges.append(Edge("after", "out", "after", "in"))  # a node feeding itself
    h.structure_revision += 1
    assert errors_of(h.analyze(), "after") == ["is part of a cycle: data would flow in a loop"]


def test_input_and_output_names_must_be_unique_in_a_network():
    g = Graph()
    g.add_node("Input", {"shape": [4], "name": "x"}, id="a")
    g.add_node("Input", {"shape": [4], "name": "x"}, id="b")
    g.add_node("Add", id="add")
    g.add_node("Output", {"name": "out"}, id="o1")
    g.add_node("Output", {"name": "out"}, id="o2")
    g.connect("a", "add")
    g.connect("b", "add")
    g.connect("add", "o1")
    g.connect("add", "o2")
    a = g.analyze()
    assert errors_of(a, "b") == ["another Input of this network is already named 'x'"]
    assert errors_of(a, "o2") == ["another Output of this network is already named 'out'"]
    assert a.nodes["a"].ok and a.nodes["o1"].ok
    g.set_param("b", "name", "x2")
    g.set_param("o2", "name", "out2")
    assert g.analyze().ok


def test_an_input_shape_given_to_analyze_replaces_the_first_input():
    g = load_graph("lenet5").graph
    a = g.analyze((1, 36, 36))
    assert a.nodes["c1"].output_shape == (6, 32, 32)
    assert a.nodes["f6"].resolved == {"in_features": 480} and a.input_shapes == {"image": (1, 36, 36)}
    bad = g.analyze((1, 0, 32))
    assert bad.nodes["input"].errors[0].startswith("the input shape given:")
    assert g.analyze().ok, "without the override the document's own shape is back"


# ---- several inputs, outputs and networks ---------------------------------------------------------

def vae() -> Graph:
    g = Graph()
    g.add_node("Input", {"shape": [1, 28, 28], "name": "image"}, id="x")
    g.add_node("Flatten", id="flat")
    g.add_node("Linear", {"out_features": 256}, id="enc")
    g.add_node("ReLU", id="enc_relu")
    g.add_node("Linear", {"out_features": 8}, id="mu")
    g.add_node("Linear", {"out_features": 8}, id="logvar")
    g.add_node("Reparameterize", id="z")
    g.add_node("Linear", {"out_features": 784}, id="dec")
    g.add_node("Sigmoid", id="dec_sig")
    g.add_node("Reshape", {"shape": [1, 28, 28]}, id="recon")
    g.add_node("Output", {"name": "reconstruction"}, id="out_recon")
    g.add_node("Output", {"name": "mu"}, id="out_mu")
    g.add_node("Output", {"name": "logvar"}, id="out_logvar")
    g.chain("x", "flat", "enc", "enc_relu", "mu")
    g.connect("enc_relu", "logvar")
    g.connect("mu", "z", dst_port="mu")
    g.connect("logvar", "z", dst_port="logvar")
    g.chain("z", "dec", "dec_sig", "recon", "out_recon")
    g.connect("mu", "out_mu")
    g.connect("logvar", "out_logvar")
    return g


def test_a_vae_returns_three_outputs_in_order_with_torch_counts():
    a = vae().analyze()
    assert a.ok, a.errors
    assert [name for _, name in a.outputs] == ["reconstruction", "mu", "logvar"]
    assert a.output_shapes == {"reconstruction": (1, 28, 28), "mu": (8,), "logvar": (8,)}
    assert a.input_shapes == {"image": (1, 28, 28)}
    reference = [nn.Linear(784, 256), nn.Linear(256, 8), nn.Linear(256, 8), nn.Linear(8, 784)]
    assert a.total_params == sum(p.numel() for m in reference for p in m.parameters())
    assert a.nodes["z"].output_shape == (8,)


def test_two_inputs_feed_one_network():
    g = Graph()
    g.add_node("Input", {"shape": [784], "name": "image"}, id="x")
    g.add_node("Input", {"shape": [10], "name": "label"}, id="c")
    g.add_node("Concat", id="join")
    g.add_node("Linear", {"out_features": 32}, id="fc")
    g.connect("x", "join")
    g.connect("c", "join")
    g.connect("join", "fc")
    a = g.analyze()
    assert a.ok and a.input_shapes == {"image": (784,), "label": (10,)}
    assert a.outputs == [("fc", "fc")] and a.output_shapes == {"fc": (32,)}
    assert a.total_params == 794 * 32 + 32


def gan() -> Graph:
    return tiny_gan()


def test_a_two_network_document_names_each_network():
    g = gan()
    a = g.analyze()
    assert a.ok, a.errors
    assert g.networks() == ["generator", "discriminator"]
    assert a.input_shapes == {"generator.z": (16,), "discriminator.image": (1, 8, 8)}
    assert a.output_shapes == {"generator.g_out": (1, 8, 8), "discriminator.d_fc": (1,)}
    assert a.total_params == (16 * 64 + 64) + (64 + 1)
    assert a.trainable_params == 16 * 64 + 64, "the frozen discriminator layer is not trainable"
    g.remove_nodes(["img"])
    a = g.analyze()
    assert (None, "network 'discriminator' has no Input block") in a.errors


# ---- composites -----------------------------------------------------------------------------------

def test_a_repeated_residual_reports_each_copy_and_their_sum():
    """Copies are identical: only the first sees 64 channels and needs a projection."""
    g = chain_graph(("Residual", {"out_channels": 128, "repeat": 3}), shape=(64, 56, 56))
    a = g.analyze()
    info = a.nodes["l1"]
    assert len(info.inner) == 3 and info.output_shape == (128, 56, 56)
    strided = chain_graph(("Residual", {"out_channels": 128, "stride": 2, "repeat": 3}), shape=(64, 56, 56))
    assert strided.analyze().nodes["l1"].output_shape == (128, 7, 7), "each copy strides"
    assert info.params == sum(inner.total_params for inner in info.inner)
    assert "downsample" in info.inner[0].nodes and "downsample" not in info.inner[1].nodes
    assert info.param_formula == f"{info.params:,} inside (3 copies)"


def test_an_error_inside_a_composite_is_reported_on_the_composite():
    a = chain_graph(("Inception", {}), shape=(64,)).analyze()
    (message,) = errors_of(a, "l1")
    assert message.startswith("inside, at branch1: needs an image C×H×W, got 64")


# ---- incremental analysis -------------------------------------------------------------------------

@pytest.fixture
def infer_calls(monkeypatch):
    """Counts the calls to each block's shape rule, by node type."""
    calls: list[str] = []
    for spec in all_blocks():
        original = spec.infer

        def counting(params, ins, _type=spec.type, _original=original):
            calls.append(_type)
            return _original(params, ins)
        monkeypatch.setattr(spec, "infer", counting)
    return calls


def comparable(a):
    """Everything an analysis says, in a form two analyses can be compared by."""
    nodes = {i: (n.in_shapes, n.out_shapes, n.weights, n.biases, n.macs, n.activations, n.shape_formula,
                 n.param_formula, n.weight_formula, n.resolved, n.errors, n.warnings, n.blocked)
             for i, n in a.nodes.items()}
    return (nodes, a.order, a.errors, a.warnings, a.input_shapes, a.output_shapes, a.outputs, a.total_params,
            a.weight_params, a.bias_params, a.trainable_params, a.macs, a.activation_values)


def test_changing_a_mid_graph_conv_recomputes_only_what_it_reaches(infer_calls):
    g = load_graph("lenet5").graph
    g.analyze()
    infer_calls.clear()
    g.analyze()
    assert infer_calls == [], "nothing changed, nothing recomputed"
    g.set_param("c3", "out_channels", 20)
    a = g.analyze()
    # c5's output stays 120×1×1, so the layers after it are reused
    assert infer_calls == ["Conv2d", "Tanh", "AvgPool2d", "Conv2d"]
    assert comparable(a) == comparable(loads(dumps(g)).analyze())
    assert a.nodes["c5"].param_formula == "(5×5×20)×120 + 120 = 60,120"
    infer_calls.clear()
    g.set_param("c3", "bias", False)
    g.analyze()
    assert infer_calls == ["Conv2d"], "the same output shape: nothing downstream moves"


def test_the_unused_output_warning_follows_the_wiring():
    """Regression: the warning stayed on a node after its output was connected."""
    g = chain_graph(("ReLU", {}))
    g.add_node("Tanh", id="dangling")
    g.connect("x", "dangling")
    assert g.analyze().nodes["dangling"].warnings == ["its output is not used"]
    g.add_node("Output", {"name": "second"}, id="y2")
    g.connect("dangling", "y2")
    assert g.analyze().nodes["dangling"].warnings == []


def test_an_incremental_analysis_equals_a_fresh_one_after_rewiring():
    g = load_graph("lenet5").graph
    g.analyze()
    g.remove_nodes(["c3_tanh"])
    a = g.analyze()
    assert comparable(a) == comparable(loads(dumps(g)).analyze())
    assert a.nodes["s4"].errors == ["input 'in' is not connected"]
    g.connect("c3", "s4")
    a = g.analyze()
    assert a.ok and comparable(a) == comparable(loads(dumps(g)).analyze())


EDITS = st.lists(st.tuples(st.sampled_from(["c1", "c3", "c5", "f6", "s2", "s4"]),
                           st.sampled_from(["out_channels", "kernel_size", "padding", "stride", "out_features"]),
                           st.integers(1, 9)), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=EDITS)
def test_incremental_analysis_always_equals_a_fresh_analysis(edits):
    g = load_graph("lenet5").graph
    g.analyze()
    for node_id, name, value in edits:
        try:
            g.set_param(node_id, name, value)
        except Exception:  # noqa: BLE001 - not every parameter exists on every node
            continue
        a = g.analyze()
        assert comparable(a) == comparable(loads(dumps(g)).analyze())


# ---- the lecture's formulas -------------------------------------------------------------------------

def test_lenet5_formulas_read_as_in_the_lecture():
    a = load_graph("lenet5").graph.analyze()
    assert a.nodes["c1"].shape_formula == "⌊(32 + 2·0 − 5)/1⌋ + 1 = 28"
    assert a.nodes["c3"].param_formula == "(5×5×6)×16 + 16 = 2,416"
    assert a.nodes["c1"].weight_formula == "(5×5)×6"
    formula = a.weight_formula()
    assert formula == "(5×5)×6 + (5×5×6)×16 + (5×5×16)×120 + 120×84 + 84×10 = 61,470"
    lecture = (5 * 5) * 6 + (5 * 5 * 6) * 16 + (16 * 5 * 5) * 120 + 120 * 84 + 84 * 10
    terms = formula.split(" = ")[0].replace("×", "*")
    assert eval(terms, {}) == lecture == a.weight_params == 61470  # noqa: S307 - our own formula text
    assert a.total_params == 61706


def test_lenet5_multiply_adds_equal_torchs_count():
    a = load_graph("lenet5").graph.analyze()
    lenet = nn.Sequential(nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(),
                          nn.AvgPool2d(2), nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(), nn.Linear(120, 84),
                          nn.Tanh(), nn.Linear(84, 10))
    with FlopCounterMode(display=False) as counter:
        lenet(torch.zeros(1, 1, 32, 32))
    assert a.macs == counter.get_total_flops() // 2 == 416_520
    assert a.activation_bytes == 4 * sum(a.nodes[i].activations for i in a.order)
    assert re.fullmatch(r"[\d,]+", f"{a.macs:,}")


def values_computed(module: torch.fx.GraphModule, x: torch.Tensor) -> int:
    """Every value one sample's forward computes, counted by PyTorch: the input, each leaf
    module's output and each operation (add, concatenation) in the code of every level;
    composite blocks are GraphModules and are counted inside."""
    total = [x[0].numel()]

    class Count(torch.fx.Interpreter):
        def call_module(self, target, args, kwargs):
            sub = self.fetch_attr(target)
            if isinstance(sub, torch.fx.GraphModule):
                return Count(sub).run(*args)
            return self._counted(super().call_module(target, args, kwargs))

        def call_function(self, target, args, kwargs):
            return self._counted(super().call_function(target, args, kwargs))

        def call_method(self, target, args, kwargs):
            return self._counted(super().call_method(target, args, kwargs))

        @staticmethod
        def _counted(out):
            if isinstance(out, torch.Tensor):
                total[0] += out[0].numel()
            return out

    Count(module).run(x)
    return total[0]


@pytest.mark.parametrize("name", ["lenet5", "alexnet", "vgg16", "googlenet", "resnet34", "resnet50", "unet"])
def test_activations_count_the_inside_of_composite_blocks(name):
    """The activation total (status bar, summary, memory estimates) counts every value computed,
    inside VGG's `features` and ResNet's stages too, not only a composite's outputs."""
    from designer.compile import compile_graph
    doc = load_graph(name)
    a = doc.analyze()
    module = compile_graph(doc.graph, device="meta")
    shape = next(iter(a.input_shapes.values()))
    assert a.activation_values == values_computed(module, torch.empty(1, *shape, device="meta"))
