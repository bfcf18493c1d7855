"""The editor with large networks and far out (issue 12): the far layer that draws every
card and link in a few calls below FAR_LOD, its labels (whole, never cut into "c…",
never on top of each other), dragging far out, the minimap, and exports made while
the canvas is zoomed out. Driven through the real window (pytest-qt)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtWidgets import QApplication, QGraphicsItem

from designer.document import Document
from designer.graph.model import Graph

from test_ui_editor import dispose, isolated, themed  # noqa: F401 - fixtures

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import networks  # noqa: E402 - benchmarks/networks.py, shared with bench_ui.py

pytestmark = pytest.mark.timeout(120)
NO_CONTENTS = QGraphicsItem.GraphicsItemFlag.ItemHasNoContents


def chain(n: int) -> Graph:
    """n blocks: conv/ReLU pairs with a residual Add every fourth pair, laid out (the
    benchmark's generator, smaller)."""
    return networks.chain(n, channels=4, size=16, laid_out=True)


@pytest.fixture
def window(qtbot, themed):  # noqa: F811
    from designer.ui.main_window import MainWindow
    w = MainWindow(remember=False)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    dispose(w)


def draw(w):
    w.view.viewport().repaint()
    return w.view.viewport().grab().toImage()


def fitted(w, document):
    if isinstance(document, str):
        w.open_source(document, ask=False)
    else:
        w.set_document(document)
    QApplication.processEvents()   # the fit a new document asks for, after its first layout
    w.view.fit()
    draw(w)


def colours(image, step: int = 3) -> set[str]:
    return {image.pixelColor(x, y).name().upper() for x in range(0, image.width(), step)
            for y in range(0, image.height(), step)}


def test_far_out_the_layer_draws_and_the_cards_stay_hit_testable(window, qtbot):
    from designer.ui.canvas.node_item import FAR_LOD
    from designer.ui.theme import category_color
    fitted(window, Document(chain(160)))
    scene, view = window.scene, window.view
    assert view.scale_factor() < FAR_LOD
    assert scene.far and scene.far_layer.isVisible()
    assert all(item.flags() & NO_CONTENTS for item in [*scene.nodes.values(), *scene.edges.values()])
    image = draw(window)
    conv, relu = category_color("Convolution").name().upper(), category_color("Activation").name().upper()
    assert {conv, relu} <= colours(image)   # the tiles are drawn, in their type's colour
    # the cards are where they were: a click far out selects one
    item = scene.nodes["conv7"]
    point = view.mapFromScene(item.scenePos())
    from pytestqt.qtbot import QtBot  # noqa: F401 - qtbot is the fixture; mouse through QTest
    from PySide6.QtTest import QTest
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert window.controller.selection == ["conv7"]
    # back at 100 % the cards paint themselves again: those in view at once, the others (a
    # thousand cards switched at once would be a visible hitch) in the next turns of the event loop
    view.zoom_reset()
    draw(window)
    assert not scene.far and not scene.far_layer.isVisible()
    in_view = view.mapToScene(view.viewport().rect()).boundingRect()
    shown = scene.cards_in(in_view)
    assert shown and not any(item.flags() & NO_CONTENTS for item in shown)
    assert not any(edge.flags() & NO_CONTENTS for item in shown for edge in item.edges)
    assert len(shown) < len(scene.nodes)
    qtbot.waitUntil(lambda: not any(item.flags() & NO_CONTENTS
                                    for item in [*scene.nodes.values(), *scene.edges.values()]))


def test_far_labels_are_whole_and_never_overlap(window):
    """U-Net at fit zoom (13 %): no card can hold its text, so the shapes that change stand
    beside their tiles, whole, on no tile and on no other label."""
    fitted(window, "unet")
    layer = window.scene.far_layer
    assert window.scene.far
    lod = window.view.scale_factor()
    labels = layer._labels[1]
    cards = layer.current().cards
    shapes = {node_id: item._text["shape"] for node_id, item in window.scene.nodes.items()}
    assert len(labels) >= 10
    beside = []
    for node_id, placed in labels.items():
        for p in placed:
            assert "…" not in p.text
            assert p.text == shapes[node_id]         # the whole shape, as the card says it
            if not p.inside:
                beside.append(p.rect)
    assert "2×388×388" in {p.text for placed in labels.values() for p in placed}   # the output
    for i, a in enumerate(beside):
        assert not any(a.intersects(c.rect) for c in cards.values())
        assert not any(a.intersects(b) for b in beside[i + 1:])
    # a label is drawn at its size on the screen: LABEL_PX pixels tall or so
    from designer.ui.canvas.overview import LABEL_PX
    assert beside[0].height() * lod == pytest.approx(LABEL_PX * 1.35, rel=0.06)


def test_inside_a_large_tile_the_shape_and_the_name(window):
    """A little further in (40 %), a tile holds its output shape in large type and its name
    under it; a composite block's tile says its name."""
    from designer.ui.canvas.overview import INSIDE_MIN_PX, place_labels
    fitted(window, "vgg16")
    layer = window.scene.far_layer
    b = layer.current()
    labels = place_labels(b, 0.4)
    assert [p.text for p in labels["features"]] == ["features: 13 conv"]
    assert [p.text for p in labels["flatten"]] == ["25088", "flatten"]
    assert all(p.size * 0.4 >= INSIDE_MIN_PX for placed in labels.values() for p in placed if p.inside)
    # a composite's name too long for its tile at this zoom stands beside it, whole
    assert [(p.text, p.inside) for p in labels["classifier"]] == [("classifier: 3 FC", False)]


def test_dragging_a_card_far_out_moves_its_tile_and_links(window):
    fitted(window, Document(chain(120)))
    scene = window.scene
    b = scene.far_layer.current()
    item = scene.nodes["relu5"]
    before = QRectF(b.cards["relu5"].rect)
    plain_before = b.links()[0].boundingRect()
    item.setPos(item.pos() + QPointF(0, 3000))
    draw(window)
    assert scene.far_layer.current() is b          # moved in place, not collected again
    assert b.cards["relu5"].rect == before.translated(0, 3000)
    port_y = item.port("out", True).scenePos().y()
    assert plain_before.bottom() < port_y <= b.links()[0].boundingRect().bottom()   # its links went along


def test_a_card_hides_a_link_label_it_covers(window):
    """The link's shape label is shown only where no card covers it; the canvas finds the
    cards near it in its own grid."""
    from designer.graph.model import Graph as G
    g = G()
    g.add_node("Input", {"shape": [1, 8, 8], "name": "x"}, id="x", pos=(0, 0))
    g.add_node("ReLU", id="r", pos=(600, 0))
    g.add_node("ReLU", id="other", pos=(0, 400))
    g.connect("x", "r")
    window.set_document(Document(g))
    edge = next(iter(window.scene.edges.values()))
    assert edge._label_visible
    mid = edge._label.center()
    window.scene.nodes["other"].setPos(mid)
    edge.adjust()
    assert not edge._label_visible
    assert window.scene.cards_in(QRectF(mid, mid).adjusted(-1, -1, 1, 1)) == [window.scene.nodes["other"]]


def test_the_minimap_shows_for_a_network_larger_than_the_view_and_moves_it(window, qtbot):
    from PySide6.QtTest import QTest
    fitted(window, "lenet5")
    minimap = window.view.minimap
    assert not minimap.isVisible()                 # it all fits
    fitted(window, Document(chain(300)))
    window.view.zoom_reset()
    qtbot.waitUntil(minimap.isVisible, timeout=2000)
    target = window.scene.nodes["conv100"].scenePos()
    point = minimap._transform(minimap.network_area()).map(target).toPoint()
    QTest.mouseClick(minimap, Qt.MouseButton.LeftButton, pos=point)
    centre = window.view.view_centre()
    assert abs(centre.x() - target.x()) < 200 and abs(centre.y() - target.y()) < 200


def test_a_picture_exported_far_out_draws_the_cards(window, tmp_path):
    from PySide6.QtGui import QImage
    from designer.ui.diagram import save_png
    fitted(window, "unet")
    assert window.scene.far
    path = save_png(window.scene, tmp_path / "unet.png", scale=0.5)
    image = QImage(str(path))
    assert not image.isNull() and window.scene.far   # the canvas is as it was
    assert "#FFFFFF" in colours(image, 2)            # the cards' white bodies, not just tiles


def test_a_composite_expands_in_place_and_folds_again(window):
    """The ▸ on a composite card draws its inside under it, on this level; double-clicking
    that drawing opens the inside; the ▾ folds it."""
    from PySide6.QtTest import QTest
    fitted(window, "vgg16")
    view, item = window.view, window.scene.nodes["features"]
    assert item.expandable() and not window.scene.nodes["flatten"].expandable()

    def click_fold():
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                         pos=view.mapFromScene(item.mapToScene(item.fold_rect().center())))

    click_fold()
    peek = item.peek
    assert peek is not None and peek.parentItem() is item
    drawn = peek.sceneBoundingRect()
    card = item.mapRectToScene(item.card_rect())
    assert drawn.top() > card.bottom() and drawn.height() > 60 and not peek.picture.isNull()
    assert window.controller.scope_path == ()          # still editing the top level
    assert window.scene.nodes_rect().contains(drawn.adjusted(4, 4, -4, -4))   # Fit shows it too
    view.fit()
    click_fold()
    assert item.peek is None and peek.scene() is None
    click_fold()
    view.fit()
    QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton,
                      pos=view.mapFromScene(item.peek.sceneBoundingRect().center()))
    assert window.controller.scope_path == ("features",)


def test_an_edit_repaints_only_the_cards_whose_text_changed(window, monkeypatch):
    """LeNet-5's f6 from 84 to 90 units: f6, its Tanh and the output layer read differently;
    the ten cards before them are not repainted."""
    from designer.graph.model import SetParam
    from designer.ui.canvas.node_item import NodeItem
    fitted(window, "lenet5")
    painted = []
    monkeypatch.setattr(NodeItem, "update", lambda self, *a: painted.append(self.node_id))
    window.controller.edit("f6", [SetParam("f6", "out_features", 90)])
    window.controller.refresh_analysis()
    assert set(painted) == {"f6", "f6_tanh", "output"}
    assert window.scene.nodes["f6_tanh"]._text["shape"] == "90"
