"""The node-graph editor driven through its real widgets (pytest-qt): palette drops,
port drags, the inspector, undo/redo, files, composites, clipboard, layout."""
from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from designer.document import Document
from designer.graph.fileformat import dumps
from designer.graph.model import Graph, SetParam

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No test reads or writes a person's settings, library or recovery files, and no
    dialog waits for a click."""
    monkeypatch.setenv("DESIGNER_SETTINGS", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("DESIGNER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DESIGNER_NO_PRELOAD", "1")
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2] if len(a) > 2 else a))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    return shown


@pytest.fixture(scope="module")
def themed(qapp):
    # once: restyling the application repolishes every widget alive
    from designer.ui import theme
    theme.apply(qapp, dark=False)


def dispose(w):
    w.autosave.stop()
    w.scene.detach()
    w.controller.history.set_clean()
    w.close()
    w.deleteLater()
    QApplication.processEvents()


@pytest.fixture
def window(qtbot, themed):
    from designer.ui.main_window import MainWindow
    w = MainWindow()
    w.show()
    qtbot.waitExposed(w)
    yield w
    dispose(w)


def small_graph() -> Graph:
    g = Graph()
    g.add_node("Input", {"shape": [1, 32, 32], "name": "image"}, id="image", pos=(0, 0))
    g.add_node("Conv2d", {"out_channels": 6, "kernel_size": 5}, id="c1", label="C1", pos=(300, 0))
    g.add_node("ReLU", id="act", pos=(600, 0))
    g.connect("c1", "act")
    return g


def open_graph(window, graph):
    window.set_document(Document(graph))
    QApplication.processEvents()
    window.view.resetTransform()
    window.view.centerOn(300, 0)
    QApplication.processEvents()


def port_point(window, node_id, port, output):
    item = window.scene.nodes[node_id].port(port, output)
    return window.view.mapFromScene(item.scene_anchor())


def drag(qtbot, window, start: QPoint, end: QPoint):
    vp = window.view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    for k in range(1, 6):
        qtbot.mouseMove(vp, start + (end - start) * (k / 5))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=end)
    window.controller.refresh_analysis()


def drop_block(window, payload_item, at: QPoint):
    """A palette drag as Qt delivers it: enter, move, drop on the viewport, with the
    palette's own mime data."""
    md = window.palette.tree.mimeData([payload_item])
    vp = window.view.viewport()
    pos = QPointF(at)
    for cls in (QDragEnterEvent, QDragMoveEvent):
        event = cls(at, Qt.DropAction.CopyAction, md, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(vp, event)
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, md, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(vp, drop)
    window.controller.refresh_analysis()
    return drop


# ---- building -----------------------------------------------------------------------------------

def test_drag_conv2d_from_palette_adds_a_node(window):
    open_graph(window, Graph())
    at = QPoint(200, 150)
    drop = drop_block(window, window.palette.entry("Conv2d"), at)
    assert drop.isAccepted() and drop.dropAction() == Qt.DropAction.CopyAction   # the palette keeps its entry
    nodes = list(window.controller.graph.nodes.values())
    assert [n.type for n in nodes] == ["Conv2d"]
    expected = window.view.mapToScene(at)
    assert nodes[0].pos == pytest.approx((expected.x(), expected.y()), abs=0.01)
    assert nodes[0].id in window.scene.nodes              # drawn
    assert window.controller.selection == [nodes[0].id]   # and selected
    window.controller.history.undo()
    assert not window.controller.graph.nodes and not window.scene.nodes


def test_port_drag_connects_and_shapes_follow_everywhere(window, qtbot):
    open_graph(window, small_graph())
    c = window.controller
    assert c.analysis.nodes["c1"].errors                   # not fed yet
    drag(qtbot, window, port_point(window, "image", "out", True), port_point(window, "c1", "in", False))
    assert [(e.src, e.dst) for e in c.graph.edges] == [("c1", "act"), ("image", "c1")]
    # the canvas: card, edge label
    assert window.scene.nodes["c1"]._text["shape"] == "6×28×28"
    assert window.scene.nodes["act"]._text["shape"] == "6×28×28"
    edge_item = next(i for e, i in window.scene.edges.items() if e.src == "image")
    assert edge_item.text == "1×32×32"
    # the inspector and the summary
    c.select(["c1"])
    inspector = window.docks["inspector"].widget()
    assert "6×28×28" in inspector.shape_text()
    summary = window.docks["summary"].widget()
    assert summary.index_for("act", 2).data() == "6×28×28"
    assert c.analysis.total_params == 5 * 5 * 1 * 6 + 6


def test_dragging_onto_a_card_snaps_to_its_free_input(window, qtbot):
    open_graph(window, small_graph())
    card = window.scene.nodes["c1"]
    drag(qtbot, window, port_point(window, "image", "out", True), window.view.mapFromScene(card.pos()))
    assert any(e.src == "image" and e.dst == "c1" for e in window.controller.graph.edges)


def test_inspector_edit_updates_shapes_and_totals(window, qtbot):
    g = small_graph()
    g.connect("image", "c1")
    open_graph(window, g)
    c = window.controller
    c.select(["c1"])
    inspector = window.docks["inspector"].widget()
    inspector.set_value("out_channels", 16)
    c.refresh_analysis()
    assert c.graph.nodes["c1"].params["out_channels"] == 16
    assert window.scene.nodes["c1"]._text["shape"] == "16×28×28"
    assert window.scene.nodes["act"]._text["shape"] == "16×28×28"
    assert c.analysis.total_params == 5 * 5 * 16 + 16
    assert "416" in window.status.params.text()
    summary = window.docks["summary"].widget()
    assert summary.index_for("c1", 2).data() == "16×28×28"
    assert c.history.count == 1


def test_a_cycle_is_refused_with_its_reason(window, qtbot):
    g = Graph()
    g.add_node("Input", {"shape": [6, 28, 28], "name": "x"}, id="image", pos=(0, 0))
    g.add_node("Add", id="add", pos=(300, 0))
    g.add_node("Conv2d", {"out_channels": 6, "kernel_size": 3, "padding": 1}, id="c1", pos=(600, 0))
    g.add_node("ReLU", id="act", pos=(900, 0))
    g.connect("image", "add", dst_port="in1")
    g.chain("add", "c1", "act")
    open_graph(window, g)
    window.view.centerOn(450, 0)
    QApplication.processEvents()
    before = dumps(window.controller.graph)
    messages = []
    window.controller.message.connect(messages.append)
    drag(qtbot, window, port_point(window, "act", "out", True), port_point(window, "add", "in2", False))
    assert any("cycle" in m for m in messages)
    assert dumps(window.controller.graph) == before
    assert window.controller.history.count == 0
    # a second input into a taken port is refused too, with its own reason
    drag(qtbot, window, port_point(window, "image", "out", True), port_point(window, "c1", "in", False))
    assert any("already connected" in m for m in messages)
    assert dumps(window.controller.graph) == before


def test_undo_all_gives_the_original_and_redo_all_the_edited(window, qtbot):
    g = small_graph()
    open_graph(window, g)
    c = window.controller
    original = dumps(c.graph)
    drag(qtbot, window, port_point(window, "image", "out", True), port_point(window, "c1", "in", False))
    drop_block(window, window.palette.entry("MaxPool2d"), window.view.mapFromScene(QPointF(450, 250)))
    c.select(["c1"])
    window.docks["inspector"].widget().set_value("out_channels", 12)
    window.scene.select_ids(["act"])
    window.view.delete_selection()
    card = window.scene.nodes["c1"]
    start = window.view.mapFromScene(card.pos() + QPointF(0, -card.height / 2 + 8))
    drag(qtbot, window, start, start + QPoint(40, 60))
    edited = dumps(c.graph)
    assert edited != original
    steps = c.history.count
    assert steps == 5   # connect, add, param, delete, move: one step each
    while c.history.can_undo:
        c.history.undo()
    assert dumps(c.graph) == original
    assert set(window.scene.nodes) == set(c.graph.nodes)
    while c.history.can_redo:
        c.history.redo()
    assert dumps(c.graph) == edited
    assert set(window.scene.edges) == set(c.graph.edges)


def test_moving_a_card_is_one_undo_step(window, qtbot):
    open_graph(window, small_graph())
    c = window.controller
    card = window.scene.nodes["c1"]
    start = window.view.mapFromScene(card.pos() + QPointF(0, -card.height / 2 + 8))
    drag(qtbot, window, start, start + QPoint(100, 50))
    assert c.history.count == 1
    x, y = c.graph.nodes["c1"].pos
    assert (x, y) == pytest.approx((400, 50), abs=1.5)
    c.history.undo()
    assert c.graph.nodes["c1"].pos == (300.0, 0.0)
    assert window.scene.nodes["c1"].pos() == QPointF(300, 0)


def test_save_and_reopen_gives_the_same_document(window, tmp_path):
    open_graph(window, small_graph())
    window.view.add_block("Dropout", QPointF(900, 0))
    path = tmp_path / "net.json"
    assert window._write(path)
    assert window.windowTitle().startswith("net.json")
    assert not window.isWindowModified()
    saved = path.read_text(encoding="utf-8")
    assert window.open_source(str(path))
    assert dumps(window.controller.graph) == saved
    assert window.controller.path == path


def test_title_marks_unsaved_changes(window, tmp_path):
    path = tmp_path / "doc.json"
    from designer.graph.fileformat import save
    save(small_graph(), path)
    window.open_source(str(path))
    assert not window.isWindowModified()
    window.view.add_block("ReLU", QPointF(0, 200))
    assert window.isWindowModified()
    window.controller.history.undo()
    assert not window.isWindowModified()


def test_a_broken_file_is_a_message_not_a_traceback(window, tmp_path, isolated):
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json", encoding="utf-8")
    assert not window.open_source(str(bad))
    assert isolated and "bad.json" in isolated[-1]
    assert not window.open_source(str(tmp_path / "missing.json"))


# ---- canvas gestures ----------------------------------------------------------------------------

def test_insert_on_edge_splices_as_one_step(window):
    open_graph(window, small_graph())
    c = window.controller
    edge_item = next(iter(window.scene.edges.values()))
    mid = edge_item._path.pointAtPercent(0.5)
    drop_block(window, window.palette.entry("BatchNorm"), window.view.mapFromScene(mid))
    new = next(n for n in c.graph.nodes.values() if n.type == "BatchNorm")
    assert {(e.src, e.dst) for e in c.graph.edges} == {("c1", new.id), (new.id, "act")}
    assert c.history.count == 1
    c.history.undo()
    assert {(e.src, e.dst) for e in c.graph.edges} == {("c1", "act")}


def test_copy_paste_and_duplicate(window):
    g = small_graph()
    g.connect("image", "c1")
    open_graph(window, g)
    c = window.controller
    window.scene.select_ids(["c1", "act"])
    window.view.copy()
    text = QGuiApplication.clipboard().mimeData().text()
    assert json.loads(text)["format"] == "network-designer"
    window.view.paste()
    assert len(c.graph.nodes) == 5
    pasted = c.selection
    assert len(pasted) == 2 and not {"c1", "act"} & set(pasted)
    assert any(e.src in pasted and e.dst in pasted for e in c.graph.edges)   # internal edge kept
    window.view.duplicate()
    assert len(c.graph.nodes) == 7
    # a pasted copy is one undo step each
    c.history.undo()
    c.history.undo()
    assert set(c.graph.nodes) == {"image", "c1", "act"}


def test_paste_into_another_window(window, qtbot):
    from designer.ui.main_window import MainWindow
    g = small_graph()
    open_graph(window, g)
    window.scene.select_ids(["c1"])
    window.view.copy()
    other = MainWindow()
    other.set_document(Document())
    other.view.paste()
    assert [n.type for n in other.controller.graph.nodes.values()] == ["Conv2d"]
    dispose(other)


def test_delete_removes_nodes_with_their_edges_and_selected_links(window):
    g = small_graph()
    g.connect("image", "c1")
    open_graph(window, g)
    c = window.controller
    window.scene.clearSelection()
    edge_item = next(i for e, i in window.scene.edges.items() if e.src == "image")
    edge_item.setSelected(True)
    window.view.delete_selection()
    assert [(e.src, e.dst) for e in c.graph.edges] == [("c1", "act")]
    window.scene.select_ids(["c1"])
    window.view.delete_selection()
    assert set(c.graph.nodes) == {"image", "act"} and not c.graph.edges


def test_quick_add_popup_adds_the_typed_block_after_the_selection(window, qtbot):
    g = small_graph()
    g.connect("image", "c1")
    open_graph(window, g)
    c = window.controller
    window.scene.select_ids(["act"])
    window.view.quick_add(QPointF(800, 0))
    popup = window.view._quick_add
    qtbot.keyClicks(popup.search, "maxpool")
    assert popup.list.currentItem().text() == "MaxPool2d"
    qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    new = next(n for n in c.graph.nodes.values() if n.type == "MaxPool2d")
    assert any(e.src == "act" and e.dst == new.id for e in c.graph.edges)
    c.refresh_analysis()
    assert c.analysis.nodes[new.id].out_shapes["out"] == (6, 14, 14)


def test_auto_layout_is_one_undoable_step(window):
    g = small_graph()
    g.connect("image", "c1")
    for n in g.nodes.values():
        n.pos = (0.0, 0.0)
    open_graph(window, g)
    c = window.controller
    window.view.auto_layout()
    xs = [c.graph.nodes[i].pos[0] for i in ("image", "c1", "act")]
    assert xs == sorted(xs) and len(set(xs)) == 3
    assert c.history.count == 1
    c.history.undo()
    assert all(n.pos == (0.0, 0.0) for n in c.graph.nodes.values())


def test_freeze_draws_hatched_and_undoes(window):
    open_graph(window, small_graph())
    window.scene.select_ids(["c1"])
    window.view.toggle_frozen()
    assert window.controller.graph.nodes["c1"].trainable is False
    assert "frozen" in window.scene.nodes["c1"].toolTip()
    window.controller.history.undo()
    assert window.controller.graph.nodes["c1"].trainable is True


def test_zoom_to_cursor_and_fit(window):
    open_graph(window, small_graph())
    v = window.view
    before = v.scale_factor()
    v.zoom_by(2.0)
    assert v.scale_factor() == pytest.approx(before * 2)
    v.fit()
    rect = window.scene.nodes_rect()
    visible = v.mapToScene(v.viewport().rect()).boundingRect()
    assert visible.contains(rect)


def test_dragging_a_connected_input_picks_its_link_up(window, qtbot):
    open_graph(window, small_graph())
    c = window.controller
    start = port_point(window, "act", "in", False)
    drag(qtbot, window, start, start + QPoint(0, 160))       # dropped in empty space
    assert c.graph.edges == []
    assert c.history.count == 1
    c.history.undo()
    assert [(e.src, e.dst) for e in c.graph.edges] == [("c1", "act")]


def test_middle_drag_pans_and_space_drag_too(window, qtbot):
    open_graph(window, small_graph())
    v, vp = window.view, window.view.viewport()
    before = v.mapToScene(vp.rect().center())
    qtbot.mousePress(vp, Qt.MouseButton.MiddleButton, pos=QPoint(300, 200))
    qtbot.mouseMove(vp, QPoint(200, 150))
    qtbot.mouseRelease(vp, Qt.MouseButton.MiddleButton, pos=QPoint(200, 150))
    after = v.mapToScene(vp.rect().center())
    assert (after.x() - before.x(), after.y() - before.y()) == pytest.approx((100, 50), abs=2)
    v.setFocus()
    qtbot.keyPress(v, Qt.Key.Key_Space)
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=QPoint(300, 200))
    qtbot.mouseMove(vp, QPoint(350, 200))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=QPoint(350, 200))
    qtbot.keyRelease(v, Qt.Key.Key_Space)
    assert v.mapToScene(vp.rect().center()).x() == pytest.approx(after.x() - 50, abs=2)
    assert window.controller.history.count == 0       # panning is not an edit


