"""The inspector driven through its real widgets: what it shows for a block, how a
typed value becomes one undo step, and how a bad value is refused at the field."""
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

from designer.graph.model import Graph, SetParam
from designer.ui.document import DocumentController
from designer.ui.inspector import InspectorPanel
from designer.ui.summary_panel import SummaryPanel


@pytest.fixture
def inspector(qtbot, doc):
    panel = InspectorPanel(doc)
    qtbot.addWidget(panel)
    panel.resize(320, 700)
    panel.show()
    return panel


def settle(qtbot, doc):
    """Let the controller's deferred analysis run and reach the views."""
    qtbot.waitUntil(lambda: not doc._timer.isActive(), timeout=2000)


def lenet_with_c3(torch, c3_channels=16):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, c3_channels, 5), nn.Tanh(), nn.AvgPool2d(2, 2),
        nn.Conv2d(c3_channels, 120, 5), nn.Tanh(), nn.Flatten(),
        nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))


def test_selecting_a_node_shows_typed_editors_shapes_and_inferred_values(inspector, doc):
    doc.select(["c3"])
    assert isinstance(inspector.editor("out_channels"), QSpinBox)
    assert inspector.editor("out_channels").value() == 16
    assert isinstance(inspector.editor("kernel_size"), QLineEdit)
    assert inspector.editor("kernel_size").text() == "5"
    assert inspector.editor("padding").text() == "0"
    assert isinstance(inspector.editor("bias"), QCheckBox) and inspector.editor("bias").isChecked()
    assert isinstance(inspector.editor("label"), QLineEdit) and inspector.editor("label").text() == "C3"
    assert "Number of filters" in inspector.editor("out_channels").toolTip()
    assert inspector.shape_text() == "6×14×14 → 16×10×10"
    # the 6 channels come from C1's six filters, through tanh and pooling
    assert "in_channels = 6 (from C1)" in inspector._inferred.text()
    assert inspector.error_text() == ""
    doc.select(["f6"])
    assert inspector.editor("out_features").value() == 84
    with pytest.raises(KeyError):
        inspector.editor("out_channels")


def test_c3_formulas_read_as_in_the_lecture_and_agree_with_pytorch(inspector, doc):
    torch = pytest.importorskip("torch")
    doc.select(["c3"])
    params, size = inspector.formula_text().split("\n")
    assert params == "(5×5×6)×16 + 16 = 2,416"
    assert size == "⌊(14 + 2·0 − 5)/1⌋ + 1 = 10"
    conv = torch.nn.Conv2d(6, 16, 5)
    assert sum(p.numel() for p in conv.parameters()) == 2416
    assert conv(torch.zeros(1, 6, 14, 14)).shape[-1] == 10


def test_typing_out_channels_is_one_undo_step_and_updates_shapes_and_totals(qtbot, doc, inspector):
    torch = pytest.importorskip("torch")
    summary = SummaryPanel(doc)
    qtbot.addWidget(summary)
    doc.select(["c3"])
    spin = inspector.editor("out_channels")
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "32")
    assert doc.graph.nodes["c3"].params["out_channels"] == 16  # nothing commits while typing
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert doc.graph.nodes["c3"].params["out_channels"] == 32
    assert doc.history.count == 1
    settle(qtbot, doc)
    assert inspector.shape_text() == "6×14×14 → 32×10×10"
    assert inspector.formula_text().startswith("(5×5×6)×32 + 32 = 4,832")
    expected = sum(p.numel() for p in lenet_with_c3(torch, 32).parameters())
    assert f"{expected:,} parameters" in summary.totals_text()
    row = summary.index_for("c3")
    assert row.siblingAtColumn(2).data() == "32×10×10"
    assert row.siblingAtColumn(3).data() == "4,832"

    doc.history.undo()
    settle(qtbot, doc)
    assert spin.value() == 16
    assert "61,706 parameters" in summary.totals_text()
    assert doc.history.count == 1  # showing the undone value pushed nothing


