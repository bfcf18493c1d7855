"""The summary table through its real widgets: rows against PyTorch's own modules,
totals and the lecture's formula, numeric sorting, row clicks selecting blocks,
composite rows as a tree, errors in red, and the time an update takes."""
import math

import pytest
from PySide6.QtCore import Qt

from designer.graph.model import AddNode, Graph, Node, RemoveNode, SetParam
from designer.ui.document import DocumentController
from designer.ui.summary_panel import MACS, NAME, PARAMS, SHAPE, SHARE, TYPE, SummaryPanel


@pytest.fixture
def summary(qtbot, doc):
    panel = SummaryPanel(doc)
    qtbot.addWidget(panel)
    panel.resize(900, 500)
    panel.show()
    return panel


def cell(summary, node_id, column):
    return summary.index_for(node_id).siblingAtColumn(column).data()


def test_rows_match_the_modules_pytorch_builds(summary, doc):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    assert summary.row_count() == len(doc.graph.nodes) == 13
    modules = {"c1": nn.Conv2d(1, 6, 5), "c3": nn.Conv2d(6, 16, 5), "c5": nn.Conv2d(16, 120, 5),
               "f6": nn.Linear(120, 84), "output": nn.Linear(84, 10)}
    inputs = {"c1": (1, 1, 32, 32), "c3": (1, 6, 14, 14), "c5": (1, 16, 5, 5), "f6": (1, 120), "output": (1, 84)}
    for node_id, module in modules.items():
        out = module(torch.zeros(inputs[node_id]))
        params = sum(p.numel() for p in module.parameters())
        macs = module.weight.numel() * math.prod(out.shape[2:])  # one multiply-add per weight per position
        assert cell(summary, node_id, SHAPE) == "×".join(map(str, out.shape[1:]))
        assert cell(summary, node_id, PARAMS) == f"{params:,}"
        assert cell(summary, node_id, MACS) == f"{macs:,}"
        assert cell(summary, node_id, TYPE) == type(module).__name__
    assert cell(summary, "c1_tanh", PARAMS) == "—"
    assert cell(summary, "c3", NAME) == "C3"
    assert cell(summary, "c5", SHARE) == f"{48120 / 61706 * 100:.1f} %"


def test_totals_and_the_whole_network_formula(summary):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    lenet = nn.Sequential(nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(),
                          nn.AvgPool2d(2), nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(), nn.Linear(120, 84),
                          nn.Tanh(), nn.Linear(84, 10))
    total = sum(p.numel() for p in lenet.parameters())
    weights = sum(p.numel() for name, p in lenet.named_parameters() if name.endswith("weight"))
    text = summary.totals_text()
    assert f"{total:,} parameters ({weights:,} weights + {total - weights:,} biases)" in text
    assert f"{total:,} trainable" in text
    assert "no errors" in text
    assert "(5×5)×6 + (5×5×6)×16 + (5×5×16)×120 + 120×84 + 84×10 = 61,470 weights, plus 236 biases" in text


