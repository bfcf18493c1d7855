"""File ▸ Compare With… through the real window (pytest-qt): the coloured cards on both
sides, the delta table, and a row that selects its card."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from designer import load_graph, save_graph
from designer.graph.model import AddNode, Connect, Disconnect, Edge, Node, SetParam
from designer.ui import theme
from tests.test_ui_editor import dispose

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("DESIGNER_SETTINGS", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("DESIGNER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DESIGNER_NO_PRELOAD", "1")
    from designer.ui.main_window import MainWindow
    w = MainWindow(remember=False)
    w.show()
    qtbot.waitExposed(w)
    yield w
    dispose(w)


def saved_with_an_extra_relu(path):
    """LeNet-5 as saved: with one ReLU after C5's tanh that the edited document lacks."""
    g = load_graph("lenet5").graph.copy()
    g.apply(Disconnect(Edge("c5_tanh", "out", "flatten", "in")))
    g.add_node("ReLU", id="extra_relu", pos=g.nodes["c5_tanh"].pos)
    g.connect("c5_tanh", "extra_relu")
    g.connect("extra_relu", "flatten")
    save_graph(g, path)


def test_compare_with_the_saved_version_colours_the_cards_and_a_row_selects_its_card(window, tmp_path):
    from designer.ui.compare_dialog import CompareDialog
    path = tmp_path / "lenet.json"
    saved_with_an_extra_relu(path)
    window.open_source(str(path))
    c = window.controller
    # the edits since: C1 wider, no extra ReLU, a dropout before the output layer
    c.edit("edits", [SetParam("c1", "out_channels", 8),
                     *c.graph.removal_ops(["extra_relu"]),
                     Connect(Edge("c5_tanh", "out", "flatten", "in")),
                     Disconnect(Edge("f6_tanh", "out", "output", "in")),
                     AddNode(Node("drop", "Dropout", {}, pos=(0.0, 900.0))),
                     Connect(Edge("f6_tanh", "out", "drop", "in")),
                     Connect(Edge("drop", "out", "output", "in"))])
    assert window.actions["compare"].isEnabled()
    window.actions["compare"].trigger()                       # File ▸ Compare With…
    dialog = window.findChild(CompareDialog)
    assert dialog is not None and dialog.isVisible()
    t = theme.current()
    # now (this document): added green, changed amber, the rest plain
    assert dialog.now.outline_colour("drop") == t.ok.upper()
    assert {i for i in ("c1", "c1_tanh", "s2", "c3") if dialog.now.outline_colour(i) == t.warning.upper()} == \
        {"c1", "c1_tanh", "s2", "c3"}
    assert dialog.now.outline_colour("f6") == "" and "extra_relu" not in dialog.now.nodes
    # before (the saved file): the removed ReLU red
    assert dialog.before.outline_colour("extra_relu") == t.error.upper()
    assert "drop" not in dialog.before.nodes

    table = dialog.table
    rows = {table.item(r, 1).text(): [table.item(r, k).text() for k in range(table.columnCount())]
            for r in range(table.rowCount())}
    assert rows["extra_relu"][0] == "removed" and rows["drop"][0] == "added"
    assert rows["c1"][:3] == ["changed", "c1", "Conv2d"]
    assert rows["c1"][3] == "out_channels 6 → 8; output 6×28×28 → 8×28×28" and rows["c1"][4] == "+52"
    assert table.rowCount() == 6
    assert "Parameters 61,706 → 62,558 (+852)" in dialog.totals.text()

    row = next(r for r in range(table.rowCount()) if table.item(r, 1).text() == "c1")
    table.selectRow(row)                                       # a click on the row
    assert dialog.now.selected_ids() == ["c1"] and dialog.before.selected_ids() == ["c1"]
    assert c.selection == ["c1"]                               # and in the editor
    removed = next(r for r in range(table.rowCount()) if table.item(r, 1).text() == "extra_relu")
    table.selectRow(removed)
    assert dialog.before.selected_ids() == ["extra_relu"] and dialog.now.selected_ids() == []
    dialog.close()


def test_compare_with_a_preset_and_with_itself(window, qtbot):
    from designer.ui.compare_dialog import CompareDialog
    window.open_source("lenet5")
    dialog = CompareDialog(window.controller, window)
    qtbot.addWidget(dialog)
    assert dialog.source.findData("saved") == -1               # a preset has no saved version
    dialog.source.setCurrentIndex(dialog.source.findData("lenet5"))
    dialog.compare_button.click()
    assert dialog.table.rowCount() == 0 and dialog.totals.text().startswith("Nothing changed.")
    assert not any(dialog.now.outline_colour(i) for i in dialog.now.nodes)
    assert not dialog.compare_with("no_such_network")
    assert not dialog.problem.isHidden()
    assert dialog.problem.text() == "Cannot compare: no_such_network: cannot read (No such file or directory)"


def test_a_row_inside_a_composite_shows_that_composite_s_inside(window, qtbot, tmp_path):
    from designer.ui.compare_dialog import CompareDialog
    from tests.test_compare_diff import DEEPER, SMALL, vgg_like
    graphs = []
    for stages in (SMALL, DEEPER):
        g = vgg_like(stages)
        g.group([i for i in g.nodes if i.startswith(("conv", "relu", "pool"))], "Features", "features")
        graphs.append(g)
    save_graph(graphs[0], tmp_path / "small.json")
    save_graph(graphs[1], tmp_path / "deeper.json")
    window.open_source(str(tmp_path / "deeper.json"))
    dialog = CompareDialog(window.controller, window)
    qtbot.addWidget(dialog)
    assert dialog.compare_with(tmp_path / "small.json")
    t = theme.current()
    assert dialog.now.outline_colour("features") == t.warning.upper() and dialog.up_button.isHidden()
    table = dialog.table
    row = next(r for r in range(table.rowCount()) if table.item(r, 1).text() == "features/conv2_3")
    table.selectRow(row)
    assert dialog.levels == ("features/", "features/")
    assert dialog.now.outline_colour("conv2_3") == t.ok.upper() and dialog.now.selected_ids() == ["conv2_3"]
    assert "conv2_3" not in dialog.before.nodes and "conv2_2" in dialog.before.nodes
    assert dialog.now_title.text().startswith("Now: deeper.json ▸ features")
    assert window.controller.selection == ["features"]
    qtbot.mouseClick(dialog.up_button, Qt.MouseButton.LeftButton)
    assert dialog.levels == ("", "") and "features" in dialog.now.nodes and dialog.up_button.isHidden()