def test_summary_row_click_selects_and_centres_the_node(window, qtbot):
    g = small_graph()
    g.connect("image", "c1")
    g.add_node("Linear", {"out_features": 10}, id="far", pos=(4000, 900))
    g.add_node("Flatten", id="flat", pos=(3700, 900))
    g.chain("act", "flat", "far")
    open_graph(window, g)
    window.view.resetTransform()
    window.view.centerOn(0, 0)
    summary = window.docks["summary"].widget()
    index = summary.index_for("far")
    summary.view.scrollTo(index)
    rect = summary.view.visualRect(index)
    qtbot.mouseClick(summary.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.controller.selection == ["far"]
    visible = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    assert visible.contains(QPointF(4000, 900))


def test_palette_filter_and_enter(window, qtbot):
    open_graph(window, Graph())
    palette = window.palette
    palette.filter.setFocus()   # keys go where the focus is, as when a person types
    qtbot.keyClicks(palette.filter, "dropout")
    shown = [palette.tree.topLevelItem(i).child(j).text(0)
             for i in range(palette.tree.topLevelItemCount())
             for j in range(palette.tree.topLevelItem(i).childCount())
             if not palette.tree.topLevelItem(i).isHidden() and not palette.tree.topLevelItem(i).child(j).isHidden()]
    assert shown == ["Dropout", "Dropout2d"]
    qtbot.keyClick(palette.filter, Qt.Key.Key_Return)
    assert [n.type for n in window.controller.graph.nodes.values()] == ["Dropout"]


def test_window_opens_without_importing_torch(tmp_path):
    import os
    import subprocess
    import sys
    code = ("import sys\n"
            "from designer.ui.app import application\n"
            "app = application()\n"
            "from designer.ui.main_window import MainWindow\n"
            "w = MainWindow(remember=False)\n"
            "w.open_source('googlenet', ask=False)\n"
            "w.show(); app.processEvents()\n"
            "w.controller.enter('inception_3a'); app.processEvents()\n"
            "print('torch' in sys.modules)\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DESIGNER_DATA_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


# ---- composites ---------------------------------------------------------------------------------

def test_group_ungroup_and_look_inside(window, monkeypatch):
    g = small_graph()
    g.connect("image", "c1")
    g.add_node("MaxPool2d", {"kernel_size": 2, "stride": 2}, id="pool", pos=(900, 0))
    g.connect("act", "pool")
    open_graph(window, g)
    c = window.controller
    before = dumps(c.graph)
    window.scene.select_ids(["c1", "act"])
    window.view.group_selection("ConvBlock")
    assert "ConvBlock" in c.graph.composites
    block = c.selection[0]
    assert c.graph.nodes[block].type == "ConvBlock"
    c.refresh_analysis()
    assert c.analysis.nodes["pool"].out_shapes["out"] == (6, 14, 14)
    assert c.analysis.ok
    # the palette lists the document's composite
    assert window.palette.entry("ConvBlock") is not None
    # look inside: editable, breadcrumbs, a change inside reaches the totals
    assert c.enter(block)
    assert window.scene.graph is c.graph.composites["ConvBlock"].graph
    assert window.scene.editable
    assert [b.text() for b in window.header.crumbs.findChildren(type(window.header.zoom))][-1].startswith(block)
    inner_conv = next(i for i, n in window.scene.graph.nodes.items() if n.type == "Conv2d")
    window.view.edit("inside", [SetParam(inner_conv, "out_channels", 8)])
    c.refresh_analysis()
    assert c.analysis.nodes["pool"].out_shapes["out"] == (8, 14, 14)
    c.leave(0)
    assert window.scene.graph is c.graph
    # undo everything, including the edit made inside
    while c.history.can_undo:
        c.history.undo()
    assert dumps(c.graph) == before
    # ungroup
    window.scene.select_ids(["c1", "act"])
    window.view.group_selection("Again")
    window.view.ungroup_selection()
    assert not c.graph.composites
    assert {n.type for n in c.graph.nodes.values()} == {"Input", "Conv2d", "ReLU", "MaxPool2d"}


def test_builtin_composite_opens_read_only(window):
    g = Graph()
    g.add_node("Input", {"shape": [192, 28, 28], "name": "x"}, id="x")
    g.add_node("Inception", {}, id="inc", pos=(300, 0))
    g.connect("x", "inc")
    open_graph(window, g)
    c = window.controller
    assert c.enter("inc")
    assert not window.scene.editable
    types = {n.type for n in window.scene.graph.nodes.values()}
    assert {"Conv2d", "ReLU", "MaxPool2d", "Concat"} <= types
    concat = next(i for i, n in window.scene.graph.nodes.items() if n.type == "Concat")
    assert window.scene.nodes[concat]._text["shape"] == "256×28×28"
    assert "read-only" in window.header.note.text()
    before = len(window.scene.graph.nodes)
    window.view.add_block("ReLU", QPointF(0, 0))      # refused: generated inside
    assert len(window.scene.graph.nodes) == before
    window.view.escape()
    assert window.scene.graph is c.graph


def test_personal_library_round_trip(window, tmp_path, monkeypatch):
    g = small_graph()
    g.connect("image", "c1")
    open_graph(window, g)
    window.scene.select_ids(["c1", "act"])
    window.view.group_selection("Stem")
    block = window.controller.selection[0]
    from PySide6.QtWidgets import QInputDialog
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("conv and relu", True))
    window.save_to_library()
    assert (tmp_path / "data" / "blocks.json").is_file()
    # a new document: the block comes from the library
    window.set_document(Document())
    assert window.palette.entry("library:Stem") is not None
    window.view.add_block("library:Stem", QPointF(0, 0))
    c = window.controller
    assert "Stem" in c.graph.composites and c.graph.composites["Stem"].doc == "conv and relu"
    assert c.history.count == 1
    c.history.undo()
    assert not c.graph.composites and not c.graph.nodes
    assert block


# ---- window -------------------------------------------------------------------------------------

def test_docks_come_back_from_the_view_menu_and_layout_is_remembered(window, qtbot, tmp_path):
    from designer.ui.main_window import MainWindow
    open_graph(window, small_graph())
    dock = window.docks["summary"]
    dock.close()
    assert not dock.isVisible()
    dock.toggleViewAction().trigger()
    assert dock.isVisible()
    window.docks["palette"].close()
    window.save_layout()
    again = MainWindow()
    again.show()
    again.set_document(Document())
    assert not again.docks["palette"].isVisible()
    assert again.docks["summary"].isVisible()
    dispose(again)


def test_start_screen_opens_a_preset_and_gives_the_panels_back(window):
    assert window.on_start_page()
    assert not any(d.isVisible() for d in window.docks.values())   # nothing to show yet
    window.start.preset_chosen.emit("lenet5")
    assert not window.on_start_page()
    on_demand = {"feature_maps"}  # opened from the View menu; it loads torch when shown
    assert all(d.isVisible() for k, d in window.docks.items() if k not in on_demand)
    assert not window.docks["feature_maps"].isVisible()
    assert window.controller.analysis.total_params == 61706
    assert window.controller.path is None          # a preset is a template: Save asks where
    assert window.windowTitle().startswith("LeNet-5")
    window.close_document()
    assert window.on_start_page()


def test_the_feature_map_panel_is_made_when_its_dock_is_first_shown(window, qtbot):
    from designer.ui.feature_maps import FeatureMapPanel
    window.open_source("lenet5", ask=False)
    dock = window.docks["feature_maps"]
    assert not isinstance(dock.widget(), FeatureMapPanel)     # nothing built while it is closed
    window.actions["panel_feature_maps"].trigger()               # View ▸ Feature Maps
    dock.raise_()                                                # its tab, in front of the summary's
    qtbot.waitUntil(lambda: isinstance(dock.widget(), FeatureMapPanel))
    panel = dock.widget()
    dock.hide()
    dock.show()
    assert dock.widget() is panel                              # made once


def test_export_diagram_png_and_svg(window, tmp_path):
    from designer.ui import diagram
    open_graph(window, small_graph())
    png = diagram.save_png(window.scene, tmp_path / "net.png")
    svg = diagram.save_svg(window.scene, tmp_path / "net.svg", "net")
    from PySide6.QtGui import QImage
    image = QImage(str(png))
    assert image.width() > 600 and image.height() > 100
    assert "<svg" in svg.read_text(encoding="utf-8") and "C1" in svg.read_text(encoding="utf-8")


def test_autosave_and_recovery_offer(window, tmp_path):
    from designer.ui import recovery
    open_graph(window, small_graph())
    window.view.add_block("ReLU", QPointF(0, 300))
    window.autosave.write()
    data = json.loads(window.autosave.file.read_text(encoding="utf-8"))
    data["pid"] = 2 ** 22 + 12345   # a process that is not running: a crashed session
    crashed = recovery.recovery_dir() / "recovery-crashed.json"
    crashed.write_text(json.dumps(data), encoding="utf-8")
    found = recovery.pending()
    assert [r.file for r in found] == [crashed]
    edited = dumps(window.controller.graph)
    window.controller.set_graph(Graph(), None)
    from PySide6.QtWidgets import QMessageBox as Box
    Box.question = staticmethod(lambda *a, **k: Box.StandardButton.Yes)
    assert window.offer_recovery()
    assert dumps(window.controller.graph) == edited
    assert window.isWindowModified()
    assert not crashed.exists()


def test_dropping_a_json_file_opens_it(window, tmp_path):
    from designer.graph.fileformat import save
    path = tmp_path / "dropped.json"
    save(small_graph(), path)
    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(str(path))])
    vp = window.view.viewport()
    QApplication.sendEvent(vp, QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, md,
                                               Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))
    QApplication.sendEvent(vp, QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, md,
                                          Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))
    assert window.controller.path == path
    assert set(window.controller.graph.nodes) == {"image", "c1", "act"}