def test_clicking_a_row_selects_and_centres_the_block(qtbot, summary, doc):
    rect = summary.view.visualRect(summary.index_for("c5"))
    with qtbot.waitSignal(doc.focus_requested) as focus:
        qtbot.mouseClick(summary.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert doc.selection == ["c5"]
    assert focus.args == ["c5"]
    # and the other way: a selection made elsewhere highlights its row
    doc.select(["f6"])
    rows = summary.view.selectionModel().selectedRows(NAME)
    assert [i.data() for i in rows] == ["F6"]


def test_sorting_is_numeric_and_can_return_to_document_order(qtbot, summary):
    summary.view.sortByColumn(PARAMS, Qt.SortOrder.DescendingOrder)
    top = [summary.proxy.index(r, NAME).data() for r in range(3)]
    assert top == ["C5", "F6", "C3"]  # 48,120 > 10,164 > 2,416, not the order of the strings
    assert summary.row_for("c5") == 0
    summary.view.sortByColumn(MACS, Qt.SortOrder.AscendingOrder)
    assert summary.proxy.index(12, NAME).data() == "C3"
    summary.view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
    assert [summary.proxy.index(r, NAME).data() for r in range(2)] == ["INPUT 32×32", "C1"]


def test_a_parameter_edit_updates_cells_in_place(qtbot, summary, doc):
    model_resets = []
    summary.model.modelReset.connect(lambda: model_resets.append(1))
    doc.edit("wider C3", [SetParam("c3", "out_channels", 20)])
    doc.refresh_analysis()
    assert cell(summary, "c3", SHAPE) == "20×10×10"
    assert cell(summary, "c5", PARAMS) == f"{5 * 5 * 20 * 120 + 120:,}"
    assert model_resets == []


def residual_doc():
    g = Graph()
    g.add_node("Input", {"shape": [16, 32, 32]}, id="x")
    g.add_node("Residual", {"out_channels": 32, "stride": 2, "repeat": 2}, id="stage", label="Stage")
    g.add_node("AdaptiveAvgPool2d", id="pool")
    g.add_node("Flatten", id="flat")
    g.add_node("Linear", {"out_features": 10}, id="fc")
    g.chain("x", "stage", "pool", "flat", "fc")
    return g


def test_composite_blocks_open_onto_their_inside(qtbot):
    torch = pytest.importorskip("torch")
    doc = DocumentController(residual_doc())
    summary = SummaryPanel(doc)
    qtbot.addWidget(summary)
    stage = summary.index_for("stage")
    assert summary.proxy.rowCount(stage) == 2  # copy 1, copy 2
    copy1 = summary.proxy.index(0, NAME, stage)
    assert copy1.data() == "copy 1"
    inside = [summary.proxy.index(r, NAME, copy1).data() for r in range(summary.proxy.rowCount(copy1))]
    assert {"conv1", "bn1", "relu1", "conv2", "bn2", "downsample", "add", "relu"} == set(inside)
    # the inside's parameters add up to what torch counts for the same two blocks (repeat copies
    # every parameter, the stride too, so both copies halve the size and project the shortcut)
    nn = torch.nn

    def block(cin, stride):
        layers = [nn.Conv2d(cin, 32, 3, stride, 1, bias=False), nn.BatchNorm2d(32),
                  nn.Conv2d(32, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32)]
        if stride != 1 or cin != 32:
            layers += [nn.Conv2d(cin, 32, 1, stride, bias=False), nn.BatchNorm2d(32)]
        return sum(p.numel() for m in layers for p in m.parameters())
    assert cell(summary, "stage", PARAMS) == f"{block(16, 2) + block(32, 2):,}"
    # expanded rows stay expanded through an edit that changes the structure
    summary.view.expand(stage)
    doc.edit("deeper", [SetParam("stage", "repeat", 3)])
    doc.refresh_analysis()
    stage = summary.index_for("stage")
    assert summary.view.isExpanded(stage)
    assert summary.proxy.rowCount(stage) == 3
    # clicking a row inside selects the composite that holds it
    summary.view.expand(summary.proxy.index(0, NAME, stage))
    inner = summary.proxy.index(0, NAME, summary.proxy.index(0, NAME, stage))
    qtbot.mouseClick(summary.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=summary.view.visualRect(inner).center())
    assert doc.selection == ["stage"]
    doc.close()


def test_errors_are_listed_with_their_block_in_red(qtbot):
    g = Graph()
    g.add_node("Input", {"shape": [3, 8, 8]}, id="x")
    g.add_node("Conv2d", {"out_channels": 4}, id="conv", label="Conv")
    g.add_node("Linear", {"out_features": 2}, id="fc", label="FC")
    g.chain("x", "conv", "fc")
    doc = DocumentController(g)
    summary = SummaryPanel(doc)
    qtbot.addWidget(summary)
    assert cell(summary, "fc", SHAPE) == "error"
    colour = summary.index_for("fc").data(Qt.ItemDataRole.ForegroundRole).color()
    assert colour.red() > 150 and colour.green() < 100
    assert "1 error" in summary.totals_text()
    assert "FC: Linear needs a flat vector, got 4×6×6: add a Flatten before it" in summary.totals_text()
    assert "add a Flatten before it" in summary.index_for("fc").data(Qt.ItemDataRole.ToolTipRole)
    summary._errors.linkActivated.emit("node:fc")  # the block's name in the error list is a link
    assert doc.selection == ["fc"]
    doc.close()


def test_a_document_with_two_networks_groups_their_blocks(qtbot):
    g = Graph()
    g.add_node("Input", {"shape": [8]}, id="z", network="generator")
    g.add_node("Linear", {"out_features": 16}, id="g_fc", network="generator")
    g.connect("z", "g_fc")
    g.add_node("Input", {"shape": [16]}, id="img", network="discriminator")
    g.add_node("Linear", {"out_features": 1}, id="d_fc", network="discriminator")
    g.connect("img", "d_fc")
    doc = DocumentController(g)
    summary = SummaryPanel(doc)
    qtbot.addWidget(summary)
    heads = [summary.proxy.index(r, NAME).data() for r in range(summary.proxy.rowCount())]
    assert heads == ["generator", "discriminator"]
    assert summary.row_count() == 4
    assert summary.proxy.index(0, PARAMS).data() == f"{8 * 16 + 16:,}"
    doc.close()


def chain_doc(n: int) -> Graph:
    g = Graph()
    g.add_node("Input", {"shape": [8, 16, 16]}, id="x")
    prev = "x"
    for i in range(n - 1):
        node = g.add_node("Conv2d", {"out_channels": 8, "padding": 1}, id=f"conv{i}") if i % 2 == 0 \
            else g.add_node("ReLU", id=f"relu{i}")
        g.connect(prev, node.id)
        prev = node.id
    return g


def test_a_150_block_table_changes_by_rows_not_by_reset(qtbot):
    """An edit rewrites the cells in place; a block added or removed is one row inserted or
    removed: the view keeps its scroll position, expansion and selection (how long it takes is
    benchmarks/bench_ui.py's `edit` part)."""
    doc = DocumentController(chain_doc(150))
    summary = SummaryPanel(doc)
    qtbot.addWidget(summary)
    summary.resize(900, 500)
    summary.show()
    qtbot.waitExposed(summary)
    assert summary.row_count() == 150
    resets, inserted, removed = [], [], []
    summary.model.modelReset.connect(lambda: resets.append(1))
    summary.model.rowsInserted.connect(lambda parent, first, last: inserted.append((first, last)))
    summary.model.rowsRemoved.connect(lambda parent, first, last: removed.append((first, last)))
    doc.select(["conv100"])
    for channels in (8, 12):  # same rows, new values: cells rewritten in place
        doc.edit("wider", [SetParam("conv70", "out_channels", channels)])
        doc.refresh_analysis()
    assert cell(summary, "conv72", PARAMS) == f"{3 * 3 * 12 * 8 + 8:,}"
    doc.edit("one more", [AddNode(Node("extra", "ReLU"))])
    doc.refresh_analysis()
    assert summary.row_count() == 151 and len(inserted) == 1
    doc.edit("one less", [RemoveNode("extra")])
    doc.refresh_analysis()
    assert summary.row_count() == 150 and len(removed) == 1
    assert resets == []
    assert summary._selected_ids() == ["conv100"]
    doc.close()


def test_an_edit_inside_an_open_composite_inserts_rows_where_they_appear(qtbot):
    """A wider residual stage gains a projection shortcut in its first copy: the shortcut's rows
    appear inside the expanded copy, which stays expanded, and nothing else moves."""
    g = residual_doc()
    g.nodes["stage"].params.update(out_channels=16, stride=1)
    doc = DocumentController(g)
    summary = SummaryPanel(doc)
    qtbot.addWidget(summary)
    summary.show()
    resets = []
    summary.model.modelReset.connect(lambda: resets.append(1))

    def inside_copy1():
        stage = summary.index_for("stage")
        copy1 = summary.proxy.index(0, NAME, stage)
        assert summary.view.isExpanded(stage) and summary.view.isExpanded(copy1)
        return [summary.proxy.index(r, NAME, copy1).data() for r in range(summary.proxy.rowCount(copy1))]

    summary.view.expand(summary.index_for("stage"))
    summary.view.expand(summary.proxy.index(0, NAME, summary.index_for("stage")))
    assert "downsample" not in inside_copy1()
    doc.select(["fc"])
    doc.edit("wider", [SetParam("stage", "out_channels", 32)])
    doc.refresh_analysis()
    assert "downsample" in inside_copy1()
    assert cell(summary, "fc", PARAMS) == f"{32 * 10 + 10:,}"
    assert resets == [] and summary._selected_ids() == ["fc"]
    doc.close()