def test_spin_arrows_commit_each_step(qtbot, doc, inspector):
    doc.select(["c3"])
    spin = inspector.editor("out_channels")
    spin.stepUp()
    spin.stepUp()
    assert doc.graph.nodes["c3"].params["out_channels"] == 18
    assert doc.history.count == 2


def test_value_outside_the_range_is_refused_at_the_field(qtbot, doc, inspector):
    doc.select(["c3"])
    spin = inspector.editor("out_channels")
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "0")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert doc.graph.nodes["c3"].params["out_channels"] == 16
    assert doc.history.count == 0
    assert inspector.field_error("out_channels") == "out channels must be at least 1, not 0"
    assert "at least 1" in inspector.error_text()
    assert "border" in spin.styleSheet()  # the red frame
    # the arrows stay inside the declared range and clear the refusal
    spin.stepUp()
    assert doc.graph.nodes["c3"].params["out_channels"] == 1
    assert inspector.field_error("out_channels") == ""
    assert spin.styleSheet() == ""


def test_bad_text_in_a_pair_field_is_refused_with_the_reason(qtbot, doc, inspector):
    doc.select(["c3"])
    field = inspector.editor("kernel_size")
    field.selectAll()
    qtbot.keyClicks(field, "5, x")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert doc.graph.nodes["c3"].params["kernel_size"] == 5
    assert doc.history.count == 0
    assert inspector.field_error("kernel_size") == "kernel size: write a number or two numbers like 5, 3"

    field.selectAll()
    qtbot.keyClicks(field, "5, 3")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert doc.graph.nodes["c3"].params["kernel_size"] == (5, 3)
    assert doc.history.count == 1
    assert inspector.field_error("kernel_size") == ""
    settle(qtbot, doc)
    assert inspector.shape_text() == "6×14×14 → 16×10×12"


def test_padding_accepts_same(qtbot, doc, inspector):
    doc.select(["c3"])
    inspector.set_value("padding", "same")
    assert doc.graph.nodes["c3"].params["padding"] == "same"
    settle(qtbot, doc)
    assert inspector.shape_text() == "6×14×14 → 16×14×14"
    inspector.set_value("padding", "sometimes")
    assert "padding" in inspector.field_error("padding")
    assert doc.history.count == 1


def test_a_refusal_by_the_model_is_shown_at_the_field(qtbot):
    g = Graph()
    g.add_node("Input", {"shape": [4, 8, 8]}, id="x")
    for i in (1, 2, 3):
        g.add_node("ReLU", id=f"r{i}")
        g.connect("x", f"r{i}")
    g.add_node("Add", {"num_inputs": 3}, id="add")
    g.chain("r1", "add")
    g.connect("r2", "add")
    g.connect("r3", "add")
    doc = DocumentController(g)
    panel = InspectorPanel(doc)
    qtbot.addWidget(panel)
    doc.select(["add"])
    panel.set_value("num_inputs", 2)
    assert "disconnect it first" in panel.field_error("num_inputs")
    assert g.nodes["add"].params["num_inputs"] == 3
    assert doc.history.count == 0
    doc.close()


def test_float_and_enum_editors(qtbot):
    g = Graph()
    g.add_node("Input", {"shape": [4, 8, 8]}, id="x")
    g.add_node("BatchNorm", id="bn")
    g.add_node("Upsample", id="up")
    g.chain("x", "bn", "up")
    doc = DocumentController(g)
    panel = InspectorPanel(doc)
    qtbot.addWidget(panel)
    doc.select(["bn"])
    eps = panel.editor("eps")
    assert isinstance(eps, QDoubleSpinBox) and eps.text() == "1e-05"
    assert "num_features = 4 (from x)" in panel._inferred.text()
    panel.editor("momentum").stepUp()  # adaptive steps: a tenth of the value's order
    assert g.nodes["bn"].params["momentum"] == pytest.approx(0.11)
    panel.set_value("momentum", 2)
    assert panel.field_error("momentum") == "momentum must be at most 1, not 2.0"
    assert g.nodes["bn"].params["momentum"] == pytest.approx(0.11)
    doc.select(["up"])
    mode = panel.editor("mode")
    assert isinstance(mode, QComboBox)
    panel.set_value("mode", "bilinear")
    assert g.nodes["up"].params["mode"] == "bilinear"
    assert doc.history.count == 2
    doc.close()


