"""Help ▸ Explain: the shape story of a node tells the sizes PyTorch computes."""

import pytest
import torch
import torch.nn.functional as F

from designer import load_graph
from designer.graph import Graph
from designer.graph.format import shape as fmt_shape
from designer.graph.model import SetParam
from designer.graph.presets import preset_names
from designer.introspection.activations import capture
from designer.introspection.explain import explain_node
from designer.compile import compile_graph


def _tour() -> Graph:
    """One of nearly every block, in a network that compiles."""
    g = Graph()
    g.add_node("Input", {"shape": [3, 28, 28], "name": "x"}, id="x")
    g.add_node("ZeroPad2d", {"padding": 2}, id="pad")
    g.add_node("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": "same"}, id="same3")
    g.add_node("Conv2d", {"out_channels": 8, "kernel_size": 4, "padding": "same", "groups": 2}, id="same4")
    g.add_node("MaxPool2d", {"kernel_size": 3, "stride": 2, "ceil_mode": True}, id="pool")
    g.add_node("Inception", {"c1x1": 4, "c3x3_reduce": 4, "c3x3": 8, "c5x5_reduce": 2, "c5x5": 4,
                             "pool_proj": 4}, id="inc")
    g.add_node("Residual", {"out_channels": 16, "stride": 2, "repeat": 2}, id="res")
    g.add_node("Conv2d", {"out_channels": 16, "kernel_size": 1}, id="one")
    g.add_node("Add", id="add")
    g.add_node("ConvTranspose2d", {"out_channels": 4}, id="up")
    g.add_node("Upsample", id="ups")
    g.add_node("Concat", {"crop": True}, id="cat")
    g.add_node("BatchNorm", id="bn")
    g.add_node("LocalResponseNorm", id="lrn")
    g.add_node("AvgPool2d", {"kernel_size": 2, "stride": 2}, id="avg")
    g.add_node("Dropout2d", id="drop")
    g.add_node("AdaptiveAvgPool2d", id="gap")
    g.add_node("Flatten", id="flat")
    g.add_node("Linear", {"out_features": 5}, id="fc")
    g.add_node("Tanh", id="tanh")
    g.add_node("Softmax", id="sm")
    g.add_node("Output", {"name": "probs"}, id="out")
    g.chain("x", "pad", "same3", "same4", "pool", "inc", "res", "one", "add")
    g.connect("res", "add")
    g.chain("add", "up", "ups")
    g.connect("up", "cat")
    g.connect("ups", "cat")
    g.chain("cat", "bn", "lrn", "avg", "drop", "gap", "flat", "fc", "tanh", "sm", "out")
    return g


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_every_story_ends_at_the_shape_torch_computes():
    graph = _tour()
    analysis = graph.analyze()
    assert analysis.ok, analysis.errors
    torch.manual_seed(0)
    acts = capture(compile_graph(graph), graph, torch.rand(3, 28, 28))
    for node_id in graph.nodes:
        story = explain_node(graph, analysis, node_id)
        headline = story.split("\n\n")[0]
        real = fmt_shape(tuple(acts.of(node_id).shape))
        assert headline.endswith(f"{real}."), (node_id, headline)
        if graph.nodes[node_id].type not in ("Input", "Output"):
            assert len(story.split("\n\n")) >= 2, story


def test_lenet5_c1_in_the_lecture_words_and_numbers():
    graph = load_graph("lenet5").graph
    story = explain_node(graph, graph.analyze(), "c1")
    conv = torch.nn.Conv2d(1, 6, 5)
    out = conv(torch.zeros(1, 1, 32, 32)).shape[-1]
    params = sum(p.numel() for p in conv.parameters())
    assert f"⌊(32 + 2·0 − 5)/1⌋ + 1 = {out}" in story
    assert f"(5×5)×6 + 6 = {params}" in story
    assert f"output is 6×{out}×{out}" in story
    assert "convolved feature" in story and "Each of the 6 kernels" in story
    assert f"{6 * out * out * 25:,} multiply-adds" in story


def test_padding_28_to_32_as_the_lecture_pads_a_digit():
    g = Graph()
    g.add_node("Input", {"shape": [1, 28, 28]}, id="x")
    g.add_node("ZeroPad2d", {"padding": 2}, id="pad")
    g.connect("x", "pad")
    story = explain_node(g, g.analyze(), "pad")
    padded = F.pad(torch.zeros(1, 1, 28, 28), (2, 2, 2, 2)).shape[-1]
    assert f"28 + 2·2 = {padded}" in story and "LeNet-5's 32×32" in story


