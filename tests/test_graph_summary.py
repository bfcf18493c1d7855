"""designer.graph.summary without Qt: the rows and totals the summary panel shows and
`designer summary` prints."""
from __future__ import annotations

from designer import load_graph
from designer.graph.summary import (as_dict, as_table, build_rows, headline, reading_order, row_structure,
                                    totals, weight_sum)

from tests.graphs import tiny_gan


def analysed(name: str):
    graph = load_graph(name).graph
    return graph, graph.analyze()


def test_lenet5_rows_read_as_the_lecture():
    graph, a = analysed("lenet5")
    rows = build_rows(graph, a)
    assert [r.node_id for r in rows] == list(graph.nodes)
    c1 = next(r for r in rows if r.node_id == "c1")
    assert c1.cells[1:] == ("Conv2d", "6×28×28", "156", "117,600", "0.3 %")
    assert c1.sort[2] == 6 * 28 * 28 and c1.sort[3] == 156
    assert [r.row for r in rows] == list(range(len(rows)))


def test_lenet5_totals_and_the_weight_sum():
    _, a = analysed("lenet5")
    t = totals(a)
    assert (t.params, t.weights, t.biases, t.trainable, t.frozen) == ("61,706", "61,470", "236", "61,706", "")
    assert t.inputs == "image 1×32×32" and t.outputs == "output 10" and t.errors == 0
    assert t.weight_sum == "(5×5)×6 + (5×5×6)×16 + (5×5×16)×120 + 120×84 + 84×10 = 61,470"
    assert headline(t)[0] == ("61,706", " parameters (61,470 weights + 236 biases)")
    assert headline(t)[-1] == ("", "image 1×32×32 → output 10")


def test_no_weight_sum_when_a_composite_has_no_term():
    # ResNet's stages are composites: a sum of the stem and the head alone would not add up
    _, a = analysed("resnet18")
    assert weight_sum(a) == ""


def test_an_inception_module_reads_branch_by_branch():
    graph, a = analysed("googlenet")
    inception = next(r for r in build_rows(graph, a) if r.children)
    names = [c.cells[0] for c in inception.children]
    assert names.index("branch1") < names.index("branch2_reduce")
    assert all(c.key.startswith(inception.key + "/") for c in inception.children)
    assert sum(1 for k in row_structure(build_rows(graph, a)) if k == "(") > len(graph.nodes)


def test_a_composite_inside_is_worked_out_when_first_asked_for():
    """The window's table shows a composite's inside only once its row is expanded: ResNet-34's
    stages and their 16 blocks cost nothing until then, and then read as torchvision's."""
    graph, a = analysed("resnet34")
    stages = [r for r in build_rows(graph, a) if r.has_children]
    assert [r.node_id for r in stages] == ["layer1", "layer2", "layer3", "layer4"]
    assert not any(r.built for r in stages)
    blocks = stages[1].children
    assert stages[1].built and [b.cells[:2] for b in blocks] == [(str(i), "Residual") for i in range(4)]
    assert not blocks[0].built
    assert [c.cells[0] for c in blocks[0].children] == ["conv1", "bn1", "relu1", "conv2", "bn2", "downsample",
                                                        "add", "relu"]
    assert all(c.parent is blocks[0] and c.node_id == "layer2" for c in blocks[0].children)


def test_reading_order_is_depth_first_and_complete():
    graph, a = analysed("resnet18")
    order = reading_order(graph, a)
    assert sorted(order) == sorted(a.order)
    at = {n: i for i, n in enumerate(order)}
    assert all(at[e.src] < at[e.dst] for e in graph.edges)


def test_two_networks_group_under_headings():
    graph = tiny_gan()
    a = graph.analyze()
    rows = build_rows(graph, a)
    assert all(r.heading for r in rows) and [r.cells[0] for r in rows] == graph.networks()
    assert sum(len(r.children) for r in rows) == len(graph.nodes)
    assert totals(a).frozen != ""   # the discriminator's head is frozen


def test_the_printed_table_and_json_list_the_analysis_order():
    graph, a = analysed("lenet5")
    d = as_dict(graph, a)
    assert [layer["name"] for layer in d["layers"]] == a.order
    table = as_table(graph, a)
    assert "Total params:      61,706  (weights 61,470, biases 236)" in table
    assert "Weights:           (5×5)×6 + " in table