def test_label_and_trainable_are_edits_too(qtbot, doc, inspector):
    doc.select(["c3"])
    label = inspector.editor("label")
    label.selectAll()
    qtbot.keyClicks(label, "C3 conv")
    qtbot.keyClick(label, Qt.Key.Key_Return)
    assert doc.graph.nodes["c3"].label == "C3 conv"
    switch = inspector.editor("trainable")
    qtbot.mouseClick(switch, Qt.MouseButton.LeftButton, pos=QPoint(8, switch.height() // 2))
    assert doc.graph.nodes["c3"].trainable is False
    assert doc.history.count == 2
    assert [doc.history.text(i) for i in range(2)] == ["Rename C3", "Freeze C3 conv"]


def test_a_value_typed_but_not_committed_goes_to_the_block_it_was_typed_for(qtbot, doc, inspector):
    doc.select(["c3"])
    inspector.editor("kernel_size").setText("3")
    spin = inspector.editor("out_channels")
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "12")  # no Enter: the spin box's value() still says 16
    doc.select(["c5"])
    assert doc.graph.nodes["c3"].params["kernel_size"] == 3
    assert doc.graph.nodes["c3"].params["out_channels"] == 12
    assert doc.graph.nodes["c5"].params["kernel_size"] == 5
    assert doc.graph.nodes["c5"].params["out_channels"] == 120
    assert doc.history.count == 2


def test_multi_selection_edits_every_block_in_one_step(qtbot, doc, inspector):
    doc.select(["c1", "c3", "c5"])
    assert "3 blocks selected" in inspector._title.text()
    inspector.set_value("kernel_size", 3)
    assert [doc.graph.nodes[i].params["kernel_size"] for i in ("c1", "c3", "c5")] == [3, 3, 3]
    assert doc.history.count == 1
    doc.history.undo()
    assert [doc.graph.nodes[i].params["kernel_size"] for i in ("c1", "c3", "c5")] == [5, 5, 5]
    doc.select(["c1", "s2"])  # no shared type: nothing to edit in common
    with pytest.raises(KeyError):
        inspector.editor("kernel_size")


def test_refreshing_never_pushes_an_edit(qtbot, doc, inspector):
    for node_id in ("c1", "c3", "f6", "output", "c3"):
        doc.select([node_id])
        doc.refresh_analysis()
    assert doc.history.count == 0
    doc.edit("elsewhere", [SetParam("c3", "out_channels", 8)])
    settle(qtbot, doc)
    assert inspector.editor("out_channels").value() == 8
    assert doc.history.count == 1


def test_node_errors_are_shown(qtbot, doc, inspector):
    doc.select(["c3"])
    inspector.set_value("kernel_size", 15)
    settle(qtbot, doc)
    assert "kernel 15 is larger than the padded input 14 + 2·0 = 14" in inspector.error_text()
    assert inspector._problems.isVisibleTo(inspector)


def test_a_closed_or_deleted_inspector_stops_listening(qtbot, doc):
    panel = InspectorPanel(doc)
    panel.show()
    panel.close()
    doc.select(["c3"])
    assert panel.shape_text() == ""
    panel.show()  # back from the View menu: observing again, and up to date
    assert panel.shape_text() == "6×14×14 → 16×10×10"
    panel.close()
    gone = InspectorPanel(doc)
    gone.deleteLater()
    qtbot.wait(10)
    doc.select(["c5"])
    doc.refresh_analysis()  # would crash on a dead observer