def test_grouped_convolution_of_alexnet_tells_the_two_towers():
    graph = load_graph("alexnet").graph
    analysis = graph.analyze()
    conv = next(i for i, n in graph.nodes.items() if n.type == "Conv2d" and n.params["groups"] == 2)
    model = compile_graph(graph, device="meta")
    weight = getattr(model, conv).weight
    story = explain_node(graph, analysis, conv)
    out, per_group, kh, kw = weight.shape
    assert f"{kh}×{kw}×{per_group} weights instead of {kh}×{kw}×{per_group * 2}" in story
    assert "two GPU towers" in story
    n = sum(p.numel() for p in getattr(model, conv).parameters())
    assert f"= {n:,}" in story


def test_inception_concatenation_sums_the_branches():
    graph = load_graph("googlenet").graph
    analysis = graph.analyze()
    node_id = next(i for i, n in graph.nodes.items() if n.type == "Inception")
    p = graph.nodes[node_id].params
    model = compile_graph(graph, device="meta")
    c, h, w = analysis.nodes[node_id].in_shapes["in"]
    out = getattr(model, node_id)(torch.empty(1, c, h, w, device="meta")).shape
    story = explain_node(graph, analysis, node_id)
    assert f"{p['c1x1']} + {p['c3x3']} + {p['c5x5']} + {p['pool_proj']} = {out[1]} maps of {out[2]}×{out[3]}" \
        in story
    assert "Inside:" in story and "branch2_reduce" in story


def test_a_residual_block_that_halves_the_image_names_its_projection():
    resnet = load_graph("resnet18").graph
    model = compile_graph(resnet, device="meta")
    stage = resnet.composites[resnet.nodes["layer2"].type].graph  # torchvision's layer2: blocks 0, 1
    c, h, w = resnet.analyze().nodes["layer2"].in_shapes["in"]
    graph, analysis = stage, stage.analyze({"input": (c, h, w)})
    out = getattr(model.layer2, "0")(torch.empty(1, c, h, w, device="meta")).shape
    story = explain_node(graph, analysis, "0")
    assert "skip connection" in story and "1×1 convolution (a projection, stride 2)" in story
    assert story.split("\n\n")[0].endswith(f"{out[1]}×{out[2]}×{out[3]}.")


def test_errors_and_waiting_blocks_are_explained_not_raised():
    g = Graph()
    g.add_node("Input", {"shape": [3, 8, 8]}, id="x")
    g.add_node("Linear", {"out_features": 3}, id="fc")
    g.add_node("ReLU", id="after")
    g.chain("x", "fc", "after")
    analysis = g.analyze()
    assert "It cannot be computed: Linear needs a flat vector" in explain_node(g, analysis, "fc")
    assert "waits for a block before it" in explain_node(g, analysis, "after")
    assert "no block 'ghost'" in explain_node(g, analysis, "ghost")


@pytest.mark.parametrize("preset", preset_names())
def test_every_block_of_every_preset_has_a_story(preset):
    graph = load_graph(preset).graph
    analysis = graph.analyze()
    for node_id, info in analysis.nodes.items():
        story = explain_node(graph, analysis, node_id)
        if info.ok and info.out_shapes:
            assert fmt_shape(next(iter(info.out_shapes.values()))) in story, (preset, node_id)


# ---- the dialog -------------------------------------------------------------------------------------

def test_the_dialog_follows_an_edit_and_lets_go_when_closed(qtbot):
    from designer.ui.document import DocumentController
    from designer.ui.explain import ExplainDialog
    controller = DocumentController(load_graph("lenet5").graph)
    dialog = ExplainDialog(controller, "c1")
    qtbot.addWidget(dialog)
    dialog.show()
    assert "= 28" in dialog.text()
    with qtbot.waitSignal(controller.analysis_changed):
        controller.edit("kernel 3×3", [SetParam("c1", "kernel_size", 3)])
    out = torch.nn.Conv2d(1, 6, 3)(torch.zeros(1, 1, 32, 32)).shape[-1]
    assert f"⌊(32 + 2·0 − 3)/1⌋ + 1 = {out}" in dialog.text()
    assert "monospace" in dialog.browser.toHtml()  # formulas set apart
    assert f"⌊(32 + 2·0 − 3)/1⌋ + 1 = {out}" in dialog.browser.toPlainText().replace("\xa0", " ")
    assert dialog.windowTitle() == "Explain — C1"
    dialog.close()
    assert not dialog._connections
    controller.close()