def test_keyboard_shortcuts_are_listed(window):
    from designer.ui.dialogs import ShortcutsDialog
    dialog = ShortcutsDialog(window.menuBar(), window)
    texts = [dialog.tree.topLevelItem(i).text(0) for i in range(dialog.tree.topLevelItemCount())]
    flat = " ".join(texts)
    for item in range(dialog.tree.topLevelItemCount()):
        top = dialog.tree.topLevelItem(item)
        flat += " ".join(top.child(j).text(0) for j in range(top.childCount()))
    assert "Add Block" in flat and "Group into Composite" in flat and "Fit to View" in flat


def test_screenshot_command_exits_zero_and_writes_a_png(tmp_path):
    import os
    import subprocess
    import sys
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-m", "designer", "lenet5", "--screenshot", str(out)],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 20_000
    bad = subprocess.run([sys.executable, "-m", "designer", "nonesuch_preset", "--screenshot", str(out)],
                         capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr


@pytest.mark.slow
def test_export_python_code_runs_off_the_gui_thread(window, qtbot, tmp_path):
    """File ▸ Export ▸ PyTorch Code through the compiler's export (imports torch)."""
    from designer.ui import model_export
    formats = {f.format for f in model_export.available_formats()}
    assert {"python", "torchscript", "state_dict"} <= formats
    assert "export_python" in window.actions
    g = small_graph()
    g.connect("image", "c1")
    open_graph(window, g)
    out = tmp_path / "net.py"
    with qtbot.waitSignal(window.exporter.finished, timeout=120_000) as done:
        window.exporter.start(window.controller.document, out, "python")
    assert done.args == [str(out)]
    source = out.read_text(encoding="utf-8")
    compile(source, str(out), "exec")
    assert "self.c1 = nn.Conv2d(1, 6, kernel_size=5)" in source
    # a network with errors: the reason comes back as a message, nothing is written
    window.controller.edit("break", [SetParam("c1", "kernel_size", 40)])
    bad = tmp_path / "bad.py"
    with qtbot.waitSignal(window.exporter.failed, timeout=120_000) as failed:
        window.exporter.start(window.controller.document, bad, "python")
    assert "c1" in failed.args[0] and not bad.exists()


# ---- the window assembled from the parts' declarations (designer/ui/contributions.py) -------

def _menu_placements(window) -> dict[int, list[str]]:
    """id(QAction) -> the ids of the menus it appears in, once per appearance."""
    from PySide6.QtWidgets import QMenu
    found: dict[int, list[str]] = {}
    for menu_id, menu in window.menus.items():
        assert isinstance(menu, QMenu)
        for a in menu.actions():
            if not a.isSeparator() and a.menu() is None:
                found.setdefault(id(a), []).append(menu_id)
    return found


def test_every_declared_action_is_in_the_menus_it_declares_and_nowhere_else(window):
    from designer.ui.contributions import dock_toggles
    parts = window.contributions
    declared = [*parts.actions, *dock_toggles(parts.docks)]
    placements = _menu_placements(window)
    for decl in declared:
        action = window.actions[decl.id]
        assert sorted(placements.pop(id(action), [])) == sorted(p.menu for p in decl.places), decl.id
    assert placements == {}   # no menu holds an action nobody declared
    # every submenu is declared, and sits where it says
    for m in parts.menus:
        menu = window.menus[m.id]
        holder = window.menuBar() if m.parent == "" else window.menus[m.parent]
        assert [a.menu() for a in holder.actions()].count(menu) == 1, m.id


def test_menus_come_out_in_the_declared_order(window):
    from designer.ui.contributions import MENU_BAR, arrange, dock_toggles
    parts = window.contributions
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles == ["&File", "&Edit", "&View", "&Block", "T&raining", "&Tools", "&Help"]
    arranged = arrange(parts.menus, [*parts.actions, *dock_toggles(parts.docks)])

    def shown(entries):
        return [None if e.kind == "separator" else
                window.menus[e.id].menuAction() if e.kind == "menu" else window.actions[e.id] for e in entries]

    def actual(actions):
        return [None if a.isSeparator() else a for a in actions]

    assert actual(window.menuBar().actions()) == shown(arranged[MENU_BAR])
    for menu_id, menu in window.menus.items():
        if menu_id != "file.recent":    # filled when it opens
            assert actual(menu.actions()) == shown(arranged[menu_id]), menu_id
    # File: Export Trained Model right after Export; View: the Train Panel toggle with the panels
    file_texts = [a.text() for a in window.menus["file"].actions()]
    assert file_texts[file_texts.index("&Export") + 1] == "Export &Trained Model"
    view_texts = [a.text() for a in window.menus["view"].actions()]
    assert view_texts[view_texts.index("Feature Maps") + 1] == "&Train Panel"
    training = [a.text() for a in window.menus["training"].actions() if not a.isSeparator()]
    assert training == ["Start Training", "Pause", "Stop", "Open Run Folder", "&Train Panel",
                        "Load ImageNet weights (torchvision IMAGENET1K_V1)"]
    # no code finds a menu by its label: the window's menus are named by their ids
    assert all(menu.objectName() == f"menu_{menu_id}" for menu_id, menu in window.menus.items())


def test_canvas_actions_fire_only_with_the_canvas_focused_and_panel_actions_anywhere(window):
    canvas_only = {d.id for d in window.contributions.actions if d.context == "canvas"}
    assert {"delete", "fit", "nudge_left", "quick_add"} <= canvas_only
    for key in canvas_only:
        assert window.actions[key].shortcutContext() == Qt.ShortcutContext.WidgetWithChildrenShortcut
        assert window.actions[key] in window.view.actions()
    from PySide6.QtWidgets import QMainWindow
    on_window = QMainWindow.actions(window)   # the window's own QWidget.actions() (window.actions is the dict)
    for key in ("train_start", "train_pause", "train_stop"):   # F5 wherever the focus is
        assert window.actions[key] in on_window


def test_the_close_hook_asks_during_a_run_and_ends_the_run_once_the_window_closed(qtbot, themed, monkeypatch):
    from designer.ui.main_window import MainWindow
    w = MainWindow(remember=False)
    w.show()
    session = w.training_panel.session
    session.state = "running"                  # a run is going (no worker: its end is recorded)
    calls = []
    monkeypatch.setattr(session, "shutdown", lambda *a: calls.append("run ended"))

    def answer(training, unsaved):
        def question(_parent, title, *_a, **_k):
            calls.append(title)
            return training if title == "Training is running" else unsaved
        monkeypatch.setattr(QMessageBox, "question", question)

    B = QMessageBox.StandardButton
    answer(B.Cancel, B.Discard)                # keep the run: the window stays
    assert not w.close() and w.isVisible()
    assert calls == ["Training is running"]
    w.open_source("lenet5", ask=False)
    w.view.add_block("ReLU", QPointF(0, 300))
    answer(B.Yes, B.Cancel)                    # stop the run, but keep the unsaved drawing: stays, run goes on
    assert not w.close() and w.isVisible()
    assert calls[1:] == ["Training is running", "Unsaved changes"]
    answer(B.Yes, B.Discard)                   # both yes: the window closes, then the run is ended
    assert w.close() and not w.isVisible()
    assert calls[3:] == ["Training is running", "Unsaved changes", "run ended"]
    session.state = "idle"
    w.deleteLater()
    QApplication.processEvents()


def test_the_train_tab_starts_its_probes_only_when_brought_to_the_front(qtbot, themed, monkeypatch):
    from designer.ui.main_window import MainWindow
    from designer.ui.training.dataset_picker import DatasetPicker
    from designer.ui.training.device_picker import DevicePicker
    calls = []
    monkeypatch.setattr(DatasetPicker, "list_more", lambda self: calls.append("datasets"))
    monkeypatch.setattr(DatasetPicker, "_request_preview",     # no preview thread (it would import torch)
                        lambda self: calls.append("preview") if self.isVisible() else None)
    monkeypatch.setattr(DevicePicker, "probe", lambda self: calls.append("devices"))
    w = MainWindow(remember=False)
    w.open_source("lenet5", ask=False)
    w.show()
    qtbot.waitExposed(w)
    for _ in range(5):
        QApplication.processEvents()
    assert w.training_panel.visibleRegion().isEmpty()   # tabbed behind the Summary
    assert calls == []                         # the Summary is in front: nothing probed
    w.training_panel.reveal()
    qtbot.waitUntil(lambda: "datasets" in calls, timeout=5000)   # (devices: once its box is on screen)
    dispose(w)
